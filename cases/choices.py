"""Stable choice values of the cases module (stored as English snake_case)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    SURVEYED = "surveyed", _("Surveyed")
    TRACED = "traced", _("Traced")
    CLASSIFIED = "classified", _("Classified")
    REMEDIATING = "remediating", _("Remediating")
    RETAINED = "retained", _("Retained")
    CLOSED = "closed", _("Closed")


class Disposition(models.TextChoices):
    BAN = "ban", _("Ban (取缔)")
    MERGE = "merge", _("Merge (合并)")
    STANDARDISE = "standardise", _("Standardise (规范)")
    KEEP = "keep", _("Keep, already compliant (保留)")


class EvidenceKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    SIGNBOARD = "signboard", _("Signboard")
    SAMPLING_POINT = "sampling_point", _("Sampling point")
    INSPECTION_WELL = "inspection_well", _("Inspection well")
    PLUG_PROOF = "plug_proof", _("Removal / plugging proof")
    ACCEPTANCE = "acceptance", _("Acceptance record")
    SETTING_APPROVAL = "setting_approval", _("Setting approval")
    REGISTRATION = "registration", _("Registration")
    ARCHIVE = "archive", _("Archive file (建档)")
    GATE_VALVE = "gate_valve", _("Gate valve")
    VIDEO_MONITORING = "video_monitoring", _("Video monitoring")
    FILING = "filing", _("Filing with the county ecology bureau")
    OTHER = "other", _("Other")
