"""Reference data of the documents module, synced on post_migrate.

Issuing authorities and each registered type's series are created once with `get_or_create`:
an administrator's later edit (a new abbreviation, another kind character) is never
overwritten. Numbers already issued keep the abbreviation they were issued with.
"""

from __future__ import annotations

from django.db import transaction

from . import registry
from .models import DocumentSeries, IssuingAuthority

# code: (name, number abbreviation, red mark of the 文件 format)
AUTHORITIES = {
    "jincheng_eeb": ("晋城市生态环境局", "晋市环", "晋城市生态环境局文件"),
}


@transaction.atomic
def sync_documents_data() -> None:
    for code, (name, abbreviation, mark) in AUTHORITIES.items():
        IssuingAuthority.objects.get_or_create(
            code=code, defaults={"name": name, "abbreviation": abbreviation, "mark": mark}
        )
    for doctype in registry.all_types():
        series_for(doctype)


def series_for(doctype: registry.DocumentType) -> DocumentSeries:
    """The type's series row, created from the type's defaults when missing."""
    series = DocumentSeries.objects.select_related("authority").filter(doctype=doctype.code)
    found = series.first()
    if found is not None:
        return found
    authority = IssuingAuthority.objects.filter(code=doctype.authority).first()
    if authority is None:
        name, abbreviation, mark = AUTHORITIES[doctype.authority]
        authority, _ = IssuingAuthority.objects.get_or_create(
            code=doctype.authority,
            defaults={"name": name, "abbreviation": abbreviation, "mark": mark},
        )
    created, _ = DocumentSeries.objects.get_or_create(
        doctype=doctype.code, defaults={"authority": authority, "kind": doctype.kind}
    )
    return created
