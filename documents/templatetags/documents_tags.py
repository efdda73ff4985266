"""Template helpers: Chinese ordinals for the PDF templates, a subject's documents for pages."""

from __future__ import annotations

import base64

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_DIGITS = "〇一二三四五六七八九"


@register.filter
def cn_number(value) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九 (headings 一、 and （一）)."""
    n = int(value)
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def em_width(text: str) -> float:
    """Printed width in em: ASCII (half-width digits, Latin) 0.5, everything else 1."""
    return sum(0.5 if ord(ch) < 0x7F else 1.0 for ch in str(text))


@register.filter
def signer_offset(signer: str, date: str) -> str:
    """Right padding (em) that centres the 署名 over a date set 4 characters from the right."""
    offset = 4 + (em_width(date) - em_width(signer)) / 2
    return f"{max(offset, 0):.2f}em"


def _title_break(title: str, limit: int) -> int | None:
    """Where to break a two-line title: at a phrase boundary, first line the longer."""
    starts = ("进行", "的通知", "的函", "的会议纪要", "有关", "管理委员会", "入河排污口")
    ends = ("问题", "人民政府", "关于")
    candidates = [
        i for i in range(1, len(title)) if title[i:].startswith(starts) or title[:i].endswith(ends)
    ]
    fitting = [i for i in candidates if len(title) - limit <= i <= limit and i >= len(title) - i]
    if not fitting:
        return None
    return min(fitting, key=lambda i: abs(2 * i - len(title)))


@register.filter
def title_lines(title: str, limit: int = 20) -> list[str]:
    """A title as the lines it is printed on (2号 titles hold 20 characters a line):
    one line if it fits, else two, broken at a phrase boundary (倒梯形: upper line longer)."""
    title = str(title)
    if len(title) <= limit:
        return [title]
    at = _title_break(title, limit) or (len(title) + 1) // 2
    return [title[:at], *title_lines(title[at:], limit)]


@register.simple_tag
def letter_rules(top_mm: float, bottom_mm: float = 20.0, length_mm: float = 170.0) -> str:
    """信函格式 page-1 background: red double lines `top_mm` from the top (thick over thin)
    and `bottom_mm` from the bottom (thin over thick), `length_mm` long, centred on A4.

    A `data:` SVG URL (the renderer fetches only `data:` and static files).
    """
    x = (210 - length_mm) / 2
    thick, thin, gap = 1.0, 0.35, 0.7
    low = 297 - bottom_mm
    rects = [
        (top_mm, thick),
        (top_mm + thick + gap, thin),
        (low - thin - gap - thick, thin),
        (low - thick, thick),
    ]
    body = "".join(
        f'<rect x="{x}" y="{y:.2f}" width="{length_mm}" height="{h}" fill="#e60012"/>'
        for y, h in rects
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" '
        f'viewBox="0 0 210 297">{body}</svg>'
    )
    return mark_safe("data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode())


@register.simple_tag(takes_context=True)
def subject_documents(context, subject, limit: int = 20):
    """The issued documents about `subject` that the page's user may see (newest first)."""
    from documents.selectors import subject_documents as select

    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("documents.view_issueddocument"):
        return []
    return list(select(user=user, subject=subject)[:limit])
