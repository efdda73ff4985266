"""HTML → PDF with WeasyPrint, locked down (DESIGN.md §6).

- One `FontConfiguration` per process (`font_config()`), created on first use: building one
  scans the system fonts, and reusing it keeps a warm render of a notice well under 150 ms.
- `SafeURLFetcher` is the only way WeasyPrint reads anything: `data:` URLs, and `file:`
  URLs whose REAL path (symlinks resolved, `..` refused) lies under STATIC_ROOT or one of
  STATICFILES_DIRS. http(s), ftp, other files and everything else are refused and logged;
  nothing is requested. (WeasyPrint's default fetcher reads any `file://` URL and follows
  `<link rel="attachment">` / `<a rel="attachment">` into embedded files.)
- Attachments are removed after layout: `<link rel="attachment">` from the metadata and
  `<a rel="attachment">` links from the pages, and the finisher refuses a PDF that would
  still carry an `/EmbeddedFiles` tree.
- User text never becomes markup: templates are Django templates with autoescaping, fed
  from the JSON snapshot; the only markup not written in a template is the QR code, built
  here from the verification URL.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fonts import css_stacks

logger = logging.getLogger(__name__)

_font_config: FontConfiguration | None = None
_font_lock = threading.Lock()


def font_config() -> FontConfiguration:
    """The process-wide FontConfiguration (created on first use, never per document)."""
    global _font_config
    if _font_config is None:
        with _font_lock:
            if _font_config is None:
                _font_config = FontConfiguration()
    return _font_config


def static_roots() -> list[Path]:
    """Folders the renderer may read files from: STATIC_ROOT and STATICFILES_DIRS."""
    roots: list[Any] = []
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(settings.STATIC_ROOT)
    for entry in getattr(settings, "STATICFILES_DIRS", ()):
        roots.append(entry[1] if isinstance(entry, (tuple, list)) else entry)
    return [Path(root).resolve() for root in roots]


class FetchRefused(ValueError):
    """A URL the document renderer does not read."""


class SafeURLFetcher(URLFetcher):
    """Fetch `data:` URLs and static files only; refuse (and record) everything else."""

    def __init__(self, roots: Iterable[Path | str] | None = None):
        super().__init__(
            timeout=2,
            allowed_protocols=("data",),
            allow_redirects=False,
            fail_on_errors=False,
        )
        self.roots = tuple(
            Path(root).resolve() for root in (static_roots() if roots is None else roots)
        )
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self.allowed_path(url)
            if path is not None:
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type}
                )
        self.refused.append(url)
        logger.warning("document renderer refused to fetch %s", url[:200])
        raise FetchRefused(f"refused: {url[:200]}")

    def allowed_path(self, url: str) -> Path | None:
        """The real path of a `file:` URL inside the static roots, else None."""
        parts = urlsplit(url)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        raw = Path(url2pathname(parts.path))
        if not raw.is_absolute() or ".." in raw.parts:
            return None
        try:
            real = raw.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not real.is_file():
            return None
        if not any(real.is_relative_to(root) for root in self.roots):
            return None
        return real


class EmbeddedFileRefused(RuntimeError):
    pass


def _refuse_embedded_files(document, pdf) -> None:
    # finisher: the last look at the PDF before it is written
    names = pdf.catalog.get("Names")
    if names is not None and "EmbeddedFiles" in names:
        raise EmbeddedFileRefused("a document PDF must not embed files")


def html_to_pdf(html: str, *, fetcher: SafeURLFetcher | None = None) -> bytes:
    """Render HTML to PDF bytes with the safe fetcher and without any attachment."""
    fetcher = fetcher or SafeURLFetcher()
    document = HTML(string=html, base_url=None, url_fetcher=fetcher).render(
        font_config=font_config()
    )
    document.metadata.attachments = []
    for page in document.pages:
        page.links = [link for link in page.links if link[0] != "attachment"]
    return document.write_pdf(finisher=_refuse_embedded_files)


def qr_data_uri(url: str) -> str:
    """The verification URL as an SVG QR code in a `data:` URL (medium error correction)."""
    import segno

    return segno.make(url, error="m", micro=False).svg_data_uri(border=0, dark="#000")


def render_html(template: str, context: dict[str, Any]) -> str:
    """The document's HTML, from its template and JSON snapshot (autoescaped)."""
    # our constants, not user text: safe inside <style>
    extra: dict[str, Any] = {"fonts": {k: mark_safe(v) for k, v in css_stacks().items()}}
    if context.get("verify_url"):
        extra["qr"] = qr_data_uri(context["verify_url"])
    return render_to_string(template, {**context, **extra})
