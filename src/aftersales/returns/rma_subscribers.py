"""Wiring of RMA events to background work (after commit, core.events; registered in
ReturnsConfig.ready): the marketplace write-back, customer notifications, the warehouse reminder, and
the return parcel's tracking."""

from __future__ import annotations

from aftersales.core.events import subscribe
from aftersales.tracking.events import ShipmentStatusChanged

from .events import RmaEvidenceRequested, RmaParcelArrived, RmaStatusChanged
from .notify import step_for_status
from .rma_sync import DECISION_FOR_STATUS
from .tasks import rma_notify_task, rma_tracking_task, rma_warehouse_reminder_task, rma_writeback_task


def _on_status(event: RmaStatusChanged) -> None:
    from .models import RmaEvent

    payload = RmaEvent.objects.filter(pk=event.rma_event_id).values_list("payload", flat=True).first() or {}
    if event.new_status in DECISION_FOR_STATUS:
        rma_writeback_task(event.rma_id, event.rma_event_id)
    step = step_for_status(event.new_status, event.reason)
    if step is not None:
        rma_notify_task(event.rma_id, step, event.rma_event_id, event.actor.user_id, payload)


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


subscribe(RmaStatusChanged, _on_status)
subscribe(RmaEvidenceRequested, _on_evidence_requested)
subscribe(RmaParcelArrived, _on_arrival)
subscribe(ShipmentStatusChanged, _on_tracking)
