"""Refunds: request (PROCESS), approve / reject (APPROVE, within the approver's limit), retry a failed
one, mark one done by hand (the store's connector cannot refund), cancel; the manual-review queue.
Another organization's refund (or one outside the user's scope) is 404."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm
from aftersales.returns.refunds import (
    refund_approve,
    refund_cancel,
    refund_mark_done,
    refund_reject,
    refund_request,
    refund_retry,
)
from aftersales.returns.review import review_settings_get, review_settings_set
from aftersales.returns.selectors import refund_detail, refund_review_queue

from ..auth import current_user
from ..schemas.common import Id, with_errors
from ..schemas.refunds import (
    ApproveIn,
    CancelIn,
    MarkDoneIn,
    RefundFullOut,
    RefundIn,
    RefundOut,
    RejectIn,
    ReviewSettingsIn,
    ReviewSettingsOut,
)

router = Router(tags=["refunds"])


@router.post("/refunds", response=with_errors({201: RefundFullOut}))
def request_refund(request: HttpRequest, payload: RefundIn) -> Status[Any]:
    """Request a refund of an order (full, partial, shipping only). It is approved at once when it is
    within your approval limit and not abnormal, goes to manual review when abnormal (see
    `review_reasons`), else waits for an approver. 422 names the field (negative or over-precise
    amounts, another currency than the order's, more than is left on a line or of the shipping);
    nothing is written then. The same `idempotency_key` answers the refund it made."""
    user = current_user(request)
    refund = refund_request(
        user=user,
        order_id=payload.order_id,
        kind=payload.kind.value,
        currency=payload.currency,
        amount=payload.amount,
        lines=[line.model_dump() for line in payload.lines] if payload.lines is not None else None,
        rma_id=payload.rma_id,
        ticket_id=payload.ticket_id,
        reason=payload.reason,
        idempotency_key=payload.idempotency_key,
    )
    return Status(201, refund_detail(user, refund.pk))


@router.get("/refunds/review-queue", response=with_errors({200: list[RefundOut]}))
def refund_queue(request: HttpRequest) -> Any:
    """Refunds in manual review (with their reasons) and refunds waiting for an approver, oldest
    first (at most 500). Approvers and admins (403 for others: they cannot decide any of them)."""
    user = current_user(request)
    check_perm(user, Permission.APPROVE)
    return refund_review_queue(user, limit=500)


@router.get("/refunds/review-settings", response=with_errors({200: ReviewSettingsOut}))
def get_refund_review_settings(request: HttpRequest) -> Any:
    """The organization's thresholds for sending refunds to manual review. Admins only."""
    return review_settings_get(current_user(request))


@router.put("/refunds/review-settings", response=with_errors({200: ReviewSettingsOut}))
def set_refund_review_settings(request: HttpRequest, payload: ReviewSettingsIn) -> Any:
    """Set the manual-review thresholds (repeat-returner window and count, evidence for high value).
    Admins only."""
    return review_settings_set(
        user=current_user(request),
        repeat_window_days=payload.repeat_window_days,
        repeat_threshold=payload.repeat_threshold,
        high_value_requires_evidence=payload.high_value_requires_evidence,
        shared_address_window_days=payload.shared_address_window_days,
        via="api",
    )


@router.get("/refunds/{refund_id}", response=with_errors({200: RefundFullOut}))
def get_refund(request: HttpRequest, refund_id: Id) -> Any:
    """One refund with its lines and its events (who did what, when)."""
    return refund_detail(current_user(request), refund_id)


@router.post("/refunds/{refund_id}/approve", response=with_errors({200: RefundFullOut}))
def approve_refund(request: HttpRequest, refund_id: Id, payload: ApproveIn) -> Any:
    """Approve a refund waiting for approval or in review (403 above your limit; the requester cannot
    approve their own refund above their limit). Approving twice changes nothing."""
    user = current_user(request)
    refund = refund_approve(user=user, refund_id=refund_id, note=payload.note)
    return refund_detail(user, refund.pk)


@router.post("/refunds/{refund_id}/reject", response=with_errors({200: RefundFullOut}))
def reject_refund(request: HttpRequest, refund_id: Id, payload: RejectIn) -> Any:
    """Reject a refund waiting for approval or in review, with a reason."""
    user = current_user(request)
    refund = refund_reject(user=user, refund_id=refund_id, reason=payload.reason)
    return refund_detail(user, refund.pk)


@router.post("/refunds/{refund_id}/retry", response=with_errors({200: RefundFullOut}))
def retry_refund(request: HttpRequest, refund_id: Id) -> Any:
    """Send a failed refund to the marketplace again, with the same idempotency key."""
    user = current_user(request)
    refund = refund_retry(user=user, refund_id=refund_id)
    return refund_detail(user, refund.pk)


@router.post("/refunds/{refund_id}/mark-done", response=with_errors({200: RefundFullOut}))
def mark_refund_done(request: HttpRequest, refund_id: Id, payload: MarkDoneIn) -> Any:
    """A refund pending sync was made by hand on the marketplace: record its refund id."""
    user = current_user(request)
    refund = refund_mark_done(
        user=user, refund_id=refund_id, platform_refund_id=payload.platform_refund_id, note=payload.note
    )
    return refund_detail(user, refund.pk)


@router.post("/refunds/{refund_id}/cancel", response=with_errors({200: RefundFullOut}))
def cancel_refund(request: HttpRequest, refund_id: Id, payload: CancelIn) -> Any:
    """Withdraw a refund that has not reached the marketplace."""
    user = current_user(request)
    refund = refund_cancel(user=user, refund_id=refund_id, reason=payload.reason)
    return refund_detail(user, refund.pk)
