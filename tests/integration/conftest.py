"""Integration tests run the production topology on this machine: PostgreSQL, a Redis broker
and real Celery worker processes. They refuse to run on anything less (no silent skip)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.integration


def pytest_collection_modifyitems(items):
    # this hook sees the whole session's items: mark only those under this folder
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _require_production_topology():
    assert connection.vendor == "postgresql", "integration tests need DATABASE_URL=postgres://..."
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "set CELERY_BROKER_URL=redis://..."
    assert not settings.CELERY_TASK_ALWAYS_EAGER, "set CELERY_TASK_ALWAYS_EAGER=false"


@contextmanager
def celery_worker(*, concurrency: int = 1, queues: str = "celery", loglevel: str = "INFO"):
    """A real `celery worker` process on the test database; stopped (or killed) on exit."""
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=(
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    # the worker logs to a file, never to a pipe nobody reads (a full pipe blocks it)
    log = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)  # noqa: SIM115 - open for the worker's lifetime
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "prefork",
            f"--concurrency={concurrency}",
            "-Q",
            queues,
            f"--loglevel={loglevel}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname=test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.env = env  # type: ignore[attr-defined]
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()
        process.log_path = log.name  # type: ignore[attr-defined]


@pytest.fixture
def purge_broker():
    from config.celery import app

    app.control.purge()
    yield
    app.control.purge()
