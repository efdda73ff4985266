"""Access table of the cases module.

Access matrix (prose). County officers (县级经办人) register, edit, trace, classify, plan,
upload evidence, import survey sheets, export the ledger and propose transitions for the
outfalls of their own county-level unit. County leaders (县级审核人) see the same cases and
approve transitions, never their own proposals. Department officers (行业部门) see only cases
whose lead department (on the case or its plan) is their department, update remediation
progress and upload evidence for them. City officers see every case, edit and export; city
leaders see every case and approve transitions, rule overrides and extensions. River chiefs
see the cases on the river segments they are appointed to. Administrators edit the
categories, subtypes and checklists. Every read goes through `outfall_scope`; out-of-scope
cases answer 404 exactly like missing ones.
"""

from __future__ import annotations

from django.db.models import Q

from base.models import RiverChiefAppointment, Role, RoleGrant
from base.security import grant_jurisdiction_ids, register_record_rule

FULL_SCOPE_ROLES = frozenset(
    {Role.COUNTY_OFFICER, Role.COUNTY_LEADER, Role.CITY_OFFICER, Role.CITY_LEADER, Role.ADMIN}
)

_VIEW = [
    "cases.view_outfall",
    "cases.view_responsibleentity",
    "cases.view_outfallentity",
    "cases.view_tracingrecord",
    "cases.view_remediationplan",
    "cases.view_planextension",
    "cases.view_evidence",
    "cases.view_outfallevent",
    "cases.view_category",
    "cases.view_subtype",
    "cases.view_checklistitem",
    "cases.view_overriderequest",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNTY_OFFICER: [
        *_VIEW,
        "cases.add_outfall",
        "cases.change_outfall",
        "cases.transition_outfall",
        "cases.import_survey",
        "cases.export_ledger",
        "cases.add_responsibleentity",
        "cases.change_responsibleentity",
        "cases.add_outfallentity",
        "cases.change_outfallentity",
        "cases.delete_outfallentity",
        "cases.add_tracingrecord",
        "cases.add_remediationplan",
        "cases.change_remediationplan",
        "cases.add_evidence",
        "cases.add_overriderequest",
    ],
    Role.COUNTY_LEADER: [*_VIEW, "cases.approve_transition", "cases.export_ledger"],
    Role.DEPARTMENT_OFFICER: [*_VIEW, "cases.change_remediationplan", "cases.add_evidence"],
    Role.CITY_OFFICER: [
        *_VIEW,
        "cases.change_outfall",
        "cases.export_ledger",
        "cases.transition_outfall",
        "cases.add_tracingrecord",
        "cases.add_evidence",
        "cases.add_remediationplan",
        "cases.change_remediationplan",
        "cases.add_overriderequest",
    ],
    Role.CITY_LEADER: [
        *_VIEW,
        "cases.approve_transition",
        "cases.approve_override",
        "cases.export_ledger",
        "cases.add_planextension",
    ],
    Role.RIVER_CHIEF: [
        "cases.view_outfall",
        "cases.view_evidence",
        "cases.view_tracingrecord",
        "cases.view_outfallevent",
        "cases.view_remediationplan",
        "cases.view_category",
        "cases.view_subtype",
        "cases.view_responsibleentity",
        "cases.view_outfallentity",
    ],
    Role.ADMIN: [
        *_VIEW,
        "cases.add_category",
        "cases.change_category",
        "cases.add_subtype",
        "cases.change_subtype",
        "cases.add_checklistitem",
        "cases.change_checklistitem",
    ],
}

_NOTHING = Q(pk__in=[])


def _outfall_q(user, prefix: str = "") -> Q:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOTHING
    if user.is_superuser:
        return Q()
    cache_key = "_outfall_scope_parts"
    parts = user.__dict__.get(cache_key)
    if parts is None:
        departments = list(
            RoleGrant.objects.filter(user=user, role=Role.DEPARTMENT_OFFICER).values_list(
                "department_id", flat=True
            )
        )
        segments = list(
            RiverChiefAppointment.objects.filter(person=user).values_list("segment_id", flat=True)
        )
        parts = (grant_jurisdiction_ids(user, FULL_SCOPE_ROLES), departments, segments)
        user.__dict__[cache_key] = parts
    jurisdictions, departments, segments = parts
    q = _NOTHING
    if jurisdictions:
        q |= Q(**{f"{prefix}jurisdiction_id__in": jurisdictions})
    if departments:
        q |= Q(**{f"{prefix}lead_department_id__in": departments})
        q |= Q(**{f"{prefix}plan__lead_department_id__in": departments})
    if segments:
        q |= Q(**{f"{prefix}segment_id__in": segments})
    return q


def outfall_scope(user) -> Q:
    return _outfall_q(user)


def _via_outfall(user) -> Q:
    return _outfall_q(user, "outfall__")


def responsibleentity_scope(user) -> Q:
    if getattr(user, "is_superuser", False):
        return Q()
    ids = grant_jurisdiction_ids(user, FULL_SCOPE_ROLES)
    own = Q(jurisdiction_id__in=ids) if ids else _NOTHING
    return own | Q(pk__in=_linked_entity_ids(user))


def _linked_entity_ids(user):
    from .models import OutfallEntity

    return OutfallEntity.objects.filter(_via_outfall(user)).values("entity_id")


def _reference(user) -> Q:
    return Q() if getattr(user, "is_active", False) else _NOTHING


def register_cases_rules() -> None:
    register_record_rule("cases.outfall", outfall_scope)
    for model in (
        "outfallentity",
        "tracingrecord",
        "remediationplan",
        "evidence",
        "outfallevent",
        "overriderequest",
    ):
        register_record_rule(f"cases.{model}", _via_outfall)
    register_record_rule("cases.planextension", lambda user: _outfall_q(user, "plan__outfall__"))
    register_record_rule("cases.responsibleentity", responsibleentity_scope)
    for model in ("category", "subtype", "checklistitem"):
        register_record_rule(f"cases.{model}", _reference)
