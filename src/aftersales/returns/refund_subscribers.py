"""Wiring of refund events to background work (after commit, core.events): an approved refund, or a
failed one sent again, is executed by refund_execute_task."""

from aftersales.core.events import subscribe

from .events import RefundStatusChanged
from .models import RefundStatus
from .refund_tasks import refund_execute_task


def _execute(event: RefundStatusChanged) -> None:
    if event.new_status == RefundStatus.APPROVED or (
        event.new_status == RefundStatus.EXECUTING and event.reason == "retry"
    ):
        refund_execute_task(event.refund_id)


subscribe(RefundStatusChanged, _execute)
