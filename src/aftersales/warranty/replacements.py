"""Stock for warranty replacements (issue 10, sections 5 and 6): a replacement requested for an
approved claim (warranty.services.claim_resolve publishes WarrantyReplacementRequested) reserves its
unit through the inventory ledger, like an exchange (inventory.selectors.stock_pick_warehouse: the
first active warehouse by code with the SKU available; inventory.services.stock_move, kind reserve,
key `warranty-replacement:<id>:reserve`). Nothing available: the request is marked out of stock with
the shortage and the claim's timeline tells the agent to offer a refund instead. Safe to run twice:
a reserved request is left as it is; an out-of-stock one is tried again.

An agent retries an out-of-stock reservation (`replacement_retry`: the claim page's "Try to reserve
again" and `POST /api/v1/warranty/claims/{id}/replacement/reserve`) and ships a reserved one
(`replacement_ship`: "Replacement shipped" and `POST .../replacement/ship`): the reservation becomes
a ship movement (key `warranty-replacement:<id>:ship`), `fulfilled_at`, carrier and tracking number
are set and the claim's timeline says so; the agent then closes the claim."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound
from aftersales.core.validation import check_text, parse_id
from aftersales.inventory.models import MovementKind
from aftersales.inventory.selectors import Shortage, out_of_stock_message, stock_pick_warehouse
from aftersales.inventory.services import stock_move

from .events import WarrantyReplacementShipped
from .models import ReplacementRequest
from .selectors import claim_in_organization
from .transition import claim_record

REPLACEMENT_ACTOR = Actor.system("warranty-replacements")


@dataclass(frozen=True)
class ReplacementStock:
    replacement: ReplacementRequest
    reserved: bool
    message: str  # the shortage and "offer a refund" when out of stock


def replacement_reserve(*, replacement_id: int, actor: Actor = REPLACEMENT_ACTOR) -> ReplacementStock:
    """Reserve the replacement's unit (see the module docstring). Locks the request row, then the
    stock rows (inventory.services). Raises NotFound for an unknown request."""
    with transaction.atomic():
        replacement = (
            ReplacementRequest.objects.select_for_update(of=("self",))
            .select_related("product", "claim")
            .filter(pk=replacement_id)
            .first()
        )
        if replacement is None:
            raise NotFound(_("replacement request not found"), field="replacement_id")
        if replacement.reserved_at is not None or replacement.fulfilled_at is not None:
            return ReplacementStock(replacement, True, "")
        organization_id = replacement.organization_id
        sku = replacement.product.sku
        needed = {sku: replacement.quantity}
        warehouse, shortages = stock_pick_warehouse(organization_id, needed)
        if warehouse is not None:
            try:
                with transaction.atomic():
                    stock_move(
                        organization_id=organization_id,
                        warehouse_id=warehouse.pk,
                        sku=sku,
                        kind=MovementKind.RESERVE,
                        quantity=replacement.quantity,
                        reference=f"warranty-replacement:{replacement.pk}",
                        idempotency_key=f"warranty-replacement:{replacement.pk}:reserve",
                        actor=actor,
                        note=f"claim {replacement.claim_id}",
                    )
            except Conflict:  # taken meanwhile by another reservation: out of stock after all
                warehouse, shortages = None, (Shortage(sku, replacement.quantity, 0),)
        at = now()
        if warehouse is not None:
            replacement.warehouse = warehouse
            replacement.reserved_at = at
            replacement.out_of_stock_at = None
            replacement.stock_note = ""
            replacement.save(update_fields=["warehouse", "reserved_at", "out_of_stock_at", "stock_note", "updated_at"])
            claim_record(
                replacement.claim,
                "replacement_reserved",
                actor,
                replacement_id=replacement.pk,
                warehouse_id=warehouse.pk,
                sku=sku,
                quantity=replacement.quantity,
            )
            return ReplacementStock(replacement, True, "")
        message = out_of_stock_message(shortages)
        replacement.out_of_stock_at = at
        replacement.stock_note = message
        replacement.save(update_fields=["out_of_stock_at", "stock_note", "updated_at"])
        claim_record(
            replacement.claim,
            "replacement_out_of_stock",
            actor,
            replacement_id=replacement.pk,
            sku=sku,
            message=message,
        )
        return ReplacementStock(replacement, False, message)


def _claim_replacement(user: User, claim_id: int) -> ReplacementRequest:
    """The replacement request of a claim of the user's organization (NotFound naming claim_id)."""
    claim = claim_in_organization(organization_of(user), parse_id(claim_id, field="claim_id"))
    replacement = ReplacementRequest.objects.filter(claim=claim).first()
    if replacement is None:
        raise NotFound(_("this claim has no replacement request"), field="claim_id")
    return replacement


def replacement_retry(*, user: User, claim_id: int) -> ReplacementStock:
    """Try again to reserve an out-of-stock replacement (PROCESS). A reserved one is answered as it
    is; a shipped one is a Conflict. Same path and keys as the automatic reservation."""
    check_perm(user, Permission.PROCESS)
    replacement = _claim_replacement(user, claim_id)
    if replacement.fulfilled_at is not None:
        raise Conflict(_("the replacement has already shipped"), field="claim_id")
    return replacement_reserve(replacement_id=replacement.pk, actor=Actor.user(user))


def replacement_ship(*, user: User, claim_id: int, carrier: str = "", tracking_number: str = "") -> ReplacementRequest:
    """The reserved replacement left the warehouse (PROCESS): its reservation becomes a ship
    movement, `fulfilled_at` / carrier / tracking number are set, the claim's timeline records it.
    Not reserved (out of stock, or not yet tried): Conflict. Shipped already: answered as it is
    (the same parcel is not shipped twice). Locks the request row, then the stock rows."""
    check_perm(user, Permission.PROCESS)
    carrier = check_text(carrier, field="carrier", max_length=80, one_line=True).strip()
    tracking_number = check_text(tracking_number, field="tracking_number", max_length=80, one_line=True).strip()
    actor = Actor.user(user)
    replacement_id = _claim_replacement(user, claim_id).pk
    with transaction.atomic():
        replacement = (
            ReplacementRequest.objects.select_for_update(of=("self",))
            .select_related("product", "claim")
            .get(pk=replacement_id)
        )
        if replacement.fulfilled_at is not None:
            return replacement
        if replacement.reserved_at is None or replacement.warehouse_id is None:
            raise Conflict(
                _("the replacement has no reserved stock: reserve it first (or offer a refund)"), field="claim_id"
            )
        stock_move(
            organization_id=replacement.organization_id,
            warehouse_id=replacement.warehouse_id,
            sku=replacement.product.sku,
            kind=MovementKind.SHIP,
            quantity=replacement.quantity,
            reference=f"warranty-replacement:{replacement.pk}",
            idempotency_key=f"warranty-replacement:{replacement.pk}:ship",
            actor=actor,
            note=f"claim {replacement.claim_id}",
        )
        replacement.fulfilled_at = now()
        replacement.carrier = carrier
        replacement.tracking_number = tracking_number
        replacement.save(update_fields=["fulfilled_at", "carrier", "tracking_number", "updated_at"])
        row = claim_record(
            replacement.claim,
            "replacement_shipped",
            actor,
            replacement_id=replacement.pk,
            sku=replacement.product.sku,
            quantity=replacement.quantity,
            carrier=carrier,
            tracking_number=tracking_number,
        )
        events.publish(
            WarrantyReplacementShipped(
                replacement_id=replacement.pk,
                claim_id=replacement.claim_id,
                organization_id=replacement.organization_id,
                carrier=carrier,
                tracking_number=tracking_number,
                claim_event_id=row.pk,
                actor=actor,
            )
        )
        return replacement
