"""GB/T 9704 geometry of the rendered 约谈通知书, measured with pdfplumber.

What is measured (pdfplumber's character boxes: a glyph's box spans its em square, `top` is
the top edge of the em square):

- page: the PDF page size;
- text block left edge: the smallest x0 of the body glyphs (16 pt) — the lines that start
  at the margin (主送机关, wrapped lines);
- text block top: the top of the FIRST ROW OF CHARACTERS on a continuation page (page 2
  starts with body text). On page 1 the standard puts the red issuing-authority mark 35 mm
  under the top of the text block, so there the mark's top is measured: 37 + 35 mm;
- sizes: the glyphs of the title (22 pt) and of the body (16 pt);
- the page number "— 1 —" 7 mm under the text block, 4号 (14 pt).
"""

import itertools

import pytest

from documents.models import IssuedDocument

from .conftest import SUMMONS_EXTRA
from .pdfcheck import CJK_FONTS, MM, base_font, has_glyph, lines, open_pdf, text

pytestmark = pytest.mark.django_db

A4 = (595.3, 841.9)
LEFT, TOP = 28 * MM, 37 * MM
TEXT_BOTTOM = (37 + 225) * MM


@pytest.fixture
def notice(summons, city_leader, issue):
    document = issue(
        actor=city_leader,
        doctype="summons_notice",
        subject=summons,
        context_extra=SUMMONS_EXTRA,
    )
    assert document.status == IssuedDocument.Status.ISSUED, document.render_error
    with document.file.open("rb") as fh:
        pdf = open_pdf(fh.read())
    yield document, pdf
    pdf.close()


def _body_chars(page, title: str):
    """16 pt glyphs inside the text block: not the mark, number, title or page number."""
    return [
        c
        for c in page.chars
        if c["top"] < TEXT_BOTTOM and abs(c["size"] - 22) > 1 and c["size"] < 30
    ]


def test_pages_are_a4(notice):
    _document, pdf = notice
    assert len(pdf.pages) >= 2  # the fixture's notice runs onto a continuation page
    for page in pdf.pages:
        assert page.width == pytest.approx(A4[0], abs=1)
        assert page.height == pytest.approx(A4[1], abs=1)


def test_text_block_left_edge_is_28_mm(notice):
    _document, pdf = notice
    for page in pdf.pages:
        body = [c for c in page.chars if abs(c["size"] - 16) < 0.5 and c["top"] < TEXT_BOTTOM]
        assert min(c["x0"] for c in body) == pytest.approx(LEFT, abs=1 * MM)


def test_text_block_top_is_37_mm_on_a_continuation_page(notice):
    _document, pdf = notice
    page = pdf.pages[1]
    first_row = min(c["top"] for c in page.chars if abs(c["size"] - 16) < 0.5)
    assert first_row == pytest.approx(TOP, abs=1 * MM)


def test_the_red_mark_is_35_mm_under_the_top_of_the_text_block(notice):
    document, pdf = notice
    page = pdf.pages[0]
    mark = [c for c in page.chars if c["size"] > 30]
    assert text(mark) == document.context["authority_mark"] == "晋城市生态环境局文件"
    assert min(c["top"] for c in mark) == pytest.approx(TOP + 35 * MM, abs=1 * MM)
    # red (non-stroking colour of the glyphs)
    assert {tuple(round(v, 2) for v in c["non_stroking_color"]) for c in mark} == {(0.9, 0.0, 0.07)}


def test_title_glyphs_are_22_pt(notice):
    document, pdf = notice
    title = [c for c in pdf.pages[0].chars if 21 <= c["size"] <= 23]
    assert text(title) == document.title == "关于约谈泽州县人民政府的通知"
    assert all(c["size"] == pytest.approx(22, abs=0.5) for c in title)


def test_body_glyphs_are_16_pt(notice):
    document, pdf = notice
    for page in pdf.pages[:2]:
        body = _body_chars(page, document.title)
        assert len(body) > 100
        assert all(c["size"] == pytest.approx(16, abs=0.5) for c in body)


def test_body_lines_are_on_the_28_95_pt_grid_and_hold_28_characters(notice):
    _document, pdf = notice
    body_font = "AR-PL-UKai-CN"  # the free 仿宋 fallback; headings are in another font
    rows = [
        r
        for r in lines(pdf.pages[1])
        if r[0]["top"] < TEXT_BOTTOM and any(base_font(c["fontname"]) == body_font for c in r)
    ]
    tops = [min(c["top"] for c in r if base_font(c["fontname"]) == body_font) for r in rows]
    gaps = [b - a for a, b in itertools.pairwise(tops)]
    assert len(gaps) > 5
    # consecutive body rows are one line pitch apart (or whole pitches, over empty lines)
    for gap in gaps:
        pitches = round(gap / 28.95)
        assert pitches >= 1
        assert gap == pytest.approx(pitches * 28.95, abs=0.5)
    # a line of ideographs holds 28 of them in the 156 mm text block
    widths = [
        r[-1]["x1"] - r[0]["x0"]
        for r in rows
        if len(r) == 28 and all(ord(c["text"]) > 0x2E80 for c in r)
    ]
    assert all(w <= 156 * MM + 0.5 for w in widths)


def test_the_number_has_full_width_brackets(notice):
    document, pdf = notice
    assert "〔" in document.number
    assert "〕" in document.number
    page_text = [text(r) for r in lines(pdf.pages[0])]
    assert document.number in page_text


def test_page_numbers_are_outside_the_text_block(notice):
    _document, pdf = notice
    for number, page in enumerate(pdf.pages, start=1):
        row = [r for r in lines(page) if text(r).replace(" ", "") == f"—{number}—"]
        assert row, [text(r) for r in lines(page)]
        chars = row[0]
        assert all(c["size"] == pytest.approx(14, abs=0.5) for c in chars)
        assert min(c["top"] for c in chars) == pytest.approx(TEXT_BOTTOM + 7 * MM, abs=1 * MM)
        if number % 2:  # odd pages: right, one character in from the text block's edge
            assert max(c["x1"] for c in chars) == pytest.approx(LEFT + 156 * MM - 14, abs=1 * MM)
        else:  # even pages: left, one character in
            assert min(c["x0"] for c in chars) == pytest.approx(LEFT + 14, abs=1 * MM)


def test_every_glyph_is_a_cjk_font_glyph(notice):
    _document, pdf = notice
    for page in pdf.pages:
        for c in page.chars:
            assert c["text"] != "\ufffd"
            assert base_font(c["fontname"]) in CJK_FONTS, (c["text"], c["fontname"])
            assert has_glyph(c["fontname"], c["text"]), (c["text"], c["fontname"])


def test_the_verification_qr_points_to_the_public_page(notice, settings):
    document, _pdf = notice
    assert document.context["verify_url"] == (f"{settings.SITE_URL}/verify/{document.token}/")
