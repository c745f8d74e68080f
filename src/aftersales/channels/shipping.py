"""Mark an order shipped on its marketplace with the seller's carrier and tracking number (issue 12):
one service for the agent UI and the API. The shipment is recorded on the order at once (one row per
tracking number), then the marketplace is told after the commit, through the write-back ledger under
the key `shipment:<id>:mark_shipped`: a second click, a retried task or an API replay calls the
marketplace at most once, and a marketplace that already has the number is reconciled by the
connector, not shipped again. Offered only for stores whose connector has MARK_SHIPPED."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from aftersales.accounts.permissions import Permission, check_ticket, organization_of
from aftersales.catalog.models import Order, Shipment, ShipmentStatus
from aftersales.core.actors import SYSTEM, Actor
from aftersales.core.clock import now
from aftersales.core.errors import NotFound, ValidationFailed

from .base import Capability, ConnectorError, ShipmentConfirmation
from .models import WriteBack, WriteBackKind
from .registry import get_connector
from .writeback import writeback_perform

MAX_FIELD = 80  # Shipment.carrier / tracking_number


def can_mark_shipped(platform: str) -> bool:
    """Whether the platform's connector tells the marketplace about a shipment."""
    try:
        connector = get_connector(platform)
    except ConnectorError:
        return False
    return connector is not None and Capability.MARK_SHIPPED in connector.capabilities


def shipment_key(shipment_id: int) -> str:
    return f"shipment:{shipment_id}:mark_shipped"


def check_order_mark_shipped(
    *, user: Any, ticket_id: int, carrier: str, tracking_number: str
) -> tuple[Order, str, str]:
    """The order of a ticket the user may process (the ticket's scope decides, as for refunds),
    its store's connector able to mark shipped, and the two fields (1-80 characters, trimmed; no
    space inside a tracking number). Returns (order, carrier, tracking number) as they are stored."""
    from aftersales.inbox.models import Ticket

    ticket = Ticket.objects.select_related("order__store").filter(pk=ticket_id).first()
    if ticket is None or ticket.organization_id != organization_of(user):
        raise NotFound(_("No such ticket."))
    check_ticket(user, ticket, Permission.PROCESS)
    order = ticket.order
    if order is None:
        raise ValidationFailed(_("No order is linked to this ticket."), field="order")
    carrier, number = (carrier or "").strip(), (tracking_number or "").strip()
    if not carrier or len(carrier) > MAX_FIELD:
        raise ValidationFailed(_("Give the carrier (1 to 80 characters)."), field="carrier")
    if not number or len(number) > MAX_FIELD or any(c.isspace() for c in number):
        raise ValidationFailed(_("Give the tracking number (1 to 80 characters, no spaces)."), field="tracking_number")
    if not can_mark_shipped(order.store.platform):
        raise ValidationFailed(
            _("This store's marketplace connection cannot mark orders shipped: do it on the marketplace."),
            field="order",
        )
    return order, carrier, number


def order_mark_shipped(*, order: Order, carrier: str, tracking_number: str, actor: Actor) -> Shipment:
    """Record the shipment (the one of this tracking number when it exists) under the order's row
    lock and tell the marketplace after the commit. Call check_order_mark_shipped first."""
    with transaction.atomic():
        Order.objects.select_for_update().filter(pk=order.pk).first()
        shipment = order.shipments.filter(tracking_number=tracking_number).first()
        if shipment is None:
            shipment = Shipment.objects.create(
                order=order,
                carrier=carrier,
                tracking_number=tracking_number,
                status=ShipmentStatus.INFO_RECEIVED,
                shipped_at=now(),
            )
        shipment_id = shipment.pk
        actor_data = {"kind": actor.kind, "id": actor.id, "label": actor.label}

        transaction.on_commit(lambda: shipment_mark_shipped_task(shipment_id, actor_data))
    return shipment


def shipment_writeback(*, shipment_id: int, actor: Actor = SYSTEM) -> WriteBack | None:
    """Tell the marketplace about one shipment, at most once (the ledger's key). A transient
    connector error propagates after the ledger row went back to pending: the task retries."""
    shipment = Shipment.objects.select_related("order__store").filter(pk=shipment_id).first()
    if shipment is None or not can_mark_shipped(shipment.order.store.platform):
        return None
    connector: Any = get_connector(shipment.order.store.platform)
    confirmation = ShipmentConfirmation(
        order_external_id=shipment.order.external_id,
        carrier=shipment.carrier,
        tracking_number=shipment.tracking_number,
        shipped_at=shipment.shipped_at or now(),
    )
    return writeback_perform(
        store=shipment.order.store,
        kind=WriteBackKind.MARK_SHIPPED,
        key=shipment_key(shipment.pk),
        request=confirmation,
        actor=actor,
        call=lambda ctx: connector.mark_shipped(ctx, confirmation),
    )


@db_task(retries=5, retry_delay=60)
def shipment_mark_shipped_task(shipment_id: int, actor: dict[str, str]) -> str:
    """Tell the marketplace about a shipment: at most once by the ledger's key; a transient error
    retries (registered with the worker through channels.tasks)."""
    row = shipment_writeback(
        shipment_id=shipment_id,
        actor=Actor(actor.get("kind", "system"), actor.get("id", ""), actor.get("label", "")),
    )
    return row.status if row is not None else "not_needed"


@dataclass(frozen=True)
class ShipmentSync:
    """Where telling the marketplace about a shipment stands: the ledger's status and its words."""

    status: str  # pending, sending, succeeded, failed, unknown
    detail: str


def shipment_syncs(shipments: list[Shipment]) -> dict[int, ShipmentSync]:
    """{shipment id: its write-back} for the shipments that were marked shipped from here."""
    if not shipments:
        return {}
    by_key = {shipment_key(s.pk): s.pk for s in shipments}
    rows = WriteBack.objects.filter(
        store_id__in={s.order.store_id for s in shipments}, idempotency_key__in=list(by_key)
    ).values_list("idempotency_key", "status", "detail")
    return {by_key[key]: ShipmentSync(status, detail) for key, status, detail in rows}


def ticket_order_mark_shipped(*, user: Any, ticket_id: int, carrier: str, tracking_number: str) -> Shipment:
    """The agent UI's and the API's one entry: check, record, tell the marketplace on commit."""
    order, carrier, number = check_order_mark_shipped(
        user=user, ticket_id=ticket_id, carrier=carrier, tracking_number=tracking_number
    )
    return order_mark_shipped(order=order, carrier=carrier, tracking_number=number, actor=Actor.user(user))
