"""Writes of the base module: role grants and river-chief appointments."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .models import (
    Department,
    Jurisdiction,
    RiverChiefAppointment,
    RiverSegment,
    Role,
    RoleGrant,
    User,
    WorkerHeartbeat,
)


def _sync_user_groups(user: User) -> None:
    roles = set(RoleGrant.objects.filter(user=user).values_list("role", flat=True))
    if RiverChiefAppointment.objects.filter(person=user).exists():
        roles.add(Role.RIVER_CHIEF)
    user.groups.set(Group.objects.filter(name__in=roles))
    for attr in ("_jurisdiction_scope_ids", "_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)


@transaction.atomic
def role_grant_create(
    *,
    actor: User | None,
    user: User,
    role: str,
    jurisdiction: Jurisdiction,
    department: Department | None = None,
) -> RoleGrant:
    if role == Role.DEPARTMENT_OFFICER and department is None:
        raise ValidationError({"department": _("A department officer needs a department.")})
    if department is not None and not department.jurisdiction.path.startswith(jurisdiction.path):
        raise ValidationError(
            {"department": _("The department must belong to the granted jurisdiction.")}
        )
    grant, _created = RoleGrant.objects.get_or_create(
        user=user, role=role, jurisdiction=jurisdiction, department=department
    )
    _sync_user_groups(user)
    return grant


@transaction.atomic
def role_grant_revoke(*, actor: User | None, grant: RoleGrant) -> None:
    user = grant.user
    grant.delete()
    _sync_user_groups(user)


@transaction.atomic
def river_chief_appoint(
    *,
    actor: User | None,
    person: User,
    level: str,
    segment: RiverSegment,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
) -> RiverChiefAppointment:
    appointment = RiverChiefAppointment(
        person=person, level=level, segment=segment, valid_from=valid_from, valid_to=valid_to
    )
    appointment.full_clean()
    appointment.save()
    _sync_user_groups(person)
    return appointment


def worker_heartbeat_record(*, hostname: str, now: dt.datetime) -> WorkerHeartbeat:
    heartbeat, _created = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"last_seen": now}
    )
    return heartbeat
