"""The renderer reads nothing it should not: no file://, no http(s), no attachments."""

import base64
import logging
import socket
import threading
import uuid

import pytest

from documents import rendering
from documents.models import IssuedDocument
from documents.rendering import FetchRefused, SafeURLFetcher

from .pdfcheck import inflated, lines, open_pdf, text

HOSTILE = (
    '<img src="file:///etc/hostname">'
    '<link rel="attachment" href="file:///etc/passwd">'
    '<a rel="attachment" href="file:///etc/passwd">passwd</a>'
)


@pytest.fixture
def recording_server():
    """A TCP server on 127.0.0.1 that records every connection (http or https)."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    hits.append(conn.recv(1024))
                    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n")
                except OSError:
                    hits.append(b"")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(timeout=5)
    server.close()


# --- user text in an issued notice ------------------------------------------------------------


@pytest.fixture
def secret_file(tmp_path):
    """A local file with content that must never reach a PDF."""
    path = tmp_path / "secret.txt"
    path.write_text(f"SECRET-{uuid.uuid4().hex}")
    return path


@pytest.mark.django_db
def test_markup_in_user_text_is_printed_not_fetched(
    summons, city_leader, issue, caplog, secret_file
):
    # given a notice whose user-entered text carries markup pointing at local files
    caplog.set_level(logging.WARNING, logger="documents.rendering")
    hostile = HOSTILE + f'<img src="{secret_file.as_uri()}">'
    # when it is issued and rendered
    document = issue(
        actor=city_leader,
        doctype="summons_notice",
        subject=summons,
        context_extra={"cause": f"经查{hostile}。", "place": hostile},
    )
    assert document.status == IssuedDocument.Status.ISSUED, document.render_error
    with document.file.open("rb") as fh:
        raw = fh.read()
    # then the PDF embeds no file
    assert b"/EmbeddedFile" not in raw
    assert b"/FileAttachment" not in raw
    assert b"/Filespec" not in raw
    # and carries no file content (searched in the decompressed streams and the text)
    plain = inflated(raw)
    assert secret_file.read_bytes() not in plain
    assert b"root:x:0:0" not in plain
    with open_pdf(raw) as pdf:
        printed = "".join(text(r) for p in pdf.pages for r in lines(p))
    assert "root:" not in printed
    assert secret_file.read_text() not in printed
    # the markup was escaped into printed text, so it never reached the fetcher
    assert 'src="file:///etc/hostname">' in printed.replace(" ", "")
    assert not [r for r in caplog.records if "refused" in r.getMessage()]


# --- raw HTML (as if a template forgot to escape) ---------------------------------------------


def test_raw_file_urls_and_attachments_are_refused():
    # given HTML with a file image, file attachments (link and anchor) and a data: attachment
    data = base64.b64encode(b"attached secret").decode()
    html = (
        "<html><head>"
        '<link rel="attachment" href="file:///etc/passwd">'
        f'<link rel="attachment" href="data:text/plain;base64,{data}">'
        "</head><body>"
        '<img src="file:///etc/hostname">'
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>'
        f'<a rel="attachment" href="data:text/plain;base64,{data}">data</a>'
        "<p>正文</p></body></html>"
    )
    fetcher = SafeURLFetcher(roots=[])
    # when it is rendered
    pdf = rendering.html_to_pdf(html, fetcher=fetcher)
    # then nothing is embedded and the image was refused
    assert b"/EmbeddedFile" not in pdf
    assert b"/FileAttachment" not in pdf
    assert b"attached secret" not in inflated(pdf)
    assert fetcher.refused == ["file:///etc/hostname"]
    assert b"root:x:0:0" not in inflated(pdf)


def test_http_and_https_urls_are_never_requested(recording_server, caplog):
    # given HTML pointing at a local server over http and https, from every kind of reference
    port, hits = recording_server
    base = f"127.0.0.1:{port}"
    html = (
        "<html><head>"
        f'<link rel="stylesheet" href="http://{base}/style.css">'
        f"<style>@import url(https://{base}/import.css); "
        f"body {{ background: url(http://{base}/bg.png) }}"
        f"@font-face {{ font-family: X; src: url(http://{base}/font.woff) }}</style>"
        f'<link rel="attachment" href="http://{base}/attachment.bin">'
        "</head><body>"
        f'<img src="http://{base}/image.png"><img src="https://{base}/image.png">'
        f'<a rel="attachment" href="https://{base}/attachment2.bin">a</a>'
        f'<svg><image href="http://{base}/svg.png" width="10" height="10"/></svg>'
        "<p>正文</p></body></html>"
    )
    fetcher = SafeURLFetcher(roots=[])
    caplog.set_level(logging.WARNING, logger="documents.rendering")
    # when it is rendered
    pdf = rendering.html_to_pdf(html, fetcher=fetcher)
    # then no connection reached the server, and every fetch was refused and logged
    assert pdf.startswith(b"%PDF")
    assert hits == []
    assert fetcher.refused
    assert all(url.startswith(("http://", "https://")) for url in fetcher.refused)
    assert {f"http://{base}/image.png", f"https://{base}/image.png"} <= set(fetcher.refused)
    assert any("refused" in r.getMessage() for r in caplog.records)


# --- the fetcher ----------------------------------------------------------------------------


@pytest.fixture
def static_root(tmp_path):
    root = tmp_path / "static"
    (root / "documents").mkdir(parents=True)
    (root / "documents" / "seal.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    return root


def test_fetcher_reads_a_file_under_a_static_root(static_root):
    fetcher = SafeURLFetcher(roots=[static_root])
    response = fetcher.fetch((static_root / "documents" / "seal.svg").as_uri())
    assert response.read().startswith(b"<svg")
    assert response.content_type == "image/svg+xml"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "file://localhost/etc/passwd",
        "file://evil.example/share/x.png",
        "http://127.0.0.1:9/x.png",
        "https://127.0.0.1:9/x.png",
        "ftp://127.0.0.1/x.png",
        "javascript:alert(1)",
    ],
)
def test_fetcher_refuses_everything_else(static_root, url):
    fetcher = SafeURLFetcher(roots=[static_root])
    with pytest.raises(FetchRefused):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_dot_dot_even_when_it_lands_inside(static_root):
    url = (static_root / "documents").as_uri() + "/../documents/seal.svg"
    with pytest.raises(FetchRefused):
        SafeURLFetcher(roots=[static_root]).fetch(url)
    escaped = (static_root / "documents").as_uri() + "/%2e%2e/%2e%2e/%2e%2e/etc/hostname"
    with pytest.raises(FetchRefused):
        SafeURLFetcher(roots=[static_root]).fetch(escaped)


def test_fetcher_checks_the_real_path_of_a_symlink(static_root):
    # given a link inside the static root to a file outside it
    link = static_root / "documents" / "hostname.png"
    link.symlink_to("/etc/hostname")
    # when it is fetched, then it is refused
    with pytest.raises(FetchRefused):
        SafeURLFetcher(roots=[static_root]).fetch(link.as_uri())


def test_fetcher_follows_a_symlink_that_stays_inside(static_root):
    link = static_root / "alias.svg"
    link.symlink_to(static_root / "documents" / "seal.svg")
    assert SafeURLFetcher(roots=[static_root]).fetch(link.as_uri()).read().startswith(b"<svg")


def test_default_roots_are_the_static_root_and_dirs(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path / "collected")
    settings.STATICFILES_DIRS = [tmp_path / "a", ("prefix", tmp_path / "b")]
    assert SafeURLFetcher().roots == (
        (tmp_path / "collected").resolve(),
        (tmp_path / "a").resolve(),
        (tmp_path / "b").resolve(),
    )


def test_data_urls_are_read():
    fetcher = SafeURLFetcher(roots=[])
    assert fetcher.fetch("data:text/plain;base64,5q2j5paH").read() == "正文".encode()
