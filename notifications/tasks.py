"""Thin Celery wrappers around the notification services. Retries live here."""

from __future__ import annotations

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone

from .services import RETRYABLE_EMAIL_ERRORS, notification_digests_send, notification_email_send

DEFAULT_EMAIL_MAX_RETRIES = 3


class EmailTask(Task):
    """A retrying task whose retry limit is read from settings at run time, not import time.

    It also makes eager mode (the tests) take the real retry path: Celery re-runs an eager
    task on `Retry` only when it does not propagate exceptions; with
    `task_eager_propagates` on, the first `Retry` escapes `apply()` instead. So `apply()`
    runs without propagation and re-raises the final failure itself when asked to propagate.
    A worker never calls `apply()`; this changes nothing outside eager mode.
    """

    @property
    def max_retries(self) -> int:
        return getattr(settings, "NOTIFICATIONS_EMAIL_MAX_RETRIES", DEFAULT_EMAIL_MAX_RETRIES)

    def apply(self, args=None, kwargs=None, **options):
        throw = options.pop("throw", None)
        if throw is None:
            throw = self.app.conf.task_eager_propagates
        result = super().apply(args, kwargs, throw=False, **options)
        if throw and result.failed():
            raise result.result
        return result


@shared_task(
    bind=True,
    base=EmailTask,
    name="notifications.send_notification_email",
    autoretry_for=RETRYABLE_EMAIL_ERRORS,
    retry_backoff=60,  # 60 s, 120 s, 240 s ... (with jitter), capped below
    retry_backoff_max=3600,
    acks_late=True,  # the service locks the row and returns if already sent/failed
    ignore_result=True,
)
def send_notification_email_task(self, notification_id: int) -> None:
    notification_email_send(
        notification_id=notification_id,
        final_attempt=self.request.retries >= self.max_retries,
        now=timezone.now(),
    )


@shared_task(name="notifications.send_daily_digests", acks_late=True, ignore_result=True)
def send_daily_digests_task() -> int:
    """Beat: every day at 07:30 (Asia/Shanghai). Idempotent: a rerun sends nothing new."""
    return notification_digests_send(now=timezone.now()).mails


@shared_task(name="notifications.requeue_stuck_emails", ignore_result=True)
def requeue_stuck_emails_task() -> int:
    """Beat: every 30 minutes, re-queue immediate mails whose queueing was lost."""
    from .services import notification_emails_requeue

    return notification_emails_requeue(now=timezone.now())
