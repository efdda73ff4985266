"""notify / notify_bulk: one row per recipient and key, constant queries, caller's transaction."""

import pytest
from django.db import transaction

from base.factories import UserFactory
from base.models import Jurisdiction
from notifications.models import Notification
from notifications.services import (
    Announcement,
    NotificationSpec,
    notify,
    notify_announcements,
    notify_bulk,
)

from .conftest import NOW


def _specs(users, n, *, prefix="k"):
    return [
        NotificationSpec(
            recipient_id=users[i % len(users)].pk,
            kind="deadline_reminder",
            title=f"整治期限提醒 {i}",
            link=f"/cases/outfalls/{i}/",
            subject_type="cases.outfall",
            subject_id=str(i),
            dedupe_key=f"{prefix}:{i}",
        )
        for i in range(n)
    ]


def test_notify_creates_one_row_per_recipient(immediate_user, digest_user):
    # given two recipients
    # when
    created = notify(
        recipients=[immediate_user, digest_user],
        kind="escalation_l1",
        title="排污口整治已逾期",
        body="请尽快处理。",
        link="/cases/outfalls/12/",
        dedupe_key="deadline:7:L1",
        now=NOW,
    )
    # then
    rows = Notification.objects.order_by("recipient_id")
    assert {n.recipient_id for n in rows} == {immediate_user.pk, digest_user.pk}
    assert {(n.kind, n.title, n.link, n.created_at) for n in rows} == {
        ("escalation_l1", "排污口整治已逾期", "/cases/outfalls/12/", NOW)
    }
    assert {n.pk for n in created} == {n.pk for n in rows}


def test_notify_repeat_with_same_dedupe_key_creates_nothing(immediate_user):
    # given
    first = notify(recipients=[immediate_user], kind="k", title="一", dedupe_key="same", now=NOW)
    # when
    again = notify(recipients=[immediate_user], kind="k", title="二", dedupe_key="same", now=NOW)
    # then
    assert len(first) == 1
    assert again == []
    assert list(Notification.objects.values_list("title", flat=True)) == ["一"]


def test_same_key_for_another_recipient_is_new(immediate_user, digest_user):
    notify(recipients=[immediate_user], kind="k", title="一", dedupe_key="same", now=NOW)
    # when
    created = notify(recipients=[digest_user], kind="k", title="一", dedupe_key="same", now=NOW)
    # then
    assert [n.recipient_id for n in created] == [digest_user.pk]
    assert Notification.objects.count() == 2


def test_notify_stores_the_subject_as_label_and_pk(immediate_user):
    # given any model instance as the subject
    subject = Jurisdiction.objects.get(code="140525")
    # when
    (created,) = notify(
        recipients=[immediate_user], kind="k", title="t", subject=subject, dedupe_key="s"
    )
    # then
    created.refresh_from_db()
    assert (created.subject_type, created.subject_id) == ("base.jurisdiction", str(subject.pk))


def test_notify_bulk_returns_only_the_new_count(immediate_user, digest_user):
    # given 4 notifications already written
    users = [immediate_user, digest_user]
    notify_bulk(_specs(users, 4), now=NOW)
    # when the same 4 and 3 more arrive
    new = notify_bulk(_specs(users, 7), now=NOW)
    # then
    assert new == 3
    assert Notification.objects.count() == 7


def test_duplicates_inside_one_batch_are_written_once(immediate_user):
    spec = _specs([immediate_user], 1)[0]
    # when
    new = notify_bulk([spec, spec, spec], now=NOW)
    # then
    assert new == 1
    assert Notification.objects.count() == 1


@pytest.mark.parametrize("count", [10, 500])
def test_notify_bulk_query_count_does_not_grow_with_specs(
    count, immediate_user, digest_user, quiet_user, django_assert_num_queries
):
    # given specs for three recipients
    specs = _specs([immediate_user, digest_user, quiet_user], count)
    # when / then: the recipients' e-mail choice (1), one INSERT for the rows to mail and one
    # for the rest (2), for 10 and 500 alike
    with django_assert_num_queries(3):
        new = notify_bulk(specs, now=NOW)
    assert new == count
    assert Notification.objects.count() == count


def test_notify_bulk_query_count_is_constant_on_a_rerun(immediate_user, django_assert_num_queries):
    # given 500 written
    specs = _specs([immediate_user], 500)
    notify_bulk(specs, now=NOW)
    # when all of them come again: recipients (1) + one INSERT (1)
    with django_assert_num_queries(2):
        new = notify_bulk(specs, now=NOW)
    # then
    assert new == 0
    assert Notification.objects.count() == 500


def test_notify_bulk_of_nothing_makes_no_query(django_assert_num_queries, db):
    with django_assert_num_queries(0):
        assert notify_bulk([]) == 0


def test_an_unknown_recipient_is_skipped_not_an_error(immediate_user):
    # given a spec for a user id that does not exist
    specs = [*_specs([immediate_user], 1), NotificationSpec(10**9, "k", "t", dedupe_key="x")]
    # when
    new = notify_bulk(specs, now=NOW)
    # then
    assert new == 1
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [immediate_user.pk]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("link", "https://evil.example/", "site-relative"),
        ("link", "//evil.example/", "site-relative"),
        ("kind", "Deadline Reminder", "snake_case"),
        ("title", "", "needs a title"),
        ("dedupe_key", "x" * 201, "too long"),
    ],
)
def test_an_invalid_spec_is_refused_and_nothing_is_written(field, value, message, immediate_user):
    # given one good spec and one bad one
    good = _specs([immediate_user], 1)[0]
    bad = NotificationSpec(
        **{**good.__dict__, "dedupe_key": "bad", field: value},
    )
    # when / then
    with pytest.raises(ValueError, match=message):
        notify_bulk([good, bad], now=NOW)
    assert Notification.objects.count() == 0


def test_a_long_title_is_shortened_not_refused(immediate_user):
    (created,) = notify(recipients=[immediate_user], kind="k", title="长" * 300, dedupe_key="t")
    created.refresh_from_db()
    assert len(created.title) == 200
    assert created.title.endswith("…")


def test_an_empty_dedupe_key_never_deduplicates(immediate_user):
    spec = NotificationSpec(immediate_user.pk, "k", "t")
    # when the same keyless spec is sent twice
    assert notify_bulk([spec], now=NOW) == 1
    assert notify_bulk([spec], now=NOW) == 1
    # then both are kept
    assert Notification.objects.count() == 2


def _notify_then_fail(user):
    with transaction.atomic():
        notify(recipients=[user], kind="k", title="t", dedupe_key="d")
        raise RuntimeError("sweep failed")


def test_notify_runs_in_the_callers_transaction(
    immediate_user, django_capture_on_commit_callbacks, mailoutbox
):
    # given the caller's transaction fails after notifying
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError, match="sweep failed"),
    ):
        _notify_then_fail(immediate_user)
    # then nothing was written, nothing enqueued, nothing mailed
    assert Notification.objects.count() == 0
    assert callbacks == []
    assert mailoutbox == []


def test_notify_accepts_user_ids(immediate_user):
    created = notify(recipients=[immediate_user.pk], kind="k", title="t", dedupe_key="d")
    assert [n.recipient_id for n in created] == [immediate_user.pk]


def test_notify_works_with_many_recipients_of_the_same_key(db):
    # given 300 users
    users = [UserFactory(username=f"u{i}") for i in range(300)]
    # when
    created = notify(recipients=users, kind="k", title="t", dedupe_key="broadcast", now=NOW)
    # then every user got one, each with its own id
    assert len({n.pk for n in created}) == 300
    assert Notification.objects.filter(dedupe_key="broadcast").count() == 300


def test_lazy_translations_are_stored_as_text(immediate_user):
    from django.utils.translation import gettext_lazy, override

    # when a caller passes a lazy title
    with override("zh-hans"):
        (created,) = notify(
            recipients=[immediate_user], kind="k", title=gettext_lazy("Inbox"), dedupe_key="l"
        )
    # then the active language's text is stored
    created.refresh_from_db()
    assert created.title == "收件箱"


def _announcement(recipients, i, **overrides):
    values = dict(
        recipient_ids=tuple(getattr(r, "pk", r) for r in recipients),
        kind="escalation_l1",
        title=f"【督办】排口{i} 已逾期",
        body="请尽快处理。",
        link=f"/cases/outfalls/{i}/",
        subject_type="cases.outfall",
        subject_id=str(i),
        dedupe_key=f"deadline:{i}:L1",
    )
    return Announcement(**{**values, **overrides})


def test_an_announcement_gives_each_recipient_a_row_with_their_mail_status(
    immediate_user, digest_user, quiet_user, no_address_user, django_capture_on_commit_callbacks
):
    # given one text for four recipients with four different e-mail situations
    everyone = [immediate_user, digest_user, quiet_user, no_address_user]
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        new = notify_announcements([_announcement(everyone, 1)], now=NOW)
    # then each has one row with the same text; only the immediate one is queued for mail
    assert new == 4
    rows = {n.recipient_id: n for n in Notification.objects.all()}
    assert set(rows) == {u.pk for u in everyone}
    assert {(n.title, n.link, n.dedupe_key, n.created_at) for n in rows.values()} == {
        ("【督办】排口1 已逾期", "/cases/outfalls/1/", "deadline:1:L1", NOW)
    }
    assert {pk: n.email_status for pk, n in rows.items()} == {
        immediate_user.pk: Notification.EmailStatus.READY,
        digest_user.pk: Notification.EmailStatus.SKIPPED,
        quiet_user.pk: Notification.EmailStatus.SKIPPED,
        no_address_user.pk: Notification.EmailStatus.SKIPPED,
    }
    assert len(callbacks) == 1


def test_announcements_skip_unknown_users_and_repeat_recipients(immediate_user, digest_user):
    # given a recipient listed twice, an unknown id, and the same key announced twice
    first = _announcement([immediate_user, immediate_user, 10**9], 1)
    again = _announcement([immediate_user, digest_user], 1, title="另一个标题")
    # when
    new = notify_announcements([first, again], now=NOW)
    # then the first text wins for the immediate user; the digest user gets the second
    assert new == 2
    assert dict(Notification.objects.values_list("recipient_id", "title")) == {
        immediate_user.pk: "【督办】排口1 已逾期",
        digest_user.pk: "另一个标题",
    }


def test_announcements_rerun_creates_nothing(immediate_user, digest_user, mailoutbox):
    announcements = [_announcement([immediate_user, digest_user], i) for i in range(20)]
    assert notify_announcements(announcements, now=NOW) == 40
    # when the same announcements come again
    assert notify_announcements(announcements, now=NOW) == 0
    # then
    assert Notification.objects.count() == 40


@pytest.mark.parametrize("count", [5, 400])
def test_announcements_query_count_does_not_grow(
    count, immediate_user, digest_user, quiet_user, django_assert_num_queries
):
    announcements = [
        _announcement([immediate_user, digest_user, quiet_user], i) for i in range(count)
    ]
    # when / then: recipients (1) + the rows to mail (1) + the others (1)
    with django_assert_num_queries(3):
        new = notify_announcements(announcements, now=NOW)
    assert new == 3 * count


def test_an_invalid_announcement_is_refused_and_nothing_is_written(immediate_user):
    good = _announcement([immediate_user], 1)
    bad = _announcement([immediate_user], 2, link="javascript:alert(1)")
    with pytest.raises(ValueError, match="site-relative"):
        notify_announcements([good, bad], now=NOW)
    assert Notification.objects.count() == 0
