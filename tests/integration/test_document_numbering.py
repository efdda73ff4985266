"""Document numbers on PostgreSQL under concurrency, rendered by real Celery workers."""

import datetime as dt
import threading
import time
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from documents import selectors, services
from documents.models import IssuedDocument
from tests.documents.conftest import make_summons

from .conftest import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)

ISSUES = 200
# each thread holds its own connection; PostgreSQL's max_connections (100 by default) is
# shared with the worker and other sessions, so 200 issues run on 40 threads at once
THREADS = 40
CST = ZoneInfo("Asia/Shanghai")
MARCH_2024 = dt.datetime(2024, 3, 5, 10, 0, tzinfo=CST)


@pytest.fixture
def proposal(db):
    """The summons the notices are about (named for the L3 proposal it was taken up from)."""
    return make_summons()


@pytest.fixture
def worker_media(monkeypatch):
    # the worker process writes the PDFs where this test reads them, and logs little
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(settings.MEDIA_ROOT))
    monkeypatch.setenv("DJANGO_LOG_LEVEL", "WARNING")


@contextmanager
def rendering_worker(concurrency: int = 1):
    """A real worker (it logs to a file: see conftest.celery_worker)."""
    with celery_worker(concurrency=concurrency, loglevel="WARNING") as worker:
        yield worker


def _in_threads(count: int, target) -> tuple[list, list]:
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run(i):
        try:
            barrier.wait(timeout=60)
            for value in target(i):
                with lock:
                    results.append(value)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    return results, errors


def _wait_rendered(count: int, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = IssuedDocument.objects.exclude(status=IssuedDocument.Status.RENDERING).count()
        if done >= count:
            return
        time.sleep(0.5)
    raise AssertionError(f"only {done} of {count} documents rendered in {timeout}s")


def test_200_concurrent_issues_get_200_consecutive_numbers(proposal, purge_broker, worker_media):
    # when 200 notices are issued at once from 40 connections
    per_thread = ISSUES // THREADS

    def issue_some(_i):
        for _ in range(per_thread):
            document = services.document_issue(
                actor=None, doctype="summons_notice", subject=proposal, now=MARCH_2024
            )
            yield document.serial

    serials, errors = _in_threads(THREADS, issue_some)
    # then every issue got a number: 1..200 of 2024, distinct, no gap
    assert errors == []
    assert sorted(serials) == list(range(1, ISSUES + 1))
    numbers = list(IssuedDocument.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == ISSUES
    assert set(numbers) == {f"晋市环约〔2024〕{n}号" for n in range(1, ISSUES + 1)}
    # and real worker processes render every one of them, each with its verified hash
    with rendering_worker(concurrency=4):
        _wait_rendered(ISSUES)
    documents = list(IssuedDocument.objects.order_by("serial"))
    assert {d.status for d in documents} == {IssuedDocument.Status.ISSUED}
    for document in documents[:: ISSUES // 10]:
        assert selectors.stored_file_sha256(document) == document.sha256


def test_concurrent_corrections_of_one_document_supersede_it_once(
    proposal, purge_broker, worker_media
):
    # given an issued notice
    original = services.document_issue(
        actor=None, doctype="summons_notice", subject=proposal, now=MARCH_2024
    )
    with rendering_worker():
        _wait_rendered(1)
    original.refresh_from_db()

    # when ten officers correct it at the same moment
    def correct(_i):
        yield services.document_issue(
            actor=None,
            doctype="summons_notice",
            subject=proposal,
            supersedes=original,
            now=MARCH_2024,
        ).number

    numbers, errors = _in_threads(10, correct)
    # then exactly one correction is issued, with the next number, and nothing was skipped
    assert numbers == ["晋市环约〔2024〕2号"]
    assert len(errors) == 9
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert IssuedDocument.objects.get(pk=original.pk).superseded_by.number == numbers[0]
    follow_up = services.document_issue(
        actor=None, doctype="summons_notice", subject=proposal, now=MARCH_2024
    )
    assert follow_up.number == "晋市环约〔2024〕3号"  # the old number 1 is never reused


def test_a_new_year_restarts_at_one_on_postgresql(proposal):
    for _ in range(3):
        services.document_issue(
            actor=None, doctype="summons_notice", subject=proposal, now=MARCH_2024
        )
    january = dt.datetime(2025, 1, 1, 0, 5, tzinfo=CST)
    first = services.document_issue(
        actor=None, doctype="summons_notice", subject=proposal, now=january
    )
    assert first.number == "晋市环约〔2025〕1号"


def test_postgresql_refuses_changing_an_issued_document(proposal, purge_broker, worker_media):
    # given an issued notice
    document = services.document_issue(
        actor=None, doctype="summons_notice", subject=proposal, now=MARCH_2024
    )
    with rendering_worker():
        _wait_rendered(1)
    table = IssuedDocument._meta.db_table
    # when SQL bypasses the model, then the database refuses it
    with (
        pytest.raises(DatabaseError, match="refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET title = 'x' WHERE id = %s", [document.pk])
    with (
        pytest.raises(DatabaseError, match="refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [document.pk])
    assert IssuedDocument.objects.get(pk=document.pk).title == document.title
