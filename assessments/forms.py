"""Forms of the assessment and patrol pages: input parsing and scoped choices, nothing more.

Domain validation lives in the services; a view puts a service's `ValidationError` back on
the form (`cases.forms.add_service_errors`).
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.forms import FieldSet, Layout, Row

from cases.models import Outfall

from .models import ObjectionAnswer, PatrolFinding, PeriodKind
from .selectors import patrol_segments, segment_outfalls

QUARTERS = [(1, _("Q1")), (2, _("Q2")), (3, _("Q3")), (4, _("Q4"))]


class PeriodCloseForm(forms.Form):
    kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    year = forms.TypedChoiceField(label=_("Year"), coerce=int)
    quarter = forms.TypedChoiceField(
        label=_("Quarter"),
        choices=[("", "---------"), *QUARTERS],
        coerce=int,
        required=False,
        empty_value=None,
    )

    layout = Layout(Row("kind", "year", "quarter"))

    def __init__(self, *args, today: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in range(today.year, 2022, -1)]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class ReviewForm(forms.Form):
    """One optional objection (reason and evidence file) per item of the assessment."""

    note = forms.CharField(
        label=_("Review note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )

    def __init__(self, *args, components: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.components = components
        sets = []
        for c in components:
            reason, attachment = f"reason_{c['code']}", f"file_{c['code']}"
            self.fields[reason] = forms.CharField(
                label=_("Objection to “%(item)s” (leave empty to accept it)")
                % {"item": c["label"]},
                widget=forms.Textarea(attrs={"rows": 2}),
                required=False,
                max_length=4000,
            )
            self.fields[attachment] = forms.FileField(
                label=_("Evidence file (JPEG, PNG or PDF)"), required=False
            )
            sets.append(
                FieldSet(
                    _("%(item)s: %(points)s of %(weight)s points")
                    % {"item": c["label"], "points": c["points"], "weight": c["weight"]},
                    reason,
                    attachment,
                )
            )
        self.layout = Layout(*sets, "note")

    def objections(self) -> list[tuple[str, str, object]]:
        data = self.cleaned_data
        return [
            (c["code"], data[f"reason_{c['code']}"].strip(), data.get(f"file_{c['code']}"))
            for c in self.components
            if data.get(f"reason_{c['code']}", "").strip()
        ]


class AnswerForm(forms.Form):
    """A decision, a reason and (to adjust) the new points for each open objection."""

    def __init__(self, *args, objections: list, labels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.objections = objections
        sets = []
        for o in objections:
            self.fields[f"decision_{o.pk}"] = forms.ChoiceField(
                label=_("Decision"), choices=ObjectionAnswer.Decision.choices
            )
            self.fields[f"points_{o.pk}"] = forms.DecimalField(
                label=_("Adjusted points"),
                required=False,
                max_digits=6,
                decimal_places=2,
                min_value=0,
            )
            self.fields[f"reason_{o.pk}"] = forms.CharField(
                label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
            )
            sets.append(
                FieldSet(
                    _("%(item)s — objection: %(reason)s")
                    % {"item": labels.get(o.component, o.component), "reason": o.reason},
                    Row(f"decision_{o.pk}", f"points_{o.pk}"),
                    f"reason_{o.pk}",
                )
            )
        self.layout = Layout(*sets)

    def answers(self) -> list[tuple[int, str, str, object]]:
        data = self.cleaned_data
        return [
            (o.pk, data[f"decision_{o.pk}"], data[f"reason_{o.pk}"], data.get(f"points_{o.pk}"))
            for o in self.objections
        ]


class SegmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.jurisdiction.name}）"


class PatrolForm(forms.Form):
    segment = SegmentChoiceField(label=_("River segment"), queryset=None)
    patrolled_on = forms.DateField(label=_("Patrol date"))
    route = forms.CharField(label=_("Route"), max_length=255)
    notes = forms.CharField(
        label=_("Findings summary"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    layout = Layout(Row("segment", "patrolled_on"), "route", "notes")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["segment"].queryset = patrol_segments(user=user, on=today)
        self.fields["patrolled_on"].initial = today


class OutfallChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return " · ".join(p for p in (obj.code, obj.name) if p) or f"#{obj.pk}"


class FindingForm(forms.Form):
    kind = forms.ChoiceField(label=_("What was found"), choices=PatrolFinding.Kind.choices)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )
    outfall = OutfallChoiceField(
        label=_("Registered outfall"), queryset=Outfall.objects.none(), required=False
    )
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False
    )
    town = forms.CharField(label=_("Town"), max_length=64, required=False)
    village = forms.CharField(label=_("Village"), max_length=64, required=False)
    landmark = forms.CharField(label=_("Landmark"), max_length=128, required=False)
    entry_mode = forms.ChoiceField(
        label=_("Entry mode"), choices=Outfall.EntryMode.choices, initial=Outfall.EntryMode.PIPE
    )
    is_discharging = forms.BooleanField(label=_("Discharging when found"), required=False)
    photo = forms.FileField(label=_("Photo (JPEG or PNG)"), required=False)

    layout = Layout(
        Row("kind"),
        "description",
        Row("longitude", "latitude"),
        FieldSet(_("A registered outfall"), "outfall"),
        FieldSet(
            _("An unregistered outfall (registered as a new case)"),
            Row("town", "village", "landmark"),
            Row("entry_mode", "is_discharging"),
        ),
        "photo",
    )

    def __init__(self, *args, user, segment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["outfall"].queryset = segment_outfalls(user=user, segment=segment)

    def case_data(self) -> dict:
        data = self.cleaned_data
        return {
            key: data.get(key)
            for key in ("town", "village", "landmark", "entry_mode", "is_discharging")
        }


class PhotoForm(forms.Form):
    file = forms.FileField(label=_("Photo (JPEG or PNG)"))
    longitude = forms.DecimalField(
        label=_("Longitude"), max_digits=9, decimal_places=6, required=False
    )
    latitude = forms.DecimalField(
        label=_("Latitude"), max_digits=9, decimal_places=6, required=False
    )
    layout = Layout("file", Row("longitude", "latitude"))
