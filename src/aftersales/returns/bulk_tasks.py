"""The Huey task of bulk RMA actions (returns.bulk). Safe to run twice: done items are skipped.
Imported by returns/tasks.py so the consumer's task discovery registers it."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from .bulk import rma_bulk_run


@db_task(retries=3, retry_delay=10)
def run_rma_bulk_job(job_id: int) -> str:
    return rma_bulk_run(job_id).status
