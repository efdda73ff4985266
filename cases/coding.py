"""Outfall codes and names (DOMAIN.md §5). The scheme is pluggable: settings name its class.

HJ 1235-2021's exact segment layout is not available to us, so the default is the local
scheme `{6-digit jurisdiction code}{type code}{4-digit sequence}` (e.g. 140525YH0007), the
sequence gapless and never reused per (jurisdiction, type) via django-sequences. The number
is drawn inside the caller's transaction: if classification fails, it is rolled back too.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string
from sequences import get_next_value


class CodeScheme:
    def next_code(self, outfall) -> str:
        raise NotImplementedError


class LocalCodeScheme(CodeScheme):
    width = 4

    def sequence_name(self, outfall) -> str:
        return f"outfall-code:{outfall.jurisdiction.code}:{outfall.category.code}"

    def next_code(self, outfall) -> str:
        number = get_next_value(self.sequence_name(outfall))
        return f"{outfall.jurisdiction.code}{outfall.category.code}{number:0{self.width}d}"


def code_scheme() -> CodeScheme:
    path = getattr(settings, "OUTFALLS_CODE_SCHEME", "cases.coding.LocalCodeScheme")
    return import_string(path)()


def default_name(outfall, entity_name: str | None = None) -> str:
    """county + town + village/landmark + (entity) + subtype, e.g. 泽州县南村镇冶底村城镇雨洪排口."""
    place = outfall.village or outfall.landmark
    kind = outfall.subtype.name if outfall.subtype_id else "排污口"
    return "".join(
        part for part in (outfall.jurisdiction.name, outfall.town, place, entity_name, kind) if part
    )
