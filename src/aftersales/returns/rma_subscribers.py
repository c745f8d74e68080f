"""Wiring of RMA events to background work (after commit, core.events; registered in
ReturnsConfig.ready): the marketplace write-back, customer notifications, the warehouse reminder, and
the return parcel's tracking."""

from __future__ import annotations

from aftersales.core.events import subscribe, subscribe_batch
from aftersales.tracking.events import ShipmentStatusChanged

from .events import ReturnRequestStatusChanged, RmaEvidenceRequested, RmaParcelArrived, RmaStatusChanged
from .notify import step_for_status
from .rma_sync import DECISION_FOR_STATUS
from .tasks import (
    rma_notify_batch_task,
    rma_notify_task,
    rma_tracking_task,
    rma_warehouse_reminder_task,
    rma_writeback_batch_task,
)


def _on_statuses(batch: list[RmaStatusChanged]) -> None:
    """The status changes of one transaction (one RMA, or a chunk of a bulk approval): one write-back
    task and one notification task for all of them (each item keeps its own idempotency key; the
    notification task reads each step's event payload)."""
    decisions = [[e.rma_id, e.rma_event_id] for e in batch if e.new_status in DECISION_FOR_STATUS]
    if decisions:
        rma_writeback_batch_task(decisions)
    notices = []
    for e in batch:
        step = step_for_status(e.new_status, e.reason)
        if step is not None:
            notices.append([e.rma_id, step, e.rma_event_id, e.actor.user_id])
    if notices:
        rma_notify_batch_task(notices)


def _on_evidence_requested(event: RmaEvidenceRequested) -> None:
    from .models import RmaEvent

    asked = (
        RmaEvent.objects.filter(rma_id=event.rma_id, type="evidence_requested")
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    rma_notify_task(
        event.rma_id,
        "evidence_requested",
        asked or 0,
        event.actor.user_id,
        {"kinds": list(event.kinds), "message": event.message},
    )


def _on_arrival(event: RmaParcelArrived) -> None:
    rma_warehouse_reminder_task(event.rma_id, event.source)


def _on_tracking(event: ShipmentStatusChanged) -> None:
    from .models import Rma

    if Rma.objects.filter(order_id=event.order_id, label_tracking_number=event.tracking_number).exists():
        rma_tracking_task(
            event.order_id,
            event.tracking_number,
            event.new_status,
            {"kind": event.actor.kind, "id": event.actor.id, "label": event.actor.label},
        )


def _on_return_statuses(batch: list[ReturnRequestStatusChanged]) -> None:
    """Marketplace returns that moved to a status where the platform has issued its label: fetch it.
    The stores' platforms are read once for the batch (a page of pulled returns publishes its status
    changes together: one query per page, was one per return)."""
    from aftersales.catalog.models import Store

    from .rma_labels import rmas_waiting_for_platform_label
    from .tasks import rma_label_fetch_task

    platforms = dict(Store.objects.filter(pk__in={e.store_id for e in batch}).values_list("pk", "platform"))
    for event in batch:
        platform = platforms.get(event.store_id)
        if platform is None:
            continue
        for rma_id in rmas_waiting_for_platform_label(
            return_request_id=event.return_request_id, platform=platform, new_status=event.new_status
        ):
            rma_label_fetch_task(rma_id)


def fetch_platform_label_when_issued(*, return_request_id: int) -> list[int]:
    """The sync saw the platform's label on this marketplace return (ReturnRecord.label_available,
    e.g. Shopify's reverse delivery with a label file): after commit, fetch it for each approved RMA
    of the return without a label file. Returns the RMA ids queued (none: nothing to do)."""
    from django.db import transaction

    from .rma_labels import rmas_without_platform_label
    from .tasks import rma_label_fetch_task

    waiting = rmas_without_platform_label(return_request_id=return_request_id)
    for rma_id in waiting:
        transaction.on_commit(lambda rma_id=rma_id: rma_label_fetch_task(rma_id))  # type: ignore[misc]
    return waiting


subscribe_batch(ReturnRequestStatusChanged, _on_return_statuses)
subscribe_batch(RmaStatusChanged, _on_statuses)
subscribe(RmaEvidenceRequested, _on_evidence_requested)
subscribe(RmaParcelArrived, _on_arrival)
subscribe(ShipmentStatusChanged, _on_tracking)
