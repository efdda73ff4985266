"""Access table of the notifications module.

Access matrix (prose). Every role reads its own inbox, marks its own notifications read and
chooses how it wants them mailed (immediately, a daily digest, or not at all); nobody reads
another user's notifications: another user's notification answers 404 like a missing one.
Notifications are written only by the system (higher modules call `services.notify`), never
by hand; in the Django admin they are read-only, and a staff user sees only their own.
Superusers see all notifications and edit every user's preference in the admin.
"""

from __future__ import annotations

from django.db.models import Q

from base.models import Role
from base.security import register_record_rule

OWN = [
    "notifications.view_notification",
    "notifications.change_notification",  # mark read
    "notifications.view_notificationpreference",
    "notifications.change_notificationpreference",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {role: OWN for role in Role.values}

_NOTHING = Q(pk__in=[])


def _own(field: str):
    def rule(user) -> Q:
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return _NOTHING
        if user.is_superuser:
            return Q()
        return Q(**{field: user})

    return rule


notification_scope = _own("recipient")
notificationpreference_scope = _own("user")


def register_notification_rules() -> None:
    register_record_rule("notifications.notification", notification_scope)
    register_record_rule("notifications.notificationpreference", notificationpreference_scope)
