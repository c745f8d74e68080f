"""Rules follow the domain events (docs/events.md): each subscriber enqueues the evaluation of the
organization's enabled rules for the event's trigger (rules.tasks), with the event's identity as
the idempotency key and its chain depth (rules.engine.chain_depth_for). Nothing is enqueued when
the organization has no enabled rule for that trigger."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from django.db import connection

from aftersales.core.events import subscribe, subscribe_batch
from aftersales.inbox.events import TicketCreated, TicketUpdated
from aftersales.returns.events import RmaRequested, RmaStatusChanged
from aftersales.sla.events import SlaBreached, SlaWarning
from aftersales.tracking.events import ShipmentStatusChanged
from aftersales.triage.events import MessageTriaged

from .engine import chain_depth_for
from .models import Rule, RuleTrigger

# Tracking statuses that mean the parcel is stuck or in trouble: the "shipment stalled" trigger.
STALLED_STATUSES = frozenset({"exception", "customs_hold", "failed_attempt", "lost", "returned"})


@cache
def _has_rules_sql(vendor: str) -> str:
    """`Rule.objects.filter(organization_id=, trigger=, enabled=True).exists()` as one statement made once
    per database vendor from the model's _meta: the ORM compiled it again after every created ticket (a
    fifth of ingest's CPU, issue 13). Nothing is cached but the text: a rule enabled, disabled or edited
    counts for the very next event."""
    q = connection.ops.quote_name
    meta = Rule._meta
    col = {f.name: q(str(f.column)) for f in meta.concrete_fields}
    return (
        f"SELECT 1 FROM {q(meta.db_table)} WHERE {col['organization']} = %s"  # noqa: S608
        f" AND {col['trigger']} = %s AND {col['enabled']} = %s LIMIT 1"
    )


def _has_rules(organization_id: int, trigger: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_has_rules_sql(connection.vendor), [organization_id, str(trigger), True])
        return cursor.fetchone() is not None


def _enqueue(source: Any, trigger: str, key: str, **fields: Any) -> None:
    """Enqueue the evaluation of `trigger` for the domain event `source` (its organization, its
    actor's chain depth); `fields` are the task's ids and the snapshot's event section."""
    if not _has_rules(source.organization_id, trigger):
        return
    from .tasks import evaluate_rules

    evaluate_rules(source.organization_id, trigger, key, chain_depth=chain_depth_for(source.actor), **fields)


def _tickets_created(batch: list[TicketCreated]) -> None:
    """The tickets a page of messages opened (one publication): the organization's rules looked up once
    per batch, not once per ticket (issue 9's sync engine, bench/RESULTS.md, ingest ninth session)."""
    has_rules: dict[int, bool] = {}
    for event in batch:
        if event.organization_id not in has_rules:
            has_rules[event.organization_id] = _has_rules(event.organization_id, RuleTrigger.TICKET_CREATED)
        if not has_rules[event.organization_id]:
            continue
        from .tasks import evaluate_rules

        evaluate_rules(
            event.organization_id,
            RuleTrigger.TICKET_CREATED,
            f"ticket_created:{event.ticket_id}",
            chain_depth=chain_depth_for(event.actor),
            ticket_id=event.ticket_id,
        )


def _ticket_updated(event: TicketUpdated) -> None:
    # The publisher's identity (the update's audit row): a duplicated publication is the same event.
    # An event without one (built outside inbox services) gets a key made here, carried by the task.
    identity = str(event.ticket_event_id) if event.ticket_event_id else f"x{uuid.uuid4().hex}"
    _enqueue(
        event,
        RuleTrigger.TICKET_UPDATED,
        f"ticket_updated:{identity}",
        ticket_id=event.ticket_id,
        event={"changed": sorted(event.changes), "actor_kind": event.actor.kind},
    )


def _message_triaged(event: MessageTriaged) -> None:
    _enqueue(
        event,
        RuleTrigger.MESSAGE_RECEIVED,
        f"message:{event.message_id}",
        ticket_id=event.ticket_id,
        message_id=event.message_id,
        event={"actor_kind": event.actor.kind},
    )


def _rma_requested(event: RmaRequested) -> None:
    _enqueue(
        event,
        RuleTrigger.RMA_REQUESTED,
        f"rma_requested:{event.rma_id}",
        ticket_id=event.ticket_id,
        rma_id=event.rma_id,
        event={"new_status": event.status, "actor_kind": event.actor.kind},
    )


def _rma_status_changed(event: RmaStatusChanged) -> None:
    _enqueue(
        event,
        RuleTrigger.RMA_STATUS_CHANGED,
        f"rma_status:{event.rma_event_id}",
        ticket_id=event.ticket_id,
        rma_id=event.rma_id,
        event={"old_status": event.old_status, "new_status": event.new_status, "actor_kind": event.actor.kind},
    )


def _sla(trigger: str) -> Any:
    def handler(event: SlaWarning | SlaBreached) -> None:
        _enqueue(
            event,
            trigger,
            f"{trigger}:{event.ticket_id}:{event.clock}:{event.due_at.isoformat()}",
            ticket_id=event.ticket_id,
            event={"clock": event.clock, "due_at": event.due_at, "actor_kind": event.actor.kind},
        )

    return handler


def _shipment_changed(event: ShipmentStatusChanged) -> None:
    if event.new_status not in STALLED_STATUSES or event.old_status == event.new_status:
        return
    if not _has_rules(event.organization_id, RuleTrigger.SHIPMENT_STALLED):
        return
    from .tasks import evaluate_shipment_rules

    at = event.at.isoformat() if event.at else ""
    evaluate_shipment_rules(
        event.organization_id,
        event.order_id,
        f"shipment:{event.shipment_id}:{event.new_status}:{at}",
        {"old_status": event.old_status, "new_status": event.new_status, "actor_kind": event.actor.kind},
        chain_depth=chain_depth_for(event.actor),
    )


subscribe_batch(TicketCreated, _tickets_created)
subscribe(TicketUpdated, _ticket_updated)
subscribe(MessageTriaged, _message_triaged)
subscribe(RmaRequested, _rma_requested)
subscribe(RmaStatusChanged, _rma_status_changed)
subscribe(SlaWarning, _sla(RuleTrigger.SLA_WARNING))
subscribe(SlaBreached, _sla(RuleTrigger.SLA_BREACHED))
subscribe(ShipmentStatusChanged, _shipment_changed)
