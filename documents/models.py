"""Issued official documents (公文) and the editable numbering series.

A document is numbered, snapshotted and stored once (`services.document_issue`), rendered
once (`services.document_render`) and then never changed: `save()` refuses any write to an
issued row, nothing deletes one, and on PostgreSQL a trigger refuses the same (migration
0002). A correction is a new document that `supersedes` the old one: it takes a new number,
the old one stays, and `superseded_by` (the reverse one-to-one) marks it.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def new_token() -> str:
    # 192 random bits, URL-safe: the verification page's key (unguessable, not enumerable)
    return secrets.token_urlsafe(24)


class IssuingAuthority(models.Model):
    """An issuing authority (发文机关): its name, number abbreviation and red mark."""

    code = models.SlugField(_("stable key"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=64)
    abbreviation = models.CharField(
        _("number abbreviation"), max_length=16, help_text=_("e.g. 晋市环 in 晋市环约〔2024〕3号")
    )
    mark = models.CharField(
        _("issuing-authority mark"),
        max_length=32,
        help_text=_("The red mark at the top of a document, e.g. 晋城市生态环境局文件"),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("issuing authority")
        verbose_name_plural = _("issuing authorities")

    def __str__(self):
        return self.name


class DocumentSeries(models.Model):
    """Which authority and kind character number a document type (editable by admins)."""

    doctype = models.CharField(_("document type"), max_length=48, unique=True)
    authority = models.ForeignKey(
        IssuingAuthority,
        verbose_name=_("issuing authority"),
        on_delete=models.PROTECT,
        related_name="series",
    )
    kind = models.CharField(
        _("kind character"), max_length=4, help_text=_("e.g. 约 in 晋市环约〔2024〕3号")
    )

    class Meta:
        ordering = ["doctype"]
        verbose_name = _("document series")
        verbose_name_plural = _("document series")

    def __str__(self):
        return f"{self.doctype}: {self.authority.abbreviation}{self.kind}"


class IssuedDocumentQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if self.filter(status=IssuedDocument.Status.ISSUED).exists():
            raise PermissionError("An issued document cannot be changed.")
        return super().update(**kwargs)

    def delete(self):
        raise PermissionError("Issued documents are never deleted.")


class IssuedDocument(models.Model):
    class Status(models.TextChoices):
        RENDERING = "rendering", _("Being rendered")
        ISSUED = "issued", _("Issued")
        FAILED = "failed", _("Rendering failed")

    doctype = models.CharField(_("document type"), max_length=48, db_index=True)
    number = models.CharField(_("number"), max_length=64, unique=True)
    authority = models.CharField(_("authority abbreviation"), max_length=16)
    authority_name = models.CharField(_("issuing authority"), max_length=64)
    kind = models.CharField(_("kind character"), max_length=4)
    year = models.PositiveSmallIntegerField(_("year"))
    serial = models.PositiveIntegerField(_("serial"))
    # loose reference to the subject ("cases.outfall", 12), no GFK: the type's scope decides
    subject_type = models.CharField(_("subject type"), max_length=100)
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    title = models.CharField(_("title"), max_length=200)
    context = models.JSONField(_("context snapshot"), default=dict)
    file = models.FileField(_("PDF file"), upload_to="documents/", blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"), null=True, blank=True)
    issuer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("issued at"), db_index=True)
    rendered_at = models.DateTimeField(_("rendered at"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("supersedes"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
    )
    token = models.CharField(
        _("verification token"), max_length=64, unique=True, default=new_token, editable=False
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RENDERING
    )
    render_error = models.TextField(_("rendering error"), blank=True)

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-id"]
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        permissions = [("issue_document", "Can issue official documents")]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "kind", "year", "serial"], name="document_number_once"
            ),
            models.CheckConstraint(condition=Q(serial__gte=1), name="document_serial_positive"),
            models.CheckConstraint(
                condition=~Q(status="issued") | (~Q(sha256="") & ~Q(file="")),
                name="document_issued_has_file",
            ),
        ]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="document_subject"),
            models.Index(fields=["doctype", "year"], name="document_type_year"),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if (
            self.pk is not None
            and type(self)._base_manager.filter(pk=self.pk, status=self.Status.ISSUED).exists()
        ):
            raise PermissionError("An issued document cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Issued documents are never deleted.")

    @property
    def is_issued(self) -> bool:
        return self.status == self.Status.ISSUED

    @property
    def is_superseded(self) -> bool:
        try:
            return self.superseded_by is not None
        except IssuedDocument.DoesNotExist:
            return False
