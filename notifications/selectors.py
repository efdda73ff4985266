"""Reads of the notifications module. A user reads only their own notifications."""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404

from base.security import scoped

from .models import EmailMode, Notification, NotificationPreference


def inbox(user, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, unread first, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    qs = scoped(Notification.objects.filter(recipient=user), user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    unread = ExpressionWrapper(Q(read_at__isnull=True), output_field=BooleanField())
    return qs.order_by(unread.desc(), "-created_at", "-id")


def unread_count(user) -> int:
    """One COUNT over the (recipient, read_at) index."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_get(*, user, notification_id: int) -> Notification:
    """One of the user's notifications; another user's answers 404, like a missing one."""
    notification = inbox(user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    return notification


def preference_of(user) -> NotificationPreference:
    """The user's preference; an unsaved default (immediate) when they never chose."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference or NotificationPreference(user=user, email_mode=EmailMode.IMMEDIATE)


# --- digest (system reads, no user scope) ------------------------------------------------


def pending_digest(*, user_id: int, cutoff: dt.datetime, since: dt.datetime):
    """A digest user's notifications waiting for the digest, created in [since, cutoff)."""
    return Notification.objects.filter(
        recipient_id=user_id,
        email_status=Notification.EmailStatus.SKIPPED,
        digested_at__isnull=True,
        created_at__lt=cutoff,
        created_at__gte=since,
    )


def users_with_pending_digest(*, cutoff: dt.datetime) -> QuerySet:
    """Ids of active digest-mode users with an address and something to digest."""
    return (
        Notification.objects.filter(
            email_status=Notification.EmailStatus.SKIPPED,
            digested_at__isnull=True,
            created_at__lt=cutoff,
            recipient__is_active=True,
            recipient__notification_preference__email_mode=EmailMode.DIGEST,
            created_at__gte=F("recipient__notification_preference__changed_at"),
        )
        .exclude(recipient__email="")
        .order_by("recipient_id")
        .values_list("recipient_id", flat=True)
        .distinct()
    )
