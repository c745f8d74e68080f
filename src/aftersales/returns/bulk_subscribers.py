"""Bulk RMA jobs start after their creation commits: services publish, this subscriber enqueues the
task (services never import tasks)."""

from __future__ import annotations

from aftersales.core.events import subscribe

from .bulk_tasks import run_rma_bulk_job  # imported here so every process (the consumer too) registers it
from .events import RmaBulkJobCreated


def _on_bulk_job_created(event: RmaBulkJobCreated) -> None:
    run_rma_bulk_job(event.job_id)


subscribe(RmaBulkJobCreated, _on_bulk_job_created)
