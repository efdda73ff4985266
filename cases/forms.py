"""Forms of the outfall pages: input parsing and choices scoped to the user, nothing more.

Domain validation lives in the services; a view turns a service's `ValidationError` into
form errors with `add_service_errors`, so the user sees the reason next to the field and keeps
what they typed.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from viewflow.forms import Column, FieldSet, Layout, Row

from base.models import Department, Jurisdiction, RiverSegment, WaterBody
from base.security import grant_jurisdiction_ids, scoped

from . import services
from .choices import Disposition, EvidenceKind, State
from .models import Category, Outfall, ResponsibleEntity, Subtype, TracingRecord
from .rules import RULES
from .security import FULL_SCOPE_ROLES

COUNTY_LEVEL_KINDS = [
    Jurisdiction.Kind.DISTRICT,
    Jurisdiction.Kind.COUNTY,
    Jurisdiction.Kind.COUNTY_CITY,
    Jurisdiction.Kind.DEV_ZONE,
]
PAGE_SIZES = (25, 50, 100)
YES_NO = [("", _("Any")), ("1", _("Yes")), ("0", _("No"))]
BLANK = [("", "---------")]


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: known fields get theirs, the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        target = field if field in form.fields else None
        for item in errors:
            form.add_error(target, item)


def own_county_units(user):
    """County-level units where the user holds a full-scope role (where they may register)."""
    qs = Jurisdiction.objects.filter(kind__in=COUNTY_LEVEL_KINDS)
    ids = grant_jurisdiction_ids(user, FULL_SCOPE_ROLES)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.order_by("path")


def county_units_in_scope(user):
    return scoped(Jurisdiction.objects.filter(kind__in=COUNTY_LEVEL_KINDS), user).order_by("path")


class OutfallLabelChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return " · ".join(part for part in (obj.code, obj.name) if part) or f"#{obj.pk}"


class SubtypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.category.name} / {obj.name}"


# --- list filters --------------------------------------------------------------------------


class OutfallFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search code, name or entity"), required=False, max_length=100, strip=True
    )
    jurisdiction = forms.ModelChoiceField(
        label=_("Jurisdiction"), queryset=Jurisdiction.objects.none(), required=False
    )
    water_body = forms.ModelChoiceField(
        label=_("Receiving water"), queryset=WaterBody.objects.none(), required=False
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), required=False
    )
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("Any")), *State.choices], required=False
    )
    disposition = forms.ChoiceField(
        label=_("Disposition"), choices=[("", _("Any")), *Disposition.choices], required=False
    )
    possible_duplicate = forms.ChoiceField(
        label=_("Possible duplicate"), choices=YES_NO, required=False
    )
    page_size = forms.TypedChoiceField(
        label=_("Rows per page"),
        choices=[(n, str(n)) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=PAGE_SIZES[0],
    )

    layout = Layout(
        Row("q", "jurisdiction", "water_body", "category"),
        Row("state", "disposition", "possible_duplicate", "page_size"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].queryset = county_units_in_scope(user)
        self.fields["water_body"].queryset = scoped(WaterBody.objects.all(), user)

    def filters(self) -> dict:
        """Selector filters of a valid form (invalid values are ignored, not fatal)."""
        data = self.cleaned_data if self.is_valid() else {}
        filters = {
            key: data.get(key)
            for key in ("q", "jurisdiction", "water_body", "category", "state", "disposition")
            if data.get(key)
        }
        if data.get("possible_duplicate") == "1":
            filters["possible_duplicate"] = True
        return filters

    def get_page_size(self) -> int:
        if self.is_valid() and self.cleaned_data.get("page_size") in PAGE_SIZES:
            return self.cleaned_data["page_size"]
        return PAGE_SIZES[0]


# --- register / edit -----------------------------------------------------------------------

# The survey facts an officer types in: the service's editable fields less the case's
# assignments (officer, lead department), which have their own steps.
OUTFALL_FORM_FIELDS = [
    f for f in services.EDITABLE_FIELDS if f not in {"assigned_officer", "lead_department"}
]


class OutfallForm(forms.ModelForm):
    """Survey facts of an outfall, for registering and editing (services do the checks)."""

    class Meta:
        model = Outfall
        fields = OUTFALL_FORM_FIELDS
        widgets = {"remarks": forms.Textarea(attrs={"rows": 3})}

    layout = Layout(
        FieldSet(_("Identity"), Row("name", "national_code")),
        FieldSet(
            _("Location"),
            Row("jurisdiction", "town", "village"),
            Row("landmark", "longitude", "latitude"),
            Row("water_body", "segment"),
        ),
        FieldSet(
            _("Survey"),
            Row("entry_mode", "discharge_pattern", "daily_volume"),
            Row("main_pollutants", "colour", "odour"),
            Row("survey_level", "survey_date", "source"),
            Row("surveyors", "is_discharging"),
            "remarks",
        ),
        FieldSet(
            _("Protected areas and context"),
            Row("in_drinking_water_zone", "in_spring_zone", "in_nature_reserve"),
            Row("in_red_line", "in_basic_farmland", "in_other_protected"),
            Row("in_sewer_coverage", "in_industrial_park", "is_inflow_overflow"),
            Row("is_new_or_changed", "is_historical"),
        ),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        units = own_county_units(user)
        if self.instance.pk:
            # the current unit stays selectable for a city-level editor's view of the case
            units = Jurisdiction.objects.filter(
                Q(pk__in=units.values("pk")) | Q(pk=self.instance.jurisdiction_id)
            ).order_by("path")
        self.fields["jurisdiction"].queryset = units
        only = list(units[:2])
        if len(only) == 1 and not self.instance.pk:
            # an officer of one county registers there: preselect it
            self.initial.setdefault("jurisdiction", only[0].pk)
        self.fields["water_body"].queryset = scoped(WaterBody.objects.all(), user)
        self.fields["segment"].queryset = scoped(
            RiverSegment.objects.select_related("water_body"), user
        )
        if self.instance.pk:
            self.fields["name"].required = True
        else:
            self.fields["name"].required = False
            self.fields["name"].help_text = _("Leave empty to use the generated name.")

    def _post_clean(self):
        # Model validation (city extent, segment on the water, unique codes) is the service's
        # job; its errors come back through add_service_errors. The instance stays untouched.
        pass

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in OUTFALL_FORM_FIELDS}


# --- tracing and entities ------------------------------------------------------------------


class TracingRecordForm(forms.ModelForm):
    class Meta:
        model = TracingRecord
        fields = ["method", "traced_on", "result", "finding"]
        widgets = {"finding": forms.Textarea(attrs={"rows": 4})}

    layout = Layout(Row("method", "traced_on", "result"), "finding")

    def _post_clean(self):  # the service validates; the instance stays untouched
        pass


class EntityLinkForm(forms.Form):
    """Link an existing responsible entity, or create one (incl. the government fallback)."""

    EXISTING, NEW = "existing", "new"
    mode = forms.ChoiceField(
        label=_("Responsible entity"),
        choices=[(EXISTING, _("Pick an existing entity")), (NEW, _("Create a new entity"))],
        initial=EXISTING,
        widget=forms.RadioSelect,
    )
    entity = forms.ModelChoiceField(
        label=_("Existing entity"), queryset=ResponsibleEntity.objects.none(), required=False
    )
    name = forms.CharField(label=_("Name of the new entity"), max_length=128, required=False)
    credit_code = forms.CharField(
        label=_("Unified social credit code"), max_length=18, required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=ResponsibleEntity.Kind.choices,
        initial=ResponsibleEntity.Kind.ENTERPRISE,
        required=False,
    )
    is_government_fallback = forms.BooleanField(
        label=_("Government fallback (兜底): tracing found no responsible entity"),
        required=False,
    )
    fallback_reason = forms.CharField(
        label=_("Reason for the government fallback"),
        help_text=_("Required when the primary entity is the government fallback."),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    is_primary = forms.BooleanField(label=_("Primary responsible entity"), required=False)
    share_percent = forms.DecimalField(
        label=_("Responsibility share (%)"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        initial=100,
    )
    permit_number = forms.CharField(
        label=_("Discharge permit number"), max_length=64, required=False
    )
    designated_by_government = forms.BooleanField(
        label=_("Designated by the government"), required=False
    )

    layout = Layout(
        "mode",
        FieldSet(_("Existing entity"), "entity"),
        FieldSet(
            _("New entity"),
            Row("name", "credit_code", "kind"),
            "is_government_fallback",
        ),
        FieldSet(
            _("Link"),
            Row("is_primary", "share_percent", "permit_number"),
            "designated_by_government",
            "fallback_reason",
        ),
    )

    def __init__(self, *args, user, outfall, **kwargs):
        kwargs.setdefault("initial", {}).setdefault(
            "is_primary", not outfall.entity_links.filter(is_primary=True).exists()
        )
        super().__init__(*args, **kwargs)
        self.outfall = outfall
        self.fields["entity"].queryset = scoped(ResponsibleEntity.objects.all(), user).order_by(
            "-is_government_fallback", "name"
        )

    def clean(self):
        data = super().clean()
        if data.get("mode") == self.EXISTING and not data.get("entity"):
            self.add_error("entity", _("Pick an entity, or choose to create a new one."))
        if data.get("mode") == self.NEW and not data.get("name"):
            self.add_error("name", _("Give the name of the new entity."))
        return data

    def new_entity_data(self) -> dict:
        data = self.cleaned_data
        fallback = data["is_government_fallback"]
        return {
            "name": data["name"],
            "credit_code": data["credit_code"].strip().upper(),
            "kind": ResponsibleEntity.Kind.GOVERNMENT if fallback else data["kind"],
            "is_government_fallback": fallback,
            "jurisdiction": self.outfall.jurisdiction,
        }

    def link_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "is_primary": data["is_primary"],
            "share_percent": data["share_percent"],
            "permit_number": data["permit_number"],
            "designated_by_government": data["designated_by_government"],
            "fallback_reason": data["fallback_reason"],
        }


# --- classification ------------------------------------------------------------------------


def override_field_name(rule_code: str) -> str:
    return f"override_{rule_code}"


class ClassificationForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.all())
    subtype = SubtypeChoiceField(
        label=_("Subtype"), queryset=Subtype.objects.select_related("category")
    )
    disposition = forms.ChoiceField(label=_("Disposition"), choices=BLANK + Disposition.choices)
    merge_target = OutfallLabelChoiceField(
        label=_("Merged into (outfall)"), queryset=Outfall.objects.none(), required=False
    )
    merge_into_network = forms.BooleanField(
        label=_("Merged into the sewer network"), required=False
    )

    layout = Layout(
        Row("category", "subtype", "disposition"),
        Row(Column("merge_target", desktop=8), Column("merge_into_network", desktop=4)),
    )

    def __init__(self, *args, user, outfall, **kwargs):
        super().__init__(*args, **kwargs)
        self.outfall = outfall
        self.fields["merge_target"].queryset = (
            scoped(Outfall.objects.all(), user)
            .filter(jurisdiction_id=outfall.jurisdiction_id)
            .exclude(pk=outfall.pk)
            .exclude(state=State.CLOSED)
            .order_by("code", "name")
        )
        for code, (title, _fn) in RULES.items():
            self.fields[override_field_name(code)] = forms.CharField(
                label=_("Reason to override “%(rule)s”") % {"rule": title},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
            )

    def clean(self):
        data = super().clean()
        category, subtype = data.get("category"), data.get("subtype")
        if category and subtype and subtype.category_id != category.pk:
            self.add_error(
                "subtype",
                _("Subtype “%(subtype)s” is not in category “%(category)s”.")
                % {"subtype": subtype.name, "category": category.name},
            )
        return data

    def overrides(self) -> dict[str, str]:
        return {
            code: self.cleaned_data.get(override_field_name(code), "")
            for code in RULES
            if self.cleaned_data.get(override_field_name(code), "").strip()
        }

    def override_fields(self):
        return [(code, self[override_field_name(code)]) for code in RULES]


# --- plan and evidence ---------------------------------------------------------------------


def departments_for(outfall, user):
    """Departments in the user's scope of the outfall's county-level unit or above it."""
    codes = [code for code in outfall.jurisdiction.path.split("/") if code]
    return scoped(
        Department.objects.filter(jurisdiction__code__in=codes).select_related("jurisdiction"),
        user,
    ).order_by("jurisdiction__path", "kind")


class PlanForm(forms.Form):
    measures = forms.CharField(label=_("Measures"), widget=forms.Textarea(attrs={"rows": 4}))
    lead_department = forms.ModelChoiceField(
        label=_("Lead department"), queryset=Department.objects.none()
    )
    deadline = forms.DateField(label=_("Deadline"))
    progress = forms.CharField(
        label=_("Progress"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    layout = Layout("measures", Row("lead_department", "deadline"), "progress")

    def __init__(self, *args, user, outfall, plan=None, **kwargs):
        if plan is not None:
            kwargs.setdefault(
                "initial",
                {
                    "measures": plan.measures,
                    "lead_department": plan.lead_department_id,
                    "deadline": plan.deadline,
                    "progress": plan.progress,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = departments_for(outfall, user)
        if plan is not None:
            # a plan deadline moves only through an approved extension (ledger)
            self.fields["deadline"].disabled = True
            self.fields["deadline"].help_text = _(
                "The deadline moves only through an approved extension."
            )


class ProgressForm(forms.Form):
    progress = forms.CharField(
        label=_("Progress"), widget=forms.Textarea(attrs={"rows": 4}), required=True
    )

    layout = Layout("progress")


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=BLANK + EvidenceKind.choices)
    file = forms.FileField(
        label=_("File"), help_text=_("JPEG, PNG or PDF; checked by content, not by name.")
    )
    taken_at = forms.DateTimeField(label=_("Taken at"), required=False)
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)

    layout = Layout(Row("kind", "taken_at"), "file", Row("longitude", "latitude"), "description")


# --- transitions ---------------------------------------------------------------------------


class TickedTiles(forms.SelectMultiple):
    """A multiple choice ticked on picture tiles drawn by the template: renders nothing."""

    def render(self, name, value, attrs=None, renderer=None):
        return ""


class TransitionForm(forms.Form):
    # the state the user saw: a case that moved meanwhile is not changed blindly
    expected_state = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("Reason / remarks"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def __init__(self, *args, transition: str, evidence=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.transition = transition
        if evidence is not None:
            # proposing for approval: a reason for the approver and the supporting evidence
            # (ticked on tiles by the template, cases/_pick_evidence.html)
            self.fields["reason"].required = True
            self.fields["evidence"] = forms.ModelMultipleChoiceField(
                queryset=evidence, required=False, widget=TickedTiles
            )
        if transition == "void":
            self.fields["closure_reason"] = forms.ChoiceField(
                label=_("Why is the case void?"),
                choices=[
                    *BLANK,
                    (Outfall.ClosureReason.DUPLICATE, Outfall.ClosureReason.DUPLICATE.label),
                    (
                        Outfall.ClosureReason.NOT_AN_OUTFALL,
                        Outfall.ClosureReason.NOT_AN_OUTFALL.label,
                    ),
                ],
            )
            self.fields["confirm"] = forms.BooleanField(
                label=_("I confirm: voiding closes this case; only a reopening brings it back."),
                required=True,
            )
            self.fields["reason"].required = True
            self.layout = Layout("closure_reason", "reason", "confirm")
        elif transition == "reopen":
            self.fields["reopen_basis"] = forms.ChoiceField(
                label=_("Reopen basis"), choices=BLANK + Outfall.ReopenBasis.choices
            )
            self.fields["reopen_reference"] = forms.CharField(
                label=_("Reference (complaint no., monitoring report, inspection record)"),
                max_length=200,
            )
            self.layout = Layout(Row("reopen_basis", "reopen_reference"), "reason")
        else:
            self.layout = Layout("reason")

    def changes(self) -> dict:
        data = self.cleaned_data
        if self.transition == "void":
            return {"closure_reason": data["closure_reason"]}
        if self.transition == "reopen":
            return {
                "reopen_basis": data["reopen_basis"],
                "reopen_reference": data["reopen_reference"],
            }
        return {}
