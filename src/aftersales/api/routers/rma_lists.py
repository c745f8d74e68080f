"""RMAs: the list (filters like the inbox's), the exceptions list, bulk decisions as jobs.

The single-RMA endpoints (detail, create, approve, ...) are in routers/rmas.py."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from aftersales.returns.bulk import rma_bulk_start
from aftersales.returns.selectors import rma_bulk_job_progress, rma_exceptions, rma_list_query, rma_page

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.rma_lists import ExceptionsQuery, RmaBulkIn, RmaBulkJobOut, RmaExceptionsOut, RmaListQuery, RmaPageOut

router = Router(tags=["rmas"])


@router.get("/rmas", response=with_errors({200: RmaPageOut}))
def list_rmas(request: HttpRequest, query: Query[RmaListQuery]) -> dict[str, Any]:
    """RMAs you may see, filtered, newest first, keyset-paginated (`next_cursor`). The web UI's RMA
    list reads its query string through the same selector."""
    user = current_user(request)
    read = rma_list_query(user, request.GET)
    page = rma_page(user, read.filters, limit=read.limit, sort=read.sort, cursor=read.cursor)
    return {"items": page.rmas, "next_cursor": page.next_cursor}


@router.get("/rmas/exceptions", response=with_errors({200: RmaExceptionsOut}))
def list_rma_exceptions(request: HttpRequest, query: Query[ExceptionsQuery]) -> Any:
    """What needs a human: labels without a parcel scan, facts that do not match the order, refunds
    failed on the marketplace or pending sync, marketplace calls with an unknown outcome."""
    user = current_user(request)
    return rma_exceptions(user, stale_days=query.stale_days or 7)


@router.post("/rmas/bulk", response=with_errors({202: RmaBulkJobOut}))
def bulk_rmas(request: HttpRequest, payload: RmaBulkIn) -> Status:
    """Approve, reject or ask for evidence on many RMAs: answers 202 with a job; poll
    `GET /rmas/bulk/{job_id}` for its progress and each RMA's result (ok, or the error). Every id must
    be an RMA you may see (else 404 naming rma_ids, nothing queued)."""
    user = current_user(request)
    params = payload.params.model_dump(exclude_none=True) if payload.params else {}
    job = rma_bulk_start(user=user, action=payload.action, rma_ids=list(payload.rma_ids), params=params)
    return Status(202, rma_bulk_job_progress(user, job.pk))


@router.get("/rmas/bulk/{job_id}", response=with_errors({200: RmaBulkJobOut}))
def get_bulk_job(request: HttpRequest, job_id: Id) -> Any:
    """A bulk job's progress (its creator and admins see it)."""
    return rma_bulk_job_progress(current_user(request), job_id)
