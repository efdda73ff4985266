"""Administrators manage reference data, users, grants and the holiday table here.

Every queryset goes through the record rules: an admin grant scoped to a county sees only
that county's rows. Grants are written through the services so role groups stay in sync.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    CalendarDay,
    Department,
    Jurisdiction,
    RiverChiefAppointment,
    RiverSegment,
    RoleGrant,
    User,
    WaterBody,
    WorkerHeartbeat,
)
from .security import in_jurisdiction_scope, scoped


class ScopedAdminMixin:
    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)


@admin.register(Jurisdiction)
class JurisdictionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "is_local_code"]
    list_filter = ["kind", "is_local_code"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]


@admin.register(WaterBody)
class WaterBodyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "basin", "kind", "target_class", "meets_target"]
    list_filter = ["kind", "basin", "meets_target"]
    search_fields = ["name", "code"]


@admin.register(RiverSegment)
class RiverSegmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "water_body", "jurisdiction"]
    list_filter = ["water_body", "jurisdiction"]
    search_fields = ["name"]


@admin.register(Department)
class DepartmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "jurisdiction"]
    list_filter = ["kind", "jurisdiction"]
    search_fields = ["name"]


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    extra = 0
    fields = ["role", "jurisdiction", "department", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Contact"), {"fields": ("full_name", "phone")}),
    )
    list_display = ["username", "full_name", "email", "is_active", "is_staff"]
    search_fields = ["username", "full_name", "email"]
    inlines = [RoleGrantInline]


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "jurisdiction", "department", "created_at"]
    list_filter = ["role", "jurisdiction"]
    search_fields = ["user__username", "user__full_name"]
    autocomplete_fields = ["user"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "jurisdiction", "department")
        return qs.filter(in_jurisdiction_scope(request.user))

    def has_change_permission(self, request, obj=None):
        return False  # a grant is revoked and granted anew, never edited

    def save_model(self, request, obj, form, change):
        grant = services.role_grant_create(
            actor=request.user,
            user=obj.user,
            role=obj.role,
            jurisdiction=obj.jurisdiction,
            department=obj.department,
        )
        obj.pk = grant.pk

    def delete_model(self, request, obj):
        services.role_grant_revoke(actor=request.user, grant=obj)

    def delete_queryset(self, request, queryset):
        for grant in queryset:
            services.role_grant_revoke(actor=request.user, grant=grant)


@admin.register(RiverChiefAppointment)
class RiverChiefAppointmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["person", "level", "segment", "valid_from", "valid_to"]
    list_filter = ["level", "segment__water_body"]
    autocomplete_fields = ["person"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "last_seen"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
