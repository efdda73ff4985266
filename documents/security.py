"""Access table of the documents module.

Access matrix (prose). Every official may open the archive, and sees there exactly the
documents whose SUBJECT they may see: the subject model's record rule decides (an
outfall's signboard follows `cases.security.outfall_scope`, a supervision notice the
supervision's county, ...), so a 阳城县 officer neither sees nor downloads a 泽州县
outfall's signboard (404, like a missing one). County officers issue signboards for the
cases of their county; city officers and city leaders issue the city's notices, minutes and
letters (most are issued by the summons and accountability processes after approval, as
the system). Nobody edits or deletes an issued document. Administrators edit the issuing
authorities and the numbering series (abbreviation, kind character). The verification page
is public and shows only number, type, issuer, date and SHA-256.
"""

from __future__ import annotations

from django.db.models import Q

from base.models import Role
from base.security import register_record_rule

from . import registry

VIEW = "documents.view_issueddocument"
ISSUE = "documents.issue_document"

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COUNTY_OFFICER: [VIEW, ISSUE],
    Role.COUNTY_LEADER: [VIEW],
    Role.DEPARTMENT_OFFICER: [VIEW],
    Role.CITY_OFFICER: [VIEW, ISSUE],
    Role.CITY_LEADER: [VIEW, ISSUE],
    Role.RIVER_CHIEF: [VIEW],
    Role.ADMIN: [
        VIEW,
        "documents.view_issuingauthority",
        "documents.change_issuingauthority",
        "documents.view_documentseries",
        "documents.change_documentseries",
    ],
}

_NOTHING = Q(pk__in=[])


def issueddocument_scope(user) -> Q:
    """Documents whose subject is in the user's scope, type by type."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return _NOTHING
    if user.is_superuser:
        return Q()
    q = _NOTHING
    for doctype in registry.all_types():
        subjects = doctype.model._default_manager.filter(doctype.subject_scope(user))
        q |= Q(
            doctype=doctype.code,
            subject_type=doctype.subject_model,
            subject_id__in=subjects.values("pk"),
        )
    return q


def _reference(user) -> Q:
    return Q() if getattr(user, "is_active", False) else _NOTHING


def register_documents_rules() -> None:
    register_record_rule("documents.issueddocument", issueddocument_scope)
    register_record_rule("documents.issuingauthority", _reference)
    register_record_rule("documents.documentseries", _reference)
