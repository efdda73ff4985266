"""Writes of the assessments module: patrols, the formula, periods and the review process.

Each service is keyword-only, runs in one transaction, checks the actor (model permission,
role over the jurisdiction, record rule: out of scope reads as not found) and returns what
it changed. The review services advance the viewflow process (`flows.py`) under its lock and
write the assessment's event; notifications are written in the same transaction with
de-duplication keys.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from base.models import Jurisdiction, RiverChiefAppointment, RiverSegment, Role, RoleGrant, User
from base.security import holds_role_over
from base.uploads import check_upload
from cases import services as case_services
from cases.choices import EvidenceKind
from cases.models import Outfall, OutfallEvent
from documents.services import document_issue
from notifications.services import notify
from workflows.models import SummonsProposal, SummonsProposalItem

from . import formula as scoring
from .data import FORMULA_CODE, FORMULA_NAME
from .flows import AssessmentReviewFlow
from .metrics import (
    assessed_jurisdictions,
    compute_period,
    cutoff,
    metric_numbers,
    overdue_deadlines,
)
from .models import (
    Assessment,
    AssessmentEvent,
    AssessmentPeriod,
    AssessmentReview,
    EvidenceSet,
    FormulaVersion,
    Objection,
    ObjectionAnswer,
    Patrol,
    PatrolFinding,
    PatrolPhoto,
    PeriodKind,
)
from .security import CITY_LEADER_ROLES, CITY_OFFICER_ROLES, is_reviewer, reviewer_appointments

S = Assessment.Status
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED)
PHOTO_TYPES = ("image/jpeg", "image/png")
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "application/pdf")


class ReviewError(ValidationError):
    """A review step that cannot be taken now (wrong state); nothing was written."""


# --- helpers -------------------------------------------------------------------------------


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def _require_perm(actor: User | None, perm: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(_("You do not have permission to do this."))


def _name(user) -> str:
    if user is None:
        return _("System")
    return user.get_full_name() or user.get_username()


def _holders(roles: Iterable[str], jurisdiction: Jurisdiction) -> list[int]:
    """Active users holding one of `roles` over `jurisdiction` (a grant on it or an ancestor)."""
    ancestors = [code for code in jurisdiction.path.split("/") if code]
    return sorted(
        set(
            RoleGrant.objects.filter(
                role__in=list(roles), jurisdiction__code__in=ancestors, user__is_active=True
            ).values_list("user_id", flat=True)
        )
    )


def _checked_upload(file: UploadedFile, allowed: Sequence[str]) -> tuple[str, str, str]:
    """Content type (sniffed), extension and SHA-256 of an upload; refuses others."""
    upload = check_upload(file, allowed=allowed)
    return upload.content_type, upload.ext, upload.sha256


def _check_coordinates(longitude, latitude) -> None:
    if (longitude is None) != (latitude is None):
        raise ValidationError(_("Give both longitude and latitude, or neither."))
    if longitude is None:
        return
    extent = settings.OUTFALLS_CITY_EXTENT
    if not (extent["lon_min"] <= float(longitude) <= extent["lon_max"]) or not (
        extent["lat_min"] <= float(latitude) <= extent["lat_max"]
    ):
        raise ValidationError(
            _(
                "The coordinates are outside the city (%(lat_min)s-%(lat_max)s° N, %(lon_min)s-%(lon_max)s° E)."
            )
            % extent
        )


# --- patrols -------------------------------------------------------------------------------


def appointment_on(user: User, segment: RiverSegment, day: dt.date) -> RiverChiefAppointment | None:
    """The user's appointment to `segment` in force on `day` (the highest level first)."""
    order = {level: i for i, level in enumerate(RiverChiefAppointment.Level.values)}
    found = [
        a
        for a in RiverChiefAppointment.objects.filter(
            person=user, segment=segment, valid_from__lte=day
        ).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))
    ]
    return min(found, key=lambda a: order[a.level]) if found else None


@transaction.atomic
def patrol_record(
    *,
    actor: User,
    segment: RiverSegment,
    patrolled_on: dt.date,
    route: str,
    notes: str = "",
    now: dt.datetime | None = None,
) -> Patrol:
    """A river chief records a patrol (巡河) of a segment they were appointed to that day."""
    now = _now(now)
    _require_perm(actor, "assessments.add_patrol")
    if patrolled_on > timezone.localdate(now):
        raise ValidationError({"patrolled_on": _("A patrol cannot be in the future.")})
    appointment = appointment_on(actor, segment, patrolled_on)
    if appointment is None:
        raise PermissionDenied(
            _("You may record patrols only of the river segments you were appointed to that day.")
        )
    route = (route or "").strip()
    if not route:
        raise ValidationError({"route": _("Describe the route.")})
    patrol = Patrol(
        chief=actor,
        appointment=appointment,
        segment=segment,
        jurisdiction_id=segment.jurisdiction_id,
        level=appointment.level,
        patrolled_on=patrolled_on,
        route=route,
        notes=(notes or "").strip(),
        recorded_at=now,
    )
    patrol.full_clean()
    patrol.save()
    return patrol


def _own_patrol(actor: User, patrol: Patrol | int) -> Patrol:
    from .selectors import patrol_get

    found = patrol_get(user=actor, pk=patrol.pk if isinstance(patrol, Patrol) else patrol)
    if found.chief_id != actor.pk:
        raise PermissionDenied(_("Only the river chief who patrolled records its findings."))
    if appointment_on(actor, found.segment, found.patrolled_on) is None:
        raise PermissionDenied(_("You are no longer appointed to this river segment."))
    return found


def _new_case_data(patrol: Patrol, description: str, case: dict, longitude, latitude) -> dict:
    segment = patrol.segment
    chief = _name(patrol.chief)
    remarks = (
        f"河长巡河发现（{segment.name}，{patrol.patrolled_on:%Y-%m-%d}，{chief}）：{description}"
    )
    return {
        "jurisdiction": segment.jurisdiction,
        "water_body": segment.water_body,
        "segment": segment,
        "town": (case.get("town") or "").strip(),
        "village": (case.get("village") or "").strip(),
        "landmark": (case.get("landmark") or "").strip(),
        "longitude": longitude,
        "latitude": latitude,
        "entry_mode": case.get("entry_mode") or Outfall.EntryMode.OTHER,
        "is_discharging": bool(case.get("is_discharging")),
        "colour": (case.get("colour") or "").strip(),
        "odour": (case.get("odour") or "").strip(),
        "survey_level": Outfall.SurveyLevel.FIELD,
        "survey_date": patrol.patrolled_on,
        "surveyors": chief,
        "source": Outfall.Source.PATROL,
        "remarks": remarks[:2000],
    }


@transaction.atomic
def patrol_finding_add(
    *,
    actor: User,
    patrol: Patrol | int,
    kind: str,
    description: str,
    outfall: Outfall | None = None,
    case: dict | None = None,
    longitude: Decimal | None = None,
    latitude: Decimal | None = None,
    photo: UploadedFile | None = None,
    taken_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PatrolFinding:
    """Record what a patrol found.

    - an existing outfall (`outfall`, which the chief must be able to see: otherwise 404);
    - an unregistered outfall: a surveyed case (source: patrol) is registered in the
      segment's county through `cases.services.outfall_register`, with the finding's
      coordinates and `case` (town, village, landmark, entry_mode, is_discharging, colour,
      odour); the chief is put on its timeline and the county officers are told;
    - another problem.
    A photo (JPEG/PNG, content-checked) is kept with the finding and, when the finding is
    about an outfall, added to the case's evidence.
    """
    now = _now(now)
    _require_perm(actor, "assessments.add_patrolfinding")
    patrol = _own_patrol(actor, patrol)
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": _("Describe what was found.")})
    if kind not in PatrolFinding.Kind.values:
        raise ValidationError({"kind": _("Choose what was found.")})
    _check_coordinates(longitude, latitude)
    K = PatrolFinding.Kind
    if kind == K.EXISTING_OUTFALL:
        if outfall is None:
            raise ValidationError({"outfall": _("Choose the outfall.")})
        if not actor.has_perm("cases.view_outfall", outfall):
            raise Http404
    elif kind == K.UNREGISTERED_OUTFALL:
        if longitude is None:
            raise ValidationError(
                {"longitude": _("An unregistered outfall needs its coordinates.")}
            )
        outfall = case_services.outfall_register(
            actor=None,
            data=_new_case_data(patrol, description, case or {}, longitude, latitude),
            now=now,
        )
        case_services.outfall_event_record(
            actor=actor,
            outfall=outfall,
            kind=OutfallEvent.Kind.NOTE,
            reason=_("Found on a river-chief patrol of %(segment)s on %(date)s: %(text)s")
            % {"segment": patrol.segment.name, "date": patrol.patrolled_on, "text": description},
            now=now,
        )
        notify(
            recipients=_holders({Role.COUNTY_OFFICER}, outfall.jurisdiction),
            kind="patrol_new_case",
            title=_("[Patrol] Unregistered outfall found on %(segment)s")
            % {"segment": patrol.segment.name},
            body=_("%(chief)s: %(text)s") % {"chief": _name(actor), "text": description},
            link=reverse("cases:outfalls:detail", args=[outfall.pk]),
            subject=outfall,
            dedupe_key=f"patrol_case:{outfall.pk}",
            now=now,
        )
    else:
        outfall = None
    finding = PatrolFinding(
        patrol=patrol,
        kind=kind,
        description=description,
        outfall=outfall,
        longitude=longitude,
        latitude=latitude,
        recorded_at=now,
    )
    finding.full_clean()
    finding.save()
    if photo is not None:
        _photo_add(
            actor=actor,
            finding=finding,
            file=photo,
            longitude=longitude,
            latitude=latitude,
            taken_at=taken_at,
            now=now,
        )
    return finding


def _photo_add(*, actor, finding, file, longitude, latitude, taken_at, now) -> PatrolPhoto:
    _check_coordinates(longitude, latitude)
    content_type, ext, sha = _checked_upload(file, PHOTO_TYPES)
    photo = PatrolPhoto(
        finding=finding,
        original_name=file.name[:255],
        content_type=content_type,
        size=file.size,
        sha256=sha,
        longitude=longitude,
        latitude=latitude,
        taken_at=taken_at,
        uploaded_at=now,
    )
    photo.file.save(f"{sha[:32]}{ext}", file, save=False)
    try:
        photo.full_clean()
        photo.save()
    except Exception:
        photo.file.delete(save=False)
        raise
    if finding.outfall_id:
        file.seek(0)
        case_services.evidence_add(
            actor=None,
            outfall=finding.outfall,
            kind=EvidenceKind.PHOTO,
            file=file,
            taken_at=taken_at,
            longitude=longitude,
            latitude=latitude,
            description=_("River-chief patrol photo (%(chief)s, %(date)s)")
            % {"chief": _name(actor), "date": finding.patrol.patrolled_on},
            now=now,
        )
    return photo


@transaction.atomic
def patrol_photo_add(
    *,
    actor: User,
    finding: PatrolFinding | int,
    file: UploadedFile,
    longitude: Decimal | None = None,
    latitude: Decimal | None = None,
    taken_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> PatrolPhoto:
    """Add a photo (JPEG/PNG, checked by content) with its coordinates to a finding."""
    now = _now(now)
    _require_perm(actor, "assessments.add_patrolphoto")
    pk = finding.pk if isinstance(finding, PatrolFinding) else finding
    found = PatrolFinding.objects.select_related("patrol", "outfall").filter(pk=pk).first()
    if found is None:
        raise Http404
    _own_patrol(actor, found.patrol)
    return _photo_add(
        actor=actor,
        finding=found,
        file=file,
        longitude=longitude,
        latitude=latitude,
        taken_at=taken_at,
        now=now,
    )


# --- the formula ---------------------------------------------------------------------------


def current_formula(code: str = FORMULA_CODE) -> FormulaVersion | None:
    return FormulaVersion.objects.filter(code=code).order_by("-version").first()


def _plain(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False))


@transaction.atomic
def formula_revise(
    *,
    actor: User | None,
    components: list[dict],
    grades: list[dict],
    note: str,
    code: str = FORMULA_CODE,
    name: str = "",
    now: dt.datetime | None = None,
) -> FormulaVersion:
    """Change the scoring formula: a NEW version; earlier versions never change, and the
    assessments scored with them keep them."""
    now = _now(now)
    _require_perm(actor, "assessments.add_formulaversion")
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say what changed and why.")})
    components, grades = _plain(components), _plain(grades)
    try:
        scoring.validate(components, grades, metric_numbers())
    except scoring.FormulaError as exc:
        raise ValidationError({"components": str(exc)}) from exc
    latest = (
        FormulaVersion.objects.select_for_update().filter(code=code).order_by("-version").first()
    )
    if latest is not None and latest.components == components and latest.grades == grades:
        raise ValidationError(_("The formula is unchanged: no new version was made."))
    try:
        with transaction.atomic():
            return FormulaVersion.objects.create(
                code=code,
                version=(latest.version + 1) if latest else 1,
                name=name or (latest.name if latest else FORMULA_NAME),
                components=components,
                grades=grades,
                note=note,
                created_at=now,
                created_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(
            _("Someone changed the formula at the same time: try again.")
        ) from exc


# --- periods -------------------------------------------------------------------------------


def _city() -> Jurisdiction:
    return Jurisdiction.objects.get(kind=Jurisdiction.Kind.CITY, parent__isnull=True)


def _event(assessment, kind, actor, now, note="", data=None) -> AssessmentEvent:
    return AssessmentEvent.objects.create(
        assessment=assessment, kind=kind, actor=actor, at=now, note=note, data=data or {}
    )


def assessment_url(assessment) -> str:
    return reverse("assessments:assessments:detail", args=[assessment.pk])


@transaction.atomic
def period_close(
    *,
    actor: User | None,
    kind: str,
    year: int,
    quarter: int | None = None,
    now: dt.datetime | None = None,
) -> AssessmentPeriod:
    """Close a quarter or a year: compute every jurisdiction's metrics as of its end, freeze
    them with the ids behind each number, score them with the current formula version and
    start one review process per assessment (a draft for the city officer to send)."""
    now = _now(now)
    city = _city()
    if actor is not None:
        _require_perm(actor, "assessments.add_assessmentperiod")
        if not (actor.is_superuser or holds_role_over(actor, CITY_OFFICER_ROLES, city)):
            raise PermissionDenied(_("Assessment periods are closed by a city officer."))
    if kind not in PeriodKind.values:
        raise ValidationError({"kind": _("Choose a quarter or a year.")})
    if kind == PeriodKind.YEAR:
        quarter = None
    elif quarter not in (1, 2, 3, 4):
        raise ValidationError({"quarter": _("Choose the quarter.")})
    starts_on, ends_on = AssessmentPeriod.bounds(kind, year, quarter)
    if now < cutoff(ends_on):
        raise ValidationError(
            _("The period ends on %(date)s: it can be closed from the next day.")
            % {"date": ends_on}
        )
    formula = current_formula()
    if formula is None:
        raise ValidationError(_("No scoring formula is defined."))
    try:
        with transaction.atomic():
            period = AssessmentPeriod.objects.create(
                kind=kind,
                year=year,
                quarter=quarter,
                starts_on=starts_on,
                ends_on=ends_on,
                closed_at=now,
                closed_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError(_("This period is already closed.")) from exc
    computed = compute_period(kind=kind, starts_on=starts_on, ends_on=ends_on)
    as_of = cutoff(ends_on)
    assessments = []
    for jurisdiction in assessed_jurisdictions():
        metrics = computed[jurisdiction.pk]
        snapshot = metrics.snapshot()
        result = scoring.evaluate(formula.components, formula.grades, snapshot)
        assessments.append(
            Assessment(
                period=period,
                jurisdiction=jurisdiction,
                formula=formula,
                as_of=as_of,
                metrics=snapshot,
                components=result.components,
                computed_score=result.score,
                score=result.score,
                grade=result.grade.code,
                grade_label=result.grade.label,
                created_at=now,
            )
        )
    assessments = Assessment.objects.bulk_create(assessments)
    EvidenceSet.objects.bulk_create(
        [
            EvidenceSet(assessment=a, key=key, ids=ids)
            for a in assessments
            for key, ids in computed[a.jurisdiction_id].sets.items()
        ],
        batch_size=200,
    )
    AssessmentEvent.objects.bulk_create(
        [
            AssessmentEvent(
                assessment=a,
                kind=AssessmentEvent.Kind.DRAFTED,
                actor=actor,
                at=now,
                data={"formula": f"{formula.code} v{formula.version}", "score": str(a.score)},
            )
            for a in assessments
        ]
    )
    for assessment in assessments:
        AssessmentReviewFlow.start.run(assessment=assessment, created=now)
    notify(
        recipients=_holders(CITY_OFFICER_ROLES, city),
        kind="assessment_drafted",
        title=_("[Assessment] %(period)s: %(n)s drafts to send to the river chiefs")
        % {"period": period.label, "n": len(assessments)},
        link=reverse("assessments:periods:detail", args=[period.pk]),
        subject=period,
        dedupe_key=f"assessment_period:{period.pk}:drafted",
        now=now,
    )
    return period


# --- the review ----------------------------------------------------------------------------


def _fetch(actor: User | None, assessment: Assessment | int) -> Assessment:
    """The assessment, row-locked; 404 when missing or outside the actor's scope."""
    pk = assessment.pk if isinstance(assessment, Assessment) else assessment
    try:
        found = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("period", "jurisdiction", "formula")
            .get(pk=pk)
        )
    except (Assessment.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    if actor is not None and not actor.has_perm("assessments.view_assessment", found):
        raise Http404
    return found


def open_task(assessment: Assessment) -> Task | None:
    review = AssessmentReview.objects.filter(assessment=assessment).first()
    if review is None:
        return None
    return Task.objects.filter(
        process_id=review.pk, flow_task_type="HUMAN", status__in=OPEN_TASK
    ).first()


def current_step(assessment: Assessment) -> str:
    task = open_task(assessment)
    return task.flow_task.name if task is not None else ""


def _require_step(assessment: Assessment, step: str, status: str) -> Task:
    if assessment.is_finalized:
        raise ReviewError(_("This assessment is finalized and can no longer change."))
    task = open_task(assessment)
    if assessment.status != status or task is None or task.flow_task.name != step:
        raise ReviewError(
            _("This step is not open: the assessment is “%(status)s”.")
            % {"status": assessment.get_status_display()}
        )
    return task


def _complete(task: Task, actor: User | None, now: dt.datetime) -> None:
    """Finish a task of the review (viewflow): assigned to the actor, started, executed;
    the flow then creates the next task."""
    activation = task.flow_task.activation_class(task)
    if task.status == STATUS.NEW:
        task.assigned = now
        activation.assign(actor)
    activation.start(None)
    activation.execute()


def _status_after(assessment: Assessment) -> str:
    step = current_step(assessment)
    return {"review": S.IN_REVIEW, "answer": S.ANSWERING, "finalize": S.AWAITING_FINAL}.get(
        step, assessment.status
    )


def _reviewer_ids(assessment: Assessment) -> list[int]:
    return sorted({a.person_id for a in reviewer_appointments(assessment)})


def _tell(assessment, recipients, kind, title, now, key, body="") -> None:
    if recipients:
        notify(
            recipients=recipients,
            kind=kind,
            title=title,
            body=body,
            link=assessment_url(assessment),
            subject=assessment,
            dedupe_key=f"assessment:{assessment.pk}:{key}",
            now=now,
        )


@transaction.atomic
def assessment_submit(
    *, actor: User, assessment: Assessment | int, note: str = "", now: dt.datetime | None = None
) -> Assessment:
    """The city officer sends the draft to the river chiefs of the jurisdiction (straight to
    finalization when none is appointed)."""
    now = _now(now)
    assessment = _fetch(actor, assessment)
    _require_perm(actor, "assessments.change_assessment")
    if not holds_role_over(actor, CITY_OFFICER_ROLES, assessment.jurisdiction):
        raise PermissionDenied(_("A city officer sends assessments for review."))
    with AssessmentReviewFlow.lock(assessment.review.pk):
        task = _require_step(assessment, "submit", S.DRAFT)
        _complete(task, actor, now)
        assessment.status = _status_after(assessment)
        assessment.submitted_by, assessment.submitted_at = actor, now
        reviewers = _reviewer_ids(assessment)
        if assessment.status == S.AWAITING_FINAL:
            assessment.review_outcome = Assessment.Outcome.NO_REVIEWER
        assessment.save()
        _event(assessment, AssessmentEvent.Kind.SUBMITTED, actor, now, note=(note or "").strip())
        if assessment.status == S.AWAITING_FINAL:
            _event(assessment, AssessmentEvent.Kind.NO_REVIEWER, None, now)
            _tell(
                assessment,
                _holders(CITY_LEADER_ROLES, assessment.jurisdiction),
                "assessment_to_finalize",
                _("[To finalize] %(a)s") % {"a": assessment},
                now,
                "to_finalize",
            )
        else:
            _tell(
                assessment,
                reviewers,
                "assessment_to_review",
                _("[To review] %(a)s: score %(score)s")
                % {"a": assessment, "score": assessment.score},
                now,
                "to_review",
                body=(note or "").strip(),
            )
    return assessment


@dataclass(frozen=True)
class ObjectionInput:
    component: str
    reason: str
    attachment: UploadedFile | None = None


@transaction.atomic
def assessment_review(
    *,
    actor: User,
    assessment: Assessment | int,
    objections: Sequence[ObjectionInput] = (),
    note: str = "",
    now: dt.datetime | None = None,
) -> Assessment:
    """The river chief reviews: no objection accepts the assessment; otherwise each
    objection (one item, a reason, optionally an evidence file) goes on the record and the
    city officer answers them."""
    now = _now(now)
    assessment = _fetch(actor, assessment)
    if not is_reviewer(actor, assessment):
        raise PermissionDenied(
            _("Only a river chief of this jurisdiction during the period reviews it.")
        )
    with AssessmentReviewFlow.lock(assessment.review.pk):
        task = _require_step(assessment, "review", S.IN_REVIEW)
        items = {c["code"]: c for c in assessment.components}
        seen = set()
        rows = []
        for objection in objections:
            reason = (objection.reason or "").strip()
            if objection.component not in items:
                raise ValidationError(_("Object to an item of this assessment."))
            if objection.component in seen:
                raise ValidationError(
                    _("One objection per item: “%(item)s” is listed twice.")
                    % {"item": items[objection.component]["label"]}
                )
            if not reason:
                raise ValidationError(
                    _("Give the reason for the objection to “%(item)s”.")
                    % {"item": items[objection.component]["label"]}
                )
            seen.add(objection.component)
            row = Objection(
                assessment=assessment,
                component=objection.component,
                reason=reason,
                raised_by=actor,
                raised_at=now,
            )
            checked = None
            if objection.attachment is not None:
                checked = _checked_upload(objection.attachment, ATTACHMENT_TYPES)
                row.attachment_name = objection.attachment.name[:255]
                row.attachment_type, _ext, row.attachment_sha256 = checked
            rows.append((row, objection.attachment, checked))
        # every objection checked: now store the files (removed again if anything fails)
        stored = []
        try:
            for row, attachment, checked in rows:
                if checked is not None:
                    row.attachment.save(f"{checked[2][:32]}{checked[1]}", attachment, save=False)
                    stored.append(row.attachment)
                row.full_clean()
                row.save()
        except Exception:
            for field in stored:
                field.delete(save=False)
            raise
        rows = [row for row, _attachment, _checked in rows]
        assessment.review_outcome = (
            Assessment.Outcome.OBJECTED if rows else Assessment.Outcome.ACCEPTED
        )
        assessment.reviewed_by, assessment.reviewed_at = actor, now
        assessment.review_note = (note or "").strip()
        _complete(task, actor, now)
        assessment.status = _status_after(assessment)
        assessment.save()
        city = assessment.jurisdiction
        if rows:
            _event(
                assessment,
                AssessmentEvent.Kind.OBJECTED,
                actor,
                now,
                note=assessment.review_note,
                data={"items": [r.component for r in rows]},
            )
            _tell(
                assessment,
                _holders(CITY_OFFICER_ROLES, city),
                "assessment_objected",
                _("[Objection] %(chief)s objects to %(n)s items of %(a)s")
                % {"chief": _name(actor), "n": len(rows), "a": assessment},
                now,
                "objected",
            )
        else:
            _event(
                assessment, AssessmentEvent.Kind.ACCEPTED, actor, now, note=assessment.review_note
            )
            _tell(
                assessment,
                _holders(CITY_LEADER_ROLES, city),
                "assessment_to_finalize",
                _("[To finalize] %(a)s, accepted by %(chief)s")
                % {"a": assessment, "chief": _name(actor)},
                now,
                "to_finalize",
            )
    return assessment


@dataclass(frozen=True)
class AnswerInput:
    objection: int
    decision: str
    reason: str
    points: Decimal | None = None


def recompute(assessment: Assessment) -> scoring.Result:
    """The assessment's score from its frozen snapshot, its formula version and the
    adjustments answered to objections: always the stored score."""
    adjustments = {
        a.objection.component: a.points_after
        for a in ObjectionAnswer.objects.filter(
            objection__assessment=assessment, decision=ObjectionAnswer.Decision.ADJUST
        ).select_related("objection")
    }
    version = assessment.formula
    return scoring.evaluate(version.components, version.grades, assessment.metrics, adjustments)


@transaction.atomic
def assessment_answer(
    *,
    actor: User,
    assessment: Assessment | int,
    answers: Sequence[AnswerInput],
    now: dt.datetime | None = None,
) -> Assessment:
    """The city officer answers every objection: adjust the item's points (with the reason)
    or keep them (with the reason). The score is recomputed; a city leader finalizes next."""
    now = _now(now)
    assessment = _fetch(actor, assessment)
    _require_perm(actor, "assessments.add_objectionanswer")
    if not holds_role_over(actor, CITY_OFFICER_ROLES, assessment.jurisdiction):
        raise PermissionDenied(_("A city officer answers the objections."))
    with AssessmentReviewFlow.lock(assessment.review.pk):
        task = _require_step(assessment, "answer", S.ANSWERING)
        open_objections = {
            o.pk: o for o in assessment.objections.filter(answer__isnull=True).order_by("pk")
        }
        by_objection = {}
        for answer in answers:
            if answer.objection not in open_objections or answer.objection in by_objection:
                raise ValidationError(_("Answer each open objection of this assessment once."))
            by_objection[answer.objection] = answer
        if set(by_objection) != set(open_objections):
            raise ValidationError(_("Answer every objection before it goes to finalization."))
        items = {c["code"]: c for c in assessment.components}
        changes = {}
        for pk, answer in sorted(by_objection.items()):
            objection = open_objections[pk]
            item = items[objection.component]
            before = scoring.dec(item["points"])
            reason = (answer.reason or "").strip()
            if not reason:
                raise ValidationError(
                    _("Give the reason of the answer to “%(item)s”.") % {"item": item["label"]}
                )
            if answer.decision == ObjectionAnswer.Decision.ADJUST:
                if answer.points is None:
                    raise ValidationError(
                        _("Give the adjusted points of “%(item)s”.") % {"item": item["label"]}
                    )
                after = scoring.points(scoring.dec(answer.points))
                if not (0 <= after <= scoring.dec(item["weight"])):
                    raise ValidationError(
                        _("The points of “%(item)s” must be between 0 and %(weight)s.")
                        % {"item": item["label"], "weight": item["weight"]}
                    )
                if after == before:
                    raise ValidationError(
                        _("“%(item)s” keeps its points: answer “keep” instead.")
                        % {"item": item["label"]}
                    )
            elif answer.decision == ObjectionAnswer.Decision.KEEP:
                after = before
            else:
                raise ValidationError(_("Choose adjust or keep."))
            ObjectionAnswer.objects.create(
                objection=objection,
                decision=answer.decision,
                reason=reason,
                points_before=before,
                points_after=after,
                answered_by=actor,
                answered_at=now,
            )
            changes[objection.component] = [str(before), str(after)]
        result = recompute(assessment)
        assessment.components = result.components
        assessment.score = result.score
        assessment.grade, assessment.grade_label = result.grade.code, result.grade.label
        _complete(task, actor, now)
        assessment.status = _status_after(assessment)
        assessment.save()
        _event(
            assessment,
            AssessmentEvent.Kind.ANSWERED,
            actor,
            now,
            data={"items": changes, "score": str(assessment.score)},
        )
        recipients = set(_reviewer_ids(assessment)) | set(
            _holders(CITY_LEADER_ROLES, assessment.jurisdiction)
        )
        _tell(
            assessment,
            sorted(recipients),
            "assessment_answered",
            _("[Answered] The objections to %(a)s are answered: score %(score)s")
            % {"a": assessment, "score": assessment.score},
            now,
            "answered",
        )
    return assessment


@transaction.atomic
def assessment_finalize(
    *, actor: User, assessment: Assessment | int, note: str = "", now: dt.datetime | None = None
) -> Assessment:
    """A city leader finalizes: the report (考核报告) is issued and numbered by the documents
    module and the assessment is frozen. When every county-level assessment of the period is
    final, the period is ranked and the bottom-ranked county proposed for summons."""
    now = _now(now)
    assessment = _fetch(actor, assessment)
    _require_perm(actor, "assessments.finalize_assessment")
    if not holds_role_over(actor, CITY_LEADER_ROLES, assessment.jurisdiction):
        raise PermissionDenied(_("A city leader finalizes assessments."))
    with AssessmentReviewFlow.lock(assessment.review.pk):
        task = _require_step(assessment, "finalize", S.AWAITING_FINAL)
        if recompute(assessment).score != assessment.score:
            raise ReviewError(_("The score does not match its data: it cannot be finalized."))
        assessment.final_note = (note or "").strip()
        report = document_issue(
            actor=actor, doctype="assessment_report", subject=assessment, now=now
        )
        _complete(task, actor, now)
        assessment.status = S.FINALIZED
        assessment.finalized_by, assessment.finalized_at = actor, now
        assessment.report = report
        assessment.save()
        _event(
            assessment,
            AssessmentEvent.Kind.FINALIZED,
            actor,
            now,
            note=assessment.final_note,
            data={"report": report.number, "score": str(assessment.score)},
        )
        recipients = set(_reviewer_ids(assessment)) | set(
            _holders(CITY_OFFICER_ROLES, assessment.jurisdiction)
        )
        _tell(
            assessment,
            sorted(recipients),
            "assessment_finalized",
            _("[Final] %(a)s: %(score)s points, %(grade)s (%(number)s)")
            % {
                "a": assessment,
                "score": assessment.score,
                "grade": assessment.grade_label,
                "number": report.number,
            },
            now,
            "finalized",
        )
    period_rank(period=assessment.period, now=now)
    return assessment


def _county_level(assessment_qs):
    return assessment_qs.exclude(jurisdiction__kind=Jurisdiction.Kind.CITY)


def ranking_of(assessments: Sequence[Assessment]) -> list[dict]:
    """Competition ranking by score (1, 2, 2, 4), ties in jurisdiction order."""
    ordered = sorted(assessments, key=lambda a: (-a.score, a.jurisdiction.path))
    rows = []
    for index, a in enumerate(ordered):
        rank = rows[-1]["rank"] if rows and scoring.dec(rows[-1]["score"]) == a.score else index + 1
        rows.append(
            {
                "assessment": a.pk,
                "jurisdiction": a.jurisdiction_id,
                "name": a.jurisdiction.name,
                "score": str(a.score),
                "grade": a.grade_label,
                "rank": rank,
            }
        )
    return rows


@transaction.atomic
def period_rank(*, period: AssessmentPeriod, now: dt.datetime | None = None) -> AssessmentPeriod:
    """Rank the period once every county-level assessment is final; propose the bottom-ranked
    county (all tied at the bottom, unless every county ties) for summons: the month's
    summons proposal of the county, as the escalation ladder's L3 makes it, listing its cases
    overdue at the period's end. Idempotent."""
    now = _now(now)
    period = AssessmentPeriod.objects.select_for_update().get(pk=period.pk)
    if period.status == AssessmentPeriod.Status.RANKED:
        return period
    county = list(_county_level(period.assessments.select_related("jurisdiction")))
    if not county or any(not a.is_finalized for a in county):
        return period
    ranking = ranking_of(county)
    last = max(row["rank"] for row in ranking)
    bottom = [] if last == 1 else [row for row in ranking if row["rank"] == last]
    month = timezone.localdate(now).replace(day=1)
    by_pk = {a.pk: a for a in county}
    proposals = []
    for row in bottom:
        assessment = by_pk[row["assessment"]]
        proposal, _created = SummonsProposal.objects.get_or_create(
            jurisdiction_id=row["jurisdiction"], month=month, defaults={"created_at": now}
        )
        overdue = overdue_deadlines(row["jurisdiction"], period.ends_on)
        SummonsProposalItem.objects.bulk_create(
            [
                SummonsProposalItem(
                    proposal=proposal,
                    deadline_id=deadline_id,
                    outfall_id=outfall_id,
                    days_overdue=max(0, (period.ends_on - due).days),
                )
                for deadline_id, outfall_id, due in overdue
            ],
            ignore_conflicts=True,
        )
        proposals.append(proposal)
        row["summons_proposal"] = proposal.pk
        _event(
            assessment,
            AssessmentEvent.Kind.SUMMONS_PROPOSED,
            None,
            now,
            data={"proposal": proposal.pk, "month": month.isoformat(), "rank": row["rank"]},
        )
        notify(
            recipients=_holders(CITY_LEADER_ROLES, assessment.jurisdiction),
            kind="assessment_summons_proposal",
            title=_("[Summons proposal] %(county)s ranks last in %(period)s (%(score)s points)")
            % {"county": row["name"], "period": period.label, "score": row["score"]},
            link=reverse("assessments:periods:detail", args=[period.pk]),
            subject=proposal,
            dedupe_key=f"assessment_period:{period.pk}:summons:{row['jurisdiction']}",
            now=now,
        )
    period.ranking = ranking
    period.ranked_at = now
    period.status = AssessmentPeriod.Status.RANKED
    period.save(update_fields=["ranking", "ranked_at", "status"])
    period.summons_proposals.add(*proposals)
    return period
