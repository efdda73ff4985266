"""Admin: the editable policy data (milestones, rules, ladder, approval policy) and
read-only records."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from base.admin import ScopedAdminMixin
from base.models import Role

from .models import (
    Deadline,
    DeadlineMove,
    DeadlineRule,
    EscalationLevel,
    EscalationStep,
    Milestone,
    Proposal,
    SummonsProposal,
    SummonsProposalItem,
    Supervision,
    TransitionPolicy,
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


class TransitionPolicyForm(forms.ModelForm):
    proposer_roles = forms.MultipleChoiceField(
        label=_("proposer roles"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    approver_roles = forms.MultipleChoiceField(
        label=_("approver roles"),
        choices=Role.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = TransitionPolicy
        fields = ["transition", "requires_approval", "proposer_roles", "approver_roles", "level"]


@admin.register(TransitionPolicy)
class TransitionPolicyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The approval policy (DESIGN.md §4): edits apply to the next proposal or decision."""

    form = TransitionPolicyForm
    list_display = ["transition", "requires_approval", "proposer_roles", "approver_roles", "level"]

    def get_readonly_fields(self, request, obj=None):
        return ["transition"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Proposal)
class ProposalAdmin(ReadOnly):
    list_display = ["pk", "kind", "outfall", "transition", "proposer", "decision", "proposed_at"]
    list_filter = ["kind", "decision"]
    list_select_related = ["outfall", "proposer"]
    exclude = ["evidence"]
