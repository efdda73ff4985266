"""Official documents about outfall cases: the 排污口标识牌 (signboard).

Declared as plain data (`DOCUMENT_TYPES`) for the documents module to collect: `cases` and
`documents` are siblings (DESIGN.md §3), so this module must not import `documents`. The
documents module numbers and renders; what is printed, who may issue and the timeline entry
are decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from base.models import Jurisdiction, Role
from base.security import holds_role_over

from . import selectors, services
from .models import Outfall
from .security import outfall_scope

# Supervision hotline printed on signboards (12369: the national ecology-environment hotline)
HOTLINE = "12369"
CITY_BUREAU = "晋城市生态环境局"


def supervising_bureau(jurisdiction: Jurisdiction) -> str:
    """The county-level branch of the city bureau (e.g. 晋城市生态环境局泽州分局)."""
    name = jurisdiction.name
    if jurisdiction.kind == Jurisdiction.Kind.DEV_ZONE:
        return f"{CITY_BUREAU}开发区分局"
    if jurisdiction.kind == Jurisdiction.Kind.CITY:
        return CITY_BUREAU
    if name.endswith(("县", "市")) and len(name) > 2:
        name = name[:-1]
    return f"{CITY_BUREAU}{name}分局"


def signboard_context(outfall: Outfall, extra: Mapping[str, Any]) -> dict[str, Any]:
    outfall = Outfall.objects.select_related(
        "jurisdiction", "category", "subtype", "water_body", "segment"
    ).get(pk=outfall.pk)
    if not outfall.code:
        raise ValidationError(_("The outfall needs a code before its signboard is issued."))
    entity = selectors.primary_entity(outfall)
    place = "".join(p for p in (outfall.town, outfall.village, outfall.landmark) if p)
    kind = outfall.subtype.name if outfall.subtype_id else ""
    if outfall.category_id and outfall.subtype_id and outfall.category.name != kind:
        kind = f"{outfall.category.name}（{kind}）"
    return {
        "title": f"{outfall.name or outfall.code}标识牌",
        "outfall_name": outfall.name,
        "outfall_code": outfall.code,
        "national_code": outfall.national_code,
        "outfall_type": kind or (outfall.category.name if outfall.category_id else ""),
        "responsible_entity": entity.name if entity else "",
        "receiving_water": outfall.water_body.name if outfall.water_body_id else "",
        "segment": outfall.segment.name if outfall.segment_id else "",
        "county": outfall.jurisdiction.name,
        "location": f"{outfall.jurisdiction.name}{place}",
        "longitude": f"{outfall.longitude:.6f}",
        "latitude": f"{outfall.latitude:.6f}",
        "supervisor": str(extra.get("supervisor") or supervising_bureau(outfall.jurisdiction)),
        "hotline": str(extra.get("hotline") or HOTLINE),
    }


def may_issue_signboard(user, outfall: Outfall) -> bool:
    return user.is_superuser or holds_role_over(
        user, {Role.COUNTY_OFFICER, Role.CITY_OFFICER}, outfall.jurisdiction
    )


def record_on_timeline(document, outfall: Outfall) -> None:
    services.outfall_document_recorded(
        outfall=outfall,
        document_number=document.number,
        title=document.title,
        actor=document.issuer,
        now=document.issued_at,
    )


def outfall_url(outfall_id: int) -> str:
    return reverse("cases:outfalls:detail", args=[outfall_id])


DOCUMENT_TYPES = [
    {
        "code": "outfall_signboard",
        "name": "入河排污口标识牌",
        "label": gettext_lazy("Outfall signboard"),
        "subject_model": "cases.outfall",
        "authority": "jincheng_eeb",
        "kind": "标",
        "build_context": signboard_context,
        "scope": outfall_scope,
        "may_issue": may_issue_signboard,
        "on_issued": record_on_timeline,
        "subject_url": outfall_url,
        "one_click": True,
    },
]
