"""Outfall register pages: list, case page, one form per step, evidence download.

Every page fetches the case through `selectors.outfall_get` first, so a case outside the
user's scope answers 404 exactly like a missing one (DESIGN.md §8); only then is the model
permission of the step checked (403). Every form POST calls one service; a service's
`ValidationError` is put back on the form (status 422, which Turbo renders), keeping input.
"""

from __future__ import annotations

from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_GET
from viewflow.urls import AppMenuMixin, Viewset

from base.models import Role

from .. import registry, selectors, services
from ..choices import State
from ..forms import (
    ClassificationForm,
    EntityLinkForm,
    EvidenceForm,
    OutfallFilterForm,
    OutfallForm,
    PlanForm,
    ProgressForm,
    TracingRecordForm,
    TransitionForm,
    add_service_errors,
)
from ..lifecycle import (
    TRANSITION_LABELS,
    TRANSITIONS,
    TransitionCheck,
    close_checklist_complete,
    has_code,
    has_reopen_basis,
    has_void_reason,
    missing_checklist_items,
    retain_checklist_complete,
    transition_checks,
)
from ..models import (
    Evidence,
    Outfall,
    OutfallEntity,
    OutfallEvent,
    OverrideRequest,
    RemediationPlan,
    TracingRecord,
)
from ..registry import approval_requirement
from ..rules import RULES, evaluate

RULE_STATUS_LABELS = {
    "pass": gettext_lazy("Pass"),
    "fail": gettext_lazy("Fail"),
    "warning": gettext_lazy("Warning"),
}
EMPTY = "—"


def detail_url(outfall) -> str:
    return reverse("cases:outfalls:detail", args=[outfall.pk])


def _require_perm(user, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def _resolve_transition(outfall: Outfall, name: str) -> str:
    # "retain" is one arrow for users; from classified it is the keep-as-compliant method
    if name == "retain" and outfall.state == State.CLASSIFIED:
        return "retain_compliant"
    return name


def _approver_labels(requirement) -> str:
    return "、".join(str(Role(role).label) for role in sorted(requirement.approver_roles))


# Guards a transition's own form satisfies (void's closure reason, reopen's basis): shown
# as fields of that form, not as preconditions.
FORM_SUPPLIED_GUARDS = {"void": (has_void_reason,), "reopen": (has_reopen_basis,)}
CHECKLIST_GUARDS = {
    "retain": (retain_checklist_complete, "retain"),
    "retain_compliant": (retain_checklist_complete, "retain"),
    "close": (close_checklist_complete, "close"),
}


def visible_checks(outfall: Outfall) -> list[TransitionCheck]:
    """`transition_checks` as a user needs them.

    Without the classify guard "no code yet" (the classify transition assigns the code
    itself, services.outfall_transition) and the guards the transition form supplies; an
    incomplete sign-off checklist names its missing items.
    """
    checks = []
    for check in transition_checks(outfall):
        hidden = {str(g.reason) for g in FORM_SUPPLIED_GUARDS.get(check.name, ())}
        if check.name == "classify" and not outfall.code:
            hidden.add(str(has_code.reason))
        unmet = [reason for reason in check.unmet if reason not in hidden]
        checklist = CHECKLIST_GUARDS.get(check.name)
        if checklist and str(checklist[0].reason) in unmet:
            missing = "、".join(i.label for i in missing_checklist_items(outfall, checklist[1]))
            unmet = [
                _("%(reason)s Missing: %(items)s.") % {"reason": reason, "items": missing}
                if reason == str(checklist[0].reason) and missing
                else reason
                for reason in unmet
            ]
        checks.append(replace(check, unmet=tuple(unmet)))
    return checks


# --- display helpers -----------------------------------------------------------------------


def _display(obj, name: str):
    field = obj._meta.get_field(name)
    value = getattr(obj, name)
    if field.choices and value not in (None, ""):
        return getattr(obj, f"get_{name}_display")()
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value in (None, ""):
        return EMPTY
    return value


def _rows(obj, names) -> list[tuple[str, object]]:
    return [(str(obj._meta.get_field(n).verbose_name), _display(obj, n)) for n in names]


FACT_SECTIONS = [
    (
        gettext_lazy("Identity"),
        ["code", "national_code", "name", "source", "created_by", "created_at"],
    ),
    (
        gettext_lazy("Location"),
        [
            "jurisdiction",
            "town",
            "village",
            "landmark",
            "longitude",
            "latitude",
            "water_body",
            "segment",
        ],
    ),
    (
        gettext_lazy("Survey"),
        [
            "entry_mode",
            "discharge_pattern",
            "daily_volume",
            "main_pollutants",
            "is_discharging",
            "colour",
            "odour",
            "survey_level",
            "survey_date",
            "surveyors",
            "remarks",
        ],
    ),
    (
        gettext_lazy("Protected areas and context"),
        [
            "in_drinking_water_zone",
            "in_spring_zone",
            "in_nature_reserve",
            "in_red_line",
            "in_basic_farmland",
            "in_other_protected",
            "in_sewer_coverage",
            "in_industrial_park",
            "is_inflow_overflow",
            "is_new_or_changed",
            "is_historical",
        ],
    ),
    (
        gettext_lazy("Case"),
        [
            "assigned_officer",
            "lead_department",
            "closure_reason",
            "reopen_basis",
            "reopen_reference",
            "is_possible_duplicate",
        ],
    ),
]

FLAG_SECTION = 3  # protected areas and context: shown as the flags that are set


def fact_sections(outfall: Outfall) -> list[dict]:
    sections = []
    for index, (title, names) in enumerate(FACT_SECTIONS):
        if index == FLAG_SECTION:
            flags = [
                str(outfall._meta.get_field(n).verbose_name) for n in names if getattr(outfall, n)
            ]
            sections.append({"title": title, "flags": flags, "rows": []})
        else:
            sections.append({"title": title, "flags": None, "rows": _rows(outfall, names)})
    return sections


# the model whose fields an event's diff keys name (default: Outfall)
EVENT_MODELS = {
    OutfallEvent.Kind.TRACING_ADDED: TracingRecord,
    OutfallEvent.Kind.ENTITY_LINKED: OutfallEntity,
    OutfallEvent.Kind.EVIDENCE_ADDED: Evidence,
    OutfallEvent.Kind.PLAN_SET: RemediationPlan,
    OutfallEvent.Kind.PLAN_EXTENDED: RemediationPlan,
    OutfallEvent.Kind.OVERRIDE_REQUESTED: OverrideRequest,
    OutfallEvent.Kind.OVERRIDE_DECIDED: OverrideRequest,
    # a deadline extension's proposal names the plan's deadline; a transition's, case fields
    OutfallEvent.Kind.PROPOSAL: RemediationPlan,
    OutfallEvent.Kind.PROPOSAL_REJECTED: RemediationPlan,
}
EXTRA_DIFF_LABELS = {
    "primary": gettext_lazy("primary"),
    "entity": gettext_lazy("responsible entity"),
    "file": gettext_lazy("file"),
    "code": gettext_lazy("local code"),
}


def _diff_value(field, value):
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if field is not None and field.name == "rule" and value in RULES:
        return str(RULES[value][0])
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return value


def describe_changes(event: OutfallEvent) -> list[tuple[str, object, object]]:
    """(label, before, after) for each changed field of an event, in readable terms."""
    model = EVENT_MODELS.get(event.kind, Outfall)
    rows = []
    for key, pair in (event.diff or {}).items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        field = None
        for candidate in (model, Outfall):
            try:
                field = candidate._meta.get_field(key)
                break
            except FieldDoesNotExist:
                continue
        if key in EXTRA_DIFF_LABELS:
            label = str(EXTRA_DIFF_LABELS[key])
        elif field is not None and hasattr(field, "verbose_name"):
            label = str(field.verbose_name)
        else:
            label = key
        rows.append((label, _diff_value(field, before), _diff_value(field, after)))
    return rows


PROPOSAL_TITLES = {
    "deadline_extension": (
        gettext_lazy("Deadline extension proposed"),
        gettext_lazy("Deadline extension not approved"),
    ),
}


def event_title(event: OutfallEvent) -> str:
    if event.kind in (OutfallEvent.Kind.PROPOSAL, OutfallEvent.Kind.PROPOSAL_REJECTED):
        if event.transition in PROPOSAL_TITLES:
            proposed, rejected = PROPOSAL_TITLES[event.transition]
            return str(proposed if event.kind == OutfallEvent.Kind.PROPOSAL else rejected)
        if event.transition in TRANSITION_LABELS:
            return f"{event.get_kind_display()}：{TRANSITION_LABELS[event.transition]}"
    if event.kind == OutfallEvent.Kind.TRANSITION:
        label = TRANSITION_LABELS.get(event.transition, event.transition)
        before = event.get_from_state_display() or EMPTY
        after = event.get_to_state_display() or EMPTY
        return f"{label}：{before} → {after}"
    return str(event.get_kind_display())


def _with_rule_title(override: OverrideRequest) -> OverrideRequest:
    override.rule_title = str(RULES[override.rule][0]) if override.rule in RULES else override.rule
    return override


def rule_rows(results) -> list[dict]:
    return [
        {
            "rule": r.rule,
            "title": r.title,
            "status": r.status,
            "status_label": str(RULE_STATUS_LABELS.get(r.status, r.status)),
            "explanation": r.explanation,
        }
        for r in results
    ]


# --- list ----------------------------------------------------------------------------------


class OutfallListView(View):
    template_name = "cases/outfall_list.html"

    def get(self, request):
        _require_perm(request.user, "cases.view_outfall")
        form = OutfallFilterForm(request.GET or None, user=request.user)
        outfalls = selectors.outfall_list(user=request.user, filters=form.filters())
        page = Paginator(outfalls, form.get_page_size()).get_page(request.GET.get("page"))
        today = timezone.localdate()
        rows = []
        for outfall in page:
            plan = getattr(outfall, "plan", None)
            overdue = bool(
                plan
                and plan.deadline < today
                and outfall.state in {State.CLASSIFIED, State.REMEDIATING}
            )
            rows.append(
                {
                    "outfall": outfall,
                    "entity": selectors.primary_entity(outfall),
                    "plan": plan,
                    "overdue": overdue,
                }
            )
        return render(
            request,
            self.template_name,
            {
                "title": _("Outfall register"),
                "form": form,
                "page_obj": page,
                "rows": rows,
                "can_register": request.user.has_perm("cases.add_outfall"),
                "filtered": bool(form.filters()),
            },
        )


# --- case page -----------------------------------------------------------------------------


class OutfallDetailView(View):
    template_name = "cases/outfall_detail.html"

    def get(self, request, pk):
        user = request.user
        outfall = selectors.outfall_get(user=user, pk=pk)
        links = list(selectors.outfall_entity_links(user=user, outfall=outfall))
        plan = selectors.outfall_plan(user=user, outfall=outfall)
        events = list(selectors.outfall_events(user=user, outfall=outfall))
        can_transition = user.has_perm("cases.transition_outfall")
        backend = registry.proposal_backend()
        proposals = backend.open_proposals(user=user, outfall=outfall) if backend else []
        open_transition = next((p for p in proposals if p.transition), None)
        transitions = []
        for check in visible_checks(outfall):
            requirement = approval_requirement(check.name, outfall)
            public = "retain" if check.name == "retain_compliant" else check.name
            transitions.append(
                {
                    "check": check,
                    "public_name": public,
                    "target_label": State(check.target).label,
                    "requires_approval": requirement.required,
                    "approvers": _approver_labels(requirement),
                    "proposal": open_transition
                    if open_transition and open_transition.transition == public
                    else None,
                    "url": reverse(
                        "cases:outfalls:transition",
                        args=[
                            outfall.pk,
                            "retain" if check.name == "retain_compliant" else check.name,
                        ],
                    ),
                }
            )
        classified = bool(outfall.category_id and outfall.subtype_id and outfall.disposition)
        context = {
            "title": str(outfall),
            "outfall": outfall,
            "sections": fact_sections(outfall),
            "links": links,
            "tracing_records": list(selectors.outfall_tracing_records(user=user, outfall=outfall)),
            "rule_results": rule_rows(evaluate(outfall)) if classified else [],
            "overrides": [
                _with_rule_title(o) for o in selectors.outfall_overrides(user=user, outfall=outfall)
            ],
            "plan": plan,
            "evidence": list(selectors.outfall_evidence(user=user, outfall=outfall)),
            "timeline": [
                {"event": e, "title": event_title(e), "changes": describe_changes(e)}
                for e in reversed(events)
            ],
            "transitions": transitions,
            "proposals_enabled": backend is not None,
            "open_proposals": proposals,
            "open_transition": open_transition,
            "extra_actions": backend.case_actions(user=user, outfall=outfall) if backend else [],
            "can": {
                "edit": user.has_perm("cases.change_outfall"),
                "tracing": user.has_perm("cases.add_tracingrecord"),
                "entity": user.has_perm("cases.add_outfallentity"),
                "classify": user.has_perm("cases.change_outfall")
                and outfall.state in {State.SURVEYED, State.TRACED},
                "plan": user.has_perm("cases.add_remediationplan"),
                "progress": plan is not None and user.has_perm("cases.change_remediationplan"),
                "evidence": user.has_perm("cases.add_evidence"),
                "transition": can_transition,
            },
        }
        return render(request, self.template_name, context)


# --- step forms ----------------------------------------------------------------------------


class StepFormView(View):
    """One step of a case: GET shows the form, POST calls exactly one service."""

    permission = ""
    form_class = None
    template_name = "cases/outfall_form.html"
    title = ""
    success_message = ""
    submit_label = gettext_lazy("Save")

    def dispatch(self, request, *args, **kwargs):
        # scope first (404), then the step's permission (403)
        self.outfall = selectors.outfall_get(user=request.user, pk=kwargs["pk"])
        _require_perm(request.user, self.permission)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        return {"user": self.request.user, "outfall": self.outfall}

    def get_form(self, data=None, files=None):
        return self.form_class(data, files, **self.get_form_kwargs())

    def get_context_data(self, **kwargs) -> dict:
        return {
            "title": self.title,
            "outfall": self.outfall,
            "submit_label": self.submit_label,
            "cancel_url": detail_url(self.outfall),
            **kwargs,
        }

    def render_form(self, form, status=200, **extra):
        return render(
            self.request,
            self.template_name,
            self.get_context_data(form=form, **extra),
            status=status,
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST, request.FILES)
        if form.is_valid():
            try:
                self.perform(form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, self.success_message)
                return redirect(self.success_url())
        return self.render_form(form, status=422)

    def perform(self, form) -> None:
        raise NotImplementedError

    def success_url(self) -> str:
        return detail_url(self.outfall)


class OutfallRegisterView(StepFormView):
    permission = "cases.add_outfall"
    form_class = OutfallForm
    title = gettext_lazy("Register an outfall")
    success_message = gettext_lazy("The outfall is registered.")
    submit_label = gettext_lazy("Register")

    def dispatch(self, request, *args, **kwargs):
        self.outfall = None
        _require_perm(request.user, self.permission)
        return View.dispatch(self, request, *args, **kwargs)

    def get_form_kwargs(self):
        return {"user": self.request.user}

    def get_context_data(self, **kwargs):
        return {
            "title": self.title,
            "outfall": None,
            "submit_label": self.submit_label,
            "cancel_url": reverse("cases:outfalls:index"),
            **kwargs,
        }

    def perform(self, form):
        self.outfall = services.outfall_register(actor=self.request.user, data=form.service_data())


class OutfallEditView(StepFormView):
    permission = "cases.change_outfall"
    form_class = OutfallForm
    title = gettext_lazy("Edit survey facts")
    success_message = gettext_lazy("The changes are saved.")

    def get_form_kwargs(self):
        return {"user": self.request.user, "instance": self.outfall}

    def perform(self, form):
        services.outfall_update(
            actor=self.request.user, outfall=self.outfall, data=form.service_data()
        )


class TracingRecordAddView(StepFormView):
    permission = "cases.add_tracingrecord"
    form_class = TracingRecordForm
    title = gettext_lazy("Add a tracing record")
    success_message = gettext_lazy("The tracing record is added.")

    def get_form_kwargs(self):
        return {}

    def perform(self, form):
        data = form.cleaned_data
        services.tracing_record_add(
            actor=self.request.user,
            outfall=self.outfall,
            method=data["method"],
            traced_on=data["traced_on"],
            finding=data["finding"],
            result=data["result"],
        )


class EntityLinkView(StepFormView):
    permission = "cases.add_outfallentity"
    form_class = EntityLinkForm
    title = gettext_lazy("Link a responsible entity")
    success_message = gettext_lazy("The responsible entity is linked.")

    def perform(self, form):
        user = self.request.user
        # a new entity and its link are one user action: both or neither
        with transaction.atomic():
            if form.cleaned_data["mode"] == EntityLinkForm.NEW:
                entity = services.entity_create(actor=user, data=form.new_entity_data())
            else:
                entity = form.cleaned_data["entity"]
            services.outfall_entity_link(
                actor=user, outfall=self.outfall, entity=entity, **form.link_kwargs()
            )


class ClassificationView(StepFormView):
    permission = "cases.change_outfall"
    form_class = ClassificationForm
    template_name = "cases/outfall_classification.html"
    title = gettext_lazy("Classification and disposition")
    success_message = gettext_lazy("The classification is saved.")

    def get(self, request, *args, **kwargs):
        outfall = self.outfall
        form = self.form_class(
            initial={
                "category": outfall.category_id,
                "subtype": outfall.subtype_id,
                "disposition": outfall.disposition,
                "merge_target": outfall.merge_target_id,
                "merge_into_network": outfall.merge_into_network,
            },
            **self.get_form_kwargs(),
        )
        results = evaluate(outfall) if outfall.subtype_id and outfall.disposition else []
        return self.render_form(form, results=results)

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        results = preview_rules(self.outfall, form)
        if form.is_valid():
            try:
                services.outfall_classification_set(
                    actor=request.user,
                    outfall=self.outfall,
                    category=form.cleaned_data["category"],
                    subtype=form.cleaned_data["subtype"],
                    disposition=form.cleaned_data["disposition"],
                    merge_target=form.cleaned_data["merge_target"],
                    merge_into_network=form.cleaned_data["merge_into_network"],
                    overrides=form.overrides(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, self.success_message)
                return redirect(detail_url(self.outfall))
        return self.render_form(form, status=422, results=results)

    def get_context_data(self, **kwargs):
        results = kwargs.pop("results", [])
        failed = {r.rule for r in results if r.failed}
        form = kwargs["form"]
        return super().get_context_data(
            rule_results=rule_rows(results),
            override_fields=[
                (code, bound, code in failed) for code, bound in form.override_fields()
            ],
            rules_url=reverse("cases:outfalls:rules_preview", args=[self.outfall.pk]),
            **kwargs,
        )


def preview_rules(outfall: Outfall, form: ClassificationForm) -> list:
    """Evaluate the disposition rules on the case as the form would classify it, unsaved.

    `outfall` is this request's own instance: it is changed in memory and never saved.
    """
    form.is_valid()
    data = getattr(form, "cleaned_data", {})
    category, subtype = data.get("category"), data.get("subtype")
    if not (category and subtype and data.get("disposition")):
        return []
    outfall.category, outfall.subtype = category, subtype
    outfall.disposition = data["disposition"]
    outfall.merge_target = data.get("merge_target")
    outfall.merge_into_network = bool(data.get("merge_into_network"))
    return evaluate(outfall)


@require_GET
def rules_preview_view(request, pk):
    """JSON: the disposition rules' results for the classification form's current values."""
    outfall = selectors.outfall_get(user=request.user, pk=pk)
    _require_perm(request.user, "cases.change_outfall")
    form = ClassificationForm(request.GET, user=request.user, outfall=outfall)
    results = preview_rules(outfall, form)
    return JsonResponse(
        {"results": rule_rows(results), "failed": [r.rule for r in results if r.failed]}
    )


class PlanView(StepFormView):
    permission = "cases.add_remediationplan"
    form_class = PlanForm
    title = gettext_lazy("Remediation plan")
    success_message = gettext_lazy("The remediation plan is saved.")

    def get_form_kwargs(self):
        self.plan = selectors.outfall_plan(user=self.request.user, outfall=self.outfall)
        return {"user": self.request.user, "outfall": self.outfall, "plan": self.plan}

    def perform(self, form):
        data = form.cleaned_data
        services.plan_set(
            actor=self.request.user,
            outfall=self.outfall,
            measures=data["measures"],
            lead_department=data["lead_department"],
            deadline=data["deadline"],
            progress=data["progress"],
        )


class ProgressView(StepFormView):
    permission = "cases.change_remediationplan"
    form_class = ProgressForm
    title = gettext_lazy("Update remediation progress")
    success_message = gettext_lazy("The progress is saved.")

    def dispatch(self, request, *args, **kwargs):
        self.outfall = selectors.outfall_get(user=request.user, pk=kwargs["pk"])
        self.plan = selectors.outfall_plan(user=request.user, outfall=self.outfall)
        if self.plan is None:
            raise Http404(_("This case has no remediation plan yet."))
        _require_perm(request.user, self.permission)
        return View.dispatch(self, request, *args, **kwargs)

    def get_form_kwargs(self):
        return {"initial": {"progress": self.plan.progress}}

    def perform(self, form):
        services.plan_progress_update(
            actor=self.request.user, plan=self.plan, progress=form.cleaned_data["progress"]
        )


class EvidenceAddView(StepFormView):
    permission = "cases.add_evidence"
    form_class = EvidenceForm
    title = gettext_lazy("Upload evidence")
    success_message = gettext_lazy("The evidence is uploaded.")
    submit_label = gettext_lazy("Upload")

    def get_form_kwargs(self):
        return {}

    def perform(self, form):
        data = form.cleaned_data
        services.evidence_add(
            actor=self.request.user,
            outfall=self.outfall,
            kind=data["kind"],
            file=data["file"],
            taken_at=data["taken_at"],
            longitude=data["longitude"],
            latitude=data["latitude"],
            description=data["description"],
        )


class TransitionView(StepFormView):
    """Confirm and apply one transition; where the policy needs a second person's approval,
    propose it instead (the registered proposal backend: the workflows module's approval
    process), with a reason and the evidence for the approver."""

    permission = "cases.transition_outfall"
    form_class = TransitionForm
    template_name = "cases/outfall_transition.html"
    success_message = gettext_lazy("The case moved to “%(state)s”.")

    def dispatch(self, request, *args, **kwargs):
        if kwargs["name"] not in TRANSITIONS or kwargs["name"] == "retain_compliant":
            raise Http404
        self.outfall = selectors.outfall_get(user=request.user, pk=kwargs["pk"])
        _require_perm(request.user, self.permission)
        self.name = kwargs["name"]
        self.resolved = _resolve_transition(self.outfall, self.name)
        self.check = next(
            (c for c in visible_checks(self.outfall) if c.name == self.resolved), None
        )
        self.requirement = approval_requirement(self.resolved, self.outfall)
        self.backend = registry.proposal_backend()
        self.proposing = self.requirement.required and self.backend is not None
        self.open_proposals = (
            [
                p
                for p in self.backend.open_proposals(user=request.user, outfall=self.outfall)
                if p.transition
            ]
            if self.proposing
            else []
        )
        self.evidence = (
            selectors.outfall_evidence(user=request.user, outfall=self.outfall)
            if self.proposing
            else None
        )
        return View.dispatch(self, request, *args, **kwargs)

    def get_form_kwargs(self):
        return {
            "transition": self.resolved,
            "initial": {"expected_state": self.outfall.state},
            "evidence": self.evidence,
        }

    def get_context_data(self, **kwargs):
        form = kwargs["form"]
        return super().get_context_data(
            title=TRANSITION_LABELS[self.resolved],
            transition_label=TRANSITION_LABELS[self.resolved],
            check=self.check,
            target_label=State(self.check.target).label if self.check else "",
            requirement=self.requirement,
            approvers=_approver_labels(self.requirement),
            proposing=self.proposing,
            open_proposals=self.open_proposals,
            evidence=list(self.evidence) if self.proposing else [],
            chosen=set(form.data.getlist("evidence")) if form.is_bound else set(),
            submit_label=_("Submit for approval")
            if self.proposing
            else TRANSITION_LABELS[self.resolved],
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if self.check is None:
            form.add_error(
                None,
                _("“%(t)s” is not possible from the state “%(s)s”.")
                % {"t": TRANSITION_LABELS[self.resolved], "s": self.outfall.get_state_display()},
            )
            return self.render_form(form, status=422)
        if self.proposing:
            return self.propose(request, form)
        if self.requirement.required:
            form.add_error(
                None,
                _(
                    "“%(t)s” needs the approval of a %(roles)s: it goes through the approval "
                    "process and cannot be applied directly. Nothing was changed."
                )
                % {
                    "t": TRANSITION_LABELS[self.resolved],
                    "roles": _approver_labels(self.requirement),
                },
            )
            return self.render_form(form, status=422)
        if not form.is_valid():
            return self.render_form(form, status=422)
        expected = form.cleaned_data.get("expected_state")
        if expected and expected != self.outfall.state:
            form.add_error(
                None,
                _("The case changed meanwhile: it is now “%(state)s”. Check it and try again.")
                % {"state": self.outfall.get_state_display()},
            )
            return self.render_form(form, status=409)
        try:
            outfall = services.outfall_transition(
                actor=request.user,
                outfall=self.outfall,
                transition=self.name,
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
            )
        except services.TransitionConflict as error:
            form.add_error(None, error.message)
            return self.render_form(form, status=409)
        except services.TransitionError as error:
            for message in [error.message, *error.reasons]:
                form.add_error(None, message)
            return self.render_form(form, status=422)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_form(form, status=422)
        messages.success(request, self.success_message % {"state": outfall.get_state_display()})
        return redirect(detail_url(outfall))

    def propose(self, request, form):
        """Send the transition for approval: nothing of the case changes until approved."""
        if not form.is_valid():
            return self.render_form(form, status=422)
        expected = form.cleaned_data.get("expected_state")
        if expected and expected != self.outfall.state:
            form.add_error(
                None,
                _("The case changed meanwhile: it is now “%(state)s”. Check it and try again.")
                % {"state": self.outfall.get_state_display()},
            )
            return self.render_form(form, status=409)
        try:
            proposal = self.backend.submit(
                actor=request.user,
                outfall=self.outfall,
                transition=self.name,
                reason=form.cleaned_data["reason"],
                changes=form.changes(),
                evidence=form.cleaned_data.get("evidence") or [],
            )
        except services.TransitionConflict as error:
            form.add_error(None, error.message)
            return self.render_form(form, status=409)
        except services.TransitionError as error:
            for message in [error.message, *error.reasons]:
                form.add_error(None, message)
            return self.render_form(form, status=422)
        except ValidationError as error:
            add_service_errors(form, error)
            return self.render_form(form, status=422)
        messages.success(
            request,
            _("“%(t)s” is proposed: it waits for the approval of a %(roles)s.")
            % {"t": proposal.title, "roles": _approver_labels(self.requirement)},
        )
        return redirect(detail_url(self.outfall))


# --- evidence download ---------------------------------------------------------------------


@require_GET
def evidence_download_view(request, pk):
    """Serve one evidence file after the record rule: never a direct media URL."""
    evidence = selectors.evidence_get(user=request.user, pk=pk)
    _require_perm(request.user, "cases.view_evidence")
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404(_("The file is missing from the storage.")) from exc
    inline = evidence.content_type.startswith("image/")
    response = FileResponse(
        handle,
        content_type=evidence.content_type,
        as_attachment=not inline,
        filename=evidence.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- routes --------------------------------------------------------------------------------


class OutfallViewset(AppMenuMixin, Viewset):
    title = gettext_lazy("Outfall register")
    icon = "water_drop"

    index_path = path("", OutfallListView.as_view(), name="index")
    add_path = path("add/", OutfallRegisterView.as_view(), name="add")
    detail_path = path("<int:pk>/", OutfallDetailView.as_view(), name="detail")
    change_path = path("<int:pk>/edit/", OutfallEditView.as_view(), name="change")
    tracing_add_path = path(
        "<int:pk>/tracing/add/", TracingRecordAddView.as_view(), name="tracing_add"
    )
    entity_link_path = path("<int:pk>/entity/", EntityLinkView.as_view(), name="entity_link")
    classification_path = path(
        "<int:pk>/classification/", ClassificationView.as_view(), name="classification"
    )
    rules_preview_path = path(
        "<int:pk>/classification/rules/", rules_preview_view, name="rules_preview"
    )
    plan_path = path("<int:pk>/plan/", PlanView.as_view(), name="plan")
    progress_path = path("<int:pk>/plan/progress/", ProgressView.as_view(), name="progress")
    evidence_add_path = path(
        "<int:pk>/evidence/add/", EvidenceAddView.as_view(), name="evidence_add"
    )
    transition_path = path(
        "<int:pk>/transition/<slug:name>/", TransitionView.as_view(), name="transition"
    )
    evidence_file_path = path(
        "evidence/<int:pk>/file/", evidence_download_view, name="evidence_file"
    )

    def has_view_permission(self, user, obj=None):
        return user.is_authenticated and user.has_perm("cases.view_outfall")
