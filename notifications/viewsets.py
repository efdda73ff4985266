"""The notifications module's entries in the officials' UI (viewflow Site)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from viewflow.urls import Application, AppMenuMixin, Viewset

from .views import (
    InboxView,
    MarkAllReadView,
    NotificationOpenView,
    NotificationReadView,
    PreferenceView,
)


class InboxViewset(AppMenuMixin, Viewset):
    title = _("Inbox")
    icon = "notifications"
    index_path = path("", InboxView.as_view(), name="index")
    open_path = path("<int:pk>/open/", NotificationOpenView.as_view(), name="open")
    read_path = path("<int:pk>/read/", NotificationReadView.as_view(), name="read")
    read_all_path = path("read-all/", MarkAllReadView.as_view(), name="read_all")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("notifications.view_notification")


class PreferenceViewset(AppMenuMixin, Viewset):
    title = _("E-mail settings")
    icon = "tune"
    index_path = path("", PreferenceView.as_view(), name="index")

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm(
            "notifications.change_notificationpreference"
        )


class NotificationsApplication(Application):
    title = _("Notifications")
    icon = "notifications"
    app_name = "notifications"
    base_template_name = "layout.html"
    permission = "notifications.view_notification"
    viewsets = [InboxViewset(app_name="inbox"), PreferenceViewset(app_name="preferences")]
