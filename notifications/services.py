"""Writes of the notifications module: notify, e-mail delivery, digests, read marks, preferences.

`notify` and `notify_bulk` are the public entry points for higher modules. They run inside
the caller's transaction (a rollback takes the notifications with it), write each
(recipient, dedupe_key) at most once and schedule e-mail only after commit, only for the
notifications they really created and only for recipients in immediate mode with an address.

`notify_bulk` is one set-based statement per call: `INSERT ... SELECT` over a single JSON
parameter, `ON CONFLICT (recipient_id, dedupe_key) DO NOTHING RETURNING id`. Django's
`bulk_create(ignore_conflicts=True)` returns no ids and, on SQLite, splits into one INSERT per
~66 rows (999 parameters); this keeps the number of queries constant (two: recipients, insert)
whatever the number of specs, and the returned ids are exactly the new rows, even when a
concurrent transaction writes the same keys.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import smtplib
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import connections, router, transaction
from django.db.models import F, Model
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import selectors
from .models import EmailMode, Notification, NotificationPreference

logger = logging.getLogger(__name__)

# Errors worth another try: the SMTP server or the network (SMTPException is an OSError).
RETRYABLE_EMAIL_ERRORS: tuple[type[Exception], ...] = (smtplib.SMTPException, OSError)

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")
_SPEC_TEXT = ("kind", "title", "body", "link", "subject_type", "subject_id", "dedupe_key")
_ERROR_MAX = 2000
DIGEST_MAX_LISTED = 100


@dataclass(frozen=True)
class NotificationSpec:
    recipient_id: int
    kind: str  # stable snake_case, e.g. "deadline_reminder", "escalation_l1"
    title: str
    body: str = ""
    link: str = ""  # a site-relative URL, e.g. "/cases/outfalls/12/"
    subject_type: str = ""  # e.g. "cases.outfall" (loose reference)
    subject_id: str = ""
    dedupe_key: str = ""  # unique per recipient; a repeat is silently skipped; "" = never


# --- notify ------------------------------------------------------------------------------


def notify(
    *,
    recipients: Iterable,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    subject: Model | None = None,
    dedupe_key: str,
    now: dt.datetime | None = None,
) -> list[Notification]:
    """Notify each recipient (users or user ids) once per `dedupe_key`; return the NEW rows."""
    subject_type = subject._meta.label_lower if subject is not None else ""
    subject_id = str(subject.pk) if subject is not None else ""
    specs = [
        NotificationSpec(
            recipient_id=getattr(recipient, "pk", recipient),
            kind=kind,
            title=title,
            body=body,
            link=link,
            subject_type=subject_type,
            subject_id=subject_id,
            dedupe_key=dedupe_key,
        )
        for recipient in recipients
    ]
    now = now or timezone.now()
    return _as_instances(_create(specs, now=now), now)


def notify_bulk(specs: Sequence[NotificationSpec], *, now: dt.datetime | None = None) -> int:
    """Write many notifications in a constant number of queries; return how many were NEW."""
    return len(_create(specs, now=now or timezone.now()))


def _create(specs: Iterable[NotificationSpec], *, now: dt.datetime) -> list[dict]:
    """Insert the new notifications; return their rows as dicts (with "id")."""
    unique: dict[tuple[int, str], NotificationSpec] = {}
    for spec in specs:
        spec = _normalised(spec)
        unique.setdefault((spec.recipient_id, spec.dedupe_key), spec)
    if not unique:
        return []
    wants_mail = _recipients_wanting_mail({recipient_id for recipient_id, _key in unique})
    ready, skipped = Notification.EmailStatus.READY, Notification.EmailStatus.SKIPPED
    # plain dicts, not model instances: the sweep notifies thousands per batch, and model
    # construction would cost more than the insert itself
    rows = [
        {
            "recipient_id": spec.recipient_id,
            "kind": spec.kind,
            "title": spec.title,
            "body": spec.body,
            "link": spec.link,
            "subject_type": spec.subject_type,
            "subject_id": spec.subject_id,
            "dedupe_key": spec.dedupe_key,
            "email_status": ready if wants_mail[spec.recipient_id] else skipped,
        }
        for spec in unique.values()
        if spec.recipient_id in wants_mail  # an unknown user id is dropped, not an FK error
    ]
    dropped = len(unique) - len(rows)
    if dropped:
        logger.warning("notify: %d spec(s) name no existing user; skipped", dropped)
    created = _insert_new(rows, now=now)
    for row in created:
        if row["email_status"] == ready:
            # robust: a broker hiccup for one mail neither hides the others nor reaches the
            # caller after its commit
            transaction.on_commit(_email_after_commit(row["id"]), robust=True)
    return created


def _as_instances(rows: list[dict], now: dt.datetime) -> list[Notification]:
    alias = router.db_for_write(Notification)
    instances = []
    for row in rows:
        instance = Notification(created_at=now, **row)
        instance._state.adding = False
        instance._state.db = alias
        instances.append(instance)
    return instances


def _email_after_commit(notification_id: int) -> Callable[[], None]:
    # a named closure, not functools.partial: Django logs a robust callback's failure by
    # its __qualname__, which a partial lacks
    def send_notification_email() -> None:
        from .tasks import send_notification_email_task

        send_notification_email_task.delay(notification_id)

    return send_notification_email


@functools.cache
def _max_lengths() -> dict[str, int]:
    return {
        name: Notification._meta.get_field(name).max_length
        for name in ("kind", "title", "link", "subject_type", "subject_id", "dedupe_key")
    }


def _normalised(spec: NotificationSpec) -> NotificationSpec:
    """Validate one spec and return it in stored form (text, clipped title, a dedupe key).

    Called for every spec of a bulk call: it copies the spec only when something changes.
    """
    limits = _max_lengths()
    changes = {}
    for name in _SPEC_TEXT:
        value = getattr(spec, name)
        if type(value) is not str:
            # a caller may pass lazy translations (stored in the active language) or None
            changes[name] = str(value or "")
    if type(spec.recipient_id) is not int:
        changes["recipient_id"] = int(spec.recipient_id)
    if changes:
        spec = replace(spec, **changes)
        changes = {}
    if not _KIND.match(spec.kind) or len(spec.kind) > limits["kind"]:
        raise ValueError(f"Notification kind must be snake_case, got {spec.kind!r}")
    if not spec.title:
        raise ValueError("A notification needs a title")
    link = spec.link
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise ValueError(f"A notification link must be site-relative, got {link!r}")
    for name in ("link", "subject_type", "subject_id", "dedupe_key"):
        if len(getattr(spec, name)) > limits[name]:
            raise ValueError(f"Notification {name} is too long: {getattr(spec, name)!r}")
    if len(spec.title) > limits["title"]:
        changes["title"] = spec.title[: limits["title"] - 1] + "…"
    if not spec.dedupe_key:
        changes["dedupe_key"] = f"unique:{uuid.uuid4().hex}"
    return replace(spec, **changes) if changes else spec


def _recipients_wanting_mail(user_ids: set[int]) -> dict[int, bool]:
    """{user id: wants an immediate mail} for the existing users among `user_ids` (1 query)."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    return {
        pk: bool(email and active and (mode or EmailMode.IMMEDIATE) == EmailMode.IMMEDIATE)
        for pk, email, active, mode in users.values_list(
            "pk", "email", "is_active", "notification_preference__email_mode"
        )
    }


_VARYING = (
    "recipient_id",
    "kind",
    "subject_type",
    "subject_id",
    "title",
    "body",
    "link",
    "dedupe_key",
    "email_status",
)
_SQL_TYPES = {"recipient_id": "bigint"}


def _insert_new(rows: list[dict], *, now: dt.datetime) -> list[dict]:
    """Insert `rows`, skipping existing (recipient, dedupe_key); return the inserted ones.

    One statement on SQLite (json_each) and PostgreSQL (jsonb_to_recordset).
    """
    if not rows:
        return []
    alias = router.db_for_write(Notification)
    connection = connections[alias]
    meta = Notification._meta
    quote = connection.ops.quote_name
    column = {name: meta.get_field(name).column for name in _VARYING}
    constants = {
        meta.get_field("created_at").column: connection.ops.adapt_datetimefield_value(now),
        meta.get_field("email_attempts").column: 0,
        meta.get_field("email_error").column: "",
    }
    payload = json.dumps(
        [{name: row[name] for name in _VARYING} for row in rows], ensure_ascii=False
    )
    if connection.vendor == "postgresql":
        record = ", ".join(f"{quote(name)} {_SQL_TYPES.get(name, 'text')}" for name in _VARYING)
        values = [f"x.{quote(name)}" for name in _VARYING]
        source = f"FROM jsonb_to_recordset(%s::jsonb) AS x({record})"
    elif connection.vendor == "sqlite":
        values = [f"json_extract(j.value, '$.{name}')" for name in _VARYING]
        # WHERE true: SQLite's parser needs it before an upsert clause on INSERT ... SELECT
        source = "FROM json_each(%s) AS j WHERE true"
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL only
        raise NotImplementedError(f"notify_bulk does not support {connection.vendor}")
    columns = [column[name] for name in _VARYING] + list(constants)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"SELECT {', '.join(values + ['%s'] * len(constants))} {source} "
        f"ON CONFLICT ({quote(column['recipient_id'])}, {quote(column['dedupe_key'])}) "
        f"DO NOTHING RETURNING {quote(meta.pk.column)}, {quote(column['recipient_id'])}, "
        f"{quote(column['dedupe_key'])}"
    )
    params = [*constants.values(), payload]  # placeholder order: SELECT list, then source
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        inserted = {(recipient_id, key): pk for pk, recipient_id, key in cursor.fetchall()}
    created = []
    for row in rows:
        pk = inserted.get((row["recipient_id"], row["dedupe_key"]))
        if pk is not None:
            row["id"] = pk
            created.append(row)
    return created


# --- e-mail ------------------------------------------------------------------------------


def _absolute(link: str) -> str:
    return urljoin(settings.SITE_URL, link) if link else ""


def _inbox_url() -> str:
    from django.urls import reverse

    return _absolute(reverse("notifications:inbox:index"))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _notification_message(notification: Notification, address: str) -> EmailMessage:
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[River Outfall Supervision] %(title)s") % {
            "title": _one_line(notification.title)
        }
        body = render_to_string(
            "notifications/email/notification.txt",
            {
                "notification": notification,
                "url": _absolute(notification.link),
                "inbox_url": _inbox_url(),
            },
        )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address])


def notification_email_send(
    *, notification_id: int, final_attempt: bool, now: dt.datetime | None = None
) -> Notification | None:
    """Mail one notification (immediate mode). Idempotent: a sent or failed row is left alone.

    Each try is counted in `email_attempts`. A retryable error (SMTP, network) is recorded and
    re-raised for the task to retry, unless this is the `final_attempt`: then, like any other
    error, the row ends `failed` with the error text and nothing is raised.
    """
    retry_error: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.email_status != Notification.EmailStatus.READY:
            return notification
        recipient = notification.recipient
        if not recipient.email or not recipient.is_active:
            notification.email_status = Notification.EmailStatus.SKIPPED
            notification.save(update_fields=["email_status"])
            return notification
        notification.email_attempts += 1
        try:
            _notification_message(notification, recipient.email).send(fail_silently=False)
        except Exception as exc:
            notification.email_error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
            if isinstance(exc, RETRYABLE_EMAIL_ERRORS) and not final_attempt:
                retry_error = exc
            else:
                notification.email_status = Notification.EmailStatus.FAILED
                logger.warning(
                    "notification %s: e-mail failed after %d attempt(s): %s",
                    notification.pk,
                    notification.email_attempts,
                    notification.email_error,
                )
        else:
            notification.email_status = Notification.EmailStatus.SENT
            notification.emailed_at = now or timezone.now()
            notification.email_error = ""
        notification.save(
            update_fields=["email_status", "email_attempts", "email_error", "emailed_at"]
        )
    if retry_error is not None:
        raise retry_error  # after commit: the attempt and its error stay recorded
    return notification


# --- digest ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestRun:
    mails: int = 0  # digests sent, one per user
    notifications: int = 0  # notifications they listed
    failures: int = 0  # users whose digest could not be sent (retried on the next run)


def digest_cutoff(now: dt.datetime) -> dt.datetime:
    """The start of `now`'s day in the project time zone (Asia/Shanghai)."""
    return timezone.make_aware(dt.datetime.combine(timezone.localdate(now), dt.time.min))


def notification_digests_send(*, now: dt.datetime | None = None) -> DigestRun:
    """Mail each digest-mode user ONE message listing what arrived before today. Idempotent.

    A user's digest covers their notifications created in digest mode, before the start of
    today, and not yet digested; sending marks them digested and sent. A user whose mail
    fails is logged and skipped (their notifications wait for the next run); the others are
    not held up.
    """
    now = now or timezone.now()
    cutoff = digest_cutoff(now)
    user_ids = list(selectors.users_with_pending_digest(cutoff=cutoff))
    mails = listed = failures = 0
    for user_id in user_ids:
        try:
            count = _digest_send_one(user_id=user_id, cutoff=cutoff, now=now)
        except Exception:
            failures += 1
            logger.exception("digest for user %s failed; retried on the next run", user_id)
            continue
        if count:
            mails += 1
            listed += count
    return DigestRun(mails=mails, notifications=listed, failures=failures)


def _digest_send_one(*, user_id: int, cutoff: dt.datetime, now: dt.datetime) -> int:
    with transaction.atomic():
        preference = (
            NotificationPreference.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(user_id=user_id)
            .first()
        )
        if preference is None or preference.email_mode != EmailMode.DIGEST:
            return 0
        user = preference.user
        if not user.email or not user.is_active:
            return 0
        pending = list(
            selectors.pending_digest(user_id=user_id, cutoff=cutoff, since=preference.changed_at)
            .select_for_update()
            .order_by("created_at", "id")
        )
        if not pending:
            return 0
        _digest_message(user, pending).send(fail_silently=False)
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            email_status=Notification.EmailStatus.SENT,
            email_attempts=F("email_attempts") + 1,
            emailed_at=now,
            digested_at=now,
        )
        return len(pending)


def _digest_message(user, notifications: list[Notification]) -> EmailMessage:
    count = len(notifications)
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "[River Outfall Supervision] Daily digest: %(count)d notification",
            "[River Outfall Supervision] Daily digest: %(count)d notifications",
            count,
        ) % {"count": count}
        body = render_to_string(
            "notifications/email/digest.txt",
            {
                "user": user,
                "count": count,
                "items": [(n, _absolute(n.link)) for n in notifications[:DIGEST_MAX_LISTED]],
                "more": max(0, count - DIGEST_MAX_LISTED),
                "inbox_url": _inbox_url(),
            },
        )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


# --- inbox -------------------------------------------------------------------------------


def notification_mark_read(
    *, user, notification_id: int, now: dt.datetime | None = None
) -> Notification:
    """Mark one of the user's notifications read (404 for another user's). Idempotent."""
    notification = selectors.notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=read_at
        )
        notification.read_at = read_at
    return notification


def notification_mark_all_read(*, user, now: dt.datetime | None = None) -> int:
    """Mark all the user's unread notifications read; return how many."""
    return selectors.inbox(user, unread_only=True).update(read_at=now or timezone.now())


@transaction.atomic
def notification_preference_set(
    *, user, email_mode: str, now: dt.datetime | None = None
) -> NotificationPreference:
    if email_mode not in EmailMode.values:
        raise ValidationError({"email_mode": _("Choose how you want to receive e-mail.")})
    now = now or timezone.now()
    preference, created = NotificationPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"email_mode": email_mode, "changed_at": now}
    )
    if not created and preference.email_mode != email_mode:
        preference.email_mode = email_mode
        preference.changed_at = now
        preference.save(update_fields=["email_mode", "changed_at"])
    return preference


STUCK_AFTER = dt.timedelta(hours=2)


def notification_emails_requeue(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Re-queue immediate mails still `ready` long after their creation.

    A mail is queued after commit; if the broker was unreachable then (or a retry message
    was lost), nothing else would ever send it. Re-queuing is safe: the send service locks
    the row and leaves a sent or failed one alone. Retries finish well within STUCK_AFTER.
    """
    from .tasks import send_notification_email_task

    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(
            email_status=Notification.EmailStatus.READY, created_at__lt=now - STUCK_AFTER
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for notification_id in ids:
        send_notification_email_task.delay(notification_id)
    return len(ids)
