"""River-chief patrols (巡河) and river-chief assessments (河长制考核) of outfall work.

- `Patrol`, `PatrolFinding`, `PatrolPhoto`: a river chief's patrol of an appointed segment,
  what was found (an existing outfall, an unregistered one: a new case, or another problem)
  and photos with coordinates (content-checked, served through a permission-checked view).
- `PatrolRequirement`: how often each river-chief level must patrol (editable data).
- `FormulaVersion`: the scoring formula as versioned data. A version is never changed:
  a change is a new version; an assessment keeps the version it was scored with.
- `AssessmentPeriod` (a quarter or a year) and one `Assessment` per jurisdiction (the
  county-level units and the city). Closing a period freezes each assessment's metrics as
  of the period's end (`metrics`, with the cases behind each number in `EvidenceSet`).
- The review (viewflow, `flows.py`): `AssessmentReview` is its process; `Objection` and
  `ObjectionAnswer` are on the record (append-only, refused by trigger on PostgreSQL);
  `AssessmentEvent` is the assessment's audit trail. A finalized assessment is frozen.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from base.models import AppendOnlyModel, Jurisdiction, RiverChiefAppointment, RiverSegment


class PeriodKind(models.TextChoices):
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


# --- patrols -------------------------------------------------------------------------------


class PatrolRequirement(models.Model):
    """How often a river chief of a level patrols (DOMAIN.md §9; editable data)."""

    level = models.CharField(
        _("river-chief level"),
        max_length=16,
        choices=RiverChiefAppointment.Level.choices,
        unique=True,
    )
    times = models.PositiveSmallIntegerField(_("patrols at least"))
    per = models.CharField(_("per"), max_length=8, choices=PeriodKind.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["level"]
        verbose_name = _("patrol requirement")
        verbose_name_plural = _("patrol requirements")

    def __str__(self):
        return f"{self.get_level_display()} ≥ {self.times} / {self.get_per_display()}"

    def required_in(self, period_kind: str) -> int | None:
        """Patrols required in a period of `period_kind`; None when not assessed in it.

        A quarterly requirement counts four times in a year; a yearly one is not assessed
        per quarter (two patrols a year say nothing about one quarter).
        """
        if not self.active:
            return None
        if self.per == period_kind:
            return self.times
        if self.per == PeriodKind.QUARTER and period_kind == PeriodKind.YEAR:
            return self.times * 4
        return None


class Patrol(models.Model):
    chief = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("river chief"),
        on_delete=models.PROTECT,
        related_name="patrols",
    )
    appointment = models.ForeignKey(
        RiverChiefAppointment,
        verbose_name=_("appointment"),
        on_delete=models.PROTECT,
        related_name="patrols",
    )
    segment = models.ForeignKey(
        RiverSegment, verbose_name=_("river segment"), on_delete=models.PROTECT, related_name="+"
    )
    # the segment's county-level unit, copied for set-based period counts
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    level = models.CharField(
        _("river-chief level"), max_length=16, choices=RiverChiefAppointment.Level.choices
    )
    patrolled_on = models.DateField(_("patrol date"))
    route = models.CharField(_("route"), max_length=255)
    notes = models.TextField(_("findings summary"), blank=True)
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["-patrolled_on", "-id"]
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        indexes = [
            models.Index(fields=["jurisdiction", "patrolled_on"], name="patrol_jur_date"),
            models.Index(fields=["chief", "segment", "patrolled_on"], name="patrol_chief_seg_date"),
        ]

    def __str__(self):
        return f"{self.segment} · {self.patrolled_on:%Y-%m-%d}"


class PatrolFinding(models.Model):
    class Kind(models.TextChoices):
        EXISTING_OUTFALL = "existing_outfall", _("A registered outfall")
        UNREGISTERED_OUTFALL = "unregistered_outfall", _("An unregistered outfall")
        OTHER = "other", _("Another problem")

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="findings"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    description = models.TextField(_("description"))
    outfall = models.ForeignKey(
        "cases.Outfall",
        verbose_name=_("outfall"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="patrol_findings",
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("patrol finding")
        verbose_name_plural = _("patrol findings")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="other") | Q(outfall__isnull=False),
                name="finding_outfall_for_outfall_kinds",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.description[:30]}"


class PatrolPhoto(models.Model):
    finding = models.ForeignKey(
        PatrolFinding, verbose_name=_("finding"), on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(_("file"), upload_to="patrols/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("patrol photo")
        verbose_name_plural = _("patrol photos")

    def __str__(self):
        return self.original_name


# --- the scoring formula -------------------------------------------------------------------


class FormulaVersion(AppendOnlyModel):
    """One version of a scoring formula: components, weights, thresholds, grades (JSON).

    `components`: [{"code", "label", "method": "ratio" | "deduct", "metric", "weight", ...}]
    (see `formula.py`); `grades`: [{"code", "label", "min"}], highest first.
    """

    code = models.SlugField(_("formula"), max_length=48)
    version = models.PositiveIntegerField(_("version"))
    name = models.CharField(_("name"), max_length=100)
    components = models.JSONField(_("components"))
    grades = models.JSONField(_("grades"))
    note = models.TextField(_("what changed"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("scoring formula version")
        verbose_name_plural = _("scoring formula versions")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="formula_version_once")
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


# --- periods and assessments ---------------------------------------------------------------


class AssessmentPeriod(models.Model):
    class Status(models.TextChoices):
        CLOSED = "closed", _("Closed: under review")
        RANKED = "ranked", _("Finalized and ranked")

    kind = models.CharField(_("kind"), max_length=8, choices=PeriodKind.choices)
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"), null=True, blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.CLOSED
    )
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ranking = models.JSONField(_("ranking"), default=list, blank=True)
    ranked_at = models.DateTimeField(_("ranked at"), null=True, blank=True)
    summons_proposals = models.ManyToManyField(
        "workflows.SummonsProposal",
        verbose_name=_("summons proposals"),
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-ends_on", "kind"]
        verbose_name = _("assessment period")
        verbose_name_plural = _("assessment periods")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "year", "quarter"],
                condition=Q(kind="quarter"),
                name="period_quarter_once",
            ),
            models.UniqueConstraint(
                fields=["kind", "year"], condition=Q(kind="year"), name="period_year_once"
            ),
            models.CheckConstraint(
                condition=(Q(kind="quarter") & Q(quarter__gte=1) & Q(quarter__lte=4))
                | (Q(kind="year") & Q(quarter__isnull=True)),
                name="period_quarter_matches_kind",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.QUARTER:
            return f"{self.year}年第{'一二三四'[self.quarter - 1]}季度"
        return f"{self.year}年度"

    @staticmethod
    def bounds(kind: str, year: int, quarter: int | None) -> tuple[dt.date, dt.date]:
        if kind == PeriodKind.YEAR:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        start = dt.date(year, 3 * (quarter - 1) + 1, 1)
        following = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
        return start, following - dt.timedelta(days=1)


class AssessmentQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(status=Assessment.Status.FINALIZED).exists():
            raise PermissionError("A finalized assessment cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("Assessments are never deleted.")


class Assessment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("With the river chief")
        ANSWERING = "answering", _("Objections to answer")
        AWAITING_FINAL = "awaiting_final", _("Awaiting finalization")
        FINALIZED = "finalized", _("Finalized")

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        OBJECTED = "objected", _("Objected")
        NO_REVIEWER = "no_reviewer", _("No river chief to review")

    period = models.ForeignKey(
        AssessmentPeriod,
        verbose_name=_("period"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    formula = models.ForeignKey(
        FormulaVersion,
        verbose_name=_("formula version"),
        on_delete=models.PROTECT,
        related_name="assessments",
    )
    as_of = models.DateTimeField(_("data as of"))
    metrics = models.JSONField(_("metrics snapshot"))
    components = models.JSONField(_("score by component"))
    computed_score = models.DecimalField(_("computed score"), max_digits=6, decimal_places=2)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    grade = models.CharField(_("grade"), max_length=16)
    grade_label = models.CharField(_("grade"), max_length=16)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_at = models.DateTimeField(_("drafted at"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent for review by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("sent for review at"), null=True, blank=True)
    review_outcome = models.CharField(
        _("review outcome"), max_length=16, choices=Outcome.choices, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("finalized by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    final_note = models.TextField(_("finalization note"), blank=True)
    report = models.ForeignKey(
        "documents.IssuedDocument",
        verbose_name=_("report"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["period", "jurisdiction__path"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        permissions = [
            ("review_assessment", _("Can review assessments as a river chief")),
            ("finalize_assessment", _("Can finalize assessments")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "jurisdiction"], name="assessment_once_per_period"
            ),
            models.CheckConstraint(
                condition=~Q(status="finalized")
                | (Q(finalized_at__isnull=False) & Q(finalized_by__isnull=False)),
                name="assessment_finalized_has_finalizer",
            ),
        ]

    def __str__(self):
        return f"{self.period.label}{self.jurisdiction.name}"

    def save(self, *args, **kwargs):
        if (
            self.pk is not None
            and type(self)._base_manager.filter(pk=self.pk, status=self.Status.FINALIZED).exists()
        ):
            raise PermissionError("A finalized assessment cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Assessments are never deleted.")

    @property
    def is_finalized(self) -> bool:
        return self.status == self.Status.FINALIZED


class EvidenceSet(AppendOnlyModel):
    """The ids behind one number of an assessment (cases, patrols or summons proposals),
    frozen with the snapshot. A number's evidence is the union of its sets."""

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="sets"
    )
    key = models.CharField(_("key"), max_length=48)
    ids = models.JSONField(_("ids"), default=list)

    class Meta:
        ordering = ["assessment", "key"]
        verbose_name = _("evidence set")
        verbose_name_plural = _("evidence sets")
        constraints = [
            models.UniqueConstraint(fields=["assessment", "key"], name="evidence_set_once")
        ]

    def __str__(self):
        return f"{self.assessment_id} · {self.key}"


class Objection(AppendOnlyModel):
    """A river chief's objection to one component of an assessment (on the record)."""

    assessment = models.ForeignKey(
        Assessment,
        verbose_name=_("assessment"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    component = models.CharField(_("item"), max_length=48)
    reason = models.TextField(_("reason"))
    attachment = models.FileField(_("evidence file"), upload_to="objections/%Y/", blank=True)
    attachment_name = models.CharField(_("file name"), max_length=255, blank=True)
    attachment_type = models.CharField(_("content type"), max_length=64, blank=True)
    attachment_sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))

    class Meta:
        ordering = ["raised_at", "id"]
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="objection_reason_required"),
            models.UniqueConstraint(
                fields=["assessment", "component"], name="objection_once_per_item"
            ),
        ]

    def __str__(self):
        return f"{self.assessment_id} · {self.component}"


class ObjectionAnswer(AppendOnlyModel):
    class Decision(models.TextChoices):
        ADJUST = "adjust", _("Adjust the score")
        KEEP = "keep", _("Keep the score")

    objection = models.OneToOneField(
        Objection, verbose_name=_("objection"), on_delete=models.PROTECT, related_name="answer"
    )
    decision = models.CharField(_("decision"), max_length=8, choices=Decision.choices)
    reason = models.TextField(_("reason"))
    points_before = models.DecimalField(_("points before"), max_digits=6, decimal_places=2)
    points_after = models.DecimalField(_("points after"), max_digits=6, decimal_places=2)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("answered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        ordering = ["answered_at", "id"]
        verbose_name = _("answer to an objection")
        verbose_name_plural = _("answers to objections")
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="answer_reason_required"),
            models.CheckConstraint(
                condition=Q(decision="adjust") | Q(points_after=models.F("points_before")),
                name="answer_keep_keeps_points",
            ),
        ]

    def __str__(self):
        return f"{self.objection} · {self.get_decision_display()}"


class AssessmentEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        DRAFTED = "drafted", _("Drafted from the period's data")
        SUBMITTED = "submitted", _("Sent to the river chief")
        ACCEPTED = "accepted", _("Accepted by the river chief")
        OBJECTED = "objected", _("Objected by the river chief")
        NO_REVIEWER = "no_reviewer", _("No river chief to review")
        ANSWERED = "answered", _("Objections answered")
        FINALIZED = "finalized", _("Finalized")
        SUMMONS_PROPOSED = "summons_proposed", _("Proposed for summons")

    assessment = models.ForeignKey(
        Assessment, verbose_name=_("assessment"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"))
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("assessment event")
        verbose_name_plural = _("assessment events")

    def __str__(self):
        return f"{self.assessment_id} · {self.get_kind_display()}"


class AssessmentReview(Process):
    """The review process (viewflow) of one assessment: draft → river chief → answers →
    finalization (flows.py)."""

    assessment = models.OneToOneField(
        Assessment,
        verbose_name=_("assessment"),
        on_delete=models.PROTECT,
        related_name="review",
    )

    class Meta:
        verbose_name = _("assessment review")
        verbose_name_plural = _("assessment reviews")

    def __str__(self):
        return f"{self.assessment_id}"
