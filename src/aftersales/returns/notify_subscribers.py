"""Buyer notifications that do not follow an RMA status change (those are wired in
returns.rma_subscribers): the return parcel delivered to the warehouse by tracking (RmaParcelArrived,
source "tracking"; the warehouse's own "received" is a status step) and a refund paid, of an RMA or
of an order without one (RefundStatusChanged to succeeded: confirmed by the platform, or marked done
after a manual refund on the marketplace; a failed refund sends nothing). Registered in ReturnsConfig.ready."""

from __future__ import annotations

from aftersales.core.events import subscribe

from .events import RefundStatusChanged, RmaParcelArrived
from .models import RefundStatus
from .notify_tasks import refund_notify_task
from .tasks import rma_notify_task


def _on_delivered(event: RmaParcelArrived) -> None:
    from .models import RmaEvent

    if event.source != "tracking":
        return
    delivered = (
        RmaEvent.objects.filter(rma_id=event.rma_id, type="parcel_delivered")
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
    if delivered is not None:
        rma_notify_task(event.rma_id, "delivered", delivered, event.actor.user_id, {})


def _on_refund(event: RefundStatusChanged) -> None:
    if event.new_status != RefundStatus.SUCCEEDED:
        return
    if event.rma_id is not None:
        rma_notify_task(
            event.rma_id, "refund_paid", event.refund_event_id, event.actor.user_id, {"refund_id": event.refund_id}
        )
    else:
        refund_notify_task(event.refund_id, event.refund_event_id, event.actor.user_id)


subscribe(RmaParcelArrived, _on_delivered)
subscribe(RefundStatusChanged, _on_refund)
