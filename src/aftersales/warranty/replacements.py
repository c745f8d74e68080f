"""Stock for warranty replacements (issue 10, sections 5 and 6): a replacement requested for an
approved claim (warranty.services.claim_resolve publishes WarrantyReplacementRequested) reserves its
unit through the inventory ledger, like an exchange (inventory.selectors.stock_pick_warehouse: the
first active warehouse by code with the SKU available; inventory.services.stock_move, kind reserve,
key `warranty-replacement:<id>:reserve`). Nothing available: the request is marked out of stock with
the shortage and the claim's timeline tells the agent to offer a refund instead. Safe to run twice:
a reserved request is left as it is; an out-of-stock one is tried again."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound
from aftersales.inventory.models import MovementKind
from aftersales.inventory.selectors import Shortage, out_of_stock_message, stock_pick_warehouse
from aftersales.inventory.services import stock_move

from .models import ReplacementRequest
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
