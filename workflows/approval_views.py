"""The approvers' and proposers' pages: task inbox, claimable queue, archive, approval page.

Every page reads through the scoped selectors: a request about a case outside the user's
scope answers 404 exactly like a missing one, and the queues list only tasks the user may
decide (approver role over the county, never their own proposal). Each POST calls one
service of `approvals.py`; a refusal is shown on the page with its reasons and writes
nothing. There is no bulk approval: each approval is a decision on one case.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from viewflow.forms import Layout

from base.models import Role
from base.workdays import WorkCalendar, working_days_between
from cases import selectors as case_selectors
from cases.choices import State
from cases.forms import TickedTiles, add_service_errors
from cases.models import Outfall, OverrideRequest
from cases.rules import RULES, evaluate
from cases.services import TransitionConflict, TransitionError
from cases.views.outfalls import describe_changes, event_title, fact_sections, rule_rows

from . import approvals, selectors
from .models import Proposal

K = Proposal.Kind

TABS = [
    ("tasks", gettext_lazy("My tasks"), "workflows:tasks:index"),
    ("queue", gettext_lazy("To claim"), "workflows:queue:index"),
    ("archive", gettext_lazy("Decided"), "workflows:archive:index"),
    ("submitted", gettext_lazy("My proposals"), "workflows:proposals:index"),
]


def detail_url(proposal) -> str:
    return reverse("workflows:proposals:detail", args=[proposal.pk])


def _waiting_days(proposal: Proposal, today, calendar: WorkCalendar | None = None) -> int:
    """Working days the proposal has waited (a list page loads one calendar for all rows)."""
    start = timezone.localdate(proposal.proposed_at)
    if calendar is None:
        return max(working_days_between(start, today), 0)
    days = (today - start).days
    return sum(calendar.is_workday(start + dt.timedelta(days=i)) for i in range(1, days + 1))


def _changes(proposal: Proposal) -> list[tuple[str, str]]:
    """The proposal's field changes in readable terms (void's reason, reopen's basis)."""
    rows = []
    for name, value in (proposal.changes or {}).items():
        field = Outfall._meta.get_field(name)
        shown = dict(field.flatchoices).get(value, value) if field.choices else value
        rows.append((str(field.verbose_name), str(shown)))
    return rows


class ProposalListView(View):
    """One tab of the approval inbox."""

    tab = ""
    title = ""
    empty = ""
    template_name = "workflows/approvals/list.html"

    def queryset(self, user):
        raise NotImplementedError

    def get(self, request):
        user = request.user
        page = Paginator(self.queryset(user), 25).get_page(request.GET.get("page"))
        today = timezone.localdate()
        starts = [timezone.localdate(p.proposed_at) for p in page if p.is_open]
        calendar = WorkCalendar.load(min(starts), today) if starts else None
        rows = [
            {
                "proposal": p,
                "title": approvals.proposal_title(p),
                "waiting": _waiting_days(p, today, calendar) if p.is_open else None,
                "url": detail_url(p),
            }
            for p in page
        ]
        counts = {
            "tasks": selectors.tasks_of(user=user).count(),
            "queue": selectors.claimable_for(user=user).count(),
        }
        return render(
            request,
            self.template_name,
            {
                "title": self.title,
                "tab": self.tab,
                "tabs": [(key, label, reverse(name), counts.get(key)) for key, label, name in TABS],
                "rows": rows,
                "page_obj": page,
                "empty": self.empty,
            },
        )


class TaskListView(ProposalListView):
    tab = "tasks"
    title = gettext_lazy("My tasks")
    empty = gettext_lazy("No task is assigned to you. Claim one from the queue.")

    def queryset(self, user):
        return selectors.tasks_of(user=user)


class QueueView(ProposalListView):
    tab = "queue"
    title = gettext_lazy("To claim")
    empty = gettext_lazy("Nothing is waiting in your jurisdiction.")

    def queryset(self, user):
        return selectors.claimable_for(user=user)


class ArchiveView(ProposalListView):
    tab = "archive"
    title = gettext_lazy("Decided")
    empty = gettext_lazy("No decided proposal yet.")

    def queryset(self, user):
        return selectors.decided_for(user=user)


class SubmittedView(ProposalListView):
    tab = "submitted"
    title = gettext_lazy("My proposals")
    empty = gettext_lazy("You have not proposed anything yet.")

    def queryset(self, user):
        return selectors.submitted_by(user=user)


# --- the approval page ---------------------------------------------------------------------


class DecisionForm(forms.Form):
    APPROVE, REJECT = "approve", "reject"

    decision = forms.ChoiceField(
        choices=[(APPROVE, gettext_lazy("Approve")), (REJECT, gettext_lazy("Reject"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the decision (required to reject)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("decision") == self.REJECT and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for the rejection."))
        if data.get("decision") == self.APPROVE and not data.get("confirmed"):
            self.add_error(None, _("Confirm the approval in the dialog."))
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for withdrawing"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )


def _subject_check(proposal: Proposal, outfall: Outfall) -> dict:
    """The live check of what would be applied on approval, as of now."""
    if proposal.kind == K.TRANSITION:
        unmet = approvals.unmet_guards(outfall, proposal.transition, proposal.changes)
        changed = outfall.state != proposal.from_state
        return {
            "changed": changed,
            "possible": unmet is not None and not changed,
            "unmet": list(unmet or ()),
        }
    if proposal.kind == K.DEADLINE_EXTENSION:
        plan = proposal.plan
        unmet = []
        if outfall.state not in approvals.EXTENSION_STATES:
            unmet.append(
                _("The deadline of a case in the state “%(state)s” does not move.")
                % {"state": outfall.get_state_display()}
            )
        if plan is not None and proposal.new_date <= plan.deadline:
            unmet.append(
                _("The new deadline must be after the current one (%(date)s).")
                % {"date": plan.deadline}
            )
        return {"changed": False, "possible": True, "unmet": unmet}
    override = proposal.override
    unmet = []
    if override.status != OverrideRequest.Status.PENDING:
        unmet.append(_("This override request was already decided."))
    return {"changed": False, "possible": True, "unmet": unmet}


class ProposalDetailView(View):
    template_name = "workflows/approvals/detail.html"

    def get(self, request, pk):
        proposal = selectors.proposal_get(user=request.user, pk=pk)
        return self.render_page(request, proposal)

    def render_page(self, request, proposal, *, form=None, withdraw_form=None, status=200):
        user = request.user
        outfall = case_selectors.outfall_get(user=user, pk=proposal.outfall_id)
        is_open = proposal.is_open and proposal.task_open
        may_decide = is_open and approvals.may_decide(user, proposal)
        owner_id = proposal.task_owner_id
        evidence = list(case_selectors.outfall_evidence(user=user, outfall=outfall))
        attached_ids = set(proposal.evidence.values_list("pk", flat=True))
        events = list(case_selectors.outfall_events(user=user, outfall=outfall))
        classified = bool(outfall.category_id and outfall.subtype_id and outfall.disposition)
        override = proposal.override if proposal.kind == K.RULE_OVERRIDE else None
        if override is not None:
            override.rule_title = (
                str(RULES[override.rule][0]) if override.rule in RULES else override.rule
            )
        target = ""
        if proposal.kind == K.TRANSITION:
            for t in outfall.get_all_state_transitions():
                if t.source == proposal.from_state and t.name == approvals.fsm_name(
                    Outfall(state=proposal.from_state), proposal.transition
                ):
                    target = State(t.target).label
        context = {
            "title": _("%(what)s · %(case)s")
            % {"what": approvals.proposal_title(proposal), "case": outfall},
            "proposal": proposal,
            "what": approvals.proposal_title(proposal),
            "outfall": outfall,
            "from_label": State(proposal.from_state).label if proposal.from_state else "",
            "target_label": target,
            "changes": _changes(proposal),
            "override": override,
            "plan": case_selectors.outfall_plan(user=user, outfall=outfall),
            "entity": case_selectors.primary_entity(outfall),
            "sections": fact_sections(outfall)[:2],
            "check": _subject_check(proposal, outfall) if proposal.is_open else None,
            "attached": [e for e in evidence if e.pk in attached_ids],
            "other_evidence": [e for e in evidence if e.pk not in attached_ids],
            "rule_results": rule_rows(evaluate(outfall)) if classified else [],
            "timeline": [
                {"event": e, "title": event_title(e), "changes": describe_changes(e)}
                for e in reversed(events)
            ],
            "approvers": "、".join(
                str(Role(r).label) for r in sorted(approvals.approver_roles(proposal))
            ),
            "waiting": _waiting_days(proposal, timezone.localdate()) if is_open else None,
            "task_owner": approvals.open_task(proposal).owner if owner_id else None,
            "can": {
                "decide": may_decide and owner_id in (None, user.pk),
                "claim": may_decide and owner_id is None,
                "release": is_open and owner_id == user.pk,
                "withdraw": is_open
                and proposal.proposer_id == user.pk
                and proposal.kind != K.RULE_OVERRIDE,
            },
            "own": proposal.proposer_id == user.pk,
            "form": form or DecisionForm(initial={"decision": DecisionForm.APPROVE}),
            "withdraw_form": withdraw_form or WithdrawForm(),
        }
        return render(request, self.template_name, context, status=status)


class ProposalActionView(ProposalDetailView):
    """A POST on one proposal: one service call; refusals are shown on the approval page."""

    success_message = ""

    def get(self, request, pk):
        return redirect(detail_url(selectors.proposal_get(user=request.user, pk=pk)))

    def post(self, request, pk):
        proposal = selectors.proposal_get(user=request.user, pk=pk)
        try:
            result = self.perform(request, proposal)
        except _Invalid as invalid:
            return self.render_page(request, proposal, status=422, **invalid.forms)
        except (TransitionConflict, TransitionError, ValidationError, PermissionDenied) as error:
            form, status = self.error_form(request, error)
            proposal = selectors.proposal_get(user=request.user, pk=pk)
            return self.render_page(request, proposal, status=status, **form)
        if result is not None:
            return result
        messages.success(request, self.success_message)
        return redirect(detail_url(proposal))

    def perform(self, request, proposal):
        raise NotImplementedError

    def error_form(self, request, error):
        form = DecisionForm(request.POST if "decision" in request.POST else None)
        if form.is_bound:
            form.is_valid()
        else:
            form = DecisionForm(initial={"decision": DecisionForm.APPROVE})
            form.is_valid()
        status = 422
        if isinstance(error, TransitionConflict):
            status = 409
        elif isinstance(error, PermissionDenied):
            status = 403
        if isinstance(error, ValidationError):
            add_service_errors(form, error)
        elif isinstance(error, TransitionError):
            for message in [error.message, *error.reasons]:
                form.add_error(None, message)
        else:
            form.add_error(None, str(error) or _("You do not have permission to do this."))
        return {"form": form}, status


class _Invalid(Exception):
    def __init__(self, **forms_):
        self.forms = forms_


class ClaimView(ProposalActionView):
    success_message = gettext_lazy("The task is yours: it waits in “My tasks”.")

    def perform(self, request, proposal):
        approvals.proposal_claim(actor=request.user, proposal=proposal)


class ReleaseView(ProposalActionView):
    success_message = gettext_lazy("The task is back in the queue.")

    def perform(self, request, proposal):
        approvals.proposal_release(actor=request.user, proposal=proposal)


class DecideView(ProposalActionView):
    def perform(self, request, proposal):
        form = DecisionForm(request.POST)
        if not form.is_valid():
            raise _Invalid(form=form)
        approve = form.cleaned_data["decision"] == DecisionForm.APPROVE
        decided = approvals.proposal_decide(
            actor=request.user,
            proposal=proposal,
            approve=approve,
            reason=form.cleaned_data["reason"],
        )
        if approve:
            messages.success(
                request,
                _("Approved: %(what)s. The case is updated.")
                % {"what": approvals.proposal_title(decided)},
            )
        else:
            messages.success(
                request,
                _("Not approved: %(what)s. The proposer is told your reason.")
                % {"what": approvals.proposal_title(decided)},
            )
        return redirect(detail_url(decided))


class WithdrawView(ProposalActionView):
    success_message = gettext_lazy("The proposal is withdrawn.")

    def perform(self, request, proposal):
        form = WithdrawForm(request.POST)
        if not form.is_valid():
            raise _Invalid(withdraw_form=form)
        approvals.proposal_withdraw(
            actor=request.user, proposal=proposal, reason=form.cleaned_data["reason"]
        )


# --- proposing a deadline extension --------------------------------------------------------


class ExtensionForm(forms.Form):
    new_date = forms.DateField(label=gettext_lazy("Requested deadline"))
    reason = forms.CharField(
        label=gettext_lazy("Reason for the extension"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    evidence = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=TickedTiles)

    def __init__(self, *args, evidence_qs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["evidence"].queryset = evidence_qs
        self.layout = Layout("new_date", "reason")


class ExtensionProposeView(View):
    template_name = "workflows/approvals/extension.html"

    def dispatch(self, request, *args, **kwargs):
        self.outfall = case_selectors.outfall_get(user=request.user, pk=kwargs["outfall_pk"])
        self.plan = case_selectors.outfall_plan(user=request.user, outfall=self.outfall)
        if self.plan is None:
            raise Http404(_("This case has no remediation plan yet."))
        if not request.user.has_perm("workflows.add_proposal"):
            raise PermissionDenied(_("You do not have permission to do this."))
        self.evidence = case_selectors.outfall_evidence(user=request.user, outfall=self.outfall)
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, form, status=200):
        return render(
            self.request,
            self.template_name,
            {
                "title": _("Propose a deadline extension"),
                "outfall": self.outfall,
                "plan": self.plan,
                "form": form,
                "evidence": list(self.evidence),
                "chosen": {
                    str(v) for v in (form.data.getlist("evidence") if form.is_bound else [])
                },
                "cancel_url": reverse("cases:outfalls:detail", args=[self.outfall.pk]),
            },
            status=status,
        )

    def get(self, request, outfall_pk):
        return self.render_form(ExtensionForm(evidence_qs=self.evidence))

    def post(self, request, outfall_pk):
        form = ExtensionForm(request.POST, evidence_qs=self.evidence)
        if form.is_valid():
            try:
                proposal = approvals.extension_propose(
                    actor=request.user,
                    outfall=self.outfall,
                    new_date=form.cleaned_data["new_date"],
                    reason=form.cleaned_data["reason"],
                    evidence=form.cleaned_data["evidence"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except TransitionError as error:
                for message in [error.message, *error.reasons]:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    _("The extension is proposed: it waits for a city leader's approval."),
                )
                return redirect(detail_url(proposal))
        return self.render_form(form, status=422)
