"""The pages of the summons (约谈) and accountability (问责) processes.

Every page reads through the scoped selectors (404 out of scope, like a missing one); each
POST calls one service of `summons.py`, and a refusal is shown on the page with its reason,
writing nothing. The receipt and the report are served only through `SummonsFileView`,
after the same scope check; the issued documents link to the documents archive, which
checks the document type's scope again.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from base.models import Jurisdiction
from base.security import holds_role_over, scoped
from cases.models import Outfall
from documents.models import IssuedDocument

from . import selectors
from . import summons as services
from .models import Accountability, ServiceMethod, Summons, SummonsProposal

S = Summons.State
A = Accountability.State


def _errors(error: Exception) -> list[str]:
    if isinstance(error, ValidationError):
        return [str(m) for m in error.messages]
    return [str(error) or _("You may not do this.")]


def _is(user, perm: str, roles, jurisdiction) -> bool:
    return user.has_perm(perm) and holds_role_over(user, roles, jurisdiction)


# --- forms ---------------------------------------------------------------------------------


class SummonsForm(forms.Form):
    jurisdiction = forms.ModelChoiceField(
        label=gettext_lazy("County"),
        queryset=Jurisdiction.objects.none(),
        required=False,
    )
    outfalls = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Cases"), queryset=Outfall.objects.none(), required=False
    )
    cause = forms.CharField(label=gettext_lazy("Cause"), widget=forms.Textarea(attrs={"rows": 3}))
    persons = forms.CharField(label=gettext_lazy("Summoned persons and posts"), required=False)
    summoned_unit = forms.CharField(label=gettext_lazy("Summoned unit"), required=False)
    meeting_time = forms.CharField(label=gettext_lazy("Time of the meeting"))
    meeting_place = forms.CharField(label=gettext_lazy("Place of the meeting"))
    conductor = forms.CharField(label=gettext_lazy("Conducted by"), required=False)
    purpose = forms.CharField(
        label=gettext_lazy("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    materials = forms.CharField(
        label=gettext_lazy("What to bring (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(label=gettext_lazy("Issuer contact"))

    def __init__(self, *args, user, proposal=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal
        if proposal is not None:
            del self.fields["jurisdiction"]
            del self.fields["outfalls"]
        else:
            self.fields["jurisdiction"].queryset = Jurisdiction.objects.filter(
                parent__isnull=False
            ).order_by("path")
            self.fields["jurisdiction"].required = True
            self.fields["outfalls"].queryset = scoped(Outfall.objects.all(), user).order_by("code")


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = forms.CharField(
        label=gettext_lazy("Reason (required to reject)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ServeForm(forms.Form):
    method = forms.ChoiceField(label=gettext_lazy("Service method"), choices=ServiceMethod.choices)
    served_on = forms.DateField(
        label=gettext_lazy("Served on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    receiver = forms.CharField(label=gettext_lazy("Received by"))
    receipt = forms.FileField(label=gettext_lazy("Receipt (PDF, JPEG or PNG)"))


class MeetForm(forms.Form):
    met_on = forms.DateField(
        label=gettext_lazy("Meeting date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    place = forms.CharField(label=gettext_lazy("Meeting place"))
    attendees = forms.CharField(
        label=gettext_lazy("Attendees (one per line)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    problems = forms.CharField(
        label=gettext_lazy("Problems named (one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    requirements = forms.CharField(
        label=gettext_lazy("Rectification requirements (one per line)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    commitments = forms.CharField(
        label=gettext_lazy("Commitments (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class VerifyForm(forms.Form):
    rectified = forms.TypedChoiceField(
        label=gettext_lazy("Verification"),
        coerce=lambda v: v == "yes",
        choices=[("yes", gettext_lazy("Rectified")), ("no", gettext_lazy("Not rectified"))],
    )
    report = forms.FileField(label=gettext_lazy("Implementation report"), required=False)
    note = forms.CharField(
        label=gettext_lazy("Verification"), widget=forms.Textarea(attrs={"rows": 3})
    )


class SubmitForm(forms.Form):
    facts = forms.CharField(label=gettext_lazy("Facts"), widget=forms.Textarea(attrs={"rows": 4}))
    duty = forms.CharField(
        label=gettext_lazy("Duty breached"), widget=forms.Textarea(attrs={"rows": 3})
    )
    officials = forms.CharField(
        label=gettext_lazy("Officials and posts (one per line: name, post)"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    handling = forms.ChoiceField(
        label=gettext_lazy("Proposed handling"), choices=Accountability.Handling.choices
    )
    receiving_body = forms.ChoiceField(
        label=gettext_lazy("Receiving body"), choices=Accountability.ReceivingBody.choices
    )

    def clean_officials(self):
        rows = []
        for line in self.cleaned_data["officials"].splitlines():
            if not line.strip():
                continue
            name, _sep, post = line.replace("，", ",").partition(",")
            rows.append({"name": name.strip(), "post": post.strip()})
        return rows


class OutcomeForm(forms.Form):
    decision = forms.CharField(
        label=gettext_lazy("Decision taken"), widget=forms.Textarea(attrs={"rows": 3})
    )
    form = forms.ChoiceField(
        label=gettext_lazy("Form of accountability"), choices=Accountability.Handling.choices
    )
    decided_on = forms.DateField(
        label=gettext_lazy("Decided on"), widget=forms.DateInput(attrs={"type": "date"})
    )


# --- summons -------------------------------------------------------------------------------


class SummonsListView(View):
    template_name = "workflows/summons/list.html"

    def get(self, request):
        if not request.user.has_perm("workflows.view_summons"):
            raise Http404
        state = request.GET.get("state", "")
        state = state if state in S.values else ""
        county = request.GET.get("county", "")
        county = county if county.isdigit() else ""
        rows = selectors.summons_list(user=request.user, state=state, county=county)
        return render(
            request,
            self.template_name,
            {
                "title": _("Summonses"),
                "rows": rows[:200],
                "states": S.choices,
                "state": state,
                "counties": selectors.summons_counties(user=request.user),
                "county": county,
                "may_propose": request.user.has_perm("workflows.propose_summons"),
                "accountabilities": selectors.accountability_list(user=request.user)[:50],
            },
        )


class SummonsProposeView(View):
    template_name = "workflows/summons/propose.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm("workflows.propose_summons"):
            raise Http404
        self.proposal = None
        pk = request.GET.get("proposal") or request.POST.get("proposal")
        if pk:
            self.proposal = (
                scoped(SummonsProposal.objects.select_related("jurisdiction"), request.user)
                .filter(pk=pk if str(pk).isdigit() else 0)
                .first()
            )
            if self.proposal is None:
                raise Http404
        return super().dispatch(request, *args, **kwargs)

    def render_form(self, request, form, status=200):
        items = self.proposal.items.select_related("outfall") if self.proposal else []
        return render(
            request,
            self.template_name,
            {
                "title": _("Propose a summons"),
                "form": form,
                "proposal": self.proposal,
                "items": items,
            },
            status=status,
        )

    def get(self, request):
        initial = {"contact": request.user.get_full_name()}
        return self.render_form(
            request, SummonsForm(user=request.user, proposal=self.proposal, initial=initial)
        )

    def post(self, request):
        form = SummonsForm(request.POST, user=request.user, proposal=self.proposal)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                summons = services.summons_propose(
                    actor=request.user,
                    summons_proposal=self.proposal,
                    jurisdiction=data.pop("jurisdiction", None),
                    outfalls=list(data.pop("outfalls", []) or []),
                    **data,
                )
            except (ValidationError, PermissionDenied) as error:
                for message in _errors(error):
                    form.add_error(None, message)
            else:
                messages.success(request, _("The summons awaits a city leader's approval."))
                return redirect("workflows:summons:detail", summons.pk)
        return self.render_form(request, form, status=422)


STEPS = [
    (S.PENDING, gettext_lazy("Approval by a city leader")),
    (S.APPROVED, gettext_lazy("Notice issued; service")),
    (S.SERVED, gettext_lazy("Meeting and minutes")),
    (S.REPORT_DUE, gettext_lazy("Implementation report and verification")),
]
ORDER = [S.PENDING, S.APPROVED, S.SERVED, S.REPORT_DUE, S.CLOSED]


def _documents(user, subject) -> list[IssuedDocument]:
    from documents import selectors as document_selectors

    return list(document_selectors.subject_documents(user=user, subject=subject))


class SummonsDetailView(View):
    template_name = "workflows/summons/detail.html"
    forms_by_state = {
        S.PENDING: ("decide", DecisionForm),
        S.APPROVED: ("serve", ServeForm),
        S.SERVED: ("meet", MeetForm),
        S.REPORT_DUE: ("verify", VerifyForm),
    }

    def get(self, request, pk):
        summons = selectors.summons_get(user=request.user, pk=pk)
        return self.render_page(request, summons)

    def next_step(self, user, summons):
        """The step the user may take now (its name), or None."""
        step = self.forms_by_state.get(summons.state)
        if step is None:
            return None
        if step[0] == "decide":
            ok = summons.proposer_id != user.pk and _is(
                user, services.DECIDE, services.CITY_LEADER, summons.jurisdiction
            )
        else:
            ok = _is(user, services.PROPOSE, services.CITY_OFFICER, summons.jurisdiction)
        return step if ok else None

    def render_page(self, request, summons, *, form=None, errors=(), status=200):
        step = self.next_step(request.user, summons)
        if step is not None and form is None:
            initial = {}
            if step[0] == "meet":
                initial = {"place": summons.meeting_place}
            form = step[1](initial=initial)
        position = ORDER.index(summons.state) if summons.state in ORDER else None
        steps = [
            {
                "label": label,
                "done": position is not None and ORDER.index(state) < position,
                "current": state == summons.state,
            }
            for state, label in STEPS
        ]
        accountability = Accountability.objects.filter(summons_process=summons).first()
        return render(
            request,
            self.template_name,
            {
                "title": _("Summons of %(county)s") % {"county": summons.jurisdiction.name},
                "summons": summons,
                "steps": steps,
                "step": step[0] if step else None,
                "form": form,
                "errors": errors,
                "cases": summons.outfalls.order_by("pk"),
                "documents": _documents(request.user, summons),
                "deadline": summons.report_deadline,
                "accountability": accountability,
                "may_see_accountability": accountability is not None
                and request.user.has_perm("workflows.view_accountability"),
            },
            status=status,
        )


class SummonsStepView(SummonsDetailView):
    http_method_names = ["post"]

    def post(self, request, pk):
        summons = selectors.summons_get(user=request.user, pk=pk)
        step = self.forms_by_state.get(summons.state)
        if step is None or request.POST.get("step") != step[0]:
            messages.error(request, _("This step is no longer open."))
            return redirect("workflows:summons:detail", summons.pk)
        form = step[1](request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(request, summons, form=form, status=422)
        data = form.cleaned_data
        try:
            if step[0] == "decide":
                approve = data["decision"] == "approve"
                if approve and request.POST.get("confirmed") != "1":
                    raise ValidationError(_("Confirm the approval."))
                services.summons_decide(
                    actor=request.user, summons=summons, approve=approve, reason=data["reason"]
                )
            elif step[0] == "serve":
                services.summons_serve(actor=request.user, summons=summons, **data)
            elif step[0] == "meet":
                services.summons_meet(actor=request.user, summons=summons, **data)
            else:
                services.summons_verify(actor=request.user, summons=summons, **data)
        except (ValidationError, PermissionDenied) as error:
            summons = selectors.summons_get(user=request.user, pk=pk)
            return self.render_page(request, summons, form=form, errors=_errors(error), status=422)
        messages.success(request, _("Saved."))
        return redirect("workflows:summons:detail", summons.pk)


class SummonsFileView(View):
    """The receipt or the report of a summons, for users whose scope covers it."""

    def get(self, request, pk, which):
        summons = selectors.summons_get(user=request.user, pk=pk)
        if which not in ("receipt", "report"):
            raise Http404
        stored = getattr(summons, which)
        if not stored:
            raise Http404
        response = FileResponse(
            stored.open("rb"),
            as_attachment=True,
            filename=f"{which}-{summons.pk}{stored.name[stored.name.rfind('.') :]}",
            content_type=getattr(summons, f"{which}_content_type") or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response


# --- accountability ------------------------------------------------------------------------


class AccountabilityDetailView(View):
    template_name = "workflows/summons/accountability.html"
    forms_by_state = {
        A.DRAFT: ("submit", SubmitForm),
        A.PENDING: ("decide", DecisionForm),
        A.APPROVED: ("outcome", OutcomeForm),
    }

    def get(self, request, pk):
        accountability = selectors.accountability_get(user=request.user, pk=pk)
        return self.render_page(request, accountability)

    def next_step(self, user, accountability):
        step = self.forms_by_state.get(accountability.state)
        if step is None:
            return None
        if step[0] == "decide":
            ok = accountability.proposer_id != user.pk and _is(
                user, services.DECIDE, services.CITY_LEADER, accountability.jurisdiction
            )
        else:
            ok = _is(user, services.PROPOSE, services.CITY_OFFICER, accountability.jurisdiction)
        return step if ok else None

    def render_page(self, request, accountability, *, form=None, errors=(), status=200):
        step = self.next_step(request.user, accountability)
        if step is not None and form is None:
            initial = {}
            if step[0] == "submit":
                initial = {
                    "facts": accountability.facts,
                    "duty": accountability.duty,
                    "officials": "\n".join(
                        f"{o['name']}，{o['post']}" for o in accountability.officials
                    ),
                    "handling": accountability.handling,
                    "receiving_body": accountability.receiving_body,
                }
            form = step[1](initial=initial)
        return render(
            request,
            self.template_name,
            {
                "title": _("Accountability referral of %(county)s")
                % {"county": accountability.jurisdiction.name},
                "accountability": accountability,
                "summons": accountability.summons_process,
                "step": step[0] if step else None,
                "form": form,
                "errors": errors,
                "documents": _documents(request.user, accountability),
                "summons_documents": _documents(request.user, accountability.summons_process),
                "evidence_json": json.dumps(accountability.evidence, ensure_ascii=False),
            },
            status=status,
        )


class AccountabilityStepView(AccountabilityDetailView):
    http_method_names = ["post"]

    def post(self, request, pk):
        accountability = selectors.accountability_get(user=request.user, pk=pk)
        step = self.forms_by_state.get(accountability.state)
        if step is None or request.POST.get("step") != step[0]:
            messages.error(request, _("This step is no longer open."))
            return redirect("workflows:accountability:detail", accountability.pk)
        form = step[1](request.POST)
        if not form.is_valid():
            return self.render_page(request, accountability, form=form, status=422)
        data = form.cleaned_data
        try:
            if step[0] == "submit":
                services.accountability_submit(
                    actor=request.user, accountability=accountability, **data
                )
            elif step[0] == "decide":
                approve = data["decision"] == "approve"
                if approve and request.POST.get("confirmed") != "1":
                    raise ValidationError(_("Confirm the approval."))
                services.accountability_decide(
                    actor=request.user,
                    accountability=accountability,
                    approve=approve,
                    reason=data["reason"],
                )
            else:
                services.accountability_record_outcome(
                    actor=request.user, accountability=accountability, **data
                )
        except (ValidationError, PermissionDenied) as error:
            accountability = selectors.accountability_get(user=request.user, pk=pk)
            return self.render_page(
                request, accountability, form=form, errors=_errors(error), status=422
            )
        messages.success(request, _("Saved."))
        return redirect("workflows:accountability:detail", accountability.pk)


def summons_link(summons) -> str:
    return reverse("workflows:summons:detail", args=[summons.pk])


__all__ = [
    "AccountabilityDetailView",
    "AccountabilityStepView",
    "SummonsDetailView",
    "SummonsFileView",
    "SummonsListView",
    "SummonsProposeView",
    "SummonsStepView",
    "summons_link",
]
