"""Bulk RMA jobs start after their creation commits: services publish, this subscriber enqueues the
task (services never import tasks)."""

from __future__ import annotations

from aftersales.core.events import subscribe

from .events import RmaBulkJobCreated


def _on_bulk_job_created(event: RmaBulkJobCreated) -> None:
    from .bulk_tasks import run_rma_bulk_job

    run_rma_bulk_job(event.job_id)


subscribe(RmaBulkJobCreated, _on_bulk_job_created)
