"""The document-type registry, filled by the modules that own the documents' subjects.

`documents` imports only `base` (DESIGN.md §3), and `cases` may not import `documents` (they
are siblings). So a module declares its types in `<module>/documents.py` as a list named
`DOCUMENT_TYPES`, of `DocumentType` objects or of plain mappings with the same keys (the
form `cases` uses, as it cannot import this module); `autodiscover()` — run from
`DocumentsConfig.ready()` — imports every project module's `documents.py` and registers
what it declares, the way `base.security` collects each module's `ROLE_PERMISSIONS`.
A higher module may also call `register()` directly.

A type says what the documents module cannot know:

- `code`: stable snake_case key, also the template name (`templates/documents/<code>.html`
  unless `template` says otherwise);
- `name`: the document's Chinese name as printed (约谈通知书), `label`: the UI label (lazy);
- `subject_model`: the label of the model a document is about (`cases.outfall`);
- `authority` and `kind`: the default series (issuing authority code in
  `documents.data.AUTHORITIES`, kind character), copied once into the editable
  `DocumentSeries` table; the number uses the table's values;
- `build_context(subject, extra) -> dict`: the template context (JSON-serialisable: it is
  snapshotted on the issued document, and the PDF is rendered from the snapshot only). It
  must contain `title`; `extra` is the caller's `context_extra` (user-entered text, dates).
- `scope(user) -> Q` on the subject model: who may see (and download) the documents about a
  subject. Default: the subject model's record rule (`base.security.record_rule_for`).
- `may_issue(user, subject) -> bool`: an extra check for users issuing it (default: anyone
  holding `documents.issue_document` who can see the subject).
- `on_issued(document, subject)`: called inside the issuing transaction, e.g. to put the
  document on the case's timeline.
- `subject_url(subject_id) -> str | None`: where the archive links the subject;
- `one_click`: the type needs no input beyond its subject, so the generic issue view
  (`documents:archive:issue`, a POST from the subject's page) may issue it (the signboard).
  Other types are issued by their module's own flow (the summons process, the sweep).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.models import Model, Q

logger = logging.getLogger(__name__)

ContextBuilder = Callable[[Model, Mapping[str, Any]], dict]
ScopeRule = Callable[[Any], Q]


@dataclass(frozen=True)
class DocumentType:
    code: str
    name: str
    label: Any
    subject_model: str
    authority: str
    kind: str
    build_context: ContextBuilder
    template: str = ""
    scope: ScopeRule | None = None
    may_issue: Callable[[Any, Model], bool] | None = None
    on_issued: Callable[[Any, Model], None] | None = None
    subject_url: Callable[[int], str | None] | None = None
    one_click: bool = False

    def __post_init__(self):
        if not self.code.isidentifier() or self.code.lower() != self.code:
            raise ValueError(f"A document type code must be snake_case, got {self.code!r}")
        if "." not in self.subject_model:
            raise ValueError(f"subject_model must be an app_label.model label: {self.code}")
        if not self.kind or len(self.kind) > 4:
            raise ValueError(f"A document kind is 1-4 characters, got {self.kind!r}")
        if not self.template:
            object.__setattr__(self, "template", f"documents/{self.code}.html")
        object.__setattr__(self, "subject_model", self.subject_model.lower())

    @property
    def model(self) -> type[Model]:
        return apps.get_model(self.subject_model)

    def subject_scope(self, user) -> Q:
        if self.scope is not None:
            return self.scope(user)
        from base.security import record_rule_for

        return record_rule_for(self.model)(user)


_TYPES: dict[str, DocumentType] = {}
_FIELDS = {f.name for f in fields(DocumentType)}


def register(doctype: DocumentType | Mapping[str, Any]) -> DocumentType:
    """Register a type (idempotent for the same declaration; a different one is an error)."""
    if not isinstance(doctype, DocumentType):
        unknown = set(doctype) - _FIELDS
        if unknown:
            raise TypeError(f"Unknown document type keys: {sorted(unknown)}")
        doctype = DocumentType(**doctype)
    existing = _TYPES.get(doctype.code)
    if existing is not None and existing != doctype:
        raise ValueError(f"Document type {doctype.code!r} is already registered differently")
    _TYPES[doctype.code] = doctype
    return doctype


def unregister(code: str) -> None:
    _TYPES.pop(code, None)


def get(code: str) -> DocumentType:
    try:
        return _TYPES[code]
    except KeyError:
        raise LookupError(f"No document type {code!r} is registered") from None


def all_types() -> list[DocumentType]:
    return sorted(_TYPES.values(), key=lambda t: t.code)


def autodiscover() -> None:
    """Import `<module>.documents` of every project module and register `DOCUMENT_TYPES`."""
    for app_path in settings.PROJECT_APPS:
        if app_path == "documents":
            continue
        name = f"{app_path}.documents"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        for doctype in getattr(module, "DOCUMENT_TYPES", ()):
            register(doctype)
