"""Access table of the base module.

Roles are Django groups named after `Role` values; each module's `security.py` declares
`ROLE_PERMISSIONS` (role → permission names) and its record rules. `sync_roles()` merges
the declarations of every project module into the groups on post_migrate, so a group holds
exactly what the code declares.

Access matrix (prose). Every signed-in official may read the reference data of the
jurisdictions inside their grants: jurisdictions, river segments, departments, and all
water bodies (a river crosses counties). A role grant covers the granted jurisdiction and
all its descendants: a 泽州县 grant covers 泽州县 and its towns, a 晋城市 grant covers the
whole city. River-chief appointments also bring their segment's jurisdiction into scope.
Administrators edit reference data, users and policies in the Django admin; nobody else
changes reference data.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Model, Q, QuerySet

from .models import Role

VIEW_REFERENCE = [
    "base.view_jurisdiction",
    "base.view_waterbody",
    "base.view_riversegment",
    "base.view_department",
    "base.view_riverchiefappointment",
    "base.view_calendarday",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNTY_OFFICER: VIEW_REFERENCE,
    Role.COUNTY_LEADER: VIEW_REFERENCE,
    Role.DEPARTMENT_OFFICER: VIEW_REFERENCE,
    Role.CITY_OFFICER: VIEW_REFERENCE,
    Role.CITY_LEADER: VIEW_REFERENCE,
    Role.RIVER_CHIEF: VIEW_REFERENCE,
    Role.ADMIN: [
        *VIEW_REFERENCE,
        *(
            f"base.{action}_{model}"
            for model in (
                "jurisdiction",
                "waterbody",
                "riversegment",
                "department",
                "riverchiefappointment",
                "calendarday",
                "rolegrant",
                "user",
            )
            for action in ("add", "change")
        ),
        "base.view_rolegrant",
        "base.view_user",
        "base.delete_rolegrant",
        "base.delete_calendarday",
    ],
}


# --- scope -------------------------------------------------------------------------------

_SCOPE_CACHE = "_jurisdiction_scope_ids"


def jurisdiction_scope_ids(user) -> frozenset[int] | None:
    """Ids of the jurisdictions inside the user's grants (descendants included).

    None means unrestricted (active superuser). Cached on the user object for the request.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, _SCOPE_CACHE, None)
    if cached is not None:
        return cached
    from .models import Jurisdiction, RiverChiefAppointment, RoleGrant

    paths = set(RoleGrant.objects.filter(user=user).values_list("jurisdiction__path", flat=True))
    paths |= set(
        RiverChiefAppointment.objects.filter(person=user).values_list(
            "segment__jurisdiction__path", flat=True
        )
    )
    if not paths:
        ids: frozenset[int] = frozenset()
    else:
        condition = Q()
        for path in paths:
            condition |= Q(path__startswith=path)
        ids = frozenset(Jurisdiction.objects.filter(condition).values_list("id", flat=True))
    setattr(user, _SCOPE_CACHE, ids)
    return ids


def in_jurisdiction_scope(user, field: str = "jurisdiction") -> Q:
    """Q for rows whose `field` (a Jurisdiction FK path) is inside the user's scope."""
    ids = jurisdiction_scope_ids(user)
    if ids is None:
        return Q()
    return Q(**{f"{field}__in": ids})


def scoped(queryset: QuerySet, user) -> QuerySet:
    """Apply the model's record rule for `user`: the helper every selector uses."""
    rule = record_rule_for(queryset.model)
    return queryset.filter(rule(user))


# --- record rules ------------------------------------------------------------------------

RecordRule = Callable[[object], Q]
_RECORD_RULES: dict[str, RecordRule] = {}
_NOTHING = Q(pk__in=[])


def register_record_rule(model_label: str, rule: RecordRule) -> None:
    _RECORD_RULES[model_label.lower()] = rule


def record_rule_for(model: type[Model]) -> RecordRule:
    """The model's rule; a model without one is visible to superusers only."""
    rule = _RECORD_RULES.get(model._meta.label_lower)
    if rule is None:
        return lambda user: Q() if getattr(user, "is_superuser", False) else _NOTHING
    return rule


def object_in_scope(user, obj: Model) -> bool:
    model = type(obj)
    return model._default_manager.filter(record_rule_for(model)(user), pk=obj.pk).exists()


def jurisdiction_scope(user) -> Q:
    ids = jurisdiction_scope_ids(user)
    return Q() if ids is None else Q(pk__in=ids)


def riversegment_scope(user) -> Q:
    return in_jurisdiction_scope(user)


def department_scope(user) -> Q:
    return in_jurisdiction_scope(user)


def waterbody_scope(user) -> Q:
    # A river crosses counties: every official with any grant may see every water body.
    ids = jurisdiction_scope_ids(user)
    return Q() if ids is None or ids else _NOTHING


def riverchiefappointment_scope(user) -> Q:
    return in_jurisdiction_scope(user, "segment__jurisdiction")


def register_base_rules() -> None:
    register_record_rule("base.jurisdiction", jurisdiction_scope)
    register_record_rule("base.riversegment", riversegment_scope)
    register_record_rule("base.department", department_scope)
    register_record_rule("base.waterbody", waterbody_scope)
    register_record_rule("base.riverchiefappointment", riverchiefappointment_scope)
    register_record_rule("base.calendarday", lambda user: Q() if user.is_active else _NOTHING)


# --- role sync ---------------------------------------------------------------------------


def declared_role_permissions() -> dict[str, set[str]]:
    """Merge `ROLE_PERMISSIONS` of every project module's security.py."""
    merged: dict[str, set[str]] = {role: set() for role in Role.values}
    for app_path in settings.PROJECT_APPS:
        try:
            module = importlib.import_module(f"{app_path}.security")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app_path}.security":
                raise
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged[role].update(perms)
    return merged


@transaction.atomic
def sync_roles() -> None:
    """Make each role's group hold exactly the declared permissions (idempotent)."""
    for role, names in declared_role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = set()
        for name in names:
            app_label, codename = name.split(".", 1)
            wanted.add((app_label, codename))
        perms = [
            p
            for p in Permission.objects.filter(codename__in={c for _, c in wanted}).select_related(
                "content_type"
            )
            if (p.content_type.app_label, p.codename) in wanted
        ]
        missing = wanted - {(p.content_type.app_label, p.codename) for p in perms}
        if missing:
            raise LookupError(f"Role {role} declares unknown permissions: {sorted(missing)}")
        group.permissions.set(perms)


def grant_jurisdiction_ids(user, roles) -> frozenset[int] | None:
    """Ids of jurisdictions covered by the user's grants of the given roles (None: all)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    key = "_grant_scope_" + ",".join(sorted(roles))
    cached = user.__dict__.get(key)
    if cached is not None:
        return cached
    from .models import Jurisdiction, RoleGrant

    paths = set(
        RoleGrant.objects.filter(user=user, role__in=list(roles)).values_list(
            "jurisdiction__path", flat=True
        )
    )
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(path__startswith=path)
    ids = frozenset(Jurisdiction.objects.filter(condition).values_list("id", flat=True))
    user.__dict__[key] = ids
    return ids


def holds_role_over(user, roles, jurisdiction) -> bool:
    """Whether `user` holds one of `roles` over `jurisdiction` (a grant on it or an ancestor)."""
    if user is None or not user.is_active:
        return False
    from .models import RoleGrant

    ancestors = [p for p in jurisdiction.path.split("/") if p]
    return RoleGrant.objects.filter(
        user=user, role__in=list(roles), jurisdiction__code__in=ancestors
    ).exists()
