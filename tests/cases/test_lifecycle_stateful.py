"""Random action sequences never leave the diagram; replaying events gives the state."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from base.factories import user_with_role
from cases import factories as f
from cases import services
from cases.choices import Disposition, EvidenceKind, State
from cases.lifecycle import TRANSITIONS
from cases.models import Outfall, OutfallEvent, OverrideRequest, Subtype
from cases.selectors import replay_state

EDGES = {
    ("surveyed", "traced"),
    ("surveyed", "closed"),
    ("traced", "classified"),
    ("classified", "remediating"),
    ("classified", "retained"),
    ("remediating", "retained"),
    ("remediating", "closed"),
    ("retained", "remediating"),
    ("closed", "remediating"),
}
SUBTYPES = [
    "qt_other",
    "yh_urban_storm",
    "gy_enterprise_storm",
    "qt_rural_scattered",
    "gy_enterprise",
    "sh_urban_plant",
]


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.outfall = f.register(in_nature_reserve=False)
        self.leader = LifecycleMachine.leader
        self.city_leader = LifecycleMachine.city_leader

    def _reload(self):
        return Outfall.objects.get(pk=self.outfall.pk)

    @rule()
    def add_tracing(self):
        services.tracing_record_add(
            actor=None,
            outfall=self._reload(),
            method="field",
            traced_on=dt.date(2023, 10, 1),
            finding="排查",
            result="found",
        )

    @rule(fallback=st.booleans())
    def link_entity(self, fallback):
        entity = f.EntityFactory(is_government_fallback=fallback)
        services.outfall_entity_link(
            actor=None,
            outfall=self._reload(),
            entity=entity,
            fallback_reason="无法确定" if fallback else "",
        )

    @rule(
        subtype=st.sampled_from(SUBTYPES),
        disposition=st.sampled_from(Disposition.values),
        protected=st.booleans(),
    )
    def set_classification(self, subtype, disposition, protected):
        Outfall.objects.filter(pk=self.outfall.pk).update(in_nature_reserve=protected)
        sub = Subtype.objects.select_related("category").get(code=subtype)
        target = None
        if disposition == Disposition.MERGE:
            target = f.register(landmark="合并目标")
        try:
            services.outfall_classification_set(
                actor=None,
                outfall=self._reload(),
                category=sub.category,
                subtype=sub,
                disposition=disposition,
                merge_target=target,
                overrides={
                    code: "历史遗留"
                    for code in (
                        "protected_area",
                        "stormwater",
                        "urban_scattered",
                        "storm_gate",
                        "enterprise_outfalls",
                        "rural_sewage",
                        "aquaculture_cluster",
                        "new_outfall",
                    )
                },
            )
        except ValidationError:
            assert self._reload().state not in {State.SURVEYED, State.TRACED}

    @rule()
    def approve_overrides(self):
        for request in OverrideRequest.objects.filter(outfall_id=self.outfall.pk, status="pending"):
            services.override_decide(actor=self.city_leader, override=request, approve=True)

    @rule()
    def set_plan(self):
        outfall = self._reload()
        department = f.Department.objects.get(code="140525-housing")
        deadline = getattr(getattr(outfall, "plan", None), "deadline", dt.date(2024, 12, 31))
        services.plan_set(
            actor=None,
            outfall=outfall,
            measures="整治",
            deadline=deadline,
            lead_department=department,
        )

    @rule(kind=st.sampled_from(EvidenceKind.values))
    def add_evidence(self, kind):
        f.add_evidence(self._reload(), kind)

    @rule(
        name=st.sampled_from(TRANSITIONS),
        closure=st.sampled_from(["", "duplicate", "not_an_outfall"]),
        basis=st.sampled_from(["", "complaint", "monitoring"]),
    )
    def attempt(self, name, closure, basis):
        before = self._reload()
        count = OutfallEvent.objects.filter(outfall=before).count()
        changes = {}
        if name == "void" and closure:
            changes = {"closure_reason": closure}
        if name == "reopen" and basis:
            changes = {"reopen_basis": basis, "reopen_reference": "编号001"}
        try:
            after = services.outfall_transition(
                actor=None,
                outfall=before.pk,
                transition=name,
                approved_by=self.leader,
                changes=changes,
            )
        except (services.TransitionError, PermissionDenied):
            unchanged = self._reload()
            assert unchanged.state == before.state
            assert OutfallEvent.objects.filter(outfall=before).count() == count
        else:
            assert (before.state, after.state) in EDGES

    @invariant()
    def state_is_in_the_diagram_and_replayable(self):
        outfall = self._reload()
        assert outfall.state in State.values
        events = list(OutfallEvent.objects.filter(outfall=outfall, kind="transition"))
        for event in events:
            assert (event.from_state, event.to_state) in EDGES
        assert replay_state(events) == outfall.state


@pytest.mark.django_db
def test_random_action_sequences_stay_in_the_diagram():
    LifecycleMachine.leader = user_with_role("county_leader", "140525", username="h_leader")
    LifecycleMachine.city_leader = user_with_role("city_leader", "140500", username="h_city")
    run_state_machine_as_test(
        LifecycleMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            database=None,
        ),
    )
