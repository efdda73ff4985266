"""Notifications are read-only here (the system writes them); preferences are editable.

Querysets go through the record rules: a staff user who is not a superuser sees only their
own notifications and preference. Preferences are saved through the service.
"""

from django.contrib import admin

from base.security import scoped

from . import services
from .models import Notification, NotificationPreference


class ScopedAdminMixin:
    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)


@admin.register(Notification)
class NotificationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "recipient",
        "kind",
        "title",
        "read_at",
        "email_status",
        "email_attempts",
    ]
    list_filter = ["kind", "email_status"]
    search_fields = ["title", "dedupe_key", "recipient__username", "recipient__full_name"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["user", "email_mode", "changed_at"]
    list_filter = ["email_mode"]
    search_fields = ["user__username", "user__full_name"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    fields = ["user", "email_mode", "changed_at"]
    readonly_fields = ["changed_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["user", "changed_at"] if obj is not None else ["changed_at"]

    def save_model(self, request, obj, form, change):
        preference = services.notification_preference_set(user=obj.user, email_mode=obj.email_mode)
        obj.pk = preference.pk
        obj.changed_at = preference.changed_at
