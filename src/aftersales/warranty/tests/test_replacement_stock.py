"""A warranty replacement reserves its unit through the inventory ledger after the claim is resolved
(warranty.replacements, through the WarrantyReplacementRequested subscriber); out of stock, the claim's
timeline says to offer a refund; running it again never reserves twice."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aftersales.core.actors import Actor
from aftersales.inventory.models import InventoryMovement, StockLevel, Warehouse
from aftersales.inventory.services import stock_move
from aftersales.warranty.models import ReplacementRequest, WarrantyClaimEvent
from aftersales.warranty.replacements import replacement_reserve
from aftersales.warranty.services import claim_change_status, claim_open, claim_resolve

from .test_services import IN_TIME, register

pytestmark = pytest.mark.django_db


def _approved_claim(world, stock):  # type: ignore[no-untyped-def]
    unit = register(world, stock)
    claim = claim_open(user=world.agent, unit_id=unit.pk, problem="Dead on arrival", claimed_at=IN_TIME)
    claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
    claim_change_status(user=world.approver, claim_id=claim.pk, status="approved")
    return claim


def _receive(world, warehouse, sku: str, quantity: int) -> None:  # type: ignore[no-untyped-def]
    stock_move(
        organization_id=world.org.pk,
        warehouse_id=warehouse.pk,
        sku=sku,
        kind="receive",
        quantity=quantity,
        reference="test",
        idempotency_key=f"test:receive:{sku}:{quantity}",
        actor=Actor.system("test"),
    )


def test_a_replacement_reserves_stock_after_commit_once(world, stock, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    warehouse = Warehouse.objects.create(organization=world.org, code="SZ-1", name="Shenzhen")
    _receive(world, warehouse, stock.phone.sku, 2)
    claim = _approved_claim(world, stock)
    with django_capture_on_commit_callbacks(execute=True):
        claim_resolve(user=world.agent, claim_id=claim.pk, resolution="replacement")
    replacement = ReplacementRequest.objects.get(claim=claim)
    assert replacement.warehouse_id == warehouse.pk and replacement.reserved_at is not None
    level = StockLevel.objects.get(warehouse=warehouse, sku=stock.phone.sku)
    assert (level.on_hand, level.reserved) == (2, 1)
    reserved = WarrantyClaimEvent.objects.get(claim=claim, type="replacement_reserved")
    assert (reserved.actor_kind, reserved.payload["warehouse_id"]) == ("system", warehouse.pk)
    again = replacement_reserve(replacement_id=replacement.pk)  # a retried task
    assert again.reserved
    assert InventoryMovement.objects.filter(kind="reserve").count() == 1
    assert StockLevel.objects.get(pk=level.pk).reserved == 1


def test_out_of_stock_says_offer_a_refund_and_a_retry_reserves_later(  # type: ignore[no-untyped-def]
    world, stock, django_capture_on_commit_callbacks, client
) -> None:
    warehouse = Warehouse.objects.create(organization=world.org, code="SZ-1", name="Shenzhen")
    claim = _approved_claim(world, stock)
    with django_capture_on_commit_callbacks(execute=True):
        claim_resolve(user=world.agent, claim_id=claim.pk, resolution="replacement")
    replacement = ReplacementRequest.objects.get(claim=claim)
    assert replacement.reserved_at is None and replacement.out_of_stock_at is not None
    assert "offer the customer a refund" in replacement.stock_note
    event = WarrantyClaimEvent.objects.get(claim=claim, type="replacement_out_of_stock")
    assert stock.phone.sku in event.payload["message"]
    assert not InventoryMovement.objects.filter(kind="reserve").exists()
    _receive(world, warehouse, stock.phone.sku, 1)
    result = replacement_reserve(replacement_id=replacement.pk)
    assert result.reserved and StockLevel.objects.get(warehouse=warehouse, sku=stock.phone.sku).reserved == 1
    client.force_login(world.agent)  # the claim's timeline on its page says both
    page = client.get(reverse("web:warranty_claim", args=[claim.pk])).content.decode()
    assert "offer the customer a refund instead" in page and "Replacement unit reserved" in page
