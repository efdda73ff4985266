"""Two approvers decide the same approval task at the same moment, on PostgreSQL.

Each thread has its own connection; the flow lock (`SELECT ... FOR UPDATE` of the process
row) makes the second wait for the first, re-read the proposal and find it decided.
"""

import threading

import pytest
from django.db import connection

from base.factories import user_with_role
from cases import factories as f
from cases import services
from cases.choices import State
from cases.models import Outfall, OutfallEvent
from workflows import approvals
from workflows.flows import DatabaseLock, TransitionApprovalFlow
from workflows.models import Proposal

pytestmark = pytest.mark.django_db(transaction=True)


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


def _proposal():
    officer = user_with_role("county_officer", "140525", username="race_officer")
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
    return approvals.proposal_submit(
        actor=officer, outfall=outfall.pk, transition="trace", reason="已查明"
    )


def test_the_flows_lock_rows_on_postgresql():
    assert isinstance(TransitionApprovalFlow.lock_impl, DatabaseLock)
    assert TransitionApprovalFlow.lock_impl._row_lock.nowait is False


@pytest.mark.parametrize("decisions", [(True, True), (True, False)], ids=["both", "mixed"])
def test_two_approvers_at_once_exactly_one_decides(decisions):
    # given an open proposal and two county leaders of the county
    proposal = _proposal()
    leaders = [
        user_with_role("county_leader", "140525", username=f"race_leader_{i}") for i in range(2)
    ]

    def decide(leader, approve):
        return approvals.proposal_decide(
            actor=leader, proposal=proposal.pk, approve=approve, reason="同时决定"
        )

    # when both decide at the same moment
    results = _run_in_threads(decide, list(zip(leaders, decisions, strict=True)))
    # then exactly one succeeds and the other is told it was already decided
    oks = [r for kind, r in results if kind == "ok"]
    errors = [r for kind, r in results if kind == "error"]
    assert len(oks) == 1, results
    assert len(errors) == 1
    assert isinstance(errors[0], approvals.ProposalError), errors
    decided = Proposal.objects.get(pk=proposal.pk)
    assert decided.decided_by == oks[0].decided_by
    # and the case reflects that single decision, once
    outfall = Outfall.objects.get(pk=proposal.outfall_id)
    transitions = OutfallEvent.objects.filter(outfall=outfall, kind="transition").count()
    rejections = OutfallEvent.objects.filter(outfall=outfall, kind="proposal_rejected").count()
    if decided.decision == Proposal.Decision.APPROVED:
        assert (outfall.state, transitions, rejections) == (State.TRACED, 1, 0)
    else:
        assert (outfall.state, transitions, rejections) == (State.SURVEYED, 0, 1)
