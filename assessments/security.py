"""Access table of the assessments module.

Access matrix (prose). City officers (市生态环境局经办人) close assessment periods, send each
draft assessment to the river chief of its jurisdiction and answer the objections; city
leaders finalize the assessments (the report is issued then) and may add a version of the
scoring formula, as administrators may. City officers and leaders see every assessment;
county officers and leaders see their own county's. A river chief (河长) sees only the
assessments of the jurisdictions where they hold an appointment in force during the
period: the county of each appointed segment, and the city for a city-level appointment;
any other answers 404 like a missing one. The county-level river chiefs of a county review
its assessment (the city-level ones the city's): they accept it, or object item by item
with reasons and evidence files. Objections, answers and the assessment's events are on
the record: nobody edits or deletes them (a trigger refuses it on PostgreSQL). A finalized
assessment is frozen.

River chiefs record patrols (巡河) of the segments they are appointed to, with findings and
photos; they see their own patrols. County officers and leaders see the patrols in their
county, city officers and leaders all patrols. Patrol photos and objection files are
served only through permission-checked views.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from base.models import Jurisdiction, RiverChiefAppointment, Role
from base.security import grant_jurisdiction_ids, register_record_rule

FULL_SCOPE_ROLES = frozenset(
    {Role.COUNTY_OFFICER, Role.COUNTY_LEADER, Role.CITY_OFFICER, Role.CITY_LEADER, Role.ADMIN}
)
CITY_OFFICER_ROLES = frozenset({Role.CITY_OFFICER})
CITY_LEADER_ROLES = frozenset({Role.CITY_LEADER})

_VIEW = [
    "assessments.view_assessment",
    "assessments.view_assessmentperiod",
    "assessments.view_evidenceset",
    "assessments.view_objection",
    "assessments.view_objectionanswer",
    "assessments.view_assessmentevent",
    "assessments.view_formulaversion",
    "assessments.view_patrolrequirement",
    "assessments.view_patrol",
    "assessments.view_patrolfinding",
    "assessments.view_patrolphoto",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNTY_OFFICER: _VIEW,
    Role.COUNTY_LEADER: _VIEW,
    Role.CITY_OFFICER: [
        *_VIEW,
        "assessments.add_assessmentperiod",
        "assessments.change_assessment",
        "assessments.add_objectionanswer",
    ],
    Role.CITY_LEADER: [
        *_VIEW,
        "assessments.finalize_assessment",
        "assessments.add_formulaversion",
    ],
    Role.RIVER_CHIEF: [
        *_VIEW,
        "assessments.review_assessment",
        "assessments.add_objection",
        "assessments.add_patrol",
        "assessments.add_patrolfinding",
        "assessments.add_patrolphoto",
    ],
    Role.ADMIN: [
        *_VIEW,
        "assessments.add_formulaversion",
        "assessments.change_patrolrequirement",
    ],
}

_NOTHING = Q(pk__in=[])
REVIEWER_LEVEL = {True: RiverChiefAppointment.Level.CITY, False: RiverChiefAppointment.Level.COUNTY}


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def in_force_during(prefix: str, starts_on: dt.date, ends_on: dt.date) -> Q:
    """Appointments in force on some day of [starts_on, ends_on]."""
    return Q(**{f"{prefix}valid_from__lte": ends_on}) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": starts_on})
    )


def _chief_q(user, prefix: str) -> Q:
    """Assessments of the jurisdictions where `user` is a river chief during the period."""
    cache_key = "_assessment_chief_appointments"
    rows = user.__dict__.get(cache_key)
    if rows is None:
        rows = list(
            RiverChiefAppointment.objects.filter(person=user).values_list(
                "level", "segment__jurisdiction_id", "valid_from", "valid_to"
            )
        )
        user.__dict__[cache_key] = rows
    if not rows:
        return _NOTHING
    city_ids = None
    q = _NOTHING
    for level, jurisdiction_id, valid_from, valid_to in rows:
        during = Q(**{f"{prefix}period__ends_on__gte": valid_from})
        if valid_to is not None:
            during &= Q(**{f"{prefix}period__starts_on__lte": valid_to})
        q |= Q(**{f"{prefix}jurisdiction_id": jurisdiction_id}) & during
        if level == RiverChiefAppointment.Level.CITY:
            if city_ids is None:
                city_ids = list(
                    Jurisdiction.objects.filter(
                        kind=Jurisdiction.Kind.CITY, parent__isnull=True
                    ).values_list("pk", flat=True)
                )
            q |= Q(**{f"{prefix}jurisdiction_id__in": city_ids}) & during
    return q


def _assessment_q(user, prefix: str = "") -> Q:
    if not _active(user):
        return _NOTHING
    if user.is_superuser:
        return Q()
    ids = grant_jurisdiction_ids(user, FULL_SCOPE_ROLES)
    q = Q(**{f"{prefix}jurisdiction_id__in": ids}) if ids else _NOTHING
    return q | _chief_q(user, prefix)


def assessment_scope(user) -> Q:
    return _assessment_q(user)


def _patrol_q(user, prefix: str = "") -> Q:
    if not _active(user):
        return _NOTHING
    if user.is_superuser:
        return Q()
    ids = grant_jurisdiction_ids(user, FULL_SCOPE_ROLES)
    q = Q(**{f"{prefix}chief": user})
    if ids:
        q |= Q(**{f"{prefix}jurisdiction_id__in": ids})
    return q


def patrol_scope(user) -> Q:
    return _patrol_q(user)


def _reference(user) -> Q:
    return Q() if _active(user) else _NOTHING


def reviewer_appointments(assessment):
    """The appointments whose holders review `assessment`: the county-level river chiefs of
    its county (the city-level ones for the city), in force during the period."""
    period = assessment.period
    is_city = assessment.jurisdiction.kind == Jurisdiction.Kind.CITY
    qs = RiverChiefAppointment.objects.filter(
        in_force_during("", period.starts_on, period.ends_on),
        level=REVIEWER_LEVEL[is_city],
        person__is_active=True,
    )
    if not is_city:
        qs = qs.filter(segment__jurisdiction=assessment.jurisdiction)
    return qs.select_related("person", "segment")


def is_reviewer(user, assessment) -> bool:
    if not _active(user) or not user.has_perm("assessments.review_assessment"):
        return False
    return reviewer_appointments(assessment).filter(person=user).exists()


def register_assessments_rules() -> None:
    register_record_rule("assessments.assessment", assessment_scope)
    for model in ("evidenceset", "objection", "assessmentevent", "assessmentreview"):
        register_record_rule(
            f"assessments.{model}", lambda user: _assessment_q(user, "assessment__")
        )
    register_record_rule(
        "assessments.objectionanswer", lambda user: _assessment_q(user, "objection__assessment__")
    )
    register_record_rule("assessments.patrol", patrol_scope)
    register_record_rule("assessments.patrolfinding", lambda user: _patrol_q(user, "patrol__"))
    register_record_rule(
        "assessments.patrolphoto", lambda user: _patrol_q(user, "finding__patrol__")
    )
    for model in ("assessmentperiod", "formulaversion", "patrolrequirement"):
        register_record_rule(f"assessments.{model}", _reference)
