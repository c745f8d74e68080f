"""The fields a rule's conditions may read: dotted paths over the snapshot (rules.snapshots) with
their types. A condition naming a field not listed here, or a value of the wrong type for the field,
is refused when the rule is saved (rules.conditions.check_conditions).

Types: `str` (free text), `enum` (one of `choices`), `int`, `number` (Decimal-compatible), `bool`,
`datetime` (aware), `list` (a list of strings: tags, SKUs, entity kinds). A field is None when the
snapshot has nothing there (no order, no triage result yet); see docs/rules.md for how operators
treat None."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.catalog.models import CustomerTier, OrderStatus, Platform, ProductCategory, ShipmentStatus, ValueTier
from aftersales.core.actors import ActorKind
from aftersales.inbox.workflow import StatusCategory, TicketCategory, TicketStatus, Urgency
from aftersales.returns.models import RmaResolution, RmaStatus
from aftersales.triage.labels import Intent, Sentiment

from .models import RuleTrigger

STR, ENUM, INT, NUMBER, BOOL, DATETIME, LIST = "str", "enum", "int", "number", "bool", "datetime", "list"
TYPES = (STR, ENUM, INT, NUMBER, BOOL, DATETIME, LIST)


@dataclass(frozen=True)
class Field:
    path: str
    type: str
    label: str
    choices: tuple[str, ...] = ()

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


def _choices(cls: type) -> tuple[str, ...]:
    return tuple(str(v) for v in cls.values)  # type: ignore[attr-defined]


# event.old_status / new_status: a ticket's (ticket_updated), an RMA's (rma_requested,
# rma_status_changed) or a shipment's (shipment_stalled) status, one list without repeats
EVENT_STATUSES = tuple(dict.fromkeys((*_choices(TicketStatus), *_choices(RmaStatus), *_choices(ShipmentStatus))))

_FIELDS = [
    Field("now", DATETIME, "The time of the event"),
    # the ticket
    Field("ticket.id", INT, "Ticket id"),
    Field("ticket.subject", STR, "Ticket subject"),
    Field("ticket.status", ENUM, "Ticket status", _choices(TicketStatus)),
    Field("ticket.status_category", ENUM, "Ticket status category", _choices(StatusCategory)),
    Field("ticket.category", ENUM, "Ticket category", _choices(TicketCategory)),
    Field("ticket.urgency", ENUM, "Ticket urgency", _choices(Urgency)),
    Field("ticket.platform", ENUM, "Ticket platform", _choices(Platform)),
    Field("ticket.language", STR, "The customer's language on the ticket"),
    Field("ticket.is_high_priority", BOOL, "Ticket is high priority"),
    Field("ticket.is_unreplied", BOOL, "Ticket awaits a reply"),
    Field("ticket.tags", LIST, "Ticket tags"),
    Field("ticket.team_id", INT, "Ticket team id"),
    Field("ticket.assignee_id", INT, "Ticket assignee id"),
    Field("ticket.sku_category", STR, "Ticket SKU category"),
    Field("ticket.created_at", DATETIME, "Ticket created at"),
    Field("ticket.last_customer_message_at", DATETIME, "Last customer message at"),
    Field("ticket.last_movement_at", DATETIME, "Last movement (messages, notes, status/assignee, RMA, tracking)"),
    Field("ticket.message_count", INT, "Messages on the ticket"),
    # the message that triggered (message received), with its triage result
    Field("message.body", STR, "Message text"),
    Field("message.language", STR, "Message language"),
    Field("message.channel", ENUM, "Message channel", _choices(Platform)),
    Field("message.created_at", DATETIME, "Message received at"),
    Field("message.attachment_count", INT, "Attachments on the message"),
    Field("message.triage.intent", ENUM, "Triage intent", _choices(Intent)),
    Field("message.triage.confidence", NUMBER, "Triage confidence (0-1)"),
    Field("message.triage.urgency", ENUM, "Triage urgency", _choices(Urgency)),
    Field("message.triage.sentiment", ENUM, "Triage sentiment", _choices(Sentiment)),
    Field("message.triage.needs_human", BOOL, "Triage says a human must decide"),
    Field("message.triage.reasons", LIST, "Why triage wants a human"),
    Field("message.triage.entity_types", LIST, "Kinds of entities found (order_number, imei, ...)"),
    # the order
    Field("order.number", STR, "Order number"),
    Field("order.status", ENUM, "Order status on the platform", _choices(OrderStatus)),
    Field("order.total", NUMBER, "Order total"),
    Field("order.currency", STR, "Order currency"),
    Field("order.placed_at", DATETIME, "Order placed at"),
    Field("order.skus", LIST, "SKUs on the order"),
    Field("order.shipment_status", STR, "Latest shipment status"),
    Field("order.shipped_at", DATETIME, "Shipped at"),
    Field("order.delivered_at", DATETIME, "Delivered at"),
    # the customer
    Field("customer.tier", ENUM, "Customer tier", _choices(CustomerTier)),
    Field("customer.lifetime_value", NUMBER, "Customer lifetime value"),
    Field("customer.order_count", INT, "Customer orders"),
    Field("customer.return_count", INT, "Customer returns"),
    Field("customer.country", STR, "Customer country (ISO code)"),
    Field("customer.language", STR, "Customer's preferred language"),
    # the product (the RMA's first line, else the order's first line with a known product)
    Field("product.sku", STR, "Product SKU"),
    Field("product.category", ENUM, "Product category", _choices(ProductCategory)),
    Field("product.value_tier", ENUM, "Product value tier", _choices(ValueTier)),
    Field("product.price", NUMBER, "Product price"),
    # the RMA (return triggers, or the ticket's latest RMA)
    Field("rma.status", ENUM, "Return status", _choices(RmaStatus)),
    Field("rma.resolution", ENUM, "Return resolution", ("", *_choices(RmaResolution))),
    Field("rma.reason", STR, "Return reason code"),
    Field("rma.requested_at", DATETIME, "Return requested at"),
    Field("rma.delivery_country", STR, "Return delivery country"),
    Field("rma.line_count", INT, "Lines on the return"),
    # the store
    Field("store.id", INT, "Store id"),
    Field("store.platform", ENUM, "Store platform", _choices(Platform)),
    Field("store.site", STR, "Store site (e.g. amazon.de)"),
    Field("store.country", STR, "Store country (ISO code)"),
    # the event itself
    Field("event.trigger", ENUM, "Trigger", _choices(RuleTrigger)),
    Field("event.old_status", ENUM, "Previous status (status changes)", EVENT_STATUSES),
    Field("event.new_status", ENUM, "New status (status changes)", EVENT_STATUSES),
    Field("event.changed", LIST, "Ticket fields changed (ticket updated)"),
    Field("event.clock", STR, "SLA clock (SLA warning / breached)"),
    Field("event.due_at", DATETIME, "SLA due time (SLA warning / breached)"),
    Field(
        "event.actor_kind", ENUM, "Who caused the event (user, customer, connector, rule, system)", _choices(ActorKind)
    ),
]

FIELDS: dict[str, Field] = {f.path: f for f in _FIELDS}
