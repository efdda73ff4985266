"""Immediate e-mail: enqueued after commit, sent by a retrying task, one failure blocks nothing."""

import pytest

from notifications.models import EmailMode, Notification
from notifications.services import notify
from notifications.tasks import send_notification_email_task

from .backends import BouncingBackend, FlakyBackend
from .conftest import BOUNCING, BROKEN, FLAKY, NOW, user_in_mode

Status = Notification.EmailStatus


def _notify(recipients, key="deadline:1:L0"):
    return notify(
        recipients=recipients,
        kind="deadline_reminder",
        title="整治期限将至",
        body="距整治期限还有 7 天。",
        link="/cases/outfalls/12/",
        dedupe_key=key,
        now=NOW,
    )


def test_mail_is_enqueued_on_commit_only_for_immediate_recipients_with_an_address(
    immediate_user,
    digest_user,
    quiet_user,
    no_address_user,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    # given one recipient per mode, and one without an address
    recipients = [immediate_user, digest_user, quiet_user, no_address_user]
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify(recipients)
        assert mailoutbox == []  # nothing leaves before the commit
    # then one task was enqueued and one mail went out, to the immediate recipient
    assert len(callbacks) == 1
    assert [m.to for m in mailoutbox] == [[immediate_user.email]]
    statuses = dict(Notification.objects.values_list("recipient__username", "email_status"))
    assert statuses == {
        "immediate": Status.SENT,
        "digester": Status.SKIPPED,
        "quiet": Status.SKIPPED,
        "no_address": Status.SKIPPED,
    }


def test_a_repeat_enqueues_no_second_mail(
    immediate_user, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([immediate_user])
    # when the same notification is announced again
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([immediate_user])
    # then
    assert callbacks == []
    assert len(mailoutbox) == 1


def test_the_task_sends_a_chinese_mail_with_the_absolute_link_and_marks_sent(
    immediate_user, mailoutbox, settings
):
    # given
    settings.SITE_URL = "https://outfalls.example.gov.cn"
    (notification,) = _notify([immediate_user])
    # when
    send_notification_email_task.delay(notification.pk)
    # then
    (mail,) = mailoutbox
    assert mail.to == [immediate_user.email]
    assert mail.subject == "【入河排污口监督管理系统】整治期限将至"
    assert "距整治期限还有 7 天。" in mail.body
    assert "https://outfalls.example.gov.cn/cases/outfalls/12/" in mail.body
    assert "https://outfalls.example.gov.cn/notifications/inbox/" in mail.body
    assert "打开" in mail.body
    notification.refresh_from_db()
    assert notification.email_status == Status.SENT
    assert notification.email_attempts == 1
    assert notification.emailed_at is not None


def test_the_task_is_idempotent(immediate_user, mailoutbox):
    # given a notification already mailed
    (notification,) = _notify([immediate_user])
    send_notification_email_task.delay(notification.pk)
    # when the task runs again (a redelivered message)
    send_notification_email_task.delay(notification.pk)
    # then
    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert notification.email_attempts == 1


def test_a_failing_send_is_retried_and_ends_failed_without_blocking_other_mail(
    bouncing_user, immediate_user, settings, mailoutbox, django_capture_on_commit_callbacks
):
    # given a server that refuses one address; 3 retries allowed
    settings.EMAIL_BACKEND = BOUNCING
    settings.NOTIFICATIONS_EMAIL_MAX_RETRIES = 3
    # when both are notified in one call (the bouncing one first)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([bouncing_user, immediate_user])
    # then the refused one was tried 1 + 3 times and ended failed with the error text
    assert len(callbacks) == 2
    assert BouncingBackend.attempts["bounce@example.org"] == 4
    failed = Notification.objects.get(recipient=bouncing_user)
    assert failed.email_status == Status.FAILED
    assert failed.email_attempts == 4
    assert "SMTPRecipientsRefused" in failed.email_error
    assert failed.emailed_at is None
    # and the other mail still went out
    assert [m.to for m in mailoutbox] == [[immediate_user.email]]
    assert Notification.objects.get(recipient=immediate_user).email_status == Status.SENT


def test_the_retry_limit_comes_from_settings(bouncing_user, settings):
    # given
    settings.EMAIL_BACKEND = BOUNCING
    settings.NOTIFICATIONS_EMAIL_MAX_RETRIES = 1
    (notification,) = _notify([bouncing_user])
    # when
    send_notification_email_task.delay(notification.pk)
    # then
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (Status.FAILED, 2)


def test_a_transient_failure_is_retried_until_sent(immediate_user, settings, mailoutbox):
    # given the connection drops twice, then works
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures_left = 2
    (notification,) = _notify([immediate_user])
    # when
    send_notification_email_task.delay(notification.pk)
    # then the third attempt delivered it, once
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (Status.SENT, 3)
    assert notification.email_error == ""
    assert len(mailoutbox) == 1


def test_the_retry_runs_through_celery_with_a_growing_retry_count(immediate_user, settings):
    # given the connection drops once
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures_left = 1
    (notification,) = _notify([immediate_user])
    # when
    result = send_notification_email_task.delay(notification.pk)
    # then Celery's eager retry re-ran the task as retry 1 and it succeeded
    assert result.successful()
    notification.refresh_from_db()
    assert notification.email_attempts == 2


def test_an_error_not_worth_retrying_fails_at_once(immediate_user, settings, mailoutbox):
    settings.EMAIL_BACKEND = BROKEN
    (notification,) = _notify([immediate_user])
    # when
    send_notification_email_task.delay(notification.pk)
    # then
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (Status.FAILED, 1)
    assert notification.email_error == "ValueError: bad header"
    assert mailoutbox == []


def test_a_recipient_who_lost_their_address_is_skipped(immediate_user, mailoutbox):
    # given the address was removed after the notification was written
    (notification,) = _notify([immediate_user])
    immediate_user.email = ""
    immediate_user.save(update_fields=["email"])
    # when
    send_notification_email_task.delay(notification.pk)
    # then
    notification.refresh_from_db()
    assert notification.email_status == Status.SKIPPED
    assert mailoutbox == []


def test_a_missing_notification_is_ignored(db, mailoutbox):
    # when the row is gone (e.g. its user was deleted) before the task ran
    result = send_notification_email_task.delay(10**9)
    # then
    assert result.successful()
    assert mailoutbox == []


@pytest.mark.parametrize("status", [Status.SENT, Status.FAILED, Status.SKIPPED])
def test_only_ready_rows_are_sent(status, immediate_user, mailoutbox):
    (notification,) = _notify([immediate_user])
    Notification.objects.filter(pk=notification.pk).update(email_status=status)
    # when
    send_notification_email_task.delay(notification.pk)
    # then
    assert mailoutbox == []
    notification.refresh_from_db()
    assert (notification.email_status, notification.email_attempts) == (status, 0)


def test_an_unexpected_error_in_the_task_still_propagates_in_eager_mode(
    immediate_user, monkeypatch
):
    # given a defect in the service (not an e-mail error)
    def broken(**kwargs):
        raise KeyError("defect")

    monkeypatch.setattr("notifications.tasks.notification_email_send", broken)
    # when / then the eager call raises it, it is not swallowed by the retry handling
    with pytest.raises(KeyError, match="defect"):
        send_notification_email_task.delay(1)


def test_a_broker_failure_reaches_neither_the_caller_nor_the_other_mails(
    immediate_user, monkeypatch, django_capture_on_commit_callbacks, mailoutbox
):
    # given the broker refuses the first message only
    second = user_in_mode("immediate2", EmailMode.IMMEDIATE)
    enqueue = send_notification_email_task.delay
    calls = []

    def flaky_delay(notification_id):
        calls.append(notification_id)
        if len(calls) == 1:
            raise OSError("broker unreachable")
        return enqueue(notification_id)

    monkeypatch.setattr(send_notification_email_task, "delay", flaky_delay)
    # when (no exception reaches the caller)
    with django_capture_on_commit_callbacks(execute=True):
        first, other = _notify([immediate_user, second])
    # then the other mail was still enqueued and sent; the first waits, still ready
    assert calls == [first.pk, other.pk]
    assert [m.to for m in mailoutbox] == [[second.email]]
    first.refresh_from_db()
    assert first.email_status == Status.READY
