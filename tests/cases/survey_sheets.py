"""Survey sheets for the import and ledger tests, built the way officials fill the template."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook

from cases.importing import COLUMNS

LABEL = {c.key: str(c.label) for c in COLUMNS}


def survey_row(i: int = 0, **overrides) -> dict:
    """One valid row (column key → cell value); rows with different `i` lie ≥ 180 m apart."""
    row = {
        "county": "泽州县",
        "town": "南村镇",
        "village": f"冶底{i}村",
        "landmark": f"冶底桥下游{i}号",
        "longitude": round(112.60 + (i % 40) * 0.002, 6),
        "latitude": round(35.30 + (i // 40) * 0.002, 6),
        "water_body": "沁河",
        "entry_mode": "管道",
        "discharge_pattern": "间歇排放",
        "daily_volume": 12.5,
        "main_pollutants": "COD、氨氮",
        "is_discharging": "是",
        "colour": "浅灰",
        "odour": "轻微",
        "survey_level": 2,
        "survey_date": dt.date(2023, 9, 12),
        "surveyors": "张三、李四",
        "in_sewer_coverage": "否",
        "remarks": "",
    }
    row.update(overrides)
    return row


def xlsx(rows: list[dict], keys: list[str] | None = None) -> bytes:
    keys = keys or [c.key for c in COLUMNS]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("排查")
    sheet.append([LABEL[k] for k in keys])
    for row in rows:
        sheet.append([row.get(k) for k in keys])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
