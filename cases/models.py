"""The outfall register: cases, responsible entities, tracing, plans, evidence and audit."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from base.models import AppendOnlyModel, Department, Jurisdiction, RiverSegment, WaterBody

from .choices import Disposition, EvidenceKind, State
from .lifecycle import OutfallLifecycle
from .validators import validate_credit_code


class Category(models.Model):
    """First-level type (seed annex): GY, SH, NY, YH, QT."""

    code = models.CharField(_("code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=32)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["sort"]
        verbose_name = _("outfall category")
        verbose_name_plural = _("outfall categories")

    def __str__(self):
        return f"{self.code} {self.name}"


class Subtype(models.Model):
    """Second-level type (seed annex), 16 in all."""

    code = models.SlugField(_("stable key"), max_length=32, unique=True)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="subtypes"
    )
    name = models.CharField(_("name"), max_length=32)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    needs_setting_approval = models.BooleanField(
        _("new or changed outfalls need setting approval"),
        default=False,
        help_text=_("Otherwise registration (DOMAIN.md §4 rule 8)."),
    )
    is_stormwater = models.BooleanField(_("stormwater outlet"), default=False)

    class Meta:
        ordering = ["category__sort", "sort"]
        verbose_name = _("outfall subtype")
        verbose_name_plural = _("outfall subtypes")

    def __str__(self):
        return self.name


class ResponsibleEntity(models.Model):
    """责任主体: who answers for an outfall (谁污染、谁治理; government as fallback)."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("Enterprise")
        PARK = "park", _("Industrial park")
        INSTITUTION = "institution", _("Public institution")
        GOVERNMENT = "government", _("Government")
        VILLAGE = "village", _("Village committee")
        INDIVIDUAL = "individual", _("Individual")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=128)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_credit_code],
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.ENTERPRISE)
    is_government_fallback = models.BooleanField(_("government fallback (兜底)"), default=False)
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="responsible_entities",
    )
    contact = models.CharField(_("contact person"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("responsible entity")
        verbose_name_plural = _("responsible entities")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~Q(credit_code=""),
                name="entity_credit_code_unique_when_set",
            )
        ]

    def __str__(self):
        return self.name


class Outfall(OutfallLifecycle, ConcurrentTransitionMixin, models.Model):
    """The case: one outfall and its lifecycle (DESIGN.md §4)."""

    class EntryMode(models.TextChoices):
        OPEN_CHANNEL = "open_channel", _("Open channel")
        PIPE = "pipe", _("Pipe")
        PUMP_STATION = "pump_station", _("Pump station")
        SLUICE = "sluice", _("Culvert gate")
        BOX_CULVERT = "box_culvert", _("Box culvert")
        OTHER = "other", _("Other")

    class DischargePattern(models.TextChoices):
        CONTINUOUS = "continuous", _("Continuous")
        INTERMITTENT = "intermittent", _("Intermittent")
        RAIN_ONLY = "rain_only", _("Only when it rains")
        NONE = "none", _("No discharge")

    class Source(models.TextChoices):
        SURVEY = "survey", _("Survey")
        PATROL = "patrol", _("River-chief patrol")
        COMPLAINT = "complaint", _("Complaint")
        INSPECTION = "inspection", _("Inspection")

    class SurveyLevel(models.IntegerChoices):
        REMOTE = 1, _("Level 1: remote sensing / drone")
        FIELD = 2, _("Level 2: on-foot field check")
        EXPERT = 3, _("Level 3: expert verification")

    class ClosureReason(models.TextChoices):
        BANNED = "banned", _("Banned")
        MERGED = "merged", _("Merged")
        DUPLICATE = "duplicate", _("Duplicate")
        NOT_AN_OUTFALL = "not_an_outfall", _("Not an outfall")

    class ReopenBasis(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        MONITORING = "monitoring", _("Monitoring result")
        INSPECTION = "inspection", _("Inspection")

    # identity
    code = models.CharField(_("local code"), max_length=32, unique=True, null=True, blank=True)
    national_code = models.CharField(
        _("national code"), max_length=64, unique=True, null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    # location
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="outfalls"
    )
    town = models.CharField(_("town"), max_length=64, blank=True)
    village = models.CharField(_("village"), max_length=64, blank=True)
    landmark = models.CharField(_("landmark"), max_length=128, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    water_body = models.ForeignKey(
        WaterBody,
        verbose_name=_("receiving water"),
        on_delete=models.PROTECT,
        related_name="outfalls",
    )
    segment = models.ForeignKey(
        RiverSegment,
        verbose_name=_("river segment"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outfalls",
    )
    # survey facts
    entry_mode = models.CharField(_("entry mode"), max_length=16, choices=EntryMode.choices)
    discharge_pattern = models.CharField(
        _("discharge pattern"), max_length=16, choices=DischargePattern.choices, blank=True
    )
    daily_volume = models.DecimalField(
        _("daily volume (m³/d)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    main_pollutants = models.CharField(_("main pollutants"), max_length=200, blank=True)
    is_discharging = models.BooleanField(_("discharging when surveyed"), default=False)
    colour = models.CharField(_("colour"), max_length=32, blank=True)
    odour = models.CharField(_("odour"), max_length=32, blank=True)
    survey_level = models.PositiveSmallIntegerField(
        _("survey level"), choices=SurveyLevel.choices, default=SurveyLevel.FIELD
    )
    survey_date = models.DateField(_("survey date"))
    surveyors = models.CharField(_("surveyors"), max_length=200, blank=True)
    source = models.CharField(
        _("source"), max_length=16, choices=Source.choices, default=Source.SURVEY
    )
    remarks = models.TextField(_("remarks"), blank=True)
    # protected-area flags (DOMAIN.md §4 rule 1)
    in_drinking_water_zone = models.BooleanField(
        _("in a drinking-water source zone"), default=False
    )
    in_spring_zone = models.BooleanField(_("in a key spring-area protection zone"), default=False)
    in_nature_reserve = models.BooleanField(_("in a nature reserve"), default=False)
    in_red_line = models.BooleanField(_("inside the ecological red line"), default=False)
    in_basic_farmland = models.BooleanField(_("in permanent basic farmland"), default=False)
    in_other_protected = models.BooleanField(_("in another special protection area"), default=False)
    in_sewer_coverage = models.BooleanField(_("inside sewer-network coverage"), default=False)
    in_industrial_park = models.BooleanField(
        _("inside an industrial park or development zone"), default=False
    )
    is_inflow_overflow = models.BooleanField(
        _("sewage-plant inflow overflow outlet"), default=False
    )
    is_new_or_changed = models.BooleanField(_("new, changed or enlarged outfall"), default=False)
    is_historical = models.BooleanField(_("historical case"), default=True)
    # classification
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outfalls",
    )
    subtype = models.ForeignKey(
        Subtype,
        verbose_name=_("subtype"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outfalls",
    )
    disposition = models.CharField(
        _("disposition"), max_length=16, choices=Disposition.choices, blank=True
    )
    # lifecycle
    state = FSMField(
        _("state"), default=State.SURVEYED, choices=State.choices, protected=True, db_index=True
    )
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("case officer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_outfalls",
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_outfalls",
    )
    merge_target = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_outfalls",
    )
    merge_into_network = models.BooleanField(_("merged into the sewer network"), default=False)
    closure_reason = models.CharField(
        _("closure reason"), max_length=16, choices=ClosureReason.choices, blank=True
    )
    fallback_reason = models.TextField(
        _("reason for the government fallback"),
        blank=True,
        help_text=_("Why tracing could not find the responsible entity (兜底)."),
    )
    reopen_basis = models.CharField(
        _("reopen basis"), max_length=16, choices=ReopenBasis.choices, blank=True
    )
    reopen_reference = models.CharField(_("reopen reference"), max_length=200, blank=True)
    possible_duplicate_of = models.ManyToManyField(
        "self", verbose_name=_("possible duplicates"), blank=True, symmetrical=True
    )
    is_possible_duplicate = models.BooleanField(_("possible duplicate"), default=False)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("outfall")
        verbose_name_plural = _("outfalls")
        permissions = [
            ("transition_outfall", _("Can propose and apply outfall transitions")),
            ("approve_transition", _("Can approve outfall transitions")),
            ("approve_override", _("Can approve disposition-rule overrides")),
            ("import_survey", _("Can import survey spreadsheets")),
            ("export_ledger", _("Can export the outfall ledger")),
        ]
        indexes = [
            models.Index(fields=["jurisdiction", "state"], name="outfall_jur_state"),
            models.Index(fields=["water_body", "state"], name="outfall_water_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(longitude__gte=-180, longitude__lte=180)
                & Q(latitude__gte=-90, latitude__lte=90),
                name="outfall_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=Q(merge_target__isnull=True) | ~Q(merge_target=models.F("id")),
                name="outfall_not_merged_into_itself",
            ),
        ]

    def __str__(self):
        return self.name or self.code or f"#{self.pk}"

    @property
    def in_protected_area(self) -> bool:
        return any(
            (
                self.in_drinking_water_zone,
                self.in_spring_zone,
                self.in_nature_reserve,
                self.in_red_line,
                self.in_basic_farmland,
                self.in_other_protected,
            )
        )

    def clean(self):
        errors = {}
        extent = settings.OUTFALLS_CITY_EXTENT
        if self.latitude is not None and not (
            extent["lat_min"] <= float(self.latitude) <= extent["lat_max"]
        ):
            errors["latitude"] = _(
                "Latitude %(value)s is outside the city (%(min)s-%(max)s° N)."
            ) % {"value": self.latitude, "min": extent["lat_min"], "max": extent["lat_max"]}
        if self.longitude is not None and not (
            extent["lon_min"] <= float(self.longitude) <= extent["lon_max"]
        ):
            errors["longitude"] = _(
                "Longitude %(value)s is outside the city (%(min)s-%(max)s° E)."
            ) % {"value": self.longitude, "min": extent["lon_min"], "max": extent["lon_max"]}
        if self.subtype_id and self.category_id and self.subtype.category_id != self.category_id:
            errors["subtype"] = _("Subtype “%(subtype)s” is not in category “%(category)s”.") % {
                "subtype": self.subtype.name,
                "category": self.category.name,
            }
        if (
            self.segment_id
            and self.water_body_id
            and self.segment.water_body_id != self.water_body_id
        ):
            errors["segment"] = _("The river segment is not on the receiving water.")
        if self.jurisdiction_id and not self.jurisdiction.is_county_level:
            errors["jurisdiction"] = _("Choose a county-level unit.")
        if errors:
            raise ValidationError(errors)


class OutfallEntity(models.Model):
    """Link of an outfall to a responsible entity; shared outfalls record each unit's share."""

    outfall = models.ForeignKey(
        Outfall, verbose_name=_("outfall"), on_delete=models.CASCADE, related_name="entity_links"
    )
    entity = models.ForeignKey(
        ResponsibleEntity,
        verbose_name=_("responsible entity"),
        on_delete=models.PROTECT,
        related_name="outfall_links",
    )
    share_percent = models.DecimalField(
        _("responsibility share (%)"),
        max_digits=5,
        decimal_places=2,
        default=100,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    permit_number = models.CharField(_("discharge permit number"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    designated_by_government = models.BooleanField(_("designated by the government"), default=False)

    class Meta:
        ordering = ["-is_primary", "id"]
        verbose_name = _("outfall responsible entity")
        verbose_name_plural = _("outfall responsible entities")
        constraints = [
            models.UniqueConstraint(fields=["outfall", "entity"], name="outfall_entity_unique"),
            models.UniqueConstraint(
                fields=["outfall"], condition=Q(is_primary=True), name="outfall_one_primary_entity"
            ),
        ]

    def __str__(self):
        return f"{self.outfall} · {self.entity}"


class TracingRecord(models.Model):
    class Method(models.TextChoices):
        FIELD = "field", _("Field investigation")
        PIPE_SURVEY = "pipe_survey", _("Pipe-network survey")
        DYE_TEST = "dye_test", _("Dye / tracer test")
        CCTV = "cctv", _("Pipe CCTV inspection")
        SAMPLING = "sampling", _("Water sampling")
        RECORDS = "records", _("Records and permits review")
        INTERVIEW = "interview", _("Interviews")

    class Result(models.TextChoices):
        FOUND = "found", _("Responsible entity found")
        PARTIAL = "partial", _("Partly traced")
        NOT_FOUND = "not_found", _("Not found")

    outfall = models.ForeignKey(
        Outfall, verbose_name=_("outfall"), on_delete=models.CASCADE, related_name="tracing_records"
    )
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    traced_on = models.DateField(_("date"))
    finding = models.TextField(_("finding"))
    result = models.CharField(_("result"), max_length=16, choices=Result.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["traced_on", "id"]
        verbose_name = _("tracing record")
        verbose_name_plural = _("tracing records")

    def __str__(self):
        return f"{self.get_method_display()} {self.traced_on}"


class RemediationPlan(models.Model):
    outfall = models.OneToOneField(
        Outfall, verbose_name=_("outfall"), on_delete=models.CASCADE, related_name="plan"
    )
    measures = models.TextField(_("measures"))
    lead_department = models.ForeignKey(
        Department,
        verbose_name=_("lead department"),
        on_delete=models.PROTECT,
        related_name="plans",
    )
    deadline = models.DateField(_("deadline"))
    progress = models.TextField(_("progress"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("remediation plan")
        verbose_name_plural = _("remediation plans")

    def __str__(self):
        return f"{self.outfall} · {self.deadline}"


class PlanExtension(models.Model):
    """Extension ledger (过渡期): every move of a plan deadline, with who approved it."""

    plan = models.ForeignKey(
        RemediationPlan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="extensions"
    )
    old_date = models.DateField(_("old deadline"))
    new_date = models.DateField(_("new deadline"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")
        constraints = [
            models.CheckConstraint(
                condition=Q(new_date__gt=models.F("old_date")), name="extension_moves_later"
            )
        ]

    def __str__(self):
        return f"{self.old_date} → {self.new_date}"


class Evidence(models.Model):
    outfall = models.ForeignKey(
        Outfall, verbose_name=_("outfall"), on_delete=models.CASCADE, related_name="evidence"
    )
    kind = models.CharField(_("kind"), max_length=24, choices=EvidenceKind.choices)
    file = models.FileField(_("file"), upload_to="evidence/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self):
        return f"{self.get_kind_display()} · {self.original_name}"


class ChecklistItem(models.Model):
    """What evidence a transition needs, per disposition and type (sign-off checklists, data)."""

    code = models.SlugField(_("stable key"), max_length=64, unique=True)
    transition = models.CharField(_("transition"), max_length=24)
    label = models.CharField(_("label"), max_length=128)
    dispositions = models.JSONField(_("dispositions"), default=list, blank=True)
    categories = models.JSONField(_("categories (codes; empty = all)"), default=list, blank=True)
    subtypes = models.JSONField(_("subtypes (keys; empty = all)"), default=list, blank=True)
    only_inflow_overflow = models.BooleanField(
        _("only sewage-plant inflow overflow"), default=False
    )
    evidence_kinds = models.JSONField(_("evidence kinds (any of)"), default=list)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["transition", "code"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self):
        return self.label

    def applies_to(self, outfall: Outfall, transition: str) -> bool:
        if not self.active or self.transition != transition:
            return False
        if self.dispositions and outfall.disposition not in self.dispositions:
            return False
        category = outfall.category.code if outfall.category_id else None
        subtype = outfall.subtype.code if outfall.subtype_id else None
        type_filtered = bool(self.categories or self.subtypes or self.only_inflow_overflow)
        if not type_filtered:
            return True
        return (
            (category in self.categories)
            or (subtype in self.subtypes)
            or (self.only_inflow_overflow and outfall.is_inflow_overflow)
        )


class OverrideRequest(models.Model):
    """A recorded request to classify against a failed disposition rule (city approval)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    outfall = models.ForeignKey(
        Outfall, verbose_name=_("outfall"), on_delete=models.CASCADE, related_name="overrides"
    )
    rule = models.CharField(_("rule"), max_length=32)
    disposition = models.CharField(_("disposition"), max_length=16, choices=Disposition.choices)
    explanation = models.TextField(_("rule explanation"))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        verbose_name = _("rule override request")
        verbose_name_plural = _("rule override requests")
        constraints = [
            models.UniqueConstraint(
                fields=["outfall", "rule", "disposition"],
                condition=Q(status="pending"),
                name="override_one_pending_per_rule",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="override_reason_required"),
        ]

    def __str__(self):
        return f"{self.outfall} · {self.rule} · {self.get_status_display()}"


class OutfallEvent(AppendOnlyModel):
    """Append-only audit trail of a case. PostgreSQL refuses UPDATE/DELETE by trigger."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        EDITED = "edited", _("Edited")
        TRACING_ADDED = "tracing_added", _("Tracing record added")
        ENTITY_LINKED = "entity_linked", _("Responsible entity linked")
        CLASSIFICATION_SET = "classification_set", _("Classification set")
        CODE_ASSIGNED = "code_assigned", _("Code assigned")
        PLAN_SET = "plan_set", _("Remediation plan set")
        PLAN_EXTENDED = "plan_extended", _("Deadline extended")
        EVIDENCE_ADDED = "evidence_added", _("Evidence added")
        OVERRIDE_REQUESTED = "override_requested", _("Rule override requested")
        OVERRIDE_DECIDED = "override_decided", _("Rule override decided")
        TRANSITION = "transition", _("State changed")
        PROPOSAL = "proposal", _("Transition proposed")
        PROPOSAL_REJECTED = "proposal_rejected", _("Proposal rejected")
        IMPORTED = "imported", _("Imported from a survey sheet")
        NOTE = "note", _("Note")
        DOCUMENT_ISSUED = "document_issued", _("Document issued")

    outfall = models.ForeignKey(
        Outfall, verbose_name=_("outfall"), on_delete=models.PROTECT, related_name="events"
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
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), db_index=True)
    from_state = models.CharField(_("from"), max_length=16, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=16, choices=State.choices, blank=True)
    transition = models.CharField(_("transition"), max_length=24, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    diff = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("outfall event")
        verbose_name_plural = _("outfall events")
        indexes = [models.Index(fields=["outfall", "at"], name="event_outfall_at")]

    def __str__(self):
        return f"{self.outfall_id} · {self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"
