"""Daily digest: one mail per digest user for what arrived before today; a rerun sends nothing."""

import datetime as dt

from django.conf import settings as django_settings
from django.utils import timezone

from config.celery import app
from notifications import services
from notifications.models import EmailMode, Notification
from notifications.services import digest_cutoff, notification_digests_send, notify
from notifications.tasks import send_daily_digests_task

from .conftest import BOUNCING, NOW, SHANGHAI, user_in_mode

Status = Notification.EmailStatus
YESTERDAY = NOW - dt.timedelta(days=1)  # 2024-05-14 10:00
TODAY_EARLY = dt.datetime(2024, 5, 15, 0, 30, tzinfo=SHANGHAI)
DIGEST_RUN = dt.datetime(2024, 5, 15, 7, 30, tzinfo=SHANGHAI)


def _note(user, key, *, at, title=None):
    return notify(
        recipients=[user],
        kind="deadline_reminder",
        title=title or f"提醒 {key}",
        link=f"/cases/outfalls/{key}/",
        dedupe_key=f"d:{key}",
        now=at,
    )


def test_the_cutoff_is_the_start_of_today_in_shanghai():
    # 2024-05-14 17:00 UTC is already 2024-05-15 01:00 in Asia/Shanghai
    now = dt.datetime(2024, 5, 14, 17, 0, tzinfo=dt.UTC)
    assert digest_cutoff(now) == dt.datetime(2024, 5, 14, 16, 0, tzinfo=dt.UTC)


def test_digest_groups_a_days_notifications_into_one_mail_per_user(
    digest_user, immediate_user, mailoutbox, django_capture_on_commit_callbacks
):
    # given yesterday: three for the digest user, one for a second digest user, one immediate
    other = user_in_mode("digester2", EmailMode.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        for i, hour in enumerate((9, 13, 18)):
            _note(digest_user, f"a{i}", at=YESTERDAY.replace(hour=hour), title=f"昨日提醒{i}")
        _note(other, "b0", at=YESTERDAY)
        _note(immediate_user, "c0", at=YESTERDAY)
        # and one for the digest user today, after the cut-off
        _note(digest_user, "today", at=TODAY_EARLY, title="今日提醒")
    mailoutbox.clear()  # the immediate user's own mail
    # when
    run = notification_digests_send(now=DIGEST_RUN)
    # then exactly one mail per digest user
    assert (run.mails, run.notifications, run.failures) == (2, 4, 0)
    assert sorted(m.to[0] for m in mailoutbox) == sorted([digest_user.email, other.email])
    mail = next(m for m in mailoutbox if m.to == [digest_user.email])
    assert "每日通知摘要" in mail.subject
    assert "3" in mail.subject
    for i in range(3):
        assert f"昨日提醒{i}" in mail.body
    assert "http://127.0.0.1:8000/cases/outfalls/a0/" in mail.body
    assert "今日提醒" not in mail.body
    # and the listed ones are marked, today's waits
    rows = dict(
        Notification.objects.filter(recipient=digest_user).values_list("title", "email_status")
    )
    assert rows == {
        "昨日提醒0": Status.SENT,
        "昨日提醒1": Status.SENT,
        "昨日提醒2": Status.SENT,
        "今日提醒": Status.SKIPPED,
    }
    assert not Notification.objects.filter(
        recipient=digest_user, email_status=Status.SENT, digested_at__isnull=True
    ).exists()


def test_a_rerun_sends_nothing(digest_user, mailoutbox):
    # given a digest already sent
    _note(digest_user, "a", at=YESTERDAY)
    notification_digests_send(now=DIGEST_RUN)
    # when it runs again the same day
    run = notification_digests_send(now=DIGEST_RUN + dt.timedelta(minutes=5))
    # then
    assert run.mails == 0
    assert len(mailoutbox) == 1


def test_todays_notifications_go_into_tomorrows_digest(digest_user, mailoutbox):
    # given one from yesterday (digested today) and one from today
    _note(digest_user, "old", at=YESTERDAY)
    _note(digest_user, "new", at=TODAY_EARLY, title="今日提醒")
    notification_digests_send(now=DIGEST_RUN)
    # when tomorrow's digest runs
    run = notification_digests_send(now=DIGEST_RUN + dt.timedelta(days=1))
    # then it lists only today's
    assert run.notifications == 1
    assert "今日提醒" in mailoutbox[-1].body
    assert "提醒 old" not in mailoutbox[-1].body


def test_no_digest_for_immediate_or_silent_users(
    immediate_user, quiet_user, mailoutbox, django_capture_on_commit_callbacks
):
    _note(quiet_user, "q", at=YESTERDAY)
    with django_capture_on_commit_callbacks(execute=True):
        _note(immediate_user, "i", at=YESTERDAY)
    mailoutbox.clear()
    # when
    run = notification_digests_send(now=DIGEST_RUN)
    # then
    assert run.mails == 0
    assert mailoutbox == []


def test_notifications_from_before_switching_to_digest_are_not_digested(quiet_user, mailoutbox):
    # given a silent user who received one, then switched to the digest
    _note(quiet_user, "while-silent", at=YESTERDAY - dt.timedelta(days=1))
    services.notification_preference_set(
        user=quiet_user, email_mode=EmailMode.DIGEST, now=YESTERDAY - dt.timedelta(hours=1)
    )
    _note(quiet_user, "while-digest", at=YESTERDAY)
    # when
    run = notification_digests_send(now=DIGEST_RUN)
    # then
    assert run.notifications == 1
    assert "while-digest" in mailoutbox[0].body
    assert "while-silent" not in mailoutbox[0].body


def test_a_failing_digest_does_not_block_the_others(digest_user, settings, mailoutbox):
    # given a digest user whose address bounces
    settings.EMAIL_BACKEND = BOUNCING
    bouncing = user_in_mode("bouncing_digest", EmailMode.DIGEST, email="bounce@example.org")
    _note(bouncing, "x", at=YESTERDAY)
    _note(digest_user, "y", at=YESTERDAY)
    # when
    run = notification_digests_send(now=DIGEST_RUN)
    # then the other digest went out; the failed one waits for the next run
    assert (run.mails, run.failures) == (1, 1)
    assert [m.to for m in mailoutbox] == [[digest_user.email]]
    waiting = Notification.objects.get(recipient=bouncing)
    assert (waiting.email_status, waiting.digested_at) == (Status.SKIPPED, None)


def test_the_digest_task_runs_the_service(digest_user, mailoutbox):
    # given a notification from two days ago (whatever today is)
    _note(digest_user, "a", at=timezone.now() - dt.timedelta(days=2))
    # when
    result = send_daily_digests_task.delay()
    # then
    assert result.successful()
    assert [m.to for m in mailoutbox] == [[digest_user.email]]


def test_the_digest_is_scheduled_daily_at_half_past_seven_shanghai_time():
    entry = django_settings.CELERY_BEAT_SCHEDULE["notifications-daily-digest"]
    schedule = entry["schedule"]
    assert entry["task"] == "notifications.send_daily_digests"
    assert entry["task"] in app.tasks
    assert (schedule.hour, schedule.minute) == ({7}, {30})
    assert schedule.day_of_week == set(range(7))
    assert django_settings.CELERY_TIMEZONE == "Asia/Shanghai"
