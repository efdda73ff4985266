"""Admin: the editable policy data (milestones, rules, ladder) and read-only records."""

from django.contrib import admin

from base.admin import ScopedAdminMixin

from .models import (
    Deadline,
    DeadlineMove,
    DeadlineRule,
    EscalationLevel,
    EscalationStep,
    Milestone,
    SummonsProposal,
    SummonsProposalItem,
    Supervision,
)


class ReadOnly(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Milestone)
class MilestoneAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "code", "due_on", "stage"]


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["stage", "milestone", "days", "basis"]


@admin.register(EscalationLevel)
class EscalationLevelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "rank",
        "offset_days",
        "action",
        "recipient_roles",
        "river_chief_levels",
        "active",
    ]


@admin.register(Deadline)
class DeadlineAdmin(ReadOnly):
    list_display = [
        "outfall",
        "jurisdiction",
        "stage",
        "due_on",
        "status",
        "current_rank",
        "next_fire_on",
    ]
    list_filter = ["stage", "status", "jurisdiction"]
    list_select_related = ["outfall", "jurisdiction"]


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnly):
    list_display = ["deadline", "level", "fired_at", "due_on"]
    list_filter = ["level"]


@admin.register(DeadlineMove)
class DeadlineMoveAdmin(ReadOnly):
    list_display = ["deadline", "old_date", "new_date", "approver", "moved_at"]


@admin.register(Supervision)
class SupervisionAdmin(ReadOnly):
    list_display = ["jurisdiction", "outfall", "created_at"]


class ProposalItemInline(admin.TabularInline):
    model = SummonsProposalItem
    extra = 0
    can_delete = False
    readonly_fields = ["deadline", "outfall", "days_overdue"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SummonsProposal)
class SummonsProposalAdmin(ReadOnly):
    list_display = ["jurisdiction", "month", "status", "created_at"]
    inlines = [ProposalItemInline]
