"""Domain events of warranty and repair, published after commit (core.events); listed in
docs/events.md. Each carries the `actor` who caused it and the organization id."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class WarrantyClaimCreated:
    claim_id: int
    organization_id: int
    unit_id: int
    in_warranty: bool
    overridden: bool  # out of warranty, accepted by an approver with a reason
    ticket_id: int | None
    actor: Actor


@dataclass(frozen=True)
class WarrantyClaimStatusChanged:
    """Published by `warranty.transition.claim_transition` only."""

    claim_id: int
    organization_id: int
    old_status: str
    new_status: str
    reason: str
    claim_event_id: int  # the audit row: a stable identity for consumers
    actor: Actor


@dataclass(frozen=True)
class RepairOrderStatusChanged:
    """Published by `warranty.transition.repair_transition` only."""

    repair_order_id: int
    claim_id: int
    organization_id: int
    old_status: str
    new_status: str
    reason: str
    repair_event_id: int
    actor: Actor


@dataclass(frozen=True)
class WarrantyReplacementRequested:
    replacement_id: int
    claim_id: int
    organization_id: int
    product_id: int
    actor: Actor


@dataclass(frozen=True)
class WarrantyReminderQueued:
    reminder_id: int
    unit_id: int
    organization_id: int
    customer_id: int | None
    ends_on: str  # ISO date, the last covered day
    actor: Actor  # system ("warranty-reminders")


@dataclass(frozen=True)
class WarrantyReplacementShipped:
    """A reserved replacement left the warehouse (warranty.replacements.replacement_ship);
    `claim_event_id` is its `replacement_shipped` row on the claim's timeline. The buyer is told
    (warranty.notify)."""

    replacement_id: int
    claim_id: int
    organization_id: int
    carrier: str
    tracking_number: str
    claim_event_id: int
    actor: Actor
