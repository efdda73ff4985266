"""Survey import (排查成果导入): the Excel template, the all-or-nothing import, the error report.

`survey_import` is a service (STYLE.md): keyword-only, takes `actor` (None for the system),
validates every row of the sheet and writes only if every row is valid, in one transaction.
It is built for volume (≥ 1,000 rows/s on SQLite): reference data is resolved once up
front, rows are validated in Python (the checks of `Outfall.full_clean` without its queries,
then `Outfall.clean()` itself on objects that carry their related rows), and outfalls,
entity links and audit events are written with `bulk_create`.

Duplicates (DOMAIN.md §3: 有口皆查、不缺不漏, but once): an exact duplicate (same county, water
body and identical coordinates, in the file or against the register) rejects the row; a
near duplicate (same water body, within 50 m) is imported, flagged `is_possible_duplicate`
and linked through `possible_duplicate_of`, for an official to void or keep later. The 50 m
check buckets points on a 0.001° grid, so it is linear in the number of points.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import unicodedata
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from base.models import Jurisdiction, RiverSegment, User, WaterBody
from base.security import grant_jurisdiction_ids

from . import registry
from .coding import default_name
from .models import Category, Outfall, OutfallEntity, OutfallEvent, ResponsibleEntity, Subtype
from .security import FULL_SCOPE_ROLES
from .validators import credit_code_is_valid

NEAR_DUPLICATE_METRES = 50.0
DEFAULT_MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 10
_EARTH_RADIUS_M = 6_371_008.8
_GRID = 0.001  # degrees: bucket size of the near-duplicate grid (~111 m of latitude)
_COORD = Decimal("0.000001")
_VOLUME = Decimal("0.01")
_VOLUME_MAX = Decimal("9999999999.99")  # max_digits=12, decimal_places=2
_BATCH = 500


# --- columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    required: bool = False
    hint: Promise | str = ""
    width: int = 14
    max_length: int | None = None


_YES_NO = gettext_lazy("Yes or no (是/否); blank means no.")

COLUMNS: tuple[Column, ...] = (
    Column(
        "county",
        gettext_lazy("County-level unit"),
        True,
        gettext_lazy("Required. Name or code of a county-level unit (see the reference sheet)."),
        16,
    ),
    Column("town", gettext_lazy("Town (township)"), max_length=64),
    Column("village", gettext_lazy("Village (community)"), max_length=64),
    Column(
        "landmark",
        gettext_lazy("Location description"),
        hint=gettext_lazy("A landmark that helps find the outfall, e.g. 50 m below the bridge."),
        width=24,
        max_length=128,
    ),
    Column(
        "longitude",
        gettext_lazy("Longitude (°E)"),
        True,
        gettext_lazy("Required. Decimal degrees (WGS 84), e.g. 112.851234."),
    ),
    Column(
        "latitude",
        gettext_lazy("Latitude (°N)"),
        True,
        gettext_lazy("Required. Decimal degrees (WGS 84), e.g. 35.512345."),
    ),
    Column(
        "water_body",
        gettext_lazy("Receiving water"),
        True,
        gettext_lazy("Required. Name of the receiving water (see the reference sheet)."),
    ),
    Column(
        "entry_mode",
        gettext_lazy("Entry mode"),
        True,
        gettext_lazy(
            "Required. Open channel, pipe, pump station, culvert gate, box culvert, other."
        ),
    ),
    Column("discharge_pattern", gettext_lazy("Discharge pattern")),
    Column(
        "daily_volume",
        gettext_lazy("Daily volume (m³/d)"),
        hint=gettext_lazy("A number of cubic metres per day, e.g. 12.5."),
    ),
    Column("main_pollutants", gettext_lazy("Main pollutants"), width=18, max_length=200),
    Column("is_discharging", gettext_lazy("Discharging when surveyed"), hint=_YES_NO),
    Column("colour", gettext_lazy("Colour"), max_length=32),
    Column("odour", gettext_lazy("Odour"), max_length=32),
    Column(
        "survey_level",
        gettext_lazy("Survey level"),
        hint=gettext_lazy(
            "1 remote sensing / drone, 2 on-foot field check, 3 expert verification; blank means 2."
        ),
    ),
    Column(
        "survey_date",
        gettext_lazy("Survey date"),
        True,
        gettext_lazy("Required. A date, e.g. 2023-09-12."),
    ),
    Column("surveyors", gettext_lazy("Surveyors"), max_length=200),
    Column(
        "category",
        gettext_lazy("Outfall category"),
        hint=gettext_lazy("Optional at survey time: first-level type, name or code (GY, SH, ...)."),
        width=18,
    ),
    Column(
        "subtype",
        gettext_lazy("Outfall subtype"),
        hint=gettext_lazy("Optional at survey time: second-level type within the category."),
        width=24,
    ),
    Column(
        "entity_name",
        gettext_lazy("Suspected responsible entity"),
        width=24,
        max_length=128,
    ),
    Column(
        "credit_code",
        gettext_lazy("Unified social credit code"),
        hint=gettext_lazy("18 characters (GB 32100), optional."),
        width=22,
    ),
    Column(
        "in_drinking_water_zone",
        gettext_lazy("In a drinking-water source protection zone"),
        hint=_YES_NO,
    ),
    Column("in_spring_zone", gettext_lazy("In a key spring-area protection zone"), hint=_YES_NO),
    Column("in_nature_reserve", gettext_lazy("In a nature reserve"), hint=_YES_NO),
    Column("in_red_line", gettext_lazy("Inside the ecological red line"), hint=_YES_NO),
    Column("in_basic_farmland", gettext_lazy("In permanent basic farmland"), hint=_YES_NO),
    Column("in_other_protected", gettext_lazy("In another special protection area"), hint=_YES_NO),
    Column("in_sewer_coverage", gettext_lazy("Inside sewer-network coverage"), hint=_YES_NO),
    Column(
        "in_industrial_park",
        gettext_lazy("Inside an industrial park or development zone"),
        hint=_YES_NO,
    ),
    Column("remarks", gettext_lazy("Remarks"), width=24),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
BOOLEAN_KEYS = (
    "is_discharging",
    "in_drinking_water_zone",
    "in_spring_zone",
    "in_nature_reserve",
    "in_red_line",
    "in_basic_farmland",
    "in_other_protected",
    "in_sewer_coverage",
    "in_industrial_park",
)
TEXT_KEYS = (
    "town",
    "village",
    "landmark",
    "main_pollutants",
    "colour",
    "odour",
    "surveyors",
    "remarks",
)
# Outfall model fields the sheet fills directly (after conversion).
_OUTFALL_KEYS = (
    *TEXT_KEYS,
    *BOOLEAN_KEYS,
    "longitude",
    "latitude",
    "entry_mode",
    "discharge_pattern",
    "daily_volume",
    "survey_level",
    "survey_date",
)
# Outfall.clean() error keys → sheet columns.
_FIELD_COLUMN = {
    "jurisdiction": "county",
    "water_body": "water_body",
    "segment": "water_body",
    "category": "category",
}

# Chinese survey terms (DOMAIN.md §3) accepted besides the stored values and the labels in
# every UI language: sheets are filled by hand, in the words officials use.
ENTRY_MODE_ALIASES = {
    "明渠": "open_channel",
    "沟渠": "open_channel",
    "管道": "pipe",
    "管涵": "pipe",
    "泵站": "pump_station",
    "涵闸": "sluice",
    "闸门": "sluice",
    "箱涵": "box_culvert",
    "其他": "other",
    "其它": "other",
}
DISCHARGE_PATTERN_ALIASES = {
    "连续": "continuous",
    "连续排放": "continuous",
    "间歇": "intermittent",
    "间歇排放": "intermittent",
    "间断排放": "intermittent",
    "雨天排放": "rain_only",
    "仅雨天排放": "rain_only",
    "降雨时排放": "rain_only",
    "不排放": "none",
    "无排放": "none",
    "未排放": "none",
}
SURVEY_LEVEL_ALIASES = {
    "1": 1,
    "一级": 1,
    "1级": 1,
    "2": 2,
    "二级": 2,
    "2级": 2,
    "3": 3,
    "三级": 3,
    "3级": 3,
}
_TRUE = {"是", "y", "yes", "true", "t", "1", "√", "✓", "有", "在"}
_FALSE = {"否", "n", "no", "false", "f", "0", "×", "✗", "无", "不在", "不是"}


# --- results and errors --------------------------------------------------------------------


@dataclass(frozen=True)
class ImportIssue:
    """One reason a file cannot be imported. `row` is the sheet's row number (None: file)."""

    row: int | None
    column: str
    message: str

    def __str__(self):
        if self.row is None:
            return self.message
        return _("Row %(row)s, %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class SurveySheet:
    """The sheet as read: its header row and every non-blank data row (row number, values)."""

    title: str
    header_row: int
    leading_rows: list[tuple]
    headers: list[Any]
    columns: dict[str, int]
    rows: list[tuple[int, tuple]] = field(default_factory=list)


class SurveyImportError(Exception):
    """The file was rejected; nothing was written. `issues` name row, column and reason."""

    def __init__(self, issues: list[ImportIssue], sheet: SurveySheet | None = None):
        self.issues = sorted(issues, key=lambda i: (i.row or 0, _column_order(i.column)))
        self.sheet = sheet
        super().__init__("; ".join(str(i) for i in self.issues[:5]))


@dataclass
class ImportResult:
    created: int
    possible_duplicates: int
    entities_created: int
    outfall_ids: list[int]


def _column_order(label: str) -> int:
    for index, column in enumerate(COLUMNS):
        if str(column.label) == label:
            return index
    return -1


class _CellError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- normalisation -------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_PAREN = re.compile(r"\(.*?\)")


def _key(value: Any) -> str:
    """Lookup key: NFKC (full-width → ASCII), no whitespace, case-folded."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(value))).casefold()


def _header_keys(label: str) -> set[str]:
    key = _key(label).strip("*")
    return {key, _PAREN.sub("", key)}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise _CellError(_("“%(value)s” is not a number.") % {"value": value})
    if isinstance(value, int | float):
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().rstrip("°").strip()
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise _CellError(_("“%(value)s” is not a number.") % {"value": value}) from None
    if not number.is_finite():
        raise _CellError(_("“%(value)s” is not a number.") % {"value": value})
    return number


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 19000101 <= value <= 29991231 and float(value).is_integer():
            value = str(int(value))
        elif 1 <= value < 2958466:  # an Excel serial day number in a cell not formatted as date
            from openpyxl.utils.datetime import from_excel

            return from_excel(value).date()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise _CellError(
        _("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": _text(value)}
    )


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    key = _key(_text(value))
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise _CellError(_("“%(value)s” is not yes or no (是/否).") % {"value": _text(value)})


def _labels(choices: Iterable[tuple[Any, Any]], language: str) -> dict[str, Any]:
    with translation.override(language):
        return {_key(str(label)): value for value, label in choices}


def _choice_map(choices, aliases: dict[str, Any]) -> dict[str, Any]:
    choices = list(choices)
    mapping = {_key(value): value for value, _label in choices}
    mapping.update(_labels(choices, "en"))
    for code, _name in settings.LANGUAGES:
        mapping.update(_labels(choices, code))
    mapping.update({_key(alias): value for alias, value in aliases.items()})
    return mapping


# --- reading the file ----------------------------------------------------------------------


def _file_issue(message: str) -> SurveyImportError:
    return SurveyImportError([ImportIssue(None, "", message)])


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:g} MB"
    return f"{size / 1024:g} KB"


def _read_bytes(file: IO[bytes] | str | bytes) -> bytes:
    """The upload's content, refusing files over the size limit before reading them."""
    limit = settings.OUTFALLS_IMPORT_MAX_BYTES
    too_big = _("The file is larger than %(max)s.") % {"max": size_label(limit)}
    if isinstance(file, bytes):
        data = file
    elif isinstance(file, str):
        if os.path.getsize(file) > limit:
            raise _file_issue(too_big)
        with open(file, "rb") as fh:
            data = fh.read()
    else:
        size = getattr(file, "size", None)
        if size is not None and size > limit:
            raise _file_issue(too_big)
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise _file_issue(too_big)
    return data


def read_survey_sheet(file: IO[bytes] | str | bytes) -> SurveySheet:
    """Parse the first worksheet of an .xlsx (read-only); file-level problems raise."""
    data = _read_bytes(file)
    if not data:
        raise _file_issue(_("The file is empty."))
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise _file_issue(
            _("This is an Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx).")
        )
    not_xlsx = _("The file is not an Excel workbook (.xlsx).")
    if data[:4] != b"PK\x03\x04":
        raise _file_issue(not_xlsx)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError (missing part), InvalidFileException, ...
        raise _file_issue(not_xlsx) from exc
    try:
        return _parse_sheet(workbook)
    except SurveyImportError:
        raise
    except Exception as exc:  # a corrupt sheet part surfaces only while iterating
        raise _file_issue(not_xlsx) from exc
    finally:
        workbook.close()


def _header_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    languages = {"en", *(code for code, _name in settings.LANGUAGES)}
    for language in sorted(languages):
        with translation.override(language):
            for column in COLUMNS:
                for key in _header_keys(str(column.label)):
                    lookup.setdefault(key, column.key)
    for column in COLUMNS:
        lookup.setdefault(_key(column.key), column.key)
    return lookup


def _parse_sheet(workbook) -> SurveySheet:
    if not workbook.worksheets:
        raise _file_issue(_("The file has no data rows."))
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()  # trust the cells, not the stored dimension
    lookup = _header_lookup()
    max_rows = getattr(settings, "OUTFALLS_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
    rows_iter = sheet.iter_rows(values_only=True)
    leading: list[tuple] = []
    header_row = 0
    columns: dict[str, int] = {}
    headers: list[Any] = []
    for number, values in enumerate(rows_iter, start=1):
        found: dict[str, int] = {}
        duplicated: list[str] = []
        for index, value in enumerate(values or ()):
            if _blank(value):
                continue
            key = lookup.get(_key(value).strip("*")) or lookup.get(
                _PAREN.sub("", _key(value).strip("*"))
            )
            if key is None:
                continue
            if key in found:
                duplicated.append(key)
            found[key] = index
        if len(found) >= 3:
            if duplicated:
                raise _file_issue(
                    _("The column “%(column)s” appears more than once.")
                    % {"column": COLUMN_BY_KEY[duplicated[0]].label}
                )
            header_row, columns, headers = number, found, list(values)
            break
        leading.append(tuple(values or ()))
        if number >= HEADER_SEARCH_ROWS:
            break
    if not header_row:
        raise _file_issue(
            _("No header row found: use the survey template (its first row names the columns).")
        )
    missing = [c for c in COLUMNS if c.required and c.key not in columns]
    if missing:
        raise _file_issue(_("The sheet has no “%(column)s” column.") % {"column": missing[0].label})
    width = len(headers)
    result = SurveySheet(
        title=sheet.title,
        header_row=header_row,
        leading_rows=leading,
        headers=headers,
        columns=columns,
    )
    for number, values in enumerate(rows_iter, start=header_row + 1):
        values = tuple(values or ())
        if all(_blank(v) for v in values):
            continue
        if len(result.rows) >= max_rows:
            raise _file_issue(
                _("The file has more than %(max)s data rows: split it into several files.")
                % {"max": max_rows}
            )
        if len(values) != width:  # cells right of the header belong to no column
            values = values[:width] + (None,) * (width - len(values))
        result.rows.append((number, values))
    if not result.rows:
        raise _file_issue(_("The file has no data rows."))
    return result


# --- reference data ------------------------------------------------------------------------


class _References:
    """Reference rows resolved once per import (a handful of queries, none per row)."""

    def __init__(self):
        jurisdictions = list(Jurisdiction.objects.all())
        self.jurisdictions: dict[str, Jurisdiction] = {}
        for j in jurisdictions:
            self.jurisdictions.setdefault(_key(j.code), j)
        for j in jurisdictions:
            self.jurisdictions.setdefault(_key(j.name), j)
        self.waters: dict[str, list[WaterBody]] = defaultdict(list)
        for water in WaterBody.objects.all():
            for key in {
                _key(water.name),
                _key(water.slug),
                *([_key(water.code)] if water.code else []),
            }:
                self.waters[key].append(water)
        self.categories: dict[str, Category] = {}
        categories = list(Category.objects.all())
        for c in categories:
            self.categories[_key(c.code)] = c
            self.categories.setdefault(_key(c.name), c)
        self.subtypes: dict[str, list[Subtype]] = defaultdict(list)
        for s in Subtype.objects.select_related("category"):
            for key in {_key(s.code), _key(s.name)}:
                self.subtypes[key].append(s)
        segments: dict[tuple[int, int], list[RiverSegment]] = defaultdict(list)
        for segment in RiverSegment.objects.all():
            segments[(segment.water_body_id, segment.jurisdiction_id)].append(segment)
        self.segments = {k: v[0] for k, v in segments.items() if len(v) == 1}
        self.entry_modes = _choice_map(Outfall.EntryMode.choices, ENTRY_MODE_ALIASES)
        self.discharge_patterns = _choice_map(
            Outfall.DischargePattern.choices, DISCHARGE_PATTERN_ALIASES
        )
        self.survey_levels = _choice_map(Outfall.SurveyLevel.choices, SURVEY_LEVEL_ALIASES)
        self.extent = settings.OUTFALLS_CITY_EXTENT


# --- validating rows -----------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    jurisdiction: Jurisdiction
    water_body: WaterBody
    values: dict[str, Any]
    category: Category | None
    subtype: Subtype | None
    entity_name: str
    credit_code: str
    lat: float
    lon: float
    entity: ResponsibleEntity | None = None
    duplicates: set = field(default_factory=set)  # ("row", index) / ("outfall", id)


class _Validator:
    def __init__(
        self,
        sheet: SurveySheet,
        refs: _References,
        allowed: frozenset[int] | None,
        today: dt.date,
    ):
        self.sheet = sheet
        self.refs = refs
        self.allowed = allowed
        self.today = today
        self.issues: list[ImportIssue] = []
        self.labels = {c.key: str(c.label) for c in COLUMNS}

    def issue(self, number: int, key: str, message: str) -> None:
        self.issues.append(ImportIssue(number, self.labels[key], message))

    # one converter per column key; each returns the value or raises _CellError
    def county(self, raw):
        j = self.refs.jurisdictions.get(_key(_text(raw)))
        if j is None:
            raise _CellError(_("Unknown county-level unit “%(value)s”.") % {"value": _text(raw)})
        if not j.is_county_level:
            raise _CellError(
                _("“%(value)s” is not a county-level unit: give the county, district or zone.")
                % {"value": _text(raw)}
            )
        if self.allowed is not None and j.pk not in self.allowed:
            raise _CellError(
                _("You may import rows only for your own jurisdiction; %(county)s is outside it.")
                % {"county": j.name}
            )
        return j

    def water_body(self, raw):
        found = self.refs.waters.get(_key(_text(raw)), [])
        if not found:
            raise _CellError(_("Unknown water body “%(value)s”.") % {"value": _text(raw)})
        if len(found) > 1:
            raise _CellError(
                _("Several water bodies are called “%(value)s”: give its code.")
                % {"value": _text(raw)}
            )
        return found[0]

    def _coordinate(self, raw, low: float, high: float, message: str) -> Decimal:
        number = _decimal(raw).quantize(_COORD, rounding=ROUND_HALF_UP)
        if not (low <= float(number) <= high):
            raise _CellError(message % {"value": _text(raw), "min": low, "max": high})
        return number

    def longitude(self, raw):
        e = self.refs.extent
        return self._coordinate(
            raw,
            e["lon_min"],
            e["lon_max"],
            _("Longitude %(value)s is outside the city (%(min)s to %(max)s° E)."),
        )

    def latitude(self, raw):
        e = self.refs.extent
        return self._coordinate(
            raw,
            e["lat_min"],
            e["lat_max"],
            _("Latitude %(value)s is outside the city (%(min)s to %(max)s° N)."),
        )

    def _choice(self, mapping: dict, names: Callable[[], list[str]], raw):
        value = mapping.get(_key(_text(raw)))
        if value is None:
            options = "、".join(names())
            raise _CellError(
                _("Unknown value “%(value)s”; use one of: %(choices)s.")
                % {"value": _text(raw), "choices": options}
            )
        return value

    def entry_mode(self, raw):
        return self._choice(self.refs.entry_modes, _entry_mode_names, raw)

    def discharge_pattern(self, raw):
        return self._choice(self.refs.discharge_patterns, _discharge_pattern_names, raw)

    def survey_level(self, raw):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        value = self.refs.survey_levels.get(_key(_text(raw)))
        if value is None:
            raise _CellError(_("The survey level is 1, 2 or 3."))
        return value

    def daily_volume(self, raw):
        number = _decimal(raw)
        if number < 0:
            raise _CellError(_("The daily volume cannot be negative."))
        number = number.quantize(_VOLUME, rounding=ROUND_HALF_UP)
        if number > _VOLUME_MAX:
            raise _CellError(_("The daily volume is too large."))
        return number

    def survey_date(self, raw):
        value = _date(raw)
        if value > self.today:
            raise _CellError(
                _("The survey date %(value)s is in the future.") % {"value": value.isoformat()}
            )
        return value

    def category(self, raw):
        c = self.refs.categories.get(_key(_text(raw)))
        if c is None:
            raise _CellError(_("Unknown outfall category “%(value)s”.") % {"value": _text(raw)})
        return c

    def subtype(self, raw):
        found = self.refs.subtypes.get(_key(_text(raw)))
        if not found:
            raise _CellError(_("Unknown outfall subtype “%(value)s”.") % {"value": _text(raw)})
        return found

    def credit_code(self, raw):
        code = _key(_text(raw)).upper()
        if not credit_code_is_valid(code):
            raise _CellError(
                _(
                    "“%(value)s” is not a valid unified social credit code "
                    "(18 characters with a check character, GB 32100)."
                )
                % {"value": _text(raw)}
            )
        return code

    def convert(self, number: int, values: tuple) -> _Row | None:
        columns = self.sheet.columns
        data: dict[str, Any] = {}
        ok = True
        for column in COLUMNS:
            index = columns.get(column.key)
            raw = values[index] if index is not None and index < len(values) else None
            if _blank(raw):
                if column.required:
                    self.issue(number, column.key, _("This value is required."))
                    ok = False
                continue
            try:
                if column.key in BOOLEAN_KEYS:
                    data[column.key] = _boolean(raw)
                elif column.key in TEXT_KEYS or column.key == "entity_name":
                    text = _text(raw)
                    if column.max_length and len(text) > column.max_length:
                        raise _CellError(
                            _("Too long: at most %(max)s characters.") % {"max": column.max_length}
                        )
                    data[column.key] = text
                else:
                    data[column.key] = getattr(self, column.key)(raw)
            except _CellError as exc:
                self.issue(number, column.key, exc.message)
                ok = False
        if not ok:
            return None
        category: Category | None = data.pop("category", None)
        subtypes: list[Subtype] | None = data.pop("subtype", None)
        subtype = None
        if subtypes:
            within = [s for s in subtypes if category is None or s.category_id == category.pk]
            if not within:
                self.issue(
                    number,
                    "subtype",
                    _("Subtype “%(subtype)s” does not belong to category “%(category)s”.")
                    % {"subtype": subtypes[0].name, "category": category.name},
                )
                return None
            if len(within) > 1:
                self.issue(
                    number,
                    "subtype",
                    _("Several subtypes are called “%(value)s”: give the category too.")
                    % {"value": within[0].name},
                )
                return None
            subtype = within[0]
            category = category or subtype.category
        jurisdiction = data.pop("county")
        water = data.pop("water_body")
        return _Row(
            number=number,
            jurisdiction=jurisdiction,
            water_body=water,
            values=data,
            category=category,
            subtype=subtype,
            entity_name=data.pop("entity_name", ""),
            credit_code=data.pop("credit_code", ""),
            lat=float(data["latitude"]),
            lon=float(data["longitude"]),
        )


# --- duplicates ----------------------------------------------------------------------------


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class _Grid:
    """Points bucketed per (water body, 0.001° cell): a 50 m search visits a few cells."""

    def __init__(self, metres: float = NEAR_DUPLICATE_METRES):
        self.metres = metres
        self.cells: dict[tuple[int, int, int], list[tuple[Any, float, float]]] = defaultdict(list)

    def add(self, water_id: int, lat: float, lon: float, ref: Any) -> None:
        self.cells[(water_id, math.floor(lat / _GRID), math.floor(lon / _GRID))].append(
            (ref, lat, lon)
        )

    def near(self, water_id: int, lat: float, lon: float) -> Iterable[Any]:
        dlat = math.degrees(self.metres / _EARTH_RADIUS_M)
        dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
        for i in range(math.floor((lat - dlat) / _GRID), math.floor((lat + dlat) / _GRID) + 1):
            for j in range(math.floor((lon - dlon) / _GRID), math.floor((lon + dlon) / _GRID) + 1):
                for ref, plat, plon in self.cells.get((water_id, i, j), ()):
                    if haversine_m(lat, lon, plat, plon) <= self.metres:
                        yield ref


def _existing_points(rows: list[_Row]) -> list[tuple]:
    """Registered outfalls on the file's water bodies inside its bounding box (+ margin)."""
    margin_lat = math.degrees(NEAR_DUPLICATE_METRES / _EARTH_RADIUS_M) * 1.5
    by_water: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        by_water[row.water_body.pk].append(row)
    points: list[tuple] = []
    for water_id, group in by_water.items():
        lat_min = min(r.lat for r in group) - margin_lat
        lat_max = max(r.lat for r in group) + margin_lat
        margin_lon = margin_lat / max(math.cos(math.radians(max(abs(lat_min), abs(lat_max)))), 1e-6)
        lon_min = min(r.lon for r in group) - margin_lon
        lon_max = max(r.lon for r in group) + margin_lon
        points.extend(
            Outfall.objects.filter(
                water_body_id=water_id,
                latitude__gte=Decimal(f"{lat_min:.6f}"),
                latitude__lte=Decimal(f"{lat_max:.6f}"),
                longitude__gte=Decimal(f"{lon_min:.6f}"),
                longitude__lte=Decimal(f"{lon_max:.6f}"),
            )
            .order_by()
            .values_list(
                "pk", "jurisdiction_id", "water_body_id", "longitude", "latitude", "code", "name"
            )
        )
    return points


def _find_duplicates(rows: list[_Row], validator: _Validator) -> list[_Row]:
    """Reject exact duplicates; record near duplicates on the rows. Returns the valid rows."""
    grid = _Grid()
    exact: dict[tuple, tuple[str, Any]] = {}
    labels: dict[int, str] = {}
    for pk, jurisdiction_id, water_id, lon, lat, code, name in _existing_points(rows):
        key = (
            jurisdiction_id,
            water_id,
            Decimal(lon).quantize(_COORD),
            Decimal(lat).quantize(_COORD),
        )
        exact.setdefault(key, ("outfall", pk))
        labels[pk] = code or name or f"#{pk}"
        grid.add(water_id, float(lat), float(lon), ("outfall", pk))
    kept: list[_Row] = []
    for row in rows:
        key = (
            row.jurisdiction.pk,
            row.water_body.pk,
            row.values["longitude"],
            row.values["latitude"],
        )
        seen = exact.get(key)
        if seen is not None:
            kind, ref = seen
            if kind == "row":
                message = _(
                    "Duplicate of row %(row)s: same county, receiving water and coordinates."
                ) % {"row": ref}
            else:
                message = _(
                    "Duplicate of the registered outfall %(outfall)s: same county, receiving "
                    "water and coordinates."
                ) % {"outfall": labels[ref]}
            validator.issue(row.number, "longitude", message)
            continue
        exact[key] = ("row", row.number)
        index = len(kept)
        for ref in grid.near(row.water_body.pk, row.lat, row.lon):
            row.duplicates.add(ref)
            if ref[0] == "row":
                kept[ref[1]].duplicates.add(("row", index))
        grid.add(row.water_body.pk, row.lat, row.lon, ("row", index))
        kept.append(row)
    return kept


# --- entities ------------------------------------------------------------------------------


def _chunks(items: list, size: int = _BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _resolve_entities(rows: list[_Row], validator: _Validator) -> list[ResponsibleEntity]:
    """Attach a ResponsibleEntity to each row that names one; returns the new (unsaved) ones."""
    codes = sorted({r.credit_code for r in rows if r.credit_code})
    names = sorted({r.entity_name for r in rows if r.entity_name and not r.credit_code})
    by_code: dict[str, ResponsibleEntity] = {}
    for chunk in _chunks(codes):
        by_code.update(
            (e.credit_code, e) for e in ResponsibleEntity.objects.filter(credit_code__in=chunk)
        )
    by_name: dict[tuple[str, int], ResponsibleEntity] = {}
    for chunk in _chunks(names):
        for e in ResponsibleEntity.objects.filter(credit_code="", name__in=chunk).order_by("pk"):
            by_name.setdefault((e.name, e.jurisdiction_id), e)
    created: list[ResponsibleEntity] = []
    for row in rows:
        entity = None
        if row.credit_code:
            entity = by_code.get(row.credit_code)
            if entity is None:
                if not row.entity_name:
                    validator.issue(
                        row.number,
                        "entity_name",
                        _("Give the name of the responsible entity with its credit code."),
                    )
                    continue
                entity = ResponsibleEntity(
                    name=row.entity_name,
                    credit_code=row.credit_code,
                    jurisdiction=row.jurisdiction,
                    kind=ResponsibleEntity.Kind.ENTERPRISE,
                )
                by_code[row.credit_code] = entity
                created.append(entity)
        elif row.entity_name:
            key = (row.entity_name, row.jurisdiction.pk)
            entity = by_name.get(key)
            if entity is None:
                entity = ResponsibleEntity(
                    name=row.entity_name,
                    jurisdiction=row.jurisdiction,
                    kind=ResponsibleEntity.Kind.ENTERPRISE,
                )
                by_name[key] = entity
                created.append(entity)
        row.entity = entity
    return created


# --- the service ---------------------------------------------------------------------------


def _build_outfall(row: _Row, refs: _References, actor: User | None) -> Outfall:
    outfall = Outfall(
        jurisdiction=row.jurisdiction,
        water_body=row.water_body,
        segment=refs.segments.get((row.water_body.pk, row.jurisdiction.pk)),
        category=row.category,
        subtype=row.subtype,
        source=Outfall.Source.SURVEY,
        is_possible_duplicate=bool(row.duplicates),
        created_by=actor,
        **row.values,
    )
    outfall.name = default_name(outfall)
    return outfall


def _clean(outfall: Outfall, row: _Row, validator: _Validator) -> bool:
    """`Outfall.clean()` itself, on an object whose relations are loaded (no queries)."""
    try:
        outfall.clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            key = _FIELD_COLUMN.get(name, name if name in COLUMN_BY_KEY else "county")
            for message in messages:
                validator.issue(row.number, key, message)
        return False
    return True


def _event_diff(outfall: Outfall, entity: ResponsibleEntity | None) -> dict[str, list]:
    diff: dict[str, list] = {
        "jurisdiction": [None, outfall.jurisdiction.name],
        "water_body": [None, outfall.water_body.name],
    }
    for key in _OUTFALL_KEYS:
        value = getattr(outfall, key)
        if value in ("", None):
            continue
        if isinstance(value, Decimal | dt.date):
            value = str(value)
        diff[key] = [None, value]
    if outfall.category_id:
        diff["category"] = [None, outfall.category.name]
    if outfall.subtype_id:
        diff["subtype"] = [None, outfall.subtype.name]
    if entity is not None:
        diff["entity"] = [None, entity.name]
    return diff


def survey_import(
    *,
    actor: User | None,
    file: IO[bytes] | str | bytes,
    filename: str = "",
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import a survey sheet: every row valid, or nothing written (raises SurveyImportError).

    An officer may import rows only for the jurisdictions inside their own grants.
    """
    now = now or timezone.now()
    if actor is not None and not actor.has_perm("cases.import_survey"):
        raise PermissionDenied(_("You do not have permission to do this."))
    sheet = read_survey_sheet(file)
    try:
        with transaction.atomic():
            return _import_rows(sheet, actor=actor, filename=filename, now=now)
    except IntegrityError as exc:
        raise SurveyImportError(
            [ImportIssue(None, "", _("The register changed during the import; upload again."))],
            sheet,
        ) from exc


def _import_rows(
    sheet: SurveySheet, *, actor: User | None, filename: str, now: dt.datetime
) -> ImportResult:
    refs = _References()
    allowed = None
    if actor is not None and not actor.is_superuser:
        allowed = grant_jurisdiction_ids(actor, FULL_SCOPE_ROLES)
    validator = _Validator(sheet, refs, allowed, timezone.localdate(now))
    rows = [r for r in (validator.convert(n, v) for n, v in sheet.rows) if r is not None]
    if rows:
        # Serialise imports touching the same water bodies (PostgreSQL; SQLite locks anyway).
        list(
            WaterBody.objects.select_for_update()
            .filter(pk__in={r.water_body.pk for r in rows})
            .values_list("pk", flat=True)
        )
    rows = _find_duplicates(rows, validator)
    new_entities = _resolve_entities(rows, validator)
    outfalls = []
    for row in rows:
        outfall = _build_outfall(row, refs, actor)
        if _clean(outfall, row, validator):
            outfalls.append(outfall)
    if validator.issues:
        raise SurveyImportError(validator.issues, sheet)

    ResponsibleEntity.objects.bulk_create(new_entities, batch_size=_BATCH)
    Outfall.objects.bulk_create(outfalls, batch_size=_BATCH)
    links = [
        OutfallEntity(outfall=o, entity=r.entity, is_primary=True, share_percent=100)
        for o, r in zip(outfalls, rows, strict=True)
        if r.entity is not None
    ]
    OutfallEntity.objects.bulk_create(links, batch_size=_BATCH)
    reason_base = filename or _("survey sheet")
    events = [
        OutfallEvent(
            outfall=o,
            kind=OutfallEvent.Kind.IMPORTED,
            actor=actor,
            at=now,
            to_state=o.state,
            reason=_("Row %(row)s of %(file)s") % {"row": r.number, "file": reason_base},
            diff=_event_diff(o, r.entity),
        )
        for o, r in zip(outfalls, rows, strict=True)
    ]
    OutfallEvent.objects.bulk_create(events, batch_size=_BATCH)
    # higher modules follow imports like registrations (e.g. survey deadlines), in bulk
    registry.run_event_hooks(events)
    _link_duplicates(outfalls, rows, actor=actor, now=now)
    return ImportResult(
        created=len(outfalls),
        possible_duplicates=sum(1 for o in outfalls if o.is_possible_duplicate),
        entities_created=len(new_entities),
        outfall_ids=[o.pk for o in outfalls],
    )


def _link_duplicates(
    outfalls: list[Outfall], rows: list[_Row], *, actor: User | None, now: dt.datetime
) -> None:
    """Symmetric `possible_duplicate_of` links; flag the registered outfalls that were hit."""
    Through = Outfall.possible_duplicate_of.through
    pairs: set[tuple[int, int]] = set()
    existing_hit: dict[int, list[int]] = defaultdict(list)
    for outfall, row in zip(outfalls, rows, strict=True):
        for kind, ref in row.duplicates:
            other = outfalls[ref].pk if kind == "row" else ref
            pairs.add((outfall.pk, other))
            pairs.add((other, outfall.pk))
            if kind == "outfall":
                existing_hit[ref].append(outfall.pk)
    if not pairs:
        return
    Through.objects.bulk_create(
        [Through(from_outfall_id=a, to_outfall_id=b) for a, b in sorted(pairs)],
        batch_size=_BATCH,
        ignore_conflicts=True,
    )
    ids = sorted(existing_hit)
    newly_flagged: list[int] = []
    for chunk in _chunks(ids):
        newly_flagged += list(
            Outfall.objects.filter(pk__in=chunk, is_possible_duplicate=False).values_list(
                "pk", flat=True
            )
        )
        Outfall.objects.filter(pk__in=chunk).update(is_possible_duplicate=True, updated_at=now)
    newly = set(newly_flagged)
    OutfallEvent.objects.bulk_create(
        [
            OutfallEvent(
                outfall_id=pk,
                kind=OutfallEvent.Kind.EDITED,
                actor=actor,
                at=now,
                reason=_("A survey import found an outfall within 50 m on the same water."),
                diff={
                    "is_possible_duplicate": [pk not in newly, True],
                    "possible_duplicate_of": [None, sorted(existing_hit[pk])],
                },
            )
            for pk in ids
        ],
        batch_size=_BATCH,
    )


# --- template and error report -------------------------------------------------------------


def _header_style():
    from openpyxl.styles import Alignment, Font, PatternFill

    return (
        Font(bold=True),
        Font(bold=True, color="C00000"),
        PatternFill("solid", fgColor="DDEBF7"),
        Alignment(wrap_text=True, vertical="center"),
    )


def _yes_no() -> list[str]:
    return ["是", "否"] if (translation.get_language() or "").startswith("zh") else ["yes", "no"]


def survey_template() -> bytes:
    """The Excel template: headers with hints, drop-downs, and a sheet of valid values."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Survey")
    lists = workbook.create_sheet(_("Reference lists"))
    bold, required_font, fill, align = _header_style()

    counties = list(
        Jurisdiction.objects.filter(
            kind__in=[
                Jurisdiction.Kind.DISTRICT,
                Jurisdiction.Kind.COUNTY,
                Jurisdiction.Kind.COUNTY_CITY,
                Jurisdiction.Kind.DEV_ZONE,
            ]
        ).order_by("path")
    )
    waters = list(WaterBody.objects.order_by("name"))
    categories = list(Category.objects.order_by("sort"))
    subtypes = list(Subtype.objects.select_related("category").order_by("category__sort", "sort"))
    reference_columns = [
        (_("County-level unit"), [j.name for j in counties]),
        (_("Code"), [j.code for j in counties]),
        (_("Receiving water"), [w.name for w in waters]),
        (_("Outfall category"), [c.name for c in categories]),
        (_("Category code"), [c.code for c in categories]),
        (_("Outfall subtype"), [s.name for s in subtypes]),
        (_("Its category"), [s.category.name for s in subtypes]),
        (_("Entry mode"), _entry_mode_names()),
        (_("Discharge pattern"), _discharge_pattern_names()),
        (_("Survey level"), [str(v) for v in Outfall.SurveyLevel.values]),
        (_("Yes or no"), _yes_no()),
    ]
    ranges: dict[str, str] = {}
    for index, (title, values) in enumerate(reference_columns, start=1):
        letter = get_column_letter(index)
        cell = lists.cell(row=1, column=index, value=title)
        cell.font, cell.fill = bold, fill
        for offset, value in enumerate(values, start=2):
            lists.cell(row=offset, column=index, value=value)
        lists.column_dimensions[letter].width = 22 if index in (1, 6, 7) else 14
        ranges[title] = (
            f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${max(2, len(values) + 1)}"
        )
    lists.freeze_panes = "A2"

    list_for = {
        "county": ranges[_("County-level unit")],
        "water_body": ranges[_("Receiving water")],
        "category": ranges[_("Outfall category")],
        "subtype": ranges[_("Outfall subtype")],
        "entry_mode": ranges[_("Entry mode")],
        "discharge_pattern": ranges[_("Discharge pattern")],
        "survey_level": ranges[_("Survey level")],
        **{key: ranges[_("Yes or no")] for key in BOOLEAN_KEYS},
    }
    last_row = 5000
    author = _("Survey template")
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=str(column.label))
        cell.font = required_font if column.required else bold
        cell.fill, cell.alignment = fill, align
        hint = str(column.hint) if column.hint else ""
        if column.required and not hint:
            hint = _("Required.")
        if hint:
            comment = Comment(hint, author)
            comment.width, comment.height = 240, 90
            cell.comment = comment
        sheet.column_dimensions[letter].width = column.width
        cells = f"{letter}2:{letter}{last_row}"
        if column.key in list_for:
            validation = DataValidation(
                type="list", formula1=f"={list_for[column.key]}", allow_blank=True
            )
            validation.showErrorMessage = False  # other spellings are accepted too
        elif column.key in ("longitude", "latitude", "daily_volume"):
            validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
            validation.showErrorMessage = True
            validation.error = _("Enter a number.")
        elif column.key == "survey_date":
            validation = DataValidation(
                type="date", operator="greaterThan", formula1="DATE(2000,1,1)"
            )
            validation.showErrorMessage = True
            validation.error = _("Enter a date, e.g. 2023-09-12.")
        elif hint:
            validation = DataValidation(allow_blank=True)  # "any value", with the hint
        else:
            validation = None
        if validation is None:
            continue
        validation.allow_blank = True
        if hint:
            validation.prompt = hint[:255]
            validation.promptTitle = str(column.label)[:32]
            validation.showInputMessage = True
        sheet.add_data_validation(validation)
        validation.add(cells)
        if column.key == "survey_date":
            for row in range(2, 201):
                sheet.cell(row=row, column=index).number_format = "yyyy-mm-dd"
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _entry_mode_names() -> list[str]:
    return _canonical_names(Outfall.EntryMode.choices, ENTRY_MODE_ALIASES)


def _discharge_pattern_names() -> list[str]:
    return _canonical_names(Outfall.DischargePattern.choices, DISCHARGE_PATTERN_ALIASES)


def _canonical_names(choices, aliases: dict[str, str]) -> list[str]:
    """One name per choice: its label, or (in Chinese while untranslated) the survey term."""
    first_alias: dict[str, str] = {}
    for alias, value in aliases.items():
        first_alias.setdefault(value, alias)
    names = []
    for value, label in choices:
        text = str(label)
        if (translation.get_language() or "").startswith("zh") and text == _english(label):
            text = first_alias.get(value, text)
        names.append(text)
    return names


def _english(label) -> str:
    with translation.override("en"):
        return str(label)


def survey_error_report(error: SurveyImportError) -> bytes:
    """The uploaded sheet again, with an error column naming field and reason per row."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet((error.sheet.title if error.sheet else "") or _("Survey"))
    mark = PatternFill("solid", fgColor="FFC7CE")
    red = Font(color="9C0006")
    by_row: dict[int | None, list[ImportIssue]] = defaultdict(list)
    for issue in error.issues:
        by_row[issue.row].append(issue)
    if error.sheet is None:
        header = WriteOnlyCell(sheet, value=_("Errors"))
        header.font = Font(bold=True)
        sheet.append([header])
        for issue in error.issues:
            sheet.append([issue.message])
    else:
        source = error.sheet
        width = len(source.headers)
        label_index = {
            str(COLUMN_BY_KEY[key].label): index for key, index in source.columns.items()
        }
        for values in source.leading_rows:
            sheet.append(list(values))
        header = [*source.headers, _("Errors")]
        header_cells = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = Font(bold=True)
            header_cells.append(cell)
        sheet.append(header_cells)
        general = by_row.get(None, [])
        if general:  # file-level problems go on the header row's error cell
            header_cells[-1].value = "；".join(i.message for i in general)
        expected = source.header_row + 1
        for number, values in source.rows:
            while expected < number:
                sheet.append([])
                expected += 1
            issues = by_row.get(number, [])
            cells: list[Any] = list(values) + [None] * (width - len(values))
            if issues:
                bad = {label_index.get(i.column) for i in issues}
                for index in bad:
                    if index is not None:
                        cell = WriteOnlyCell(sheet, value=cells[index])
                        cell.fill = mark
                        cells[index] = cell
                message = WriteOnlyCell(
                    sheet,
                    value="；".join(
                        f"{i.column}：{i.message}" if i.column else i.message for i in issues
                    ),
                )
                message.font = red
                cells.append(message)
            sheet.append(cells)
            expected = number + 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
