"""Thin Celery wrappers around the workflows services."""

from celery import shared_task

from .escalation import sweep


@shared_task(name="workflows.sweep_deadlines", acks_late=True, ignore_result=False)
def sweep_deadlines_task(batch_size: int = 500) -> dict:
    # acks_late only because the sweep is idempotent: a redelivered message redoes nothing
    return sweep(batch_size=batch_size).as_dict()
