#!/usr/bin/env python
"""Benchmark of the survey import (issue 3 acceptance: ≥ 1,000 rows/s on SQLite).

Generates a deterministic N-row survey sheet (default 10,000) inside the city extent, spread
uniformly at random (seeded) over the city so that only a few dozen points fall within 50 m of
each other, imports it into a fresh database as a county officer holding a city-wide grant,
and prints rows/s and peak memory.

    .venv/bin/python bench/import_survey.py [--rows N] [--tracemalloc]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/outfalls_bench \
        .venv/bin/python bench/import_survey.py

SQLite runs in a temporary file database (migrated here); with a PostgreSQL DATABASE_URL a
throw-away test database (test_<name>) is created and dropped, as the test runner does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import re
import resource
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COUNTIES = ["城区", "沁水县", "阳城县", "陵川县", "泽州县", "高平市", "晋城经济技术开发区"]
WATERS = ["沁河", "丹河"]
ENTRY_MODES = ["明渠", "管道", "泵站", "涵闸", "箱涵", "其他"]
PATTERNS = ["连续排放", "间歇排放", "雨天排放", "不排放", ""]
SUBTYPES = [
    ("", ""),
    ("QT", "农村生活污水散排口"),
    ("YH", "城镇雨洪排口"),
    ("GY", "工矿企业排污口"),
    ("NY", "规模化畜禽养殖排污口"),
]


def credit_code(rng: random.Random) -> str:
    from cases.validators import CHARSET, WEIGHTS

    body = "91" + "1405" + "".join(rng.choice(CHARSET) for _ in range(11))
    total = sum(CHARSET.index(ch) * w for ch, w in zip(body, WEIGHTS, strict=True))
    return body + CHARSET[(31 - total % 31) % 31]


def generate(rows: int, seed: int = 20231231) -> bytes:
    """A valid survey sheet of `rows` rows, the same bytes for the same arguments."""
    from openpyxl import Workbook

    from cases.importing import COLUMNS

    rng = random.Random(seed)
    codes = [credit_code(rng) for _ in range(max(1, rows // 10))]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("排查登记")
    sheet.append([str(c.label) for c in COLUMNS])
    start = dt.date(2023, 6, 1)
    for i in range(rows):
        category, subtype = rng.choice(SUBTYPES)
        entity, code = "", ""
        if i % 3 == 0:
            k = rng.randrange(len(codes))
            entity, code = f"晋城市测试企业{k}有限公司", codes[k]
        values = {
            "county": COUNTIES[i % len(COUNTIES)],
            "town": f"测试镇{i % 40}",
            "village": f"测试村{i % 400}",
            "landmark": f"测试桥下游{i}米",
            "longitude": round(rng.uniform(111.95, 113.65), 6),
            "latitude": round(rng.uniform(35.25, 36.05), 6),
            "water_body": WATERS[i % 2],
            "entry_mode": rng.choice(ENTRY_MODES),
            "discharge_pattern": rng.choice(PATTERNS),
            "daily_volume": round(rng.uniform(0, 800), 2),
            "main_pollutants": "COD、氨氮",
            "is_discharging": rng.choice(["是", "否"]),
            "colour": "浅灰",
            "odour": "轻微",
            "survey_level": rng.choice([1, 2, 3]),
            "survey_date": start + dt.timedelta(days=i % 180),
            "surveyors": "张三、李四",
            "category": category,
            "subtype": subtype,
            "entity_name": entity,
            "credit_code": code,
            "in_drinking_water_zone": "否",
            "in_sewer_coverage": rng.choice(["是", "否"]),
            "remarks": "",
        }
        sheet.append([values.get(c.key) for c in COLUMNS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return as_saved_by_excel(buffer.getvalue())


_INLINE = re.compile(
    r'<c ([^>]*?)t="inlineStr"([^>]*)><is><t(?: xml:space="preserve")?>(.*?)</t></is></c>', re.S
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def as_saved_by_excel(content: bytes) -> bytes:
    """Move openpyxl's inline strings into a shared-string table, as Excel and WPS save them.

    openpyxl writes every string inline (`t="inlineStr"`), which its reader parses several
    times slower than the shared strings (`t="s"`) of a sheet an official filled in Excel.
    """
    strings: dict[str, int] = {}

    def shared(match: re.Match) -> str:
        index = strings.setdefault(match.group(3), len(strings))
        return f'<c {match.group(1)}t="s"{match.group(2)}><v>{index}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name.startswith("xl/worksheets/sheet"):
                data = _INLINE.sub(shared, data.decode()).encode()
            elif name == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
                    "</Types>".encode(),
                )
            elif name == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    f'<Relationship Type="{_SST_REL}" Target="sharedStrings.xml" Id="rIdSst"/>'
                    "</Relationships>".encode(),
                )
            target.writestr(name, data)
        items = "".join(f"<si><t>{text}</t></si>" for text in strings)
        target.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{_MAIN}" uniqueCount="{len(strings)}">{items}</sst>',
        )
    return out.getvalue()


def generate_in_child(rows: int) -> bytes:
    """Generate the sheet in a forked child, so its memory does not count as the import's."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as target:
        pid = os.fork()
        if pid == 0:  # child
            try:
                Path(target.name).write_bytes(generate(rows))
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        return Path(target.name).read_bytes()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations (slower: rows/s is then not representative)",
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    tmp = tempfile.TemporaryDirectory(prefix="outfalls-bench-")
    url = os.environ.get("DATABASE_URL", "")
    postgres = url.startswith(("postgres://", "postgresql://"))
    if not postgres:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_MEDIA_ROOT", tmp.name)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if postgres:
        connection.creation.create_test_db(verbosity=0, autoclobber=True)
    else:
        call_command("migrate", verbosity=0, interactive=False)
    try:
        return run(args, connection)
    finally:
        if postgres:
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
        tmp.cleanup()


def run(args, connection) -> int:
    from base.factories import user_with_role
    from base.models import Role
    from cases.importing import read_survey_sheet, survey_import
    from cases.models import Outfall, OutfallEvent, ResponsibleEntity

    officer = user_with_role(Role.COUNTY_OFFICER, "140500", username="bench_officer")
    started = time.perf_counter()
    content = generate_in_child(args.rows)
    generated = time.perf_counter() - started

    rss_before = rss_mb()
    if args.tracemalloc:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = survey_import(actor=officer, file=content, filename="bench.xlsx")
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    traced_peak = tracemalloc.get_traced_memory()[1] / 1024 / 1024 if args.tracemalloc else None
    if args.tracemalloc:
        tracemalloc.stop()
    rss_after = rss_mb()

    started = time.perf_counter()
    read_survey_sheet(content)
    parsed = time.perf_counter() - started

    assert result.created == args.rows == Outfall.objects.count()
    assert OutfallEvent.objects.filter(kind="imported").count() == args.rows

    vendor = connection.vendor
    print(f"database           {vendor} ({connection.settings_dict['NAME']})")
    print(f"rows               {args.rows:,}  ({len(content) / 1024 / 1024:.2f} MB xlsx)")
    print(f"generate sheet     {generated:.2f} s (not counted)")
    print(f"import (total)     {elapsed:.2f} s wall, {cpu:.2f} s CPU of this process")
    print(f"rate               {args.rows / elapsed:,.0f} rows/s (wall clock)")
    print(f"load average       {os.getloadavg()[0]:.2f} (other processes slow the wall clock)")
    print(f"of which parsing   {parsed:.2f} s ({args.rows / parsed:,.0f} rows/s, measured apart)")
    print(f"possible dups      {result.possible_duplicates} outfalls flagged")
    print(f"entities created   {result.entities_created} (of {ResponsibleEntity.objects.count()})")
    print(
        f"peak RSS           {rss_after:.0f} MB for the process, "
        f"+{rss_after - rss_before:.0f} MB over the {rss_before:.0f} MB before the import"
    )
    if traced_peak is not None:
        print(f"tracemalloc peak   {traced_peak:.1f} MB (Python allocations during import)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
