"""Django admin of the assessments module, scoped by the record rules.

Administrators edit the patrol requirements and change the scoring formula by ADDING a
version (prefilled with the current one; `services.formula_revise` writes it): versions,
periods, assessments, objections and patrols are read-only here.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from base.admin import ScopedAdminMixin

from . import formula, services
from .data import FORMULA_CODE
from .metrics import metric_numbers
from .models import (
    Assessment,
    AssessmentPeriod,
    FormulaVersion,
    Objection,
    ObjectionAnswer,
    Patrol,
    PatrolRequirement,
)


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PatrolRequirement)
class PatrolRequirementAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["level", "times", "per", "active"]

    def has_delete_permission(self, request, obj=None):
        return False


class FormulaVersionForm(forms.ModelForm):
    class Meta:
        model = FormulaVersion
        fields = ["name", "components", "grades", "note"]

    def clean(self):
        data = super().clean()
        try:
            formula.validate(
                data.get("components") or [], data.get("grades") or [], metric_numbers()
            )
        except formula.FormulaError as exc:
            raise ValidationError(str(exc)) from exc
        return data


@admin.register(FormulaVersion)
class FormulaVersionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = FormulaVersionForm
    list_display = ["name", "version", "created_at", "created_by", "note"]
    list_filter = ["code"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        current = services.current_formula()
        if current is None:
            return {}
        return {
            "name": current.name,
            "components": current.components,
            "grades": current.grades,
        }

    def save_model(self, request, obj, form, change):
        version = services.formula_revise(
            actor=request.user,
            components=form.cleaned_data["components"],
            grades=form.cleaned_data["grades"],
            note=form.cleaned_data["note"],
            name=form.cleaned_data["name"],
            code=FORMULA_CODE,
        )
        obj.pk, obj.code, obj.version = version.pk, version.code, version.version


@admin.register(AssessmentPeriod)
class AssessmentPeriodAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "kind", "starts_on", "ends_on", "status", "closed_at"]


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "score", "grade_label", "status", "formula"]
    list_filter = ["status", "period"]


@admin.register(Objection)
class ObjectionAdmin(ReadOnlyAdmin):
    list_display = ["assessment", "component", "raised_by", "raised_at"]


@admin.register(ObjectionAnswer)
class ObjectionAnswerAdmin(ReadOnlyAdmin):
    list_display = ["objection", "decision", "answered_by", "answered_at"]


@admin.register(Patrol)
class PatrolAdmin(ReadOnlyAdmin):
    list_display = ["segment", "patrolled_on", "chief", "level"]
    list_filter = ["level"]
