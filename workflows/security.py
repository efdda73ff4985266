"""Access table of the workflows module.

Access matrix (prose). Deadlines, escalation steps, supervisions (督办) and summons proposals
follow their county: county officers and leaders see their county's, city officers and
leaders see every county's, river chiefs see those of the cases on their segments, and
department officers those of the cases their department leads (the case rule of
cases.security decides). The dashboard shows each user only the counties in their scope.
Administrators edit the milestones, deadline rules and ladder; nobody edits deadlines by
hand: they follow the cases and the approved extensions.

Approval requests (审批申请: transition proposals, rule overrides, deadline extensions) are
seen by everyone who sees their case (the case rule decides). County and city officers
propose; who may approve is the approval policy (data, edited by administrators): county
leaders approve a county's transitions, city leaders rule overrides and extensions, never
their own requests. Summonses (约谈) and accountability proposals (问责) follow their county
only: county officers and leaders of that county and city officers and leaders see them
(river chiefs and departments do not); city officers propose, serve, record and verify,
city leaders approve, never what they proposed. An approval task is offered only to the holders of an approver role
over the case's jurisdiction; out of scope it answers 404, like a missing one.
"""

from __future__ import annotations

from django.db.models import Q

from base.models import Role
from base.security import grant_jurisdiction_ids, register_record_rule
from cases.models import Outfall
from cases.security import outfall_scope

_VIEW = [
    "workflows.view_deadline",
    "workflows.view_escalationstep",
    "workflows.view_supervision",
    "workflows.view_summonsproposal",
    "workflows.view_summonsproposalitem",
    "workflows.view_milestone",
    "workflows.view_escalationlevel",
    "workflows.view_deadlinerule",
    "workflows.view_deadlinemove",
    "workflows.view_proposal",
    "workflows.view_transitionpolicy",
]
# summons (约谈) and accountability (问责): county officers and leaders see their county's,
# city officers propose, verify and record, city leaders approve (never their own)
_SUMMONS_VIEW = ["workflows.view_summons", "workflows.view_accountability"]
_SUMMONS_PROPOSE = ["workflows.propose_summons"]
_SUMMONS_DECIDE = ["workflows.decide_summons"]
_PROPOSE = ["workflows.add_proposal"]
_DECIDE = ["workflows.decide_proposal"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNTY_OFFICER: [*_VIEW, *_PROPOSE, *_SUMMONS_VIEW],
    Role.COUNTY_LEADER: [*_VIEW, *_DECIDE, *_SUMMONS_VIEW],
    Role.DEPARTMENT_OFFICER: _VIEW,
    Role.CITY_OFFICER: [*_VIEW, *_PROPOSE, *_SUMMONS_VIEW, *_SUMMONS_PROPOSE],
    Role.CITY_LEADER: [*_VIEW, *_DECIDE, *_SUMMONS_VIEW, *_SUMMONS_DECIDE],
    Role.RIVER_CHIEF: _VIEW,
    Role.ADMIN: [
        *_VIEW,
        "workflows.change_milestone",
        "workflows.add_milestone",
        "workflows.change_escalationlevel",
        "workflows.change_deadlinerule",
        "workflows.change_transitionpolicy",
    ],
}

_NOTHING = Q(pk__in=[])
COUNTY_ROLES = frozenset(
    {Role.COUNTY_OFFICER, Role.COUNTY_LEADER, Role.CITY_OFFICER, Role.CITY_LEADER, Role.ADMIN}
)


def _county_q(user, prefix: str = "") -> Q:
    if getattr(user, "is_superuser", False):
        return Q()
    if not getattr(user, "is_active", False):
        return _NOTHING
    ids = grant_jurisdiction_ids(user, COUNTY_ROLES)
    q = Q(**{f"{prefix}jurisdiction_id__in": ids}) if ids else _NOTHING
    return q | Q(**{f"{prefix}outfall__in": Outfall.objects.filter(outfall_scope(user))})


def deadline_scope(user) -> Q:
    return _county_q(user)


def register_workflows_rules() -> None:
    register_record_rule("workflows.deadline", deadline_scope)
    register_record_rule("workflows.supervision", lambda user: _county_q(user))
    register_record_rule("workflows.summonsproposal", _proposal_q)
    register_record_rule("workflows.escalationstep", lambda user: _county_q(user, "deadline__"))
    register_record_rule("workflows.deadlinemove", lambda user: _county_q(user, "deadline__"))
    register_record_rule("workflows.proposal", proposal_scope)
    register_record_rule("workflows.summons", _proposal_q)
    register_record_rule("workflows.accountability", _proposal_q)
    for model in ("milestone", "escalationlevel", "deadlinerule", "transitionpolicy"):
        register_record_rule(
            f"workflows.{model}",
            lambda user: Q() if getattr(user, "is_active", False) else _NOTHING,
        )


def _proposal_q(user) -> Q:
    if getattr(user, "is_superuser", False):
        return Q()
    ids = grant_jurisdiction_ids(user, COUNTY_ROLES)
    return Q(jurisdiction_id__in=ids) if ids else _NOTHING


def proposal_scope(user) -> Q:
    """An approval request is visible wherever its case is."""
    if getattr(user, "is_superuser", False) and getattr(user, "is_active", False):
        return Q()
    return Q(outfall__in=Outfall.objects.filter(outfall_scope(user)).values("pk"))
