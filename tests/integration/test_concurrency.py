"""Races on PostgreSQL: row locks, optimistic FSM checks and gapless code sequences."""

import threading

import pytest
from django.db import connection

from base.factories import user_with_role
from cases import factories as f
from cases import services
from cases.choices import State
from cases.models import Outfall, OutfallEvent, Subtype

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def _run_in_threads(target, args_list):
    barrier = threading.Barrier(len(args_list))
    results = [None] * len(args_list)

    def worker(i, args):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", target(*args))
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_twenty_threads_same_transition_exactly_one_applies():
    # given a traceable case, loaded by 20 officers at once
    officer = user_with_role("county_officer", "140525", username="race_officer")
    leader = user_with_role("county_leader", "140525", username="race_leader")
    outfall = f.register(actor=officer)
    services.tracing_record_add(
        actor=officer,
        outfall=outfall,
        method="field",
        traced_on=outfall.survey_date,
        finding="排查",
        result="found",
    )
    services.outfall_entity_link(actor=officer, outfall=outfall, entity=f.EntityFactory())
    copies = [Outfall.objects.get(pk=outfall.pk) for _ in range(THREADS)]

    def attempt(copy):
        return services.outfall_transition(
            actor=officer, outfall=copy, transition="trace", approved_by=leader
        )

    # when all of them confirm tracing at the same moment
    results = _run_in_threads(attempt, [(c,) for c in copies])
    # then exactly one applies and the others get a clear conflict error
    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1
    assert all(isinstance(e, services.TransitionConflict) for e in errors), errors
    assert all(str(e) for e in errors)
    assert Outfall.objects.get(pk=outfall.pk).state == State.TRACED
    assert OutfallEvent.objects.filter(outfall=outfall, kind="transition").count() == 1


def test_twenty_concurrent_code_assignments_are_distinct_and_consecutive():
    # given 20 traced cases of one county, classified to the same type
    officer = user_with_role("county_officer", "140525", username="code_officer")
    leader = user_with_role("county_leader", "140525", username="code_leader")
    subtype = Subtype.objects.select_related("category").get(code="yh_urban_storm")
    outfalls = []
    for i in range(THREADS):
        outfall = f.trace(f.register(actor=officer, landmark=f"雨水口{i}"), approver=leader)
        services.outfall_classification_set(
            actor=officer,
            outfall=outfall,
            category=subtype.category,
            subtype=subtype,
            disposition="standardise",
        )
        outfalls.append(outfall)

    def classify(pk):
        return services.outfall_transition(
            actor=officer, outfall=pk, transition="classify", approved_by=leader
        ).code

    # when all 20 are classified at once
    results = _run_in_threads(classify, [(o.pk,) for o in outfalls])
    # then 20 distinct consecutive codes were assigned
    assert [kind for kind, _ in results] == ["ok"] * THREADS, results
    codes = sorted(code for _, code in results)
    assert codes == [f"140525YH{n:04d}" for n in range(1, THREADS + 1)]
