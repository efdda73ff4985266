"""Jincheng reference data (DOMAIN.md §1), synced idempotently on post_migrate.

Rows are keyed by stable codes/slugs, never by primary key. The sync updates changed
fields in place and never deletes: an administrator's additions survive.
"""

from __future__ import annotations

from django.db import transaction

from .models import Department, Jurisdiction, RiverSegment, WaterBody

CITY = "140500"

# (code, name, kind, parent code, is_local_code)
JURISDICTIONS = [
    (CITY, "晋城市", Jurisdiction.Kind.CITY, None, False),
    ("140502", "城区", Jurisdiction.Kind.DISTRICT, CITY, False),
    ("140521", "沁水县", Jurisdiction.Kind.COUNTY, CITY, False),
    ("140522", "阳城县", Jurisdiction.Kind.COUNTY, CITY, False),
    ("140524", "陵川县", Jurisdiction.Kind.COUNTY, CITY, False),
    ("140525", "泽州县", Jurisdiction.Kind.COUNTY, CITY, False),
    ("140581", "高平市", Jurisdiction.Kind.COUNTY_CITY, CITY, False),
    # The development zone has no GB/T 2260 code (there is no 140523 either). Its local
    # code follows the 7x convention of statistical division codes so that it keeps the
    # six digits outfall codes need; it is flagged local and editable by an administrator.
    ("140571", "晋城经济技术开发区", Jurisdiction.Kind.DEV_ZONE, CITY, True),
]

# (slug, name, basin, kind, target class)
WATER_BODIES = [
    ("qinhe", "沁河", "黄河流域", WaterBody.Kind.RIVER, WaterBody.QualityClass.III),
    ("danhe", "丹河", "黄河流域", WaterBody.Kind.RIVER, WaterBody.QualityClass.III),
]

# (slug, water body slug, jurisdiction code, name)
SEGMENTS = [
    ("qinhe-140521", "qinhe", "140521", "沁河沁水县段"),
    ("qinhe-140522", "qinhe", "140522", "沁河阳城县段"),
    ("qinhe-140525", "qinhe", "140525", "沁河泽州县段"),
    ("danhe-140581", "danhe", "140581", "丹河高平市段"),
    ("danhe-140525", "danhe", "140525", "丹河泽州县段"),
    ("danhe-140502", "danhe", "140502", "丹河城区段"),
]

# Department kinds seeded for the city and every county-level unit (seed 四(十)(十二)).
DEPARTMENT_NAMES = {
    Department.Kind.ECOLOGY: "生态环境局",
    Department.Kind.HOUSING: "住房和城乡建设局",
    Department.Kind.WATER: "水务局",
    Department.Kind.AGRICULTURE: "农业农村局",
    Department.Kind.URBAN_MANAGEMENT: "城市管理局",
    Department.Kind.INDUSTRY: "工业和信息化局",
    Department.Kind.PUBLIC_SECURITY: "公安局",
}
_SHORT = {"晋城市": "市", "晋城经济技术开发区": "开发区"}


def _department_name(jurisdiction: Jurisdiction, kind: str) -> str:
    prefix = "晋城市" if jurisdiction.code == CITY else jurisdiction.name
    if jurisdiction.kind == Jurisdiction.Kind.DEV_ZONE:
        return f"{_SHORT[jurisdiction.name]}{DEPARTMENT_NAMES[kind].removesuffix('局')}部门"
    return f"{prefix}{DEPARTMENT_NAMES[kind]}"


def upsert(model, lookup: dict, values: dict):
    obj, created = model.objects.get_or_create(**lookup, defaults=values)
    if not created:
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if changed:
            for k in changed:
                setattr(obj, k, values[k])
            obj.save(update_fields=changed)
    return obj


@transaction.atomic
def sync_reference_data() -> None:
    """Create or update the reference rows; running it twice changes nothing."""
    by_code: dict[str, Jurisdiction] = {}
    for code, name, kind, parent_code, local in JURISDICTIONS:
        parent = by_code.get(parent_code) if parent_code else None
        path = f"{parent.path if parent else '/'}{code}/"
        by_code[code] = upsert(
            Jurisdiction,
            {"code": code},
            {"name": name, "kind": kind, "parent": parent, "is_local_code": local, "path": path},
        )
    waters = {
        slug: upsert(
            WaterBody,
            {"slug": slug},
            {"name": name, "basin": basin, "kind": kind, "target_class": target},
        )
        for slug, name, basin, kind, target in WATER_BODIES
    }
    for slug, water_slug, jurisdiction_code, name in SEGMENTS:
        upsert(
            RiverSegment,
            {"slug": slug},
            {
                "water_body": waters[water_slug],
                "jurisdiction": by_code[jurisdiction_code],
                "name": name,
            },
        )
    for jurisdiction in by_code.values():
        for kind in DEPARTMENT_NAMES:
            upsert(
                Department,
                {"code": f"{jurisdiction.code}-{kind}"},
                {
                    "name": _department_name(jurisdiction, kind),
                    "kind": kind,
                    "jurisdiction": jurisdiction,
                },
            )
