"""The one place a warranty claim's or a repair order's status changes
(tests/architecture/test_status_transitions.py lists `claim.status` and `repair.status` here only)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now

from .events import RepairOrderStatusChanged, WarrantyClaimStatusChanged
from .models import RepairOrder, RepairOrderEvent, WarrantyClaim, WarrantyClaimEvent
from .workflow import check_claim_transition, check_repair_transition

STATUS_CHANGED = "status_changed"


def _in_transaction(what: str) -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(f"{what} runs inside the caller's transaction, on a locked row")


def claim_record(claim: WarrantyClaim, type_: str, actor: Actor, **payload: Any) -> WarrantyClaimEvent:
    """Append an audit row to the claim's timeline."""
    return WarrantyClaimEvent.objects.create(
        claim=claim,
        type=type_,
        payload=payload,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        at=now(),
    )


def repair_record(repair: RepairOrder, type_: str, actor: Actor, **payload: Any) -> RepairOrderEvent:
    return RepairOrderEvent.objects.create(
        repair_order=repair,
        type=type_,
        payload=payload,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        actor_ref=actor.id,
        at=now(),
    )


def claim_transition(claim: WarrantyClaim, to: str, *, actor: Actor, reason: str = "") -> WarrantyClaimEvent:
    """Move `claim` to `to` through workflow.CLAIM_TRANSITIONS, save it, append a `status_changed`
    row with the actor and the reason, and publish WarrantyClaimStatusChanged after commit.

    Runs inside the caller's transaction on a claim row the caller locked (`select_for_update`).
    Raises ValidationFailed for an unknown status, Conflict for a move the table refuses (and for
    "no change")."""
    check_claim_transition(claim.status, to)
    _in_transaction("claim_transition")
    old = claim.status
    claim.status = to
    claim.save(update_fields=["status", "resolution", "updated_at"])
    payload = {"old": old, "new": to}
    if reason:
        payload["reason"] = reason
    row = claim_record(claim, STATUS_CHANGED, actor, **payload)
    events.publish(
        WarrantyClaimStatusChanged(
            claim_id=claim.pk,
            organization_id=claim.organization_id,
            old_status=old,
            new_status=to,
            reason=reason,
            claim_event_id=row.pk,
            actor=actor,
        )
    )
    return row


def repair_transition(
    repair: RepairOrder, to: str, *, actor: Actor, reason: str = "", details: dict[str, str] | None = None
) -> RepairOrderEvent:
    """Move `repair` to `to` through workflow.REPAIR_TRANSITIONS, save it, append a `status_changed`
    row (with `details`, e.g. the return tracking number) and publish RepairOrderStatusChanged after
    commit. Same locking contract as claim_transition."""
    check_repair_transition(repair.status, to)
    _in_transaction("repair_transition")
    old = repair.status
    repair.status = to
    repair.save()
    payload: dict[str, Any] = {"old": old, "new": to}
    if reason:
        payload["reason"] = reason
    if details:
        payload.update(details)
    row = repair_record(repair, STATUS_CHANGED, actor, **payload)
    events.publish(
        RepairOrderStatusChanged(
            repair_order_id=repair.pk,
            claim_id=repair.claim_id,
            organization_id=repair.organization_id,
            old_status=old,
            new_status=to,
            reason=reason,
            repair_event_id=row.pk,
            actor=actor,
        )
    )
    return row
