"""Writes of the documents module: issue (number + snapshot) and render (PDF + SHA-256).

`document_issue` is the entry point for the modules that own document types (the summons
and accountability processes call it after approval; the case page calls it for a
signboard). In ONE transaction it checks the actor, builds the context from the subject,
takes the next number of the series (django-sequences: a row lock held until commit, so
numbers are gapless and never reused — a rolled-back issue gives its number back), writes
the `IssuedDocument` with the JSON snapshot, and lets the type record the document (e.g. on
the case's timeline). The PDF is rendered after commit by `render_document_task`, which
calls `document_render`: idempotent (locks the row, returns at once if already rendered).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Model
from django.http import Http404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from sequences import get_next_value

from . import registry
from .data import series_for
from .models import IssuedDocument

logger = logging.getLogger(__name__)

_ERROR_MAX = 4000
DOCUMENT_LANGUAGE = "zh-hans"  # the PDF templates are written in Chinese


def format_number(*, authority: str, kind: str, year: int, serial: int) -> str:
    """`晋市环约〔2024〕3号`: abbreviation, kind, year in 〔〕, serial without zeros or 第."""
    return f"{authority}{kind}〔{year}〕{serial}号"


def sequence_name(*, authority: str, kind: str, year: int) -> str:
    return f"documents:{authority}:{kind}:{year}"


def chinese_date(day: dt.date) -> str:
    """成文日期 in Arabic numerals without leading zeros: 2024年3月5日."""
    return f"{day.year}年{day.month}月{day.day}日"


def verify_url(token: str) -> str:
    return urljoin(settings.SITE_URL, reverse("document_verify", args=[token]))


def _jsonable(context: Mapping[str, Any]) -> dict[str, Any]:
    # the snapshot is exactly what the template will see: round-trip through JSON now
    return json.loads(json.dumps(dict(context), cls=DjangoJSONEncoder, ensure_ascii=False))


def _check_actor(actor, doctype: registry.DocumentType, subject: Model) -> None:
    """System issues (actor None) pass; a user needs the permission and the subject's scope."""
    if actor is None:
        return
    in_scope = (
        doctype.model._default_manager.filter(doctype.subject_scope(actor), pk=subject.pk)
        .only("pk")
        .exists()
    )
    if not in_scope:
        raise Http404
    if not actor.has_perm("documents.issue_document"):
        raise PermissionDenied(_("You do not have permission to issue documents."))
    if doctype.may_issue is not None and not doctype.may_issue(actor, subject):
        raise PermissionDenied(_("You may not issue this document."))


@transaction.atomic
def document_issue(
    *,
    actor,
    doctype: str | registry.DocumentType,
    subject: Model,
    context_extra: Mapping[str, Any] | None = None,
    supersedes: IssuedDocument | None = None,
    now: dt.datetime | None = None,
) -> IssuedDocument:
    """Number, snapshot and record a document about `subject`; render it after commit.

    `supersedes`: the issued document (same type and subject) this one corrects. It keeps
    its number; the new one takes the next number of the series.
    """
    now = now or timezone.now()
    doctype = doctype if isinstance(doctype, registry.DocumentType) else registry.get(doctype)
    if subject._meta.label_lower != doctype.subject_model:
        raise ValueError(f"{doctype.code} is about {doctype.subject_model}, not {subject!r}")
    _check_actor(actor, doctype, subject)
    if supersedes is not None:
        supersedes = _lock_superseded(supersedes, doctype=doctype, subject=subject)

    extra = dict(context_extra or {})
    extra.setdefault("issued_on", timezone.localdate(now))  # builders date "截至…" by it
    # official documents are Chinese whatever the caller's language (a worker's is English)
    with translation.override(DOCUMENT_LANGUAGE):
        context = dict(doctype.build_context(subject, extra))
    title = str(context.get("title") or "").strip()
    if not title:
        raise ValidationError(_("A document needs a title."))
    title_max = IssuedDocument._meta.get_field("title").max_length
    if len(title) > title_max:
        raise ValidationError(_("The title is too long."))

    series = series_for(doctype)
    authority = series.authority
    year = timezone.localdate(now).year
    document = IssuedDocument(
        doctype=doctype.code,
        authority=authority.abbreviation,
        authority_name=authority.name,
        kind=series.kind,
        year=year,
        subject_type=doctype.subject_model,
        subject_id=subject.pk,
        title=title,
        issuer=actor,
        issued_at=now,
        supersedes=supersedes,
    )
    # the number last: the series row stays locked from here until commit
    document.serial = get_next_value(
        sequence_name(authority=authority.abbreviation, kind=series.kind, year=year)
    )
    document.number = format_number(
        authority=authority.abbreviation, kind=series.kind, year=year, serial=document.serial
    )
    context.update(
        title=title,
        number=document.number,
        doctype=doctype.code,
        doctype_name=doctype.name,
        authority_name=authority.name,
        authority_mark=authority.mark,
        year=year,
        date=chinese_date(timezone.localdate(now)),
        verify_url=verify_url(document.token),
        supersedes_number=supersedes.number if supersedes is not None else "",
    )
    document.context = _jsonable(context)
    document.save()
    if doctype.on_issued is not None:
        doctype.on_issued(document, subject)
    transaction.on_commit(_render_after_commit(document.pk), robust=True)
    return document


def _lock_superseded(
    old: IssuedDocument, *, doctype: registry.DocumentType, subject: Model
) -> IssuedDocument:
    old = IssuedDocument.objects.select_for_update().get(pk=old.pk)
    if old.doctype != doctype.code or (old.subject_type, old.subject_id) != (
        doctype.subject_model,
        subject.pk,
    ):
        raise ValidationError(
            _("A correction must be of the same type and about the same subject.")
        )
    if old.status != IssuedDocument.Status.ISSUED:
        raise ValidationError(_("Only an issued document can be superseded."))
    if IssuedDocument.objects.filter(supersedes=old).exists():
        raise ValidationError(_("%(number)s has already been superseded.") % {"number": old.number})
    return old


def _render_after_commit(document_id: int) -> Callable[[], None]:
    # a named closure, not functools.partial: Django logs a robust callback's failure by
    # its __qualname__, which a partial lacks
    def render_issued_document() -> None:
        from .tasks import render_document_task

        render_document_task.delay(document_id)

    return render_issued_document


def document_render(*, document_id: int, now: dt.datetime | None = None) -> IssuedDocument:
    """Render and store the PDF of a numbered document. Idempotent.

    Locks the row; an issued document is returned untouched (never re-rendered). A
    rendering error (template, layout) marks the row `failed` with the error and is not
    raised: it would fail the same way again. A storage error is raised for the task to
    retry. A failed document keeps its number; rendering it again is allowed.
    """
    from . import rendering

    with transaction.atomic():
        document = IssuedDocument.objects.select_for_update().get(pk=document_id)
        if document.status == IssuedDocument.Status.ISSUED:
            return document
        doctype = registry.get(document.doctype)
        try:
            pdf = rendering.html_to_pdf(rendering.render_html(doctype.template, document.context))
        except Exception as exc:
            logger.exception("document %s (%s) failed to render", document.pk, document.number)
            document.status = IssuedDocument.Status.FAILED
            document.render_error = f"{type(exc).__name__}: {exc}"[:_ERROR_MAX]
            document.save(update_fields=["status", "render_error"])
            return document
        field = document.file.field
        name = field.generate_filename(
            document, f"{document.year}/{document.doctype}-{document.pk}.pdf"
        )
        if field.storage.exists(name):  # left by an attempt whose transaction did not commit
            field.storage.delete(name)
        document.file.name = field.storage.save(name, ContentFile(pdf))
        document.sha256 = hashlib.sha256(pdf).hexdigest()
        document.size = len(pdf)
        document.status = IssuedDocument.Status.ISSUED
        document.rendered_at = now or timezone.now()
        document.render_error = ""
        document.save(
            update_fields=["file", "sha256", "size", "status", "rendered_at", "render_error"]
        )
    return document
