import time

import pytest

from base.models import WorkerHeartbeat
from base.tasks import worker_heartbeat_task

from .conftest import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_task_through_redis_is_run_by_a_real_worker_process(purge_broker):
    # given a real worker process on the test database and the Redis broker
    with celery_worker() as worker:
        # when a task is sent through the broker
        result = worker_heartbeat_task.delay()
        hostname = result.get(timeout=60)
        # then the worker ran it in its own process and wrote to the database
        assert hostname.startswith("test-")
        assert WorkerHeartbeat.objects.filter(hostname=hostname).exists()
        assert worker.poll() is None
    # and the test stopped the worker
    deadline = time.monotonic() + 30
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker.returncode is not None
