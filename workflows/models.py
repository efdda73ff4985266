"""Deadlines and the escalation ladder (DESIGN.md §5): rows, never Celery ETA messages."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process

from base.models import Jurisdiction


class Basis(models.TextChoices):
    CALENDAR = "calendar", _("Calendar days")
    WORKING = "working", _("Working days")


class Stage(models.TextChoices):
    SURVEY_TRACING = "survey_tracing", _("Survey and tracing")
    REMEDIATION = "remediation", _("Remediation")
    PLAN = "plan", _("Plan deadline")
    SUMMONS_REPORT = "summons_report", _("Summons implementation report")


class Milestone(models.Model):
    """Campaign milestones of the seed plan (editable data)."""

    code = models.SlugField(_("stable key"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    due_on = models.DateField(_("due on"))
    stage = models.CharField(_("stage"), max_length=24, choices=Stage.choices, blank=True)

    class Meta:
        ordering = ["due_on"]
        verbose_name = _("campaign milestone")
        verbose_name_plural = _("campaign milestones")

    def __str__(self):
        return f"{self.name} ({self.due_on})"


class DeadlineRule(models.Model):
    """How a stage's deadline is computed: the milestone while it is ahead, else N days."""

    stage = models.CharField(_("stage"), max_length=24, choices=Stage.choices, unique=True)
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), null=True, blank=True, on_delete=models.SET_NULL
    )
    days = models.PositiveIntegerField(_("days after the stage starts"))
    basis = models.CharField(
        _("basis"), max_length=16, choices=Basis.choices, default=Basis.WORKING
    )

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")

    def __str__(self):
        return self.get_stage_display()


class EscalationLevel(models.Model):
    """One rung of the ladder (editable data): when it fires and who is told."""

    class Action(models.TextChoices):
        REMIND = "remind", _("Reminder")
        OVERDUE = "overdue", _("Overdue notice")
        SUPERVISION = "supervision", _("City-level supervision (督办)")
        SUMMONS_PROPOSAL = "summons_proposal", _("Summons proposal (约谈建议)")
        ACCOUNTABILITY = "accountability", _("Accountability proposal (问责建议)")

    code = models.CharField(_("code"), max_length=4, unique=True)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    name = models.CharField(_("name"), max_length=32)
    offset_days = models.IntegerField(_("days after the due date"))
    stages = models.JSONField(_("stages (empty = all case stages)"), default=list, blank=True)
    recipient_roles = models.JSONField(_("recipient roles"), default=list, blank=True)
    notify_case_officer = models.BooleanField(_("tell the case officer"), default=False)
    notify_lead_department = models.BooleanField(_("tell the lead department"), default=False)
    river_chief_levels = models.JSONField(_("river-chief levels told"), default=list, blank=True)
    action = models.CharField(_("action"), max_length=24, choices=Action.choices)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["rank"]
        verbose_name = _("escalation level")
        verbose_name_plural = _("escalation levels")

    def __str__(self):
        return f"{self.code} {self.name}"

    def applies_to(self, stage: str) -> bool:
        if self.stages:
            return stage in self.stages
        return stage != Stage.SUMMONS_REPORT


class Deadline(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")
        WAIVED = "waived", _("Waived")

    outfall = models.ForeignKey(
        "cases.Outfall",
        verbose_name=_("outfall"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadlines",
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=24, choices=Stage.choices)
    start_on = models.DateField(_("starts on"))
    due_on = models.DateField(_("due on"), db_index=True)
    original_due_on = models.DateField(_("original due date"))
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    closed_at = models.DateTimeField(_("met or waived at"), null=True, blank=True)
    # the ladder position, maintained by the services: the highest level fired so far and
    # the next level's rank and date (NULL when nothing more can fire)
    current_rank = models.SmallIntegerField(_("highest level fired"), null=True, blank=True)
    next_rank = models.SmallIntegerField(_("next level"), null=True, blank=True)
    next_fire_on = models.DateField(_("next level fires on"), null=True, blank=True)
    subject_type = models.CharField(_("subject type"), max_length=64, blank=True)
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # the sweep's ORDER BY next_fire_on, id LIMIT n: with id in the index a batch
            # reads its n rows, not every due row before sorting them
            models.Index(
                fields=["next_fire_on", "id"],
                name="deadline_sweep_order",
                condition=Q(next_fire_on__isnull=False),
            ),
            models.Index(fields=["outfall", "stage", "status"], name="deadline_outfall_stage"),
            models.Index(fields=["jurisdiction", "status"], name="deadline_jur_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["outfall", "stage"],
                condition=Q(status="open"),
                name="deadline_one_open_per_stage",
            ),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} · {self.due_on}"


class EscalationStep(models.Model):
    """A level fired for a deadline: at most once, enforced by the database."""

    deadline = models.ForeignKey(
        Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="steps"
    )
    level = models.ForeignKey(
        EscalationLevel, verbose_name=_("level"), on_delete=models.PROTECT, related_name="+"
    )
    fired_at = models.DateTimeField(_("fired at"))
    due_on = models.DateField(_("due date when fired"))

    class Meta:
        ordering = ["fired_at", "id"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        constraints = [
            models.UniqueConstraint(fields=["deadline", "level"], name="step_once_per_level")
        ]

    def __str__(self):
        return f"{self.deadline_id} · {self.level.code}"


class DeadlineMove(models.Model):
    """An extension (过渡期) applied to a deadline: the ledger, on the deadline side."""

    deadline = models.ForeignKey(
        Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="moves"
    )
    old_date = models.DateField(_("old date"))
    new_date = models.DateField(_("new date"))
    reason = models.TextField(_("reason"), blank=True)
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    moved_at = models.DateTimeField(_("moved at"))

    class Meta:
        ordering = ["moved_at", "id"]
        verbose_name = _("deadline move")
        verbose_name_plural = _("deadline moves")

    def __str__(self):
        return f"{self.old_date} → {self.new_date}"


class Supervision(models.Model):
    """City-level supervision (督办) of a county for an overdue case (ladder L2)."""

    deadline = models.OneToOneField(
        Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="supervision"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    outfall = models.ForeignKey(
        "cases.Outfall",
        verbose_name=_("outfall"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="supervisions",
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("supervision (督办)")
        verbose_name_plural = _("supervisions (督办)")

    def __str__(self):
        return f"{self.jurisdiction} · {self.outfall}"


class SummonsProposal(models.Model):
    """At most one summons (约谈) proposal per county per month (ladder L3)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")

    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    month = models.DateField(_("month"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-month", "jurisdiction__path"]
        verbose_name = _("summons proposal")
        verbose_name_plural = _("summons proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "month"], name="summons_proposal_once_per_month"
            )
        ]

    def __str__(self):
        return f"{self.jurisdiction} · {self.month:%Y-%m}"


class SummonsProposalItem(models.Model):
    proposal = models.ForeignKey(
        SummonsProposal,
        verbose_name=_("proposal"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    deadline = models.ForeignKey(
        Deadline, verbose_name=_("deadline"), on_delete=models.CASCADE, related_name="+"
    )
    outfall = models.ForeignKey(
        "cases.Outfall",
        verbose_name=_("outfall"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    days_overdue = models.PositiveIntegerField(_("days overdue"))

    class Meta:
        ordering = ["-days_overdue", "id"]
        verbose_name = _("summons proposal case")
        verbose_name_plural = _("summons proposal cases")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "deadline"], name="proposal_item_once")
        ]

    def __str__(self):
        return f"{self.proposal} · {self.outfall}"


# --- four-eyes approvals (issue 5) ---------------------------------------------------------


class ApprovalLevel(models.TextChoices):
    COUNTY = "county", _("County level")
    CITY = "city", _("City level")


class TransitionPolicy(models.Model):
    """Which transition needs a second person's approval, who proposes and who approves.

    Editable data (DESIGN.md §4); the lifecycle's transition service asks it through the
    policy registry of `cases`. Besides the lifecycle transitions, two rows govern the
    other approval requests: rule overrides and deadline extensions (city leaders).
    """

    RULE_OVERRIDE = "rule_override"
    DEADLINE_EXTENSION = "deadline_extension"
    SUBJECTS = [
        ("trace", _("Confirm tracing")),
        ("classify", _("Confirm classification")),
        ("start_remediation", _("Start remediation")),
        ("retain", _("Retain")),
        ("close", _("Close")),
        ("void", _("Void (duplicate / not an outfall)")),
        ("reopen", _("Reopen")),
        (RULE_OVERRIDE, _("Rule override")),
        (DEADLINE_EXTENSION, _("Deadline extension")),
    ]
    CITY_DECIDED = (RULE_OVERRIDE, DEADLINE_EXTENSION)

    transition = models.CharField(_("transition"), max_length=24, choices=SUBJECTS, unique=True)
    requires_approval = models.BooleanField(_("requires approval"), default=True)
    proposer_roles = models.JSONField(_("proposer roles"), default=list, blank=True)
    approver_roles = models.JSONField(_("approver roles"), default=list, blank=True)
    level = models.CharField(
        _("level"), max_length=8, choices=ApprovalLevel.choices, default=ApprovalLevel.COUNTY
    )

    class Meta:
        ordering = ["id"]
        verbose_name = _("approval policy")
        verbose_name_plural = _("approval policies")

    def __str__(self):
        return str(self.get_transition_display())

    def clean(self):
        from base.models import Role

        errors = {}
        for field in ("proposer_roles", "approver_roles"):
            unknown = set(getattr(self, field) or []) - set(Role.values)
            if unknown:
                errors[field] = _("Unknown roles: %(roles)s") % {
                    "roles": ", ".join(sorted(unknown))
                }
        if self.requires_approval and not self.approver_roles:
            errors["approver_roles"] = _("Name the roles that approve.")
        if self.transition in self.CITY_DECIDED and (
            not self.requires_approval or list(self.approver_roles) != [Role.CITY_LEADER]
        ):
            errors["approver_roles"] = _(
                "Rule overrides and deadline extensions are always approved by a city leader."
            )
        if errors:
            raise ValidationError(errors)


class Proposal(Process):
    """An approval request (审批申请): the process of one of the approval flows (flows.py).

    A transition proposal, a rule override or a deadline extension, with its proposer and
    its decision. At most one open transition proposal and one open extension proposal per
    outfall, and a decider who is never the proposer: enforced by the database.
    """

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("State transition")
        RULE_OVERRIDE = "rule_override", _("Rule override")
        DEADLINE_EXTENSION = "deadline_extension", _("Deadline extension")

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Not approved")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    outfall = models.ForeignKey(
        "cases.Outfall",
        verbose_name=_("outfall"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    transition = models.CharField(_("transition"), max_length=24, blank=True)
    from_state = models.CharField(_("state when proposed"), max_length=16, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    evidence = models.ManyToManyField(
        "cases.Evidence", verbose_name=_("evidence"), blank=True, related_name="+"
    )
    override = models.ForeignKey(
        "cases.OverrideRequest",
        verbose_name=_("rule override request"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    plan = models.ForeignKey(
        "cases.RemediationPlan",
        verbose_name=_("remediation plan"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    old_date = models.DateField(_("current deadline"), null=True, blank=True)
    new_date = models.DateField(_("requested deadline"), null=True, blank=True)
    reason = models.TextField(_("reason"))
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decision = models.CharField(
        _("decision"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("approvers reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated to the city at"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-process_ptr_id"]
        verbose_name = _("approval request")
        verbose_name_plural = _("approval requests")
        permissions = [("decide_proposal", _("Can approve or reject approval requests"))]
        indexes = [models.Index(fields=["decision", "kind"], name="proposal_decision_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["outfall"],
                condition=Q(decision="pending", kind="transition"),
                name="proposal_one_open_transition",
            ),
            models.UniqueConstraint(
                fields=["outfall"],
                condition=Q(decision="pending", kind="deadline_extension"),
                name="proposal_one_open_extension",
            ),
            models.UniqueConstraint(
                fields=["override"],
                condition=Q(override__isnull=False),
                name="proposal_once_per_override",
            ),
            # four eyes: whoever approves or rejects is not the proposer (withdrawal is)
            models.CheckConstraint(
                condition=Q(decision="withdrawn") | ~Q(decided_by=models.F("proposer")),
                name="proposal_decider_not_proposer",
            ),
            models.CheckConstraint(
                condition=Q(decision="pending", decided_at__isnull=True)
                | (~Q(decision="pending") & Q(decided_at__isnull=False)),
                name="proposal_decided_at_iff_decided",
            ),
            models.CheckConstraint(
                condition=~Q(decision="rejected") | ~Q(decision_reason=""),
                name="proposal_rejection_has_reason",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="proposal_reason_required"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.outfall_id} · {self.get_decision_display()}"

    @property
    def is_open(self) -> bool:
        return self.decision == self.Decision.PENDING


# --- summons (约谈) and accountability (问责) (issue 6) --------------------------------------


class ServiceMethod(models.TextChoices):
    """How a notice is served (送达)."""

    IN_PERSON = "in_person", _("Delivered in person (直接送达)")
    POST = "post", _("By post (邮寄)")
    ELECTRONIC = "electronic", _("Electronically (电子)")
    PUBLIC = "public", _("By public announcement (公告)")


class Summons(Process):
    """A summons (约谈) of a county: the process of `SummonsFlow` (flows.py).

    Started from an L3 summons proposal or by hand by a city officer, approved by a city
    leader who is not the proposer; then the notice is issued, served, the meeting held and
    its minutes issued, the implementation report is due 30 days later (a `Deadline` of
    stage `summons_report` on the ladder), and a city officer verifies it. Not rectified, or
    the report missed (ladder L4), and an accountability proposal follows.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        REJECTED = "rejected", _("Not approved")
        APPROVED = "approved", _("Notice issued, to be served")
        SERVED = "served", _("Served, meeting to be held")
        REPORT_DUE = "report_due", _("Meeting held, report due")
        CLOSED = "closed", _("Rectified, closed")
        REFERRED = "referred", _("Referred for accountability")

    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    summons_proposal = models.ForeignKey(
        SummonsProposal,
        verbose_name=_("summons proposal"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="summonses",
    )
    outfalls = models.ManyToManyField(
        "cases.Outfall", verbose_name=_("cases"), blank=True, related_name="summonses"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    cause = models.TextField(_("cause"))
    # the notice (约谈通知书): DOMAIN.md §7
    persons = models.TextField(_("summoned persons and posts"), blank=True)
    summoned_unit = models.CharField(_("summoned unit"), max_length=100, blank=True)
    meeting_time = models.CharField(_("time of the meeting"), max_length=100)
    meeting_place = models.CharField(_("place of the meeting"), max_length=200)
    conductor = models.CharField(_("conducted by"), max_length=200, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    materials = models.TextField(_("what to bring"), blank=True)
    contact = models.CharField(_("issuer contact"), max_length=200)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    notice = models.ForeignKey(
        "documents.IssuedDocument",
        verbose_name=_("notice"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # service (送达)
    service_method = models.CharField(
        _("service method"), max_length=16, choices=ServiceMethod.choices, blank=True
    )
    served_on = models.DateField(_("served on"), null=True, blank=True)
    receiver = models.CharField(_("received by"), max_length=100, blank=True)
    receipt = models.FileField(_("receipt"), upload_to="summons/receipts/%Y/", blank=True)
    receipt_sha256 = models.CharField(_("receipt SHA-256"), max_length=64, blank=True)
    receipt_content_type = models.CharField(max_length=64, blank=True)
    served_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # the meeting (约谈会)
    met_on = models.DateField(_("meeting date"), null=True, blank=True)
    met_place = models.CharField(_("meeting place"), max_length=200, blank=True)
    attendees = models.TextField(_("attendees"), blank=True)
    problems = models.TextField(_("problems named"), blank=True)
    requirements = models.TextField(_("rectification requirements"), blank=True)
    commitments = models.TextField(_("commitments"), blank=True)
    minutes = models.ForeignKey(
        "documents.IssuedDocument",
        verbose_name=_("minutes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    report_deadline = models.ForeignKey(
        Deadline,
        verbose_name=_("report deadline"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # the implementation report and its verification
    report = models.FileField(
        _("implementation report"), upload_to="summons/reports/%Y/", blank=True
    )
    report_sha256 = models.CharField(_("report SHA-256"), max_length=64, blank=True)
    report_content_type = models.CharField(max_length=64, blank=True)
    rectified = models.BooleanField(_("rectified"), null=True, blank=True)
    verification_note = models.TextField(_("verification"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-process_ptr_id"]
        verbose_name = _("summons")
        verbose_name_plural = _("summonses")
        permissions = [
            ("propose_summons", _("Can propose summons and accountability")),
            ("decide_summons", _("Can approve summons and accountability")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["summons_proposal"],
                condition=Q(summons_proposal__isnull=False) & ~Q(state="rejected"),
                name="summons_once_per_proposal",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposer")),
                name="summons_decider_not_proposer",
            ),
        ]

    def __str__(self):
        return f"{self.jurisdiction} · {self.get_state_display()}"

    def document_cases(self, today):
        """The cases the documents list (documents' `subject_cases`)."""
        from .documents import summons_case_rows

        return summons_case_rows(self, today)


class Accountability(Process):
    """An accountability referral (问责建议) after a summons: the process of
    `AccountabilityFlow`. Drafted by the system (evidence compiled from the cases' events
    and the summons documents), completed and submitted by a city officer, approved by a
    city leader who is not the submitter; the 问责建议函 is issued, the outcome recorded."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Awaiting approval")
        REJECTED = "rejected", _("Not approved")
        APPROVED = "approved", _("Letter issued, awaiting the outcome")
        CLOSED = "closed", _("Outcome recorded, closed")

    class Trigger(models.TextChoices):
        NOT_RECTIFIED = "not_rectified", _("Not rectified after the summons")
        REPORT_OVERDUE = "report_overdue", _("Implementation report overdue")

    class Handling(models.TextChoices):
        ADMONITION = "admonition", _("Admonishing talk (诫勉)")
        APOLOGY = "apology", _("Public apology ordered (责令公开道歉)")
        TRANSFER = "transfer", _("Transfer from post (调离岗位)")
        RESIGN_BLAME = "resign_blame", _("Resignation taking the blame (引咎辞职)")
        RESIGN_ORDERED = "resign_ordered", _("Ordered to resign (责令辞职)")
        DISMISSAL = "dismissal", _("Removal from office (免职)")
        DEMOTION = "demotion", _("Demotion (降职)")
        DISCIPLINARY = "disciplinary", _("Party or administrative sanction (党纪政纪处分)")

    class ReceivingBody(models.TextChoices):
        DISCIPLINE = "discipline", _("Discipline inspection and supervision commission (纪委监委)")
        ORGANISATION = "organisation", _("Organisation department (组织部门)")

    summons_process = models.OneToOneField(
        Summons,
        verbose_name=_("summons"),
        on_delete=models.PROTECT,
        related_name="accountability",
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+"
    )
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    facts = models.TextField(_("facts"), blank=True)
    duty = models.TextField(_("duty breached"), blank=True)
    evidence = models.JSONField(_("evidence"), default=list, blank=True)
    officials = models.JSONField(_("officials and posts"), default=list, blank=True)
    handling = models.CharField(
        _("proposed handling"), max_length=16, choices=Handling.choices, blank=True
    )
    receiving_body = models.CharField(
        _("receiving body"), max_length=16, choices=ReceivingBody.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"))
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("proposer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    letter = models.ForeignKey(
        "documents.IssuedDocument",
        verbose_name=_("referral letter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome_decision = models.TextField(_("decision taken"), blank=True)
    outcome_form = models.CharField(
        _("form of accountability"), max_length=16, choices=Handling.choices, blank=True
    )
    outcome_on = models.DateField(_("decided on"), null=True, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("outcome recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-process_ptr_id"]
        verbose_name = _("accountability proposal")
        verbose_name_plural = _("accountability proposals")
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("proposer")),
                name="accountability_decider_not_proposer",
            ),
        ]

    def __str__(self):
        return f"{self.jurisdiction} · {self.get_state_display()}"

    def document_cases(self, today):
        from .documents import summons_case_rows

        return summons_case_rows(self.summons_process, today)
