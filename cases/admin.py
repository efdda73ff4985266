"""Django admin for the cases module, scoped by the record rules.

Reference data (categories, subtypes, checklists) is edited here by administrators. Cases
and their records are read-only in the admin: every change goes through the services (and
the audit trail), from the officials' UI.
"""

from django.contrib import admin

from base.admin import ScopedAdminMixin

from .models import (
    Category,
    ChecklistItem,
    Evidence,
    Outfall,
    OutfallEntity,
    OutfallEvent,
    OverrideRequest,
    PlanExtension,
    RemediationPlan,
    ResponsibleEntity,
    Subtype,
    TracingRecord,
)


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "sort"]


@admin.register(Subtype)
class SubtypeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "category", "needs_setting_approval", "is_stormwater"]
    list_filter = ["category"]


@admin.register(ChecklistItem)
class ChecklistItemAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["label", "code", "transition", "dispositions", "evidence_kinds", "active"]
    list_filter = ["transition", "active"]


class EntityLinkInline(admin.TabularInline):
    model = OutfallEntity
    extra = 0
    can_delete = False
    readonly_fields = [
        "entity",
        "share_percent",
        "permit_number",
        "is_primary",
        "designated_by_government",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Outfall)
class OutfallAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "name",
        "jurisdiction",
        "water_body",
        "subtype",
        "disposition",
        "state",
        "is_possible_duplicate",
    ]
    list_filter = [
        "state",
        "disposition",
        "jurisdiction",
        "water_body",
        "category",
        "source",
        "is_possible_duplicate",
    ]
    search_fields = ["code", "national_code", "name", "entity_links__entity__name"]
    list_select_related = ["jurisdiction", "water_body", "subtype"]
    inlines = [EntityLinkInline]


@admin.register(ResponsibleEntity)
class ResponsibleEntityAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "credit_code", "kind", "is_government_fallback", "jurisdiction"]
    list_filter = ["kind", "is_government_fallback", "jurisdiction"]
    search_fields = ["name", "credit_code"]


@admin.register(TracingRecord)
class TracingRecordAdmin(ReadOnlyAdmin):
    list_display = ["outfall", "method", "traced_on", "result"]
    list_filter = ["method", "result"]


@admin.register(RemediationPlan)
class RemediationPlanAdmin(ReadOnlyAdmin):
    list_display = ["outfall", "lead_department", "deadline"]


@admin.register(PlanExtension)
class PlanExtensionAdmin(ReadOnlyAdmin):
    list_display = ["plan", "old_date", "new_date", "approver", "created_at"]


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ["outfall", "kind", "original_name", "size", "sha256", "uploaded_at"]
    list_filter = ["kind"]
    exclude = ["file"]  # files are served only through the permission-checked view


@admin.register(OverrideRequest)
class OverrideRequestAdmin(ReadOnlyAdmin):
    list_display = ["outfall", "rule", "disposition", "status", "requested_by", "decided_by"]
    list_filter = ["status", "rule"]


@admin.register(OutfallEvent)
class OutfallEventAdmin(ReadOnlyAdmin):
    list_display = ["outfall", "kind", "transition", "from_state", "to_state", "actor", "at"]
    list_filter = ["kind", "transition"]
    list_select_related = ["outfall", "actor"]
