"""SLA clocks follow the inbox (the inbox does not know about SLA): every event that can move a clock
enqueues a recomputation of the ticket's row from its history; SLA's own events notify people.

The recomputation is a task subscription (core/events.py `subscribe_task`): it runs in the worker in the
published batch's fan-out task, once per ticket per batch (a new ticket's TicketCreated and
MessageReceived, published together, recompute it once)."""

from __future__ import annotations

from typing import Any

from aftersales.core.events import subscribe, subscribe_task
from aftersales.inbox.events import (
    MessageReceived,
    ReplyDelivered,
    ReplyQueued,
    TicketCreated,
    TicketsMerged,
    TicketStatusChanged,
)
from aftersales.returns.events import ReturnRequestReceived, ReturnRequestStatusChanged

from .events import SlaBreached, SlaWarning

RECOMPUTE = "aftersales.sla.tasks.recompute_ticket_sla"


def _recompute(event: Any) -> tuple[int] | None:
    ticket_id = getattr(event, "ticket_id", None)
    return (ticket_id,) if ticket_id is not None else None


def _on_merged(event: TicketsMerged) -> None:
    from .tasks import recompute_ticket_sla

    recompute_ticket_sla(event.source_id)
    recompute_ticket_sla(event.target_id)


def _on_warning(event: SlaWarning) -> None:
    from .tasks import notify_sla

    notify_sla(event.ticket_id, event.clock, event.due_at, False)


def _on_breached(event: SlaBreached) -> None:
    from .tasks import notify_sla

    notify_sla(event.ticket_id, event.clock, event.due_at, True)


# ReplyQueued changes no clock (only a delivered reply counts), but it is when an agent acted: the
# recomputation keeps the row fresh for the ticket page at no risk (it reads history only).
for event_type in (
    TicketCreated,
    MessageReceived,
    ReplyQueued,
    ReplyDelivered,
    TicketStatusChanged,
    ReturnRequestReceived,
    ReturnRequestStatusChanged,
):
    subscribe_task(event_type, RECOMPUTE, _recompute)
subscribe(TicketsMerged, _on_merged)
subscribe(SlaWarning, _on_warning)
subscribe(SlaBreached, _on_breached)
