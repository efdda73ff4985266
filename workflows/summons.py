"""The summons (约谈) and accountability (问责) processes (issue 6): the services behind
`SummonsFlow` and `AccountabilityFlow` (flows.py).

Summons: a city officer proposes (from an L3 `SummonsProposal` or by hand) → a city leader
who is not the proposer approves, and the 约谈通知书 is issued (numbered, as the system) →
service (送达) is recorded with its receipt → the meeting is recorded and the 约谈会议纪要
issued, and the implementation report falls due 30 days later (a `Deadline` of stage
`summons_report` on the ladder) → a city officer verifies the report: rectified closes the
summons; not rectified, or the report deadline missed (the ladder's L4 calls
`on_report_overdue`), refers it for accountability.

Accountability: drafted by the system with the evidence compiled from the cases' events
and the documents of the summons → a city officer completes and submits it → a city leader
who is not the submitter approves, and the 问责建议函 is issued → the outcome is recorded.

Every step takes the flow lock (a row lock of the process on PostgreSQL), re-reads the
process, checks its state and its open task, so a step happens exactly once. Out-of-scope
processes answer 404 like missing ones; documents are issued in the step's transaction and
rendered after commit; notifications carry de-duplication keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from base import uploads
from base.models import Jurisdiction, Role, RoleGrant, User
from base.security import holds_role_over, scoped
from base.uploads import CheckedUpload
from cases.models import Outfall, OutfallEvent
from documents.models import IssuedDocument
from documents.services import chinese_date, document_issue
from notifications.services import notify

from .deadlines import compute_due, ladder, schedule
from .documents import DEFAULT_RECEIVING_BODY, government_of
from .flows import AccountabilityFlow, SummonsFlow
from .models import (
    Accountability,
    Deadline,
    DeadlineRule,
    ServiceMethod,
    Stage,
    Summons,
    SummonsProposal,
    Supervision,
)

S = Summons.State
A = Accountability.State
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED)
PROPOSE = "workflows.propose_summons"
DECIDE = "workflows.decide_summons"
CITY_OFFICER = frozenset({Role.CITY_OFFICER})
CITY_LEADER = frozenset({Role.CITY_LEADER})
COUNTY = frozenset({Role.COUNTY_OFFICER, Role.COUNTY_LEADER})

# printed in the letter (the PDF is Chinese whatever the user's language)
HANDLING_TEXT = {
    "admonition": "诫勉",
    "apology": "责令公开道歉",
    "transfer": "组织处理（调离岗位）",
    "resign_blame": "组织处理（引咎辞职）",
    "resign_ordered": "组织处理（责令辞职）",
    "dismissal": "组织处理（免职）",
    "demotion": "组织处理（降职）",
    "disciplinary": "党纪政纪处分",
}
RECEIVING_BODY_TEXT = {
    "discipline": DEFAULT_RECEIVING_BODY,
    "organisation": "中共晋城市委组织部",
}


class SummonsError(ValidationError):
    """A step that cannot be taken now; nothing was written."""


# --- helpers -------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _name(user) -> str:
    if user is None:
        return _("System")
    return user.get_full_name() or user.get_username()


def summons_url(summons: Summons) -> str:
    return reverse("workflows:summons:detail", args=[summons.pk])


def accountability_url(accountability: Accountability) -> str:
    return reverse("workflows:accountability:detail", args=[accountability.pk])


def holders(roles: Iterable[str], jurisdiction: Jurisdiction) -> set[int]:
    """Active users holding one of `roles` over `jurisdiction` (a grant on it or above)."""
    ancestors = [code for code in jurisdiction.path.split("/") if code]
    return set(
        RoleGrant.objects.filter(
            role__in=list(roles), jurisdiction__code__in=ancestors, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def county_people(jurisdiction: Jurisdiction) -> set[int]:
    """County officers and leaders granted on the county itself (not the city's)."""
    return set(
        RoleGrant.objects.filter(
            role__in=list(COUNTY), jurisdiction=jurisdiction, user__is_active=True
        ).values_list("user_id", flat=True)
    )


def _text(value: str, field: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("Fill in this field.")})
    return value


def _require_role(actor, perm: str, roles, jurisdiction: Jurisdiction, message: str) -> None:
    if (
        actor is None
        or not actor.is_active
        or not actor.has_perm(perm)
        or not holds_role_over(actor, roles, jurisdiction)
    ):
        raise PermissionDenied(message)


def _open_task(process, node) -> Task | None:
    return (
        Task.objects.filter(process_id=process.pk, flow_task=node, status__in=OPEN_TASK)
        .select_related("owner")
        .first()
    )


def _complete(task: Task, user, now: dt.datetime) -> None:
    """Finish a human task (viewflow) as `user` (None: the system)."""
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        task.assigned = now
        activation.assign(user)
    activation.start(None)
    activation.execute()


@contextmanager
def _at_step(fetch, actor, process, node, state: str):
    """The process re-read (scoped) under its flow's lock, with its open task at `node`:
    read once to 404 early, again under the lock so the state checked is the current one."""
    process = fetch(actor, process)
    with node.flow_class.lock(process.pk):
        process = fetch(actor, process)
        yield process, _require_step(process, state, node)


def _require_step(process, state: str, node) -> Task:
    task = _open_task(process, node) if process.state == state else None
    if task is None:
        raise SummonsError(
            _("This step is not open: the process is “%(state)s”.")
            % {"state": process.get_state_display()}
        )
    return task


def check_upload(file: UploadedFile, field: str) -> CheckedUpload:
    """A receipt or report is checked like evidence: JPEG, PNG or PDF up to the limit."""
    if file is None:
        raise ValidationError({field: _("Upload the file.")})
    return uploads.check_upload(file, field=field)


# --- reads used by the services (scoped) ---------------------------------------------------


def _fetch(actor, model, instance, *related: str):
    """`instance` (or its pk) as `actor` may see it; 404 without the view permission or
    outside the actor's scope."""
    pk = instance.pk if isinstance(instance, model) else instance
    if actor is None or not actor.has_perm(f"workflows.view_{model._meta.model_name}"):
        raise Http404
    found = scoped(model.objects.select_related(*related), actor).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def _fetch_summons(actor, summons: Summons | int) -> Summons:
    return _fetch(actor, Summons, summons, "jurisdiction", "proposer")


def _fetch_accountability(actor, accountability: Accountability | int) -> Accountability:
    return _fetch(
        actor, Accountability, accountability, "jurisdiction", "summons_process", "proposer"
    )


# --- summons: proposing --------------------------------------------------------------------


@transaction.atomic
def summons_propose(
    *,
    actor: User,
    cause: str,
    meeting_time: str,
    meeting_place: str,
    contact: str,
    jurisdiction: Jurisdiction | None = None,
    summons_proposal: SummonsProposal | int | None = None,
    outfalls: Iterable = (),
    persons: str = "",
    summoned_unit: str = "",
    conductor: str = "",
    purpose: str = "",
    materials: str = "",
    now: dt.datetime | None = None,
) -> Summons:
    """A city officer proposes a summons of a county: from an L3 summons proposal (its
    overdue cases are the summons' cases) or by hand (county, cause, cases)."""
    now = _now(now)
    proposal = None
    if summons_proposal is not None:
        pk = getattr(summons_proposal, "pk", summons_proposal)
        proposal = (
            scoped(SummonsProposal.objects.select_for_update(), actor).filter(pk=pk).first()
            if actor is not None
            else None
        )
        if proposal is None:
            raise Http404
        jurisdiction = proposal.jurisdiction
        if proposal.status != SummonsProposal.Status.PROPOSED:
            raise SummonsError(_("This summons proposal was already taken up or dismissed."))
    if jurisdiction is None:
        raise ValidationError({"jurisdiction": _("Choose the county.")})
    _require_role(
        actor,
        PROPOSE,
        CITY_OFFICER,
        jurisdiction,
        _("Only a city officer proposes a summons."),
    )
    fields = {
        "cause": _text(cause, "cause"),
        "meeting_time": _text(meeting_time, "meeting_time"),
        "meeting_place": _text(meeting_place, "meeting_place"),
        "contact": _text(contact, "contact"),
        "persons": _text(persons, "persons", required=False),
        "summoned_unit": _text(summoned_unit, "summoned_unit", required=False),
        "conductor": _text(conductor, "conductor", required=False),
        "purpose": _text(purpose, "purpose", required=False),
        "materials": _text(materials, "materials", required=False),
    }
    ids = {getattr(o, "pk", o) for o in outfalls or ()}
    if proposal is not None:
        ids |= set(proposal.items.exclude(outfall=None).values_list("outfall_id", flat=True))
    cases = list(
        Outfall.objects.filter(
            pk__in=ids, jurisdiction__path__startswith=jurisdiction.path
        ).order_by("pk")
    )
    if len(cases) != len(ids):
        raise ValidationError({"outfalls": _("Choose cases of the summoned county.")})
    try:
        with transaction.atomic():
            summons = SummonsFlow.start.run(
                jurisdiction=jurisdiction,
                summons_proposal=proposal,
                proposer=actor,
                proposed_at=now,
                created=now,
                **fields,
            )
    except IntegrityError as exc:
        raise SummonsError(_("A summons was already proposed from this proposal.")) from exc
    summons.outfalls.set(cases)
    if proposal is not None:
        proposal.status = SummonsProposal.Status.ACCEPTED
        proposal.save(update_fields=["status"])
    recipients = holders(CITY_LEADER, jurisdiction) - {actor.pk}
    notify(
        recipients=sorted(recipients),
        kind="summons_task",
        title=_("[To approve] Summons of %(county)s") % {"county": jurisdiction.name},
        body=_("Proposed by %(who)s. Cause: %(cause)s")
        % {"who": _name(actor), "cause": fields["cause"]},
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:task",
        now=now,
    )
    return summons


# --- summons: the decision and the notice --------------------------------------------------


def notice_extra(summons: Summons) -> dict[str, Any]:
    """The 约谈通知书's `context_extra` (see `documents.summons_notice_context`)."""
    return {
        "cause": summons.cause,
        "persons": summons.persons,
        "summoned_unit": summons.summoned_unit,
        "time": summons.meeting_time,
        "place": summons.meeting_place,
        "conductor": summons.conductor,
        "purpose": summons.purpose,
        "materials": summons.materials,
        "contact": summons.contact,
    }


@transaction.atomic
def summons_decide(
    *,
    actor: User,
    summons: Summons | int,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Summons:
    """A city leader, never the proposer, approves (the notice is issued and numbered) or
    rejects (with a reason; an L3 proposal may then be taken up again)."""
    now = _now(now)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    with _at_step(_fetch_summons, actor, summons, SummonsFlow.approve, S.PENDING) as (
        summons,
        task,
    ):
        if summons.proposer_id == actor.pk:
            raise PermissionDenied(_("You cannot approve your own proposal."))
        _require_role(
            actor,
            DECIDE,
            CITY_LEADER,
            summons.jurisdiction,
            _("Only a city leader approves a summons."),
        )
        summons.decided_by, summons.decided_at, summons.decision_reason = actor, now, reason
        summons.state = S.APPROVED if approve else S.REJECTED
        if approve:
            summons.notice = document_issue(
                actor=None,
                doctype="summons_notice",
                subject=summons,
                context_extra=notice_extra(summons),
                now=now,
            )
        elif summons.summons_proposal_id:
            SummonsProposal.objects.filter(pk=summons.summons_proposal_id).update(
                status=SummonsProposal.Status.PROPOSED
            )
        summons.save(
            update_fields=["state", "decided_by", "decided_at", "decision_reason", "notice"]
        )
        _complete(task, actor, now)
    notify(
        recipients=[summons.proposer_id],
        kind="summons_approved" if approve else "summons_rejected",
        title=(
            _("[Approved] Summons of %(county)s: notice %(number)s")
            % {"county": summons.jurisdiction.name, "number": summons.notice.number}
            if approve
            else _("[Not approved] Summons of %(county)s") % {"county": summons.jurisdiction.name}
        ),
        body=_("Decided by %(who)s. %(reason)s") % {"who": _name(actor), "reason": reason},
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:decided",
        now=now,
    )
    return summons


# --- summons: service, meeting, report -----------------------------------------------------


@transaction.atomic
def summons_serve(
    *,
    actor: User,
    summons: Summons | int,
    method: str,
    served_on: dt.date,
    receiver: str,
    receipt: UploadedFile,
    now: dt.datetime | None = None,
) -> Summons:
    """Record the service (送达) of the notice: method, date, receiver and the receipt.
    The response clocks start at service; the county is told."""
    now = _now(now)
    if method not in ServiceMethod.values:
        raise ValidationError({"method": _("Choose how the notice was served.")})
    if served_on is None:
        raise ValidationError({"served_on": _("Give the date of service.")})
    if served_on > timezone.localdate(now):
        raise ValidationError({"served_on": _("The date of service cannot be in the future.")})
    receiver = _text(receiver, "receiver")
    upload = check_upload(receipt, "receipt")
    with _at_step(_fetch_summons, actor, summons, SummonsFlow.serve, S.APPROVED) as (summons, task):
        _require_role(
            actor,
            PROPOSE,
            CITY_OFFICER,
            summons.jurisdiction,
            _("Only a city officer records the service."),
        )
        if summons.decided_at and served_on < timezone.localdate(summons.decided_at):
            raise ValidationError(
                {"served_on": _("The notice cannot be served before it was issued.")}
            )
        summons.service_method, summons.served_on, summons.receiver = method, served_on, receiver
        summons.receipt_content_type, summons.receipt_sha256 = upload.content_type, upload.sha256
        summons.served_by = actor
        summons.state = S.SERVED
        _save_upload(summons, "receipt", receipt, upload)
        summons.save(
            update_fields=[
                "service_method",
                "served_on",
                "receiver",
                "receipt",
                "receipt_content_type",
                "receipt_sha256",
                "served_by",
                "state",
            ]
        )
        _complete(task, actor, now)
    notify(
        recipients=sorted(county_people(summons.jurisdiction)),
        kind="summons_served",
        title=_("[Summons] %(number)s served on %(county)s: %(time)s, %(place)s")
        % {
            "number": summons.notice.number,
            "county": government_of(summons.jurisdiction),
            "time": summons.meeting_time,
            "place": summons.meeting_place,
        },
        body=summons.cause,
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:served",
        now=now,
    )
    return summons


def _save_upload(instance, field: str, file: UploadedFile, upload: CheckedUpload):
    """Store a checked upload under a name made of its hash (never the user's name)."""
    getattr(instance, field).save(f"{upload.sha256[:32]}{upload.ext}", file, save=False)


def report_deadline_create(summons: Summons, met_on: dt.date) -> Deadline:
    """The implementation report's deadline on the ladder (DeadlineRule summons_report)."""
    rule = DeadlineRule.objects.select_related("milestone").get(stage=Stage.SUMMONS_REPORT)
    due_on, basis = compute_due(rule, met_on)
    deadline = Deadline(
        jurisdiction_id=summons.jurisdiction_id,
        stage=Stage.SUMMONS_REPORT,
        start_on=met_on,
        due_on=due_on,
        original_due_on=due_on,
        basis=basis,
        subject_type=Summons._meta.label_lower,
        subject_id=str(summons.pk),
    )
    schedule(deadline, ladder())
    deadline.save()
    return deadline


@transaction.atomic
def summons_meet(
    *,
    actor: User,
    summons: Summons | int,
    met_on: dt.date,
    place: str,
    attendees: str,
    problems: str,
    requirements: str,
    commitments: str,
    now: dt.datetime | None = None,
) -> Summons:
    """Record the meeting, issue its minutes (约谈会议纪要) and open the report deadline."""
    now = _now(now)
    if met_on is None:
        raise ValidationError({"met_on": _("Give the date of the meeting.")})
    if met_on > timezone.localdate(now):
        raise ValidationError({"met_on": _("The meeting cannot be in the future.")})
    values = {
        "met_place": _text(place, "place"),
        "attendees": _text(attendees, "attendees"),
        "problems": _text(problems, "problems"),
        "requirements": _text(requirements, "requirements"),
        "commitments": _text(commitments, "commitments", required=False),
    }
    with _at_step(_fetch_summons, actor, summons, SummonsFlow.meet, S.SERVED) as (summons, task):
        _require_role(
            actor,
            PROPOSE,
            CITY_OFFICER,
            summons.jurisdiction,
            _("Only a city officer records the meeting."),
        )
        if met_on < summons.served_on:
            raise ValidationError({"met_on": _("The meeting cannot precede the service.")})
        for name, value in values.items():
            setattr(summons, name, value)
        summons.met_on = met_on
        deadline = report_deadline_create(summons, met_on)
        summons.report_deadline = deadline
        summons.minutes = document_issue(
            actor=None,
            doctype="summons_minutes",
            subject=summons,
            context_extra={
                "date": met_on,
                "place": summons.met_place,
                "conductor": summons.conductor,
                "persons": summons.persons,
                "summoned_unit": summons.summoned_unit,
                "problems": summons.problems,
                "requirements": summons.requirements,
                "commitments": summons.commitments,
                "attendees": summons.attendees,
                "report_due": deadline.due_on,
                "summons_number": summons.notice.number if summons.notice_id else "",
                "contact": summons.contact,
            },
            now=now,
        )
        summons.state = S.REPORT_DUE
        summons.save(update_fields=[*values, "met_on", "report_deadline", "minutes", "state"])
        _complete(task, actor, now)
    due = chinese_date(deadline.due_on)
    notify(
        recipients=sorted(county_people(summons.jurisdiction)),
        kind="summons_report_due",
        title=_("[Summons] Written implementation report due by %(date)s") % {"date": due},
        body=_("Minutes %(number)s.") % {"number": summons.minutes.number},
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:report_due:county",
        now=now,
    )
    notify(
        recipients=sorted(holders(CITY_OFFICER, summons.jurisdiction)),
        kind="summons_report_due",
        title=_("[Summons] %(county)s's implementation report is due by %(date)s")
        % {"county": summons.jurisdiction.name, "date": due},
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:report_due:city",
        now=now,
    )
    return summons


@transaction.atomic
def summons_verify(
    *,
    actor: User,
    summons: Summons | int,
    rectified: bool,
    note: str,
    report: UploadedFile | None = None,
    now: dt.datetime | None = None,
) -> Summons:
    """A city officer verifies the implementation report: rectified closes the summons,
    not rectified refers it for accountability. The report deadline is met either way."""
    now = _now(now)
    note = _text(note, "note")
    upload = check_upload(report, "report") if report is not None else None
    if rectified and upload is None:
        raise ValidationError({"report": _("Upload the implementation report.")})
    with _at_step(_fetch_summons, actor, summons, SummonsFlow.verify, S.REPORT_DUE) as (
        summons,
        task,
    ):
        _require_role(
            actor,
            PROPOSE,
            CITY_OFFICER,
            summons.jurisdiction,
            _("Only a city officer verifies the report."),
        )
        fields = ["rectified", "verification_note", "verified_by", "verified_at", "state"]
        if upload is not None:
            summons.report_content_type, summons.report_sha256 = upload.content_type, upload.sha256
            _save_upload(summons, "report", report, upload)
            fields += ["report", "report_content_type", "report_sha256"]
        summons.rectified, summons.verification_note = rectified, note
        summons.verified_by, summons.verified_at = actor, now
        summons.state = S.CLOSED if rectified else S.REFERRED
        summons.save(update_fields=fields)
        Deadline.objects.filter(pk=summons.report_deadline_id).update(
            status=Deadline.Status.MET, closed_at=now, next_rank=None, next_fire_on=None
        )
        _complete(task, actor, now)
        if not rectified:
            accountability_open(
                summons=summons, trigger=Accountability.Trigger.NOT_RECTIFIED, now=now
            )
    notify(
        recipients=sorted({summons.proposer_id, *county_people(summons.jurisdiction)} - {actor.pk}),
        kind="summons_verified",
        title=(
            _("[Summons closed] %(county)s rectified")
            if rectified
            else _("[Summons] %(county)s not rectified: referred for accountability")
        )
        % {"county": summons.jurisdiction.name},
        body=note,
        link=summons_url(summons),
        subject=summons,
        dedupe_key=f"summons:{summons.pk}:verified",
        now=now,
    )
    return summons


def on_report_overdue(deadline) -> None:
    """The ladder's L4 hook (registry): the report deadline of a summons was missed.

    Runs in the sweep's transaction; a summons already verified or referred is left alone,
    so the accountability proposal is created exactly once.
    """
    if deadline.subject_type != Summons._meta.label_lower:
        return
    now = timezone.now()
    with SummonsFlow.lock(int(deadline.subject_id)):
        summons = (
            Summons.objects.select_related("jurisdiction").filter(pk=deadline.subject_id).first()
        )
        if summons is None or summons.state != S.REPORT_DUE:
            return
        task = _open_task(summons, SummonsFlow.verify)
        summons.state = S.REFERRED
        summons.verification_note = _("The implementation report was not submitted in time.")
        summons.save(update_fields=["state", "verification_note"])
        if task is not None:
            _complete(task, None, now)
        accountability_open(summons=summons, trigger=Accountability.Trigger.REPORT_OVERDUE, now=now)


# --- accountability ------------------------------------------------------------------------


def compile_evidence(summons: Summons) -> list[dict[str, Any]]:
    """The evidence list (DOMAIN.md §7): the case events of the summons' cases, the
    supervision notices of those cases, and the summons' notice and minutes."""
    items: list[dict[str, Any]] = []
    outfalls = list(summons.outfalls.all())
    events = (
        OutfallEvent.objects.filter(outfall__in=outfalls)
        .exclude(kind=OutfallEvent.Kind.DOCUMENT_ISSUED)
        .select_related("outfall")
        .order_by("at", "pk")
    )
    for event in events:
        label = (
            str(OutfallEvent.Kind(event.kind).label)
            if event.kind in OutfallEvent.Kind.values
            else event.kind
        )
        outfall = event.outfall
        items.append(
            {
                "kind": "case_event",
                "event_id": event.pk,
                "outfall_id": outfall.pk,
                "at": timezone.localtime(event.at).date().isoformat(),
                "text": f"{chinese_date(timezone.localtime(event.at).date())} "
                f"{outfall.code or outfall.name or outfall.pk}：{label}"
                + (f"（{event.transition}）" if event.transition else "")
                + (f"，{event.reason}" if event.reason else ""),
            }
        )
    supervisions = Supervision.objects.filter(outfall__in=outfalls).values_list("pk", flat=True)
    documents = list(
        IssuedDocument.objects.filter(
            subject_type=Supervision._meta.label_lower,
            subject_id__in=[str(pk) for pk in supervisions],
        )
    )
    documents += [d for d in (summons.notice, summons.minutes) if d is not None]
    for document in sorted(documents, key=lambda d: (d.issued_at, d.pk)):
        items.append(
            {
                "kind": "document",
                "document_id": document.pk,
                "doctype": document.doctype,
                "number": document.number,
                "at": timezone.localtime(document.issued_at).date().isoformat(),
                "text": f"{document.title}（{document.number}）",
            }
        )
    return items


def _default_facts(summons: Summons, trigger: str) -> str:
    county = government_of(summons.jurisdiction)
    notice = summons.notice.number if summons.notice_id else ""
    met = chinese_date(summons.met_on) if summons.met_on else ""
    due = chinese_date(summons.report_deadline.due_on) if summons.report_deadline_id else ""
    head = (
        f"{met}，我局依据{notice}约谈通知对{county}进行了约谈，要求于{due}前书面报送整改落实情况。"
    )
    if trigger == Accountability.Trigger.REPORT_OVERDUE:
        return head + "截至期限届满，该单位未报送整改落实情况报告。"
    return head + f"经核查，整改未落实到位：{summons.verification_note}"


def accountability_open(*, summons: Summons, trigger: str, now: dt.datetime | None = None):
    """Draft the accountability proposal of a failed summons (once: one per summons)."""
    now = _now(now)
    existing = Accountability.objects.filter(summons_process=summons).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        accountability = AccountabilityFlow.start.run(
            summons_process=summons,
            jurisdiction=summons.jurisdiction,
            trigger=trigger,
            facts=_default_facts(summons, trigger),
            evidence=compile_evidence(summons),
            receiving_body=Accountability.ReceivingBody.DISCIPLINE,
            created_at=now,
            created=now,
        )
    notify(
        recipients=sorted(holders(CITY_OFFICER, summons.jurisdiction)),
        kind="accountability_draft",
        title=_("[Accountability] Complete the referral of %(county)s: %(trigger)s")
        % {"county": summons.jurisdiction.name, "trigger": accountability.get_trigger_display()},
        link=accountability_url(accountability),
        subject=accountability,
        dedupe_key=f"accountability:{accountability.pk}:draft",
        now=now,
    )
    return accountability


def _officials(officials: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for official in officials or ():
        name = str(official.get("name", "")).strip()
        post = str(official.get("post", "")).strip()
        if not name and not post:
            continue
        if not name or not post:
            raise ValidationError({"officials": _("Give each official's name and post.")})
        cleaned.append({"name": name[:50], "post": post[:100]})
    if not cleaned:
        raise ValidationError({"officials": _("Name the officials and their posts.")})
    return cleaned


@transaction.atomic
def accountability_submit(
    *,
    actor: User,
    accountability: Accountability | int,
    facts: str,
    duty: str,
    officials: Iterable[Mapping[str, str]],
    handling: str,
    receiving_body: str,
    now: dt.datetime | None = None,
) -> Accountability:
    """A city officer completes the draft (facts, duty breached, officials and posts,
    proposed handling, receiving body) and submits it for a city leader's approval."""
    now = _now(now)
    values = {
        "facts": _text(facts, "facts"),
        "duty": _text(duty, "duty"),
        "officials": _officials(officials),
    }
    if handling not in Accountability.Handling.values:
        raise ValidationError({"handling": _("Choose the proposed handling.")})
    if receiving_body not in Accountability.ReceivingBody.values:
        raise ValidationError({"receiving_body": _("Choose the receiving body.")})
    with _at_step(
        _fetch_accountability, actor, accountability, AccountabilityFlow.submit, A.DRAFT
    ) as (accountability, task):
        _require_role(
            actor,
            PROPOSE,
            CITY_OFFICER,
            accountability.jurisdiction,
            _("Only a city officer proposes accountability."),
        )
        for name, value in values.items():
            setattr(accountability, name, value)
        accountability.handling, accountability.receiving_body = handling, receiving_body
        accountability.proposer, accountability.proposed_at = actor, now
        accountability.state = A.PENDING
        accountability.save(
            update_fields=[
                *values,
                "handling",
                "receiving_body",
                "proposer",
                "proposed_at",
                "state",
            ]
        )
        _complete(task, actor, now)
    notify(
        recipients=sorted(holders(CITY_LEADER, accountability.jurisdiction) - {actor.pk}),
        kind="accountability_task",
        title=_("[To approve] Accountability referral of %(county)s")
        % {"county": accountability.jurisdiction.name},
        body=_("Proposed by %(who)s: %(handling)s")
        % {"who": _name(actor), "handling": accountability.get_handling_display()},
        link=accountability_url(accountability),
        subject=accountability,
        dedupe_key=f"accountability:{accountability.pk}:task",
        now=now,
    )
    return accountability


def letter_extra(accountability: Accountability) -> dict[str, Any]:
    """The 问责建议函's `context_extra` (see `documents.accountability_letter_context`)."""
    summons = accountability.summons_process
    return {
        "receiving_body": RECEIVING_BODY_TEXT[accountability.receiving_body],
        "facts": accountability.facts,
        "duty": accountability.duty,
        "evidence": [item["text"] for item in accountability.evidence],
        "officials": accountability.officials,
        "handling": f"建议对上述人员予以{HANDLING_TEXT[accountability.handling]}。",
        "contact": summons.contact,
    }


@transaction.atomic
def accountability_decide(
    *,
    actor: User,
    accountability: Accountability | int,
    approve: bool,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Accountability:
    """A city leader, never the proposer, approves (the 问责建议函 is issued) or rejects."""
    now = _now(now)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError({"reason": _("Give the reason for the rejection.")})
    with _at_step(
        _fetch_accountability, actor, accountability, AccountabilityFlow.approve, A.PENDING
    ) as (accountability, task):
        if accountability.proposer_id == actor.pk:
            raise PermissionDenied(_("You cannot approve your own proposal."))
        _require_role(
            actor,
            DECIDE,
            CITY_LEADER,
            accountability.jurisdiction,
            _("Only a city leader approves an accountability referral."),
        )
        accountability.decided_by, accountability.decided_at = actor, now
        accountability.decision_reason = reason
        accountability.state = A.APPROVED if approve else A.REJECTED
        if approve:
            accountability.letter = document_issue(
                actor=None,
                doctype="accountability_letter",
                subject=accountability,
                context_extra=letter_extra(accountability),
                now=now,
            )
        accountability.save(
            update_fields=["state", "decided_by", "decided_at", "decision_reason", "letter"]
        )
        _complete(task, actor, now)
    notify(
        recipients=[accountability.proposer_id],
        kind="accountability_approved" if approve else "accountability_rejected",
        title=(
            _("[Approved] Accountability referral of %(county)s: %(number)s")
            % {"county": accountability.jurisdiction.name, "number": accountability.letter.number}
            if approve
            else _("[Not approved] Accountability referral of %(county)s")
            % {"county": accountability.jurisdiction.name}
        ),
        body=_("Decided by %(who)s. %(reason)s") % {"who": _name(actor), "reason": reason},
        link=accountability_url(accountability),
        subject=accountability,
        dedupe_key=f"accountability:{accountability.pk}:decided",
        now=now,
    )
    return accountability


@transaction.atomic
def accountability_record_outcome(
    *,
    actor: User,
    accountability: Accountability | int,
    decision: str,
    form: str,
    decided_on: dt.date,
    now: dt.datetime | None = None,
) -> Accountability:
    """A city officer records what the receiving body decided (decision, form, date)."""
    now = _now(now)
    decision = _text(decision, "decision")
    if form not in Accountability.Handling.values:
        raise ValidationError({"form": _("Choose the form of accountability.")})
    if decided_on is None or decided_on > timezone.localdate(now):
        raise ValidationError({"decided_on": _("Give the date of the decision.")})
    with _at_step(
        _fetch_accountability, actor, accountability, AccountabilityFlow.record_outcome, A.APPROVED
    ) as (accountability, task):
        _require_role(
            actor,
            PROPOSE,
            CITY_OFFICER,
            accountability.jurisdiction,
            _("Only a city officer records the outcome."),
        )
        accountability.outcome_decision, accountability.outcome_form = decision, form
        accountability.outcome_on, accountability.outcome_by = decided_on, actor
        accountability.state = A.CLOSED
        accountability.save(
            update_fields=["outcome_decision", "outcome_form", "outcome_on", "outcome_by", "state"]
        )
        _complete(task, actor, now)
    notify(
        recipients=sorted({accountability.proposer_id} - {actor.pk, None}),
        kind="accountability_closed",
        title=_("[Accountability] Outcome recorded for %(county)s: %(form)s")
        % {
            "county": accountability.jurisdiction.name,
            "form": accountability.get_outcome_form_display(),
        },
        body=decision,
        link=accountability_url(accountability),
        subject=accountability,
        dedupe_key=f"accountability:{accountability.pk}:closed",
        now=now,
    )
    return accountability
