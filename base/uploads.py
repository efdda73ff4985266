"""Uploaded files (evidence, receipts, reports, patrol photos): checked by content, not name.

One place decides what an upload may be: JPEG, PNG or PDF by signature, not empty, not over
`OUTFALLS_EVIDENCE_MAX_BYTES`; it returns the sniffed type, the extension to store it under
and its SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

# Accepted uploads, by content signature (not by the client's name or type).
SIGNATURES = {
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
    b"%PDF-": ("application/pdf", ".pdf"),
}
ALL_TYPES = frozenset(ct for ct, _ext in SIGNATURES.values())
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


def sniff_content_type(head: bytes) -> str | None:
    for signature, (content_type, _ext) in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


@dataclass(frozen=True)
class CheckedUpload:
    content_type: str
    ext: str
    sha256: str


def check_upload(
    file: UploadedFile, *, field: str | None = None, allowed: Collection[str] = ALL_TYPES
) -> CheckedUpload:
    """Refuse an empty, oversized or wrongly typed file; errors are keyed by `field` if given."""

    def refuse(message):
        raise ValidationError({field: message} if field else message)

    limit = settings.OUTFALLS_EVIDENCE_MAX_BYTES
    if file.size > limit:
        refuse(
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": round(file.size / 1048576, 1), "limit": round(limit / 1048576, 1)}
        )
    if file.size == 0:
        refuse(_("The file is empty."))
    file.seek(0)
    content_type = sniff_content_type(file.read(16))
    if content_type not in allowed:
        refuse(
            _("Only JPEG, PNG and PDF files are accepted.")
            if "application/pdf" in allowed
            else _("Only JPEG and PNG photos are accepted.")
        )
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    ext = next(e for ct, e in SIGNATURES.values() if ct == content_type)
    return CheckedUpload(content_type, ext, digest.hexdigest())
