"""Pages of the assessments module: periods (ranking and chart), assessments (components,
evidence, objections and answers, review steps) and river-chief patrols.

Every page fetches through `selectors` first, so an assessment or a patrol outside the
user's scope answers 404 exactly like a missing one (DESIGN.md §8); the step's own check
(role, appointment, state) is the service's. Files are served only through the views here.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_GET

from base.models import Jurisdiction
from base.security import holds_role_over, scoped
from cases.forms import add_service_errors
from workflows.models import EscalationLevel

from . import selectors, services
from .forms import (
    AnswerForm,
    FindingForm,
    NoteForm,
    PatrolForm,
    PeriodCloseForm,
    PhotoForm,
    ReviewForm,
)
from .formula import dec
from .metrics import evidence_keys
from .models import Assessment, EvidenceSet, PatrolFinding
from .security import CITY_LEADER_ROLES, CITY_OFFICER_ROLES, is_reviewer

NUMBER_LABELS = {
    "registered": gettext_lazy("registered"),
    "voided": gettext_lazy("voided (duplicate or not an outfall)"),
    "traced": gettext_lazy("traced"),
    "untraced": gettext_lazy("not traced"),
    "on_time": gettext_lazy("remediated on time"),
    "late": gettext_lazy("remediated late"),
    "overdue": gettext_lazy("overdue, not remediated"),
    "not_due": gettext_lazy("not due yet"),
    "none": gettext_lazy("overdue, not escalated"),
    "total": gettext_lazy("overdue in all"),
    "proposed": gettext_lazy("summons proposals"),
    "rectified": gettext_lazy("rectified"),
    "unrectified": gettext_lazy("not rectified"),
    "required": gettext_lazy("patrols required"),
    "credited": gettext_lazy("patrols counted"),
    "done": gettext_lazy("patrols made"),
    "missing": gettext_lazy("patrols missing"),
    "reopened": gettext_lazy("reopened cases"),
}
METRIC_LABELS = {
    "survey_trace": gettext_lazy("Survey and tracing (cumulative)"),
    "remediation": gettext_lazy("Remediation tasks"),
    "overdue": gettext_lazy("Overdue cases by escalation level"),
    "summons": gettext_lazy("Summons"),
    "patrols": gettext_lazy("River-chief patrols"),
    "reopened": gettext_lazy("Reopened cases"),
}
STATUS_CHIPS = {
    "draft": "pending",
    "in_review": "pending",
    "answering": "warning",
    "awaiting_final": "traced",
    "finalized": "approved",
}


def _ladder_labels() -> dict[str, str]:
    return {
        code: f"{code} {name}" for code, name in EscalationLevel.objects.values_list("code", "name")
    }


def number_label(key: str, ladder: dict[str, str]) -> str:
    return ladder.get(key) or str(NUMBER_LABELS.get(key, key))


def _evidence_url(assessment: Assessment, key: str, set_keys: set[str]) -> str | None:
    if not [k for k in evidence_keys(key, {k: None for k in set_keys}) if k in set_keys]:
        return None
    return reverse("assessments:assessments:evidence", args=[assessment.pk, key])


def explain(component: dict, ladder: dict[str, str]) -> str:
    """How a component's points were computed, in the user's language."""
    weight = f"{dec(component['weight']):g}"
    if component["method"] == "ratio":
        if component.get("empty"):
            text = (
                _("Nothing to count: full marks.")
                if dec(component["computed_points"]) == dec(component["weight"])
                else _("Nothing to count: no points.")
            )
        else:
            text = _("%(num)s ÷ %(den)s = %(rate)s%%; %(weight)s points × the rate.") % {
                "num": component["numerator"],
                "den": component["denominator"],
                "rate": component["rate"],
                "weight": weight,
            }
            if dec(component["full_at"]) != 1 or dec(component["zero_at"]) != 0:
                text += " " + _("Full marks from %(full)s%%, none at %(zero)s%% or below.") % {
                    "full": f"{dec(component['full_at']) * 100:g}",
                    "zero": f"{dec(component['zero_at']) * 100:g}",
                }
    else:
        parts = [
            _("%(what)s %(n)s × %(each)s")
            % {
                "what": number_label(item["key"], ladder),
                "n": item["count"],
                "each": f"{dec(item['each']):g}",
            }
            for item in component["items"]
            if item["count"]
        ]
        text = (
            _("%(weight)s points minus %(items)s = %(deduction)s deducted.")
            % {"weight": weight, "items": "、".join(parts), "deduction": component["deduction"]}
            if parts
            else _("Nothing to deduct.")
        )
    if component.get("adjusted"):
        text += " " + _("Adjusted from %(before)s after an objection.") % {
            "before": component["computed_points"]
        }
    return text


def component_rows(assessment: Assessment, set_keys: set[str], ladder) -> list[dict]:
    rows = []
    for c in assessment.components:
        metric = c["metric"]
        if c["method"] == "ratio":
            keys = list(dict.fromkeys([*c["numerator_keys"], *c["denominator_keys"]]))
        else:
            keys = [item["key"] for item in c["items"]]
        numbers = assessment.metrics.get(metric, {})
        rows.append(
            {
                "code": c["code"],
                "label": c["label"],
                "weight": f"{dec(c['weight']):g}",
                "points": c["points"],
                "computed_points": c.get("computed_points", c["points"]),
                "adjusted": c.get("adjusted", False),
                "share": float(dec(c["points"]) / dec(c["weight"])) if dec(c["weight"]) else 0,
                "how": explain(c, ladder),
                "numbers": [
                    {
                        "label": number_label(k, ladder),
                        "value": numbers.get(k, 0),
                        "url": _evidence_url(assessment, f"{metric}.{k}", set_keys),
                    }
                    for k in keys
                ],
            }
        )
    return rows


def metric_tables(assessment: Assessment, set_keys: set[str], ladder) -> list[dict]:
    tables = []
    for metric, label in METRIC_LABELS.items():
        numbers = assessment.metrics.get(metric)
        if not numbers:
            continue
        rows = [
            {
                "key": key,
                "label": number_label(key, ladder),
                "value": value,
                "url": _evidence_url(assessment, f"{metric}.{key}", set_keys),
            }
            for key, value in numbers.items()
            if not isinstance(value, bool)
        ]
        tables.append({"metric": metric, "label": label, "rows": rows})
    return tables


def _fail(request, form, error: ValidationError) -> None:
    add_service_errors(form, error)


# --- periods -------------------------------------------------------------------------------


def _city():
    return Jurisdiction.objects.filter(kind=Jurisdiction.Kind.CITY, parent__isnull=True).first()


def _can_close(user) -> bool:
    city = _city()
    return bool(
        city
        and user.has_perm("assessments.add_assessmentperiod")
        and (user.is_superuser or holds_role_over(user, CITY_OFFICER_ROLES, city))
    )


class PeriodListView(View):
    template_name = "assessments/period_list.html"

    def get(self, request, form=None, status=200):
        if not request.user.has_perm("assessments.view_assessment"):
            raise PermissionDenied
        today = timezone.localdate()
        can_close = _can_close(request.user)
        if can_close and form is None:
            form = PeriodCloseForm(today=today, initial={"kind": "quarter", "year": today.year})
        return render(
            request,
            self.template_name,
            {
                "title": _("River-chief assessments"),
                "periods": selectors.period_list(user=request.user),
                "form": form if can_close else None,
            },
            status=status,
        )

    def post(self, request):
        if not _can_close(request.user):
            raise PermissionDenied
        form = PeriodCloseForm(request.POST, today=timezone.localdate())
        if form.is_valid():
            try:
                period = services.period_close(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _fail(request, form, error)
            else:
                messages.success(
                    request,
                    _("%(period)s is closed: the assessments are drafted.")
                    % {"period": period.label},
                )
                return redirect("assessments:periods:detail", pk=period.pk)
        return self.get(request, form=form, status=422)


class PeriodDetailView(View):
    template_name = "assessments/period_detail.html"

    def get(self, request, pk):
        period = selectors.period_get(user=request.user, pk=pk)
        assessments = selectors.period_assessments(user=request.user, period=period)
        ranks = {row["assessment"]: row["rank"] for row in period.ranking}
        county = [a for a in assessments if a.jurisdiction.parent_id is not None]
        bar_w, row_h = 520, 34
        rows = [
            {
                "assessment": a,
                "rank": ranks.get(a.pk),
                "chip": STATUS_CHIPS.get(a.status, ""),
                "bar": round(float(a.score) / 100 * bar_w, 1),
                "y": i * row_h,
            }
            for i, a in enumerate(county)
        ]
        city = [a for a in assessments if a.jurisdiction.parent_id is None]
        return render(
            request,
            self.template_name,
            {
                "title": period.label,
                "period": period,
                "rows": rows,
                "city": city[0] if city else None,
                "chart_height": max(len(rows), 1) * row_h,
                "bar_w": bar_w,
                "summons": selectors.period_summons(user=request.user, period=period),
            },
        )


# --- assessments ---------------------------------------------------------------------------


class AssessmentDetailView(View):
    template_name = "assessments/assessment_detail.html"

    def get(self, request, pk):
        user = request.user
        assessment = selectors.assessment_get(user=user, pk=pk)
        set_keys = set(
            EvidenceSet.objects.filter(assessment=assessment).values_list("key", flat=True)
        )
        ladder = _ladder_labels()
        labels = {c["code"]: c["label"] for c in assessment.components}
        objections = selectors.assessment_objections(user=user, assessment=assessment)
        for o in objections:
            o.item_label = labels.get(o.component, o.component)
        step = services.current_step(assessment)
        return render(
            request,
            self.template_name,
            {
                "title": str(assessment),
                "assessment": assessment,
                "chip": STATUS_CHIPS.get(assessment.status, ""),
                "components": component_rows(assessment, set_keys, ladder),
                "tables": metric_tables(assessment, set_keys, ladder),
                "chiefs": assessment.metrics.get("patrol_chiefs", []),
                "summons_note": not assessment.metrics.get("summons", {}).get(
                    "rectification_recorded", True
                ),
                "objections": objections,
                "events": selectors.assessment_events(user=user, assessment=assessment),
                "step": step,
                "can": {
                    "submit": step == "submit" and _is_city(user, assessment, CITY_OFFICER_ROLES),
                    "review": step == "review" and is_reviewer(user, assessment),
                    "answer": step == "answer" and _is_city(user, assessment, CITY_OFFICER_ROLES),
                    "finalize": step == "finalize"
                    and user.has_perm("assessments.finalize_assessment")
                    and _is_city(user, assessment, CITY_LEADER_ROLES),
                },
            },
        )


def _is_city(user, assessment, roles) -> bool:
    return user.is_superuser or holds_role_over(user, roles, assessment.jurisdiction)


class EvidenceView(View):
    template_name = "assessments/evidence.html"

    def get(self, request, pk, key):
        assessment = selectors.assessment_get(user=request.user, pk=pk)
        found = selectors.evidence(user=request.user, assessment=assessment, key=key)
        metric, _sep, number = key.partition(".")
        page = Paginator(found.rows, 50).get_page(request.GET.get("page"))
        return render(
            request,
            self.template_name,
            {
                "title": f"{METRIC_LABELS.get(metric, metric)} · {number_label(number, _ladder_labels())}",
                "assessment": assessment,
                "evidence": found,
                "page_obj": page,
            },
        )


class StepView(View):
    """One review step: GET shows its form, POST calls exactly one service."""

    template_name = "assessments/step_form.html"
    title = ""
    submit_label = gettext_lazy("Submit")
    success_message = ""
    form_class = NoteForm

    def dispatch(self, request, *args, **kwargs):
        self.assessment = selectors.assessment_get(user=request.user, pk=kwargs["pk"])
        if not self.allowed(request.user):
            raise PermissionDenied(_("This step is not yours to take now."))
        return super().dispatch(request, *args, **kwargs)

    def allowed(self, user) -> bool:
        raise NotImplementedError

    def get_form(self, data=None, files=None):
        return self.form_class(data, files)

    def render_form(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "title": self.title,
                "assessment": self.assessment,
                "form": form,
                "submit_label": self.submit_label,
                "cancel_url": services.assessment_url(self.assessment),
                **self.extra_context(),
            },
            status=status,
        )

    def extra_context(self) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST, request.FILES)
        if form.is_valid():
            try:
                self.perform(form)
            except ValidationError as error:
                _fail(request, form, error)
            else:
                messages.success(request, self.success_message)
                return redirect(services.assessment_url(self.assessment))
        return self.render_form(form, status=422)

    def perform(self, form) -> None:
        raise NotImplementedError


class SubmitView(StepView):
    title = gettext_lazy("Send the draft to the river chief")
    submit_label = gettext_lazy("Send for review")
    success_message = gettext_lazy("The assessment is sent for review.")

    def allowed(self, user):
        return services.current_step(self.assessment) == "submit" and _is_city(
            user, self.assessment, CITY_OFFICER_ROLES
        )

    def perform(self, form):
        services.assessment_submit(
            actor=self.request.user, assessment=self.assessment, note=form.cleaned_data["note"]
        )


class ReviewView(StepView):
    title = gettext_lazy("Review the assessment")
    submit_label = gettext_lazy("Submit the review")
    success_message = gettext_lazy("Your review is recorded.")

    def allowed(self, user):
        return services.current_step(self.assessment) == "review" and is_reviewer(
            user, self.assessment
        )

    def get_form(self, data=None, files=None):
        return ReviewForm(data, files, components=self.assessment.components)

    def extra_context(self):
        return {"intro": _("Leave every objection empty to accept the assessment.")}

    def perform(self, form):
        services.assessment_review(
            actor=self.request.user,
            assessment=self.assessment,
            objections=[
                services.ObjectionInput(component=code, reason=reason, attachment=attachment)
                for code, reason, attachment in form.objections()
            ],
            note=form.cleaned_data["note"],
        )


class AnswerView(StepView):
    title = gettext_lazy("Answer the objections")
    submit_label = gettext_lazy("Send the answers")
    success_message = gettext_lazy("The answers are recorded; the assessment awaits finalization.")

    def allowed(self, user):
        return services.current_step(self.assessment) == "answer" and _is_city(
            user, self.assessment, CITY_OFFICER_ROLES
        )

    def get_form(self, data=None, files=None):
        objections = list(self.assessment.objections.filter(answer__isnull=True).order_by("pk"))
        labels = {c["code"]: c["label"] for c in self.assessment.components}
        return AnswerForm(data, objections=objections, labels=labels)

    def perform(self, form):
        services.assessment_answer(
            actor=self.request.user,
            assessment=self.assessment,
            answers=[
                services.AnswerInput(
                    objection=pk,
                    decision=decision,
                    reason=reason,
                    points=Decimal(points) if points is not None else None,
                )
                for pk, decision, reason, points in form.answers()
            ],
        )


class FinalizeView(StepView):
    title = gettext_lazy("Finalize the assessment")
    submit_label = gettext_lazy("Finalize and issue the report")
    success_message = gettext_lazy("The assessment is final; its report is issued.")

    def allowed(self, user):
        return (
            services.current_step(self.assessment) == "finalize"
            and user.has_perm("assessments.finalize_assessment")
            and _is_city(user, self.assessment, CITY_LEADER_ROLES)
        )

    def perform(self, form):
        services.assessment_finalize(
            actor=self.request.user, assessment=self.assessment, note=form.cleaned_data["note"]
        )


@require_GET
def objection_file_view(request, pk):
    """An objection's evidence file, after the record rule: never a direct media URL."""
    objection = selectors.objection_get(user=request.user, pk=pk)
    if not objection.attachment:
        raise Http404
    return _file_response(
        objection.attachment, objection.attachment_type, objection.attachment_name
    )


def _file_response(field, content_type: str, name: str):
    try:
        handle = field.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("The file is missing from the storage.")) from exc
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not content_type.startswith("image/"),
        filename=name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- patrols -------------------------------------------------------------------------------


class PatrolListView(View):
    template_name = "assessments/patrol_list.html"

    def get(self, request):
        if not request.user.has_perm("assessments.view_patrol"):
            raise PermissionDenied
        page = Paginator(selectors.patrol_list(user=request.user), 25).get_page(
            request.GET.get("page")
        )
        can_add = request.user.has_perm("assessments.add_patrol") and (
            selectors.patrol_segments(user=request.user, on=timezone.localdate()).exists()
        )
        return render(
            request,
            self.template_name,
            {"title": _("River patrols"), "page_obj": page, "can_add": can_add},
        )


class PatrolFormView(View):
    template_name = "assessments/patrol_form.html"

    def render_form(self, form, status=200, **extra):
        return render(
            self.request,
            self.template_name,
            {
                "title": self.title,
                "form": form,
                "cancel_url": self.cancel_url,
                "submit_label": self.submit_label,
                **extra,
            },
            status=status,
        )


class PatrolAddView(PatrolFormView):
    title = gettext_lazy("Record a patrol")
    submit_label = gettext_lazy("Save the patrol")

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("assessments.add_patrol"):
            raise PermissionDenied
        self.cancel_url = reverse("assessments:patrols:index")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render_form(PatrolForm(user=request.user))

    def post(self, request):
        form = PatrolForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                patrol = services.patrol_record(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                _fail(request, form, error)
            else:
                messages.success(request, _("The patrol is recorded: add what you found."))
                return redirect("assessments:patrols:detail", pk=patrol.pk)
        return self.render_form(form, status=422)


class PatrolDetailView(View):
    template_name = "assessments/patrol_detail.html"

    def get(self, request, pk):
        patrol = selectors.patrol_get(user=request.user, pk=pk)
        own = patrol.chief_id == request.user.pk
        return render(
            request,
            self.template_name,
            {
                "title": str(patrol),
                "patrol": patrol,
                "findings": selectors.patrol_findings(user=request.user, patrol=patrol),
                "can_add": own and request.user.has_perm("assessments.add_patrolfinding"),
            },
        )


class FindingAddView(PatrolFormView):
    title = gettext_lazy("Add a finding")
    submit_label = gettext_lazy("Save the finding")

    def dispatch(self, request, *args, **kwargs):
        self.patrol = selectors.patrol_get(user=request.user, pk=kwargs["pk"])
        if self.patrol.chief_id != request.user.pk or not request.user.has_perm(
            "assessments.add_patrolfinding"
        ):
            raise PermissionDenied
        self.cancel_url = reverse("assessments:patrols:detail", args=[self.patrol.pk])
        return super().dispatch(request, *args, **kwargs)

    def form(self, data=None, files=None):
        return FindingForm(data, files, user=self.request.user, segment=self.patrol.segment)

    def get(self, request, pk):
        return self.render_form(self.form(), patrol=self.patrol)

    def post(self, request, pk):
        form = self.form(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                finding = services.patrol_finding_add(
                    actor=request.user,
                    patrol=self.patrol,
                    kind=data["kind"],
                    description=data["description"],
                    outfall=data["outfall"],
                    case=form.case_data(),
                    longitude=data["longitude"],
                    latitude=data["latitude"],
                    photo=data["photo"],
                )
            except ValidationError as error:
                _fail(request, form, error)
            else:
                if finding.kind == PatrolFinding.Kind.UNREGISTERED_OUTFALL:
                    messages.success(
                        request,
                        _("The finding is recorded and registered as a new case: %(case)s.")
                        % {"case": finding.outfall},
                    )
                else:
                    messages.success(request, _("The finding is recorded."))
                return redirect(self.cancel_url)
        return self.render_form(form, status=422, patrol=self.patrol)


class PhotoAddView(PatrolFormView):
    title = gettext_lazy("Add a photo")
    submit_label = gettext_lazy("Upload")

    def dispatch(self, request, *args, **kwargs):
        finding = (
            scoped(PatrolFinding.objects.filter(pk=kwargs["pk"]), request.user)
            .select_related("patrol")
            .first()
        )
        if finding is None:
            raise Http404
        if finding.patrol.chief_id != request.user.pk:
            raise PermissionDenied
        self.finding = finding
        self.cancel_url = reverse("assessments:patrols:detail", args=[finding.patrol_id])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        return self.render_form(PhotoForm())

    def post(self, request, pk):
        form = PhotoForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.patrol_photo_add(
                    actor=request.user,
                    finding=self.finding,
                    file=form.cleaned_data["file"],
                    longitude=form.cleaned_data["longitude"],
                    latitude=form.cleaned_data["latitude"],
                )
            except ValidationError as error:
                _fail(request, form, error)
            else:
                messages.success(request, _("The photo is uploaded."))
                return redirect(self.cancel_url)
        return self.render_form(form, status=422)


@require_GET
def photo_file_view(request, pk):
    """A patrol photo, after the record rule: never a direct media URL."""
    photo = selectors.photo_get(user=request.user, pk=pk)
    return _file_response(photo.file, photo.content_type, photo.original_name)
