"""Writes of the notifications module: notify, e-mail delivery, digests, read marks, preferences.

`notify`, `notify_bulk` and `notify_announcements` are the public entry points for higher
modules. They run inside the caller's transaction (a rollback takes the notifications with
it), write each (recipient, dedupe_key) at most once and schedule e-mail only after commit,
only for the notifications they really created and only for recipients in immediate mode
with an address.

Each call is a constant number of statements whatever its size: one reads the recipients'
e-mail choice, then one `INSERT ... SELECT` per e-mail status (ready, skipped) over a single
JSON parameter holding the announcements and their recipient ids, `ON CONFLICT
(recipient_id, dedupe_key) DO NOTHING`; rows to mail come back with `RETURNING id` for the
mail task, the others are only counted. Django's `bulk_create(ignore_conflicts=True)`
returns no ids and, on SQLite, splits into one INSERT per ~66 rows (999 parameters); here the
returned ids are exactly the new rows, even when a concurrent transaction writes the same
keys, and the text of an announcement travels once, not once per recipient.
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
# the text fields of a notification, in the order the insert's JSON carries them
_TEXT = ("kind", "subject_type", "subject_id", "title", "body", "link", "dedupe_key")
_ERROR_MAX = 2000
DIGEST_MAX_LISTED = 100


@dataclass(frozen=True)
class NotificationSpec:
    """One notification for one recipient (see `Announcement` for one text to many)."""

    recipient_id: int
    kind: str  # stable snake_case, e.g. "deadline_reminder", "escalation_l1"
    title: str
    body: str = ""
    link: str = ""  # a site-relative URL, e.g. "/cases/outfalls/12/"
    subject_type: str = ""  # e.g. "cases.outfall" (loose reference)
    subject_id: str = ""
    dedupe_key: str = ""  # unique per recipient; a repeat is silently skipped; "" = never


@dataclass(frozen=True)
class Announcement:
    """One notification text for several recipients, each getting their own row.

    This is the shape the escalation sweep writes: one text per (deadline, level), two to a
    dozen recipients. Validation and the stored text are per announcement, not per row.
    """

    recipient_ids: tuple[int, ...]
    kind: str
    title: str
    body: str = ""
    link: str = ""
    subject_type: str = ""
    subject_id: str = ""
    dedupe_key: str = ""


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
    announcement = Announcement(
        recipient_ids=tuple(getattr(recipient, "pk", recipient) for recipient in recipients),
        kind=kind,
        title=title,
        body=body,
        link=link,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=str(subject.pk) if subject is not None else "",
        dedupe_key=dedupe_key,
    )
    announcement = _normalised(announcement)  # once: the instances carry the stored form
    now = now or timezone.now()
    _count, created = _create([announcement], now=now, rows=True)
    return _as_instances(created, announcement, now)


def notify_bulk(specs: Sequence[NotificationSpec], *, now: dt.datetime | None = None) -> int:
    """Write many notifications in at most three queries; return how many were NEW."""
    announcements = [Announcement((spec.recipient_id,), **_text_of(spec)) for spec in specs]
    return _create(announcements, now=now or timezone.now())[0]


def notify_announcements(
    announcements: Sequence[Announcement], *, now: dt.datetime | None = None
) -> int:
    """Write every recipient's row of many announcements; return how many were NEW."""
    return _create(announcements, now=now or timezone.now())[0]


# (id, recipient id, dedupe key, e-mail status) of a row just written
_Row = tuple[int, int, str, str]


def _create(
    announcements: Iterable[Announcement], *, now: dt.datetime, rows: bool = False
) -> tuple[int, list[_Row]]:
    """Insert the new notifications; return how many, and (with `rows`) the new rows.

    One query reads the recipients' e-mail choice; then one INSERT per e-mail status
    (ready, skipped). Rows to mail come back with their ids (the mail task needs them);
    the others only as a count, unless `rows` asks for them too.
    """
    wanted: list[Announcement] = []
    seen: dict[str, set[int]] = {}  # dedupe key -> recipients already given it in this call
    for announcement in announcements:
        announcement = _normalised(announcement)
        ids = announcement.recipient_ids
        given = seen.get(announcement.dedupe_key)
        if given is None:  # the usual case: a key once per call
            seen[announcement.dedupe_key] = given = set(ids)
            fresh = ids if len(given) == len(ids) else tuple(dict.fromkeys(ids))
        else:
            fresh = tuple(r for r in dict.fromkeys(ids) if r not in given)
            given.update(fresh)
        if fresh:
            if fresh is not ids:
                announcement = replace(announcement, recipient_ids=fresh)
            wanted.append(announcement)
    if not wanted:
        return 0, []
    recipients = {r for announcement in wanted for r in announcement.recipient_ids}
    wants_mail = _recipients_wanting_mail(recipients)
    mailed = {pk for pk, wants in wants_mail.items() if wants}
    if len(wants_mail) < len(recipients):
        logger.warning(
            "notify: %d recipient id(s) name no existing user; skipped",
            len(recipients) - len(wants_mail),
        )
    ready, skipped = Notification.EmailStatus.READY, Notification.EmailStatus.SKIPPED
    if mailed or len(wants_mail) < len(recipients):
        groups = {ready: [], skipped: []}
        for announcement in wanted:
            ids = announcement.recipient_ids
            to_mail = tuple(r for r in ids if r in mailed)
            rest = tuple(r for r in ids if r not in mailed and r in wants_mail)
            if to_mail:
                groups[ready].append(replace(announcement, recipient_ids=to_mail))
            if rest:
                groups[skipped].append(
                    announcement if rest == ids else replace(announcement, recipient_ids=rest)
                )
    else:  # nobody here wants an immediate mail and every recipient exists
        groups = {skipped: wanted}
    count, created = 0, []
    for status, group in groups.items():
        if group:
            n, returned = _insert_new(
                group, status=status, now=now, returning=rows or status == ready
            )
            count += n
            created += returned
    for pk, _recipient_id, _key, email_status in created:
        if email_status == ready:
            # robust: a broker hiccup for one mail neither hides the others nor reaches the
            # caller after its commit
            transaction.on_commit(_email_after_commit(pk), robust=True)
    return count, created


def _text_of(source: NotificationSpec | Announcement) -> dict[str, str]:
    """The stored text fields of a spec or an announcement, by name."""
    return {name: getattr(source, name) for name in _TEXT}


def _as_instances(
    rows: list[_Row], announcement: Announcement, now: dt.datetime
) -> list[Notification]:
    alias = router.db_for_write(Notification)
    instances = []
    for pk, recipient_id, _key, email_status in rows:
        instance = Notification(
            id=pk,
            recipient_id=recipient_id,
            email_status=email_status,
            created_at=now,
            **_text_of(announcement),
        )
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


def _normalised(announcement: Announcement) -> Announcement:
    """Validate one announcement and return it in stored form (text, clipped title, a key).

    Called for every announcement of a bulk call: it copies only when something changes.
    """
    a = announcement
    if not (
        type(a.kind) is str
        and type(a.title) is str
        and type(a.body) is str
        and type(a.link) is str
        and type(a.subject_type) is str
        and type(a.subject_id) is str
        and type(a.dedupe_key) is str
    ):
        # a caller may pass lazy translations (stored in the active language) or None
        a = replace(a, **{name: str(getattr(a, name) or "") for name in _TEXT})
    ids = a.recipient_ids
    if type(ids) is not tuple or any(type(r) is not int for r in ids):
        a = replace(a, recipient_ids=tuple(int(r) for r in ids))
    limits = _max_lengths()
    if not _KIND.match(a.kind) or len(a.kind) > limits["kind"]:
        raise ValueError(f"Notification kind must be snake_case, got {a.kind!r}")
    if not a.title:
        raise ValueError("A notification needs a title")
    link = a.link
    if link and (link[0] != "/" or link.startswith("//") or "\\" in link):
        raise ValueError(f"A notification link must be site-relative, got {link!r}")
    for name in ("link", "subject_type", "subject_id", "dedupe_key"):
        if len(getattr(a, name)) > limits[name]:
            raise ValueError(f"Notification {name} is too long: {getattr(a, name)!r}")
    if len(a.title) > limits["title"]:
        a = replace(a, title=a.title[: limits["title"] - 1] + "…")
    if not a.dedupe_key:
        a = replace(a, dedupe_key=f"unique:{uuid.uuid4().hex}")
    return a


def _recipients_wanting_mail(user_ids: set[int]) -> dict[int, bool]:
    """{user id: wants an immediate mail} for the existing users among `user_ids` (1 query)."""
    users = get_user_model().objects.filter(pk__in=user_ids)
    return {
        pk: bool(email and active and (mode or EmailMode.IMMEDIATE) == EmailMode.IMMEDIATE)
        for pk, email, active, mode in users.values_list(
            "pk", "email", "is_active", "notification_preference__email_mode"
        )
    }


def _insert_new(
    announcements: list[Announcement], *, status: str, now: dt.datetime, returning: bool
) -> tuple[int, list[_Row]]:
    """Insert a row per (announcement, recipient) with the given e-mail status, skipping
    existing (recipient, dedupe_key) pairs; return how many, and the rows if `returning`.

    One statement: the announcements travel as one JSON parameter (json_each on SQLite,
    jsonb_array_elements on PostgreSQL), each with its recipient ids.
    """
    alias = router.db_for_write(Notification)
    connection = connections[alias]
    quote = connection.ops.quote_name
    meta = Notification._meta
    column = {name: quote(meta.get_field(name).column) for name in (*_TEXT, "recipient_id")}
    payload = json.dumps(
        [
            [  # in _TEXT's order
                a.kind,
                a.subject_type,
                a.subject_id,
                a.title,
                a.body,
                a.link,
                a.dedupe_key,
                a.recipient_ids,
            ]
            for a in announcements
        ],
        ensure_ascii=False,
    )
    n = len(_TEXT)
    if connection.vendor == "postgresql":
        fields = [f"a.value->>{i}" for i in range(n)]
        recipient = "r.value::bigint"
        source = (
            "FROM jsonb_array_elements(%s::jsonb) AS a(value) "
            f"CROSS JOIN LATERAL jsonb_array_elements_text(a.value->{n}) AS r(value)"
        )
    elif connection.vendor == "sqlite":
        # a subquery, not a CTE: Python's sqlite3 reports no rowcount for a statement that
        # starts with WITH
        names = ", ".join(f"json_extract(value, '$[{i}]') AS f{i}" for i in range(n + 1))
        fields = [f"a.f{i}" for i in range(n)]
        recipient = "r.value"
        # WHERE true: SQLite's parser needs it before an upsert clause on INSERT ... SELECT
        source = (
            f"FROM (SELECT {names} FROM json_each(%s)) AS a JOIN json_each(a.f{n}) AS r WHERE true"
        )
    else:  # pragma: no cover - the project runs on SQLite and PostgreSQL only
        raise NotImplementedError(f"notify does not support {connection.vendor}")
    columns = [column["recipient_id"], *(column[name] for name in _TEXT)]
    columns += [
        quote(meta.get_field(name).column)
        for name in ("email_status", "created_at", "email_attempts", "email_error")
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {recipient}, {', '.join(fields)}, %s, %s, %s, %s {source} "
        f"ON CONFLICT ({column['recipient_id']}, {column['dedupe_key']}) DO NOTHING"
    )
    if returning:
        sql += (
            f" RETURNING {quote(meta.pk.column)}, {column['recipient_id']}, {column['dedupe_key']}"
        )
    constants = [status, connection.ops.adapt_datetimefield_value(now), 0, ""]
    params = [*constants, payload]  # placeholder order: SELECT list, then FROM
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not returning:
            return cursor.rowcount, []
        created = [(pk, recipient_id, key, status) for pk, recipient_id, key in cursor.fetchall()]
    return len(created), created


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
