"""Inbox, read marks, header badge and e-mail settings pages; scoping and CSRF."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.test import Client, RequestFactory

from base.factories import UserFactory
from base.models import Role
from notifications.context_processors import unread
from notifications.models import EmailMode, Notification, NotificationPreference
from notifications.services import notify

from .conftest import NOW

INBOX = "/notifications/inbox/"


def _note(user, key, *, title=None, link="", minutes=0):
    (notification,) = notify(
        recipients=[user],
        kind="escalation_l1",
        title=title or f"通知{key}",
        link=link,
        dedupe_key=key,
        now=NOW + dt.timedelta(minutes=minutes),
    )
    return notification


def _ids(content: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-notification-id="(\d+)"', content)]


@pytest.fixture
def officer_client(client, county_officer):
    client.force_login(county_officer)
    return client


def test_inbox_lists_only_the_users_own_notifications(
    officer_client, county_officer, other_county_officer
):
    # given
    mine = _note(county_officer, "mine", title="泽州县逾期通知")
    _note(other_county_officer, "theirs", title="阳城县逾期通知")
    # when
    response = officer_client.get(INBOX)
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert _ids(content) == [mine.pk]
    assert "泽州县逾期通知" in content
    assert "阳城县逾期通知" not in content


def test_unread_come_first_and_are_marked(officer_client, county_officer):
    # given an older unread one and a newer read one
    old_unread = _note(county_officer, "old", minutes=0)
    new_read = _note(county_officer, "new", minutes=10)
    Notification.objects.filter(pk=new_read.pk).update(read_at=NOW)
    # when
    content = officer_client.get(INBOX).content.decode()
    # then
    assert _ids(content) == [old_unread.pk, new_read.pk]
    assert f'data-notification-id="{old_unread.pk}" data-unread="true"' in content
    assert f'data-notification-id="{new_read.pk}" data-unread="false"' in content
    assert "font-weight:600" in content


def test_the_unread_filter_hides_read_ones(officer_client, county_officer):
    unread_one = _note(county_officer, "u")
    read_one = _note(county_officer, "r")
    Notification.objects.filter(pk=read_one.pk).update(read_at=NOW)
    # when
    content = officer_client.get(INBOX, {"show": "unread"}).content.decode()
    # then
    assert _ids(content) == [unread_one.pk]


def test_the_inbox_is_paginated(officer_client, county_officer):
    for i in range(30):
        _note(county_officer, f"n{i}", minutes=i)
    # when
    first = officer_client.get(INBOX).content.decode()
    second = officer_client.get(INBOX, {"page": 2}).content.decode()
    # then
    assert len(_ids(first)) == 25
    assert len(_ids(second)) == 5
    assert set(_ids(first)).isdisjoint(_ids(second))
    assert 'data-testid="pagination"' in first


def test_mark_as_read(officer_client, county_officer):
    notification = _note(county_officer, "x")
    # when
    response = officer_client.post(f"{INBOX}{notification.pk}/read/", {"next": INBOX})
    # then
    assert response.status_code == 302
    assert response["Location"] == INBOX
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_users_notification_answers_404_and_is_not_touched(
    officer_client, other_county_officer
):
    # given someone else's notification
    theirs = _note(other_county_officer, "theirs")
    # when
    responses = [
        officer_client.post(f"{INBOX}{theirs.pk}/read/"),
        officer_client.post(f"{INBOX}{theirs.pk}/open/"),
    ]
    # then
    assert [r.status_code for r in responses] == [404, 404]
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_missing_notification_answers_404(officer_client):
    assert officer_client.post(f"{INBOX}999999/read/").status_code == 404


def test_mark_all_as_read_marks_only_own(officer_client, county_officer, other_county_officer):
    # given
    for key in ("a", "b", "c"):
        _note(county_officer, key)
    theirs = _note(other_county_officer, "theirs")
    # when
    response = officer_client.post(f"{INBOX}read-all/", follow=True)
    # then
    assert response.status_code == 200
    assert "3 条通知已标记为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=county_officer, read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_an_item_marks_it_read_and_follows_its_link(officer_client, county_officer):
    notification = _note(county_officer, "o", link="/cases/outfalls/12/")
    # when
    response = officer_client.post(f"{INBOX}{notification.pk}/open/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/cases/outfalls/12/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_an_item_without_link_returns_to_the_inbox(officer_client, county_officer):
    notification = _note(county_officer, "o")
    response = officer_client.post(f"{INBOX}{notification.pk}/open/")
    assert response["Location"] == INBOX


@pytest.mark.parametrize("action", ["{pk}/read/", "{pk}/open/", "read-all/"])
def test_writes_are_post_only(officer_client, county_officer, action):
    notification = _note(county_officer, "g")
    # when
    response = officer_client.get(INBOX + action.format(pk=notification.pk))
    # then
    assert response.status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


@pytest.mark.parametrize("action", ["{pk}/read/", "{pk}/open/", "read-all/"])
def test_writes_need_the_csrf_token(county_officer, action):
    # given a browser-like client that enforces CSRF
    notification = _note(county_officer, "c")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(county_officer)
    url = INBOX + action.format(pk=notification.pk)
    # when posting without the token
    refused = browser.post(url)
    notification.refresh_from_db()
    assert refused.status_code == 403
    assert notification.read_at is None
    # and with the token from the inbox page
    page = browser.get(INBOX).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    accepted = browser.post(url, {"csrfmiddlewaretoken": token})
    # then
    assert accepted.status_code == 302
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_the_header_shows_the_unread_count(officer_client, county_officer):
    # given three unread, one read
    for key in ("a", "b", "c", "d"):
        _note(county_officer, key)
    Notification.objects.filter(dedupe_key="d").update(read_at=NOW)
    # when any page of the site is shown
    content = officer_client.get("/base/access/").content.decode()
    # then
    badge = re.search(r'data-testid="notification-badge"[^>]*>([^<]+)<', content)
    assert badge is not None
    assert badge.group(1) == "3"
    assert 'data-testid="notification-bell"' in content
    assert 'href="/notifications/inbox/"' in content


def test_no_badge_without_unread(officer_client):
    content = officer_client.get("/base/access/").content.decode()
    assert 'data-testid="notification-bell"' in content
    assert 'data-testid="notification-badge"' not in content


def test_the_badge_costs_one_count_query(county_officer, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = county_officer
    _note(county_officer, "a")
    badge = unread(request)["notification_badge"]
    # when
    with django_assert_num_queries(1) as captured:
        assert badge.count == 1
        assert badge.count == 1  # cached
    # then
    assert "COUNT(" in captured.captured_queries[0]["sql"].upper()


def test_nothing_for_anonymous_users(django_assert_num_queries, db):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert unread(request) == {}


def test_a_user_without_a_role_has_no_inbox(client, db):
    user = UserFactory(username="no_role")
    client.force_login(user)
    assert client.get(INBOX).status_code == 403


@pytest.mark.parametrize("role", Role.values)
def test_every_role_may_read_and_mark_its_own_notifications(role, db):
    codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    assert {
        "view_notification",
        "change_notification",
        "view_notificationpreference",
        "change_notificationpreference",
    } <= codenames


def test_the_preference_page_saves_the_choice(officer_client, county_officer):
    # given
    page = officer_client.get("/notifications/preferences/")
    assert page.status_code == 200
    assert "每日摘要" in page.content.decode()
    # when
    response = officer_client.post("/notifications/preferences/", {"email_mode": "digest"})
    # then
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=county_officer)
    assert preference.email_mode == EmailMode.DIGEST


def test_after_choosing_the_digest_no_immediate_mail_is_enqueued(
    officer_client, county_officer, django_capture_on_commit_callbacks
):
    officer_client.post("/notifications/preferences/", {"email_mode": "digest"})
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        notification = _note(county_officer, "after")
    # then
    assert callbacks == []
    assert notification.email_status == Notification.EmailStatus.SKIPPED


def test_an_invalid_choice_is_refused(officer_client, county_officer):
    response = officer_client.post("/notifications/preferences/", {"email_mode": "sms"})
    assert response.status_code == 422
    assert not NotificationPreference.objects.filter(user=county_officer).exists()


def test_the_inbox_is_in_the_site_menu(officer_client):
    content = officer_client.get(INBOX).content.decode()
    assert "收件箱" in content
    assert "邮件设置" in content
