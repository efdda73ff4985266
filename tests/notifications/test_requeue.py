import datetime as dt

from django.core import mail
from django.utils import timezone

from base.factories import UserFactory
from notifications.models import Notification
from notifications.services import notification_emails_requeue, notify


def test_stuck_ready_mail_is_requeued_and_sent_once(db):
    # given a mail whose queueing was lost (no on-commit callback ran)
    user = UserFactory(email="officer@example.org")
    old = timezone.now() - dt.timedelta(hours=3)
    [notification] = notify(
        recipients=[user], kind="test_kind", title="标题", dedupe_key="k1", now=old
    )
    assert notification.email_status == "ready"
    # when the requeue job runs twice
    assert notification_emails_requeue() == 1
    assert notification_emails_requeue() == 0
    # then the mail went out exactly once
    notification.refresh_from_db()
    assert notification.email_status == "sent"
    assert len(mail.outbox) == 1


def test_recent_ready_mail_is_left_to_its_task(db):
    user = UserFactory(email="officer@example.org")
    notify(recipients=[user], kind="test_kind", title="标题", dedupe_key="k2")
    assert notification_emails_requeue() == 0
    assert Notification.objects.get().email_status == "ready"
