"""Thin Celery wrapper around the rendering service. Retries live here."""

from __future__ import annotations

from celery import shared_task

from .services import document_render


@shared_task(
    name="documents.render_document",
    acks_late=True,  # the service locks the row and returns at once if already rendered
    autoretry_for=(OSError,),  # storage trouble; rendering errors mark the row failed
    retry_backoff=10,
    max_retries=5,
    ignore_result=True,
)
def render_document_task(document_id: int) -> None:
    document_render(document_id=document_id)
