"""Benchmark: render a one-page 约谈通知书 with WeasyPrint, next to headless Chromium.

    .venv/bin/python bench/notice_pdf.py                 # 20 timed runs after 3 warm-ups
    .venv/bin/python bench/notice_pdf.py --runs 50 --keep /tmp/notice

A summons notice is issued through the real service on a fresh database; its JSON snapshot
is trimmed to one page (the time, the place and one requirement: with the GB/T 9704 header —
the red mark 35 mm under the text block's top — a full notice runs onto a second page).
The HTML is then rendered

- by WeasyPrint as the worker does it (`documents.rendering.html_to_pdf`: the shared
  FontConfiguration, the safe fetcher, attachments removed), and also with the template
  step (`render_html` + `html_to_pdf`);
- by Debian's Chromium through Playwright (`page.set_content` + `page.pdf`, A4, the page's
  own @page size), the same HTML.

It prints the median and spread of the warm render time and the PDF size of each, the
fonts WeasyPrint embedded with their sizes, and whether libharfbuzz-subset is in use.
Targets (issue 6): WeasyPrint ≤ 150 ms and ≤ 150 KB.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_on_fresh_database

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def one_page_notice() -> tuple[str, dict]:
    """Issue a real notice (no render) and return its template and a one-page context."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from base.factories import UserFactory
    from base.models import Jurisdiction
    from documents import registry, services
    from workflows.flows import SummonsFlow

    proposal = SummonsFlow.start.run(
        jurisdiction=Jurisdiction.objects.get(code="140525"),
        cause="排查整治工作滞后",
        meeting_time="2024年3月12日上午9:00",
        meeting_place="市生态环境局三楼会议室",
        contact="王明，0356-2021234",
        proposer=UserFactory(),
        proposed_at=timezone.now(),
    )
    document = services.document_issue(
        actor=None,
        doctype="summons_notice",
        subject=proposal,
        now=dt.datetime(2024, 3, 5, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        context_extra={
            "cause": (
                "经查，你县入河排污口排查整治工作进展滞后，5个排污口整治任务逾期未完成。"
                "根据《晋城市入河排污口排查整治工作方案》，"
                "经研究，决定对你县进行约谈。"
            ),
            "time": "2024年3月12日上午9:00",
            "place": "市生态环境局三楼会议室",
        },
    )
    context = dict(document.context)
    context["basis"] = ""
    keep = {"约谈时间", "约谈地点"}
    context["sections"] = [s for s in context["sections"] if s["heading"] in keep]
    return registry.get("summons_notice").template, context


def font_sizes(pdf: bytes) -> list[tuple[str, int]]:
    import pdfplumber
    from pdfminer.pdftypes import resolve1

    found = []
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for xref in doc.doc.xrefs:
            for objid in xref.get_objids():
                try:
                    obj = doc.doc.getobj(objid)
                except Exception:
                    continue
                if isinstance(obj, dict) and getattr(obj.get("Type"), "name", "") == (
                    "FontDescriptor"
                ):
                    for key in ("FontFile", "FontFile2", "FontFile3"):
                        if key in obj:
                            name = obj["FontName"].name.split("+", 1)[-1]
                            found.append((name, resolve1(obj[key]).attrs.get("Length", 0)))
    return found


def pages(pdf: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def timed(fn, runs: int, warmup: int) -> tuple[list[float], bytes]:
    result = b""
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def describe(label: str, times: list[float], pdf: bytes) -> str:
    return (
        f"{label:<34} median {statistics.median(times):7.1f} ms "
        f"(min {min(times):6.1f}, max {max(times):6.1f})   "
        f"{len(pdf) / 1024:6.1f} KB   {pages(pdf)} page(s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--keep", help="write the two PDFs and the HTML with this prefix")
    parser.add_argument("--no-chromium", action="store_true")
    args = parser.parse_args()

    where = django_on_fresh_database("notice_pdf")
    from weasyprint.text.ffi import harfbuzz_subset

    from documents import rendering

    template, context = one_page_notice()
    html = rendering.render_html(template, context)

    wp_times, wp_pdf = timed(lambda: rendering.html_to_pdf(html), args.runs, args.warmup)
    full_times, _ = timed(
        lambda: rendering.html_to_pdf(rendering.render_html(template, context)),
        args.runs,
        args.warmup,
    )
    print(f"database: {where}; {args.runs} runs after {args.warmup} warm-up(s)")
    print(f"libharfbuzz-subset: {'in use' if harfbuzz_subset else 'MISSING (fontTools fallback)'}")
    print(f"shared FontConfiguration: {rendering.font_config() is rendering.font_config()}")
    print(describe("WeasyPrint html_to_pdf", wp_times, wp_pdf))
    print(describe("WeasyPrint template + html_to_pdf", full_times, wp_pdf))
    for name, size in font_sizes(wp_pdf):
        print(f"    embedded font {name:<28} {size / 1024:6.1f} KB")

    chromium_pdf = b""
    if not args.no_chromium:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page()

            def chromium() -> bytes:
                page.set_content(html, wait_until="load")
                return page.pdf(format="A4", prefer_css_page_size=True, print_background=True)

            ch_times, chromium_pdf = timed(chromium, args.runs, args.warmup)
            browser.close()
        print(describe("Chromium set_content + page.pdf", ch_times, chromium_pdf))

    if args.keep:
        Path(f"{args.keep}.html").write_text(html, encoding="utf-8")
        Path(f"{args.keep}-weasyprint.pdf").write_bytes(wp_pdf)
        if chromium_pdf:
            Path(f"{args.keep}-chromium.pdf").write_bytes(chromium_pdf)
        print(f"written: {args.keep}.html, {args.keep}-weasyprint.pdf, {args.keep}-chromium.pdf")
    median = statistics.median(wp_times)
    size_kb = len(wp_pdf) / 1024
    print(
        f"targets: ≤ 150 ms → {'met' if median <= 150 else 'MISSED'}; "
        f"≤ 150 KB → {'met' if size_kb <= 150 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
