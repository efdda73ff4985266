"""Django admin: notifications read-only and scoped to their recipient; preferences editable."""

from base.factories import UserFactory
from notifications.models import EmailMode, NotificationPreference
from notifications.services import notify

from .conftest import NOW

CHANGELIST = "/admin/notifications/notification/"


def _note(user, key, title):
    (notification,) = notify(recipients=[user], kind="k", title=title, dedupe_key=key, now=NOW)
    return notification


def test_a_staff_user_sees_only_their_own_notifications(client, system_admin, county_officer):
    # given
    _note(system_admin, "a", "管理员的通知")
    _note(county_officer, "b", "经办人的通知")
    client.force_login(system_admin)
    # when
    response = client.get(CHANGELIST)
    # then
    content = response.content.decode()
    assert response.status_code == 200
    assert "管理员的通知" in content
    assert "经办人的通知" not in content


def test_a_superuser_sees_every_notification(client, county_officer, db):
    _note(county_officer, "b", "经办人的通知")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    assert "经办人的通知" in client.get(CHANGELIST).content.decode()


def test_notifications_cannot_be_changed_in_the_admin(client, db):
    # given
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    notification = _note(root, "a", "原标题")
    client.force_login(root)
    # when
    response = client.post(f"{CHANGELIST}{notification.pk}/change/", {"title": "改过的"})
    # then
    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.title == "原标题"
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def test_a_superuser_changes_a_users_preference_through_the_service(client, county_officer):
    # given
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    # when
    response = client.post(
        "/admin/notifications/notificationpreference/add/",
        {"user": county_officer.pk, "email_mode": EmailMode.DIGEST},
    )
    # then
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=county_officer)
    assert preference.email_mode == EmailMode.DIGEST
    assert preference.changed_at is not None
