"""PDF inspection helpers for the tests (pdfplumber, fontTools, fontconfig)."""

from __future__ import annotations

import functools
import io
import re
import subprocess
import zlib

import pdfplumber
from fontTools.ttLib import TTCollection, TTFont

MM = 72 / 25.4  # PDF points per millimetre

CJK_FONTS = {
    "AR-PL-UKai-CN",
    "Noto-Serif-CJK-SC",
    "Noto-Serif-CJK-SC-Bold",
    "Noto-Sans-CJK-SC",
    "Noto-Sans-CJK-SC-Bold",
}


def open_pdf(data: bytes) -> pdfplumber.PDF:
    return pdfplumber.open(io.BytesIO(data))


def base_font(fontname: str) -> str:
    """'YHAQVF+AR-PL-UKai-CN' → 'AR-PL-UKai-CN' (drop the subset tag)."""
    return fontname.split("+", 1)[1] if "+" in fontname else fontname


def lines(page) -> list[list[dict]]:
    """The page's characters grouped in lines (same top ± 1.5 pt), top to bottom."""
    rows: list[list[dict]] = []
    for char in sorted(page.chars, key=lambda c: (c["top"], c["x0"])):
        if rows and abs(rows[-1][0]["top"] - char["top"]) < 1.5:
            rows[-1].append(char)
        else:
            rows.append([char])
    return [sorted(row, key=lambda c: c["x0"]) for row in rows]


def text(row: list[dict]) -> str:
    return "".join(c["text"] for c in row)


@functools.cache
def _font_file(pdf_name: str) -> tuple[str, int]:
    """The installed file of a font as WeasyPrint names it ('Noto-Serif-CJK-SC-Bold')."""
    family, style = pdf_name.replace("-", " "), "Regular"
    if family.endswith(" Bold"):
        family, style = family[: -len(" Bold")], "Bold"
    pattern = family if family.startswith("AR PL") else f"{family}:style={style}"
    out = subprocess.run(
        ["fc-list", pattern, "file", "index"], capture_output=True, text=True, check=True
    ).stdout.strip()
    path, _, rest = out.splitlines()[0].partition(":")
    return path, int(rest.split("=", 1)[1]) if "index=" in rest else 0


@functools.cache
def _cmap(pdf_name: str) -> frozenset[int]:
    path, index = _font_file(pdf_name)
    if path.endswith((".ttc", ".otc")):
        font = TTCollection(path, lazy=True).fonts[index]
    else:
        font = TTFont(path, lazy=True)
    return frozenset(font.getBestCmap())


def has_glyph(fontname: str, char: str) -> bool:
    """Whether the installed font `fontname` maps `char` to a real glyph (not .notdef)."""
    return all(ord(c) in _cmap(base_font(fontname)) for c in char)


def inflated(raw: bytes) -> bytes:
    """The PDF with every Flate stream decompressed (to search file content in it)."""
    parts = [raw]
    for match in re.finditer(rb"stream\r?\n", raw):
        start = match.end()
        end = raw.find(b"endstream", start)
        try:
            parts.append(zlib.decompressobj().decompress(raw[start:end]))
        except zlib.error:
            continue
    return b"\n".join(parts)
