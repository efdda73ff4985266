"""The outfall lifecycle (DESIGN.md §4): django-fsm-2 transitions and their guards.

Transitions only check guards and set fields: no I/O, no enqueueing. Each guard is a
function carrying a human-readable reason (`guard.reason`), so the UI and the services can
say exactly why a transition is blocked. Guard names cannot clash with model fields.

    surveyed ─trace→ traced ─classify→ classified ─start_remediation→ remediating ─retain→ retained
        │                                   │                               └─close→ closed
        └─void→ closed                      classified ─retain (disposition keep)→ retained
    retained ─reopen→ remediating        closed ─reopen→ remediating
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import transition

from .choices import Disposition, State

Guard = Callable[[object], bool]


def guard(reason) -> Callable[[Guard], Guard]:
    def decorate(fn: Guard) -> Guard:
        fn.reason = reason  # type: ignore[attr-defined]
        return fn

    return decorate


# --- trace ---------------------------------------------------------------------------------


@guard(_("Link a responsible entity, or the government fallback (兜底) with its reason."))
def has_responsible_entity(outfall) -> bool:
    from .models import OutfallEntity

    link = (
        OutfallEntity.objects.filter(outfall=outfall, is_primary=True)
        .select_related("entity")
        .first()
    )
    if link is None:
        return False
    return not link.entity.is_government_fallback or bool(outfall.fallback_reason.strip())


@guard(_("Add at least one tracing record."))
def has_tracing_record(outfall) -> bool:
    return outfall.tracing_records.exists()


# --- classify ------------------------------------------------------------------------------


@guard(_("Choose a category and a subtype of that category."))
def is_typed_consistently(outfall) -> bool:
    return bool(
        outfall.category_id
        and outfall.subtype_id
        and outfall.subtype.category_id == outfall.category_id
    )


@guard(_("Choose a disposition (ban, merge, standardise or keep)."))
def has_disposition(outfall) -> bool:
    return outfall.disposition in Disposition.values


@guard(_("The outfall has no code and no category to code it by."))
def has_code(outfall) -> bool:
    # the code is drawn when the classification is confirmed (a number is never burnt by a
    # refused classification), so a category to code by is as good as a code here
    return bool(outfall.code or outfall.category_id)


@guard(_("A disposition rule fails without an approved override (city-level approval)."))
def rules_pass_or_overridden(outfall) -> bool:
    from .rules import failed_rules

    failed = failed_rules(outfall)
    if not failed:
        return True
    from .models import OverrideRequest

    approved = set(
        OverrideRequest.objects.filter(
            outfall=outfall,
            status=OverrideRequest.Status.APPROVED,
            disposition=outfall.disposition,
        ).values_list("rule", flat=True)
    )
    return all(result.rule in approved for result in failed)


# --- start_remediation ---------------------------------------------------------------------


@guard(_("Set a remediation plan with measures, a lead department and a deadline."))
def has_plan(outfall) -> bool:
    plan = getattr(outfall, "plan", None)
    if plan is None:
        from .models import RemediationPlan

        plan = RemediationPlan.objects.filter(outfall=outfall).first()
    return bool(plan and plan.measures.strip() and plan.lead_department_id and plan.deadline)


@guard(_("Only a ban, merge or standardise disposition is remediated."))
def needs_remediation(outfall) -> bool:
    return outfall.disposition in {Disposition.BAN, Disposition.MERGE, Disposition.STANDARDISE}


# --- retain / close ------------------------------------------------------------------------


def missing_checklist_items(outfall, transition_name: str) -> list:
    from .models import ChecklistItem, Evidence

    kinds_on_file = set(
        Evidence.objects.filter(outfall=outfall)
        .order_by()
        .values_list("kind", flat=True)
        .distinct()
    )
    return [
        item
        for item in ChecklistItem.objects.filter(active=True, transition=transition_name)
        if item.applies_to(outfall, transition_name)
        and not kinds_on_file.intersection(item.evidence_kinds)
    ]


@guard(_("The sign-off checklist is incomplete."))
def retain_checklist_complete(outfall) -> bool:
    return not missing_checklist_items(outfall, "retain")


@guard(_("The sign-off checklist is incomplete."))
def close_checklist_complete(outfall) -> bool:
    return not missing_checklist_items(outfall, "close")


@guard(_("Only a standardise or keep disposition is retained."))
def disposition_is_retained(outfall) -> bool:
    return outfall.disposition in {Disposition.STANDARDISE, Disposition.KEEP}


@guard(_("Only an outfall classified as already compliant (keep) is retained directly."))
def disposition_is_keep(outfall) -> bool:
    return outfall.disposition == Disposition.KEEP


@guard(_("Only a ban or merge disposition is closed."))
def disposition_closes(outfall) -> bool:
    return outfall.disposition in {Disposition.BAN, Disposition.MERGE}


@guard(_("A merged outfall needs its merge target (another outfall or the sewer network)."))
def has_merge_target(outfall) -> bool:
    if outfall.disposition != Disposition.MERGE:
        return True
    return bool(outfall.merge_target_id or outfall.merge_into_network)


# --- void / reopen -------------------------------------------------------------------------


@guard(_("Give the closure reason: duplicate or not an outfall."))
def has_void_reason(outfall) -> bool:
    return outfall.closure_reason in {"duplicate", "not_an_outfall"}


@guard(_("Reopening needs a complaint, monitoring result or inspection and its reference."))
def has_reopen_basis(outfall) -> bool:
    return bool(outfall.reopen_basis and outfall.reopen_reference.strip())


class OutfallLifecycle:
    """Mixed into `Outfall`: the transitions of its `state` field."""

    @transition(
        field="state",
        source=State.SURVEYED,
        target=State.TRACED,
        conditions=[has_responsible_entity, has_tracing_record],
    )
    def trace(self):
        pass

    @transition(
        field="state", source=State.SURVEYED, target=State.CLOSED, conditions=[has_void_reason]
    )
    def void(self):
        pass

    @transition(
        field="state",
        source=State.TRACED,
        target=State.CLASSIFIED,
        conditions=[is_typed_consistently, has_disposition, has_code, rules_pass_or_overridden],
    )
    def classify(self):
        pass

    @transition(
        field="state",
        source=State.CLASSIFIED,
        target=State.REMEDIATING,
        conditions=[needs_remediation, has_plan],
    )
    def start_remediation(self):
        pass

    @transition(
        field="state",
        source=State.REMEDIATING,
        target=State.RETAINED,
        conditions=[disposition_is_retained, retain_checklist_complete],
    )
    def retain(self):
        self.closure_reason = ""

    @transition(
        field="state",
        source=State.CLASSIFIED,
        target=State.RETAINED,
        conditions=[disposition_is_keep, retain_checklist_complete],
    )
    def retain_compliant(self):
        pass

    @transition(
        field="state",
        source=State.REMEDIATING,
        target=State.CLOSED,
        conditions=[disposition_closes, has_merge_target, close_checklist_complete],
    )
    def close(self):
        self.closure_reason = "banned" if self.disposition == Disposition.BAN else "merged"

    @transition(
        field="state",
        source=[State.RETAINED, State.CLOSED],
        target=State.REMEDIATING,
        conditions=[has_reopen_basis],
    )
    def reopen(self):
        pass


# Public names of transitions as users see them. `retain_compliant` is the "retain" arrow
# from classified; the services accept "retain" for both and pick the one that applies.
TRANSITION_LABELS = {
    "trace": _("Confirm tracing"),
    "void": _("Void (duplicate / not an outfall)"),
    "classify": _("Confirm classification"),
    "start_remediation": _("Start remediation"),
    "retain": _("Retain"),
    "retain_compliant": _("Retain"),
    "close": _("Close"),
    "reopen": _("Reopen"),
}
TRANSITIONS = tuple(TRANSITION_LABELS)


@dataclass(frozen=True)
class TransitionCheck:
    name: str
    label: str
    target: str
    unmet: tuple[str, ...]

    @property
    def allowed(self) -> bool:
        return not self.unmet


def transition_checks(outfall) -> list[TransitionCheck]:
    """Every transition leaving the current state, with the reasons of its unmet guards."""
    checks = []
    for t in outfall.get_all_state_transitions():
        if t.source != outfall.state:
            continue
        unmet = tuple(str(c.reason) for c in t.conditions if not c(outfall))
        checks.append(TransitionCheck(t.name, str(TRANSITION_LABELS[t.name]), str(t.target), unmet))
    return checks


def in_scope_of_transition(name: str) -> Q:
    """States from which the named transition can leave (for list filters)."""
    sources = {
        "trace": [State.SURVEYED],
        "void": [State.SURVEYED],
        "classify": [State.TRACED],
        "start_remediation": [State.CLASSIFIED],
        "retain": [State.REMEDIATING, State.CLASSIFIED],
        "retain_compliant": [State.CLASSIFIED],
        "close": [State.REMEDIATING],
        "reopen": [State.RETAINED, State.CLOSED],
    }[name]
    return Q(state__in=sources)
