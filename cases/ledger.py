"""The outfall ledger (台账) as an Excel workbook, for the outfalls a user may see.

Rows come from `selectors.outfall_list` (record rule applied, related rows joined or
prefetched), read in chunks and written with openpyxl's write-only mode: memory and the
number of queries stay flat as the register grows (one prefetch query per chunk).
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from . import selectors
from .models import Outfall

CHUNK = 2000


def _columns() -> list[tuple[str, int]]:
    return [
        (_("Local code"), 16),
        (_("National code"), 16),
        (_("Name"), 36),
        (_("County-level unit"), 12),
        (_("Town (township)"), 12),
        (_("Village (community)"), 12),
        (_("Location description"), 24),
        (_("Longitude (°E)"), 12),
        (_("Latitude (°N)"), 12),
        (_("Receiving water"), 12),
        (_("Outfall category"), 16),
        (_("Outfall subtype"), 24),
        (_("Primary responsible entity"), 28),
        (_("Unified social credit code"), 22),
        (_("Disposition"), 14),
        (_("State"), 10),
        (_("Plan deadline"), 12),
        (_("Possible duplicate"), 10),
    ]


def _deadline(outfall: Outfall):
    try:
        plan = outfall.plan  # joined by the selector: no query, None cached when missing
    except ObjectDoesNotExist:
        return None
    return plan.deadline


def ledger_rows(outfalls: Iterable[Outfall]) -> Iterable[list]:
    yes, no = _("Yes"), _("No")
    for o in outfalls:
        entity = selectors.primary_entity(o)
        yield [
            o.code or "",
            o.national_code or "",
            o.name,
            o.jurisdiction.name,
            o.town,
            o.village,
            o.landmark,
            o.longitude,
            o.latitude,
            o.water_body.name,
            o.category.name if o.category_id else "",
            o.subtype.name if o.subtype_id else "",
            entity.name if entity else "",
            entity.credit_code if entity else "",
            o.get_disposition_display() if o.disposition else "",
            o.get_state_display(),
            _deadline(o),
            yes if o.is_possible_duplicate else no,
        ]


def ledger_workbook(*, user, filters: dict | None = None) -> bytes:
    """The ledger of the outfalls `user` may see, filtered like the list page."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    outfalls = selectors.outfall_list(user=user, filters=filters).iterator(chunk_size=CHUNK)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Outfall ledger"))
    columns = _columns()
    for index, (_title, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "D2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    header = []
    for title, _width in columns:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    sheet.append(header)
    date_column = [title for title, _width in columns].index(_("Plan deadline"))
    for values in ledger_rows(outfalls):
        if values[date_column] is not None:
            cell = WriteOnlyCell(sheet, value=values[date_column])
            cell.number_format = "yyyy-mm-dd"
            values[date_column] = cell
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
