"""Thin Celery wrappers around base services."""

from celery import shared_task
from django.utils import timezone

from .services import worker_heartbeat_record


@shared_task(name="base.worker_heartbeat", ignore_result=False)
def worker_heartbeat_task() -> str:
    hostname = worker_heartbeat_task.request.hostname or "eager"
    worker_heartbeat_record(hostname=hostname, now=timezone.now())
    return hostname
