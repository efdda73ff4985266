"""Reads of the documents module, always through the record rule (404 for out of scope)."""

from __future__ import annotations

import hashlib

from django.db.models import Model, QuerySet
from django.http import Http404

from base.security import scoped

from .models import IssuedDocument


def document_list(
    user, *, doctype: str | None = None, year: int | None = None
) -> QuerySet[IssuedDocument]:
    """The archive: documents the user may see, newest first, optionally filtered."""
    qs = scoped(IssuedDocument.objects.select_related("issuer", "superseded_by"), user)
    if doctype:
        qs = qs.filter(doctype=doctype)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-issued_at", "-id")


def document_years(user) -> list[int]:
    qs = scoped(IssuedDocument.objects.all(), user)
    return list(qs.order_by("-year").values_list("year", flat=True).distinct())


def document_get(*, user, pk: int) -> IssuedDocument:
    """One document the user may see; Http404 for missing and forbidden alike."""
    document = (
        scoped(IssuedDocument.objects.select_related("issuer", "supersedes"), user)
        .filter(pk=pk)
        .first()
    )
    if document is None:
        raise Http404
    return document


def subject_documents(*, user, subject: Model) -> QuerySet[IssuedDocument]:
    """The documents about one subject (e.g. an outfall's signboards), for its page."""
    return document_list(user).filter(subject_type=subject._meta.label_lower, subject_id=subject.pk)


def document_for_verification(token: str) -> IssuedDocument:
    """The public verification lookup: issued documents only, by their random token."""
    document = (
        IssuedDocument.objects.select_related("superseded_by")
        .filter(token=token, status=IssuedDocument.Status.ISSUED)
        .first()
    )
    if document is None:
        raise Http404
    return document


def stored_file_sha256(document: IssuedDocument) -> str:
    """SHA-256 of the stored PDF, read back from storage (to verify `document.sha256`)."""
    digest = hashlib.sha256()
    with document.file.open("rb") as fh:
        for chunk in iter(lambda: fh.read(65536), b""):
            digest.update(chunk)
    return digest.hexdigest()
