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


# --- retry (button + API) and shipping ------------------------------------------------------------


def _out_of_stock_claim(world, stock, capture):  # type: ignore[no-untyped-def]
    warehouse = Warehouse.objects.create(organization=world.org, code="SZ-1", name="Shenzhen")
    claim = _approved_claim(world, stock)
    with capture(execute=True):
        claim_resolve(user=world.agent, claim_id=claim.pk, resolution="replacement")
    assert ReplacementRequest.objects.get(claim=claim).out_of_stock_at is not None
    return claim, warehouse


def test_the_retry_button_reserves_once_stock_arrived_and_ship_fills_fulfilled_at(  # type: ignore[no-untyped-def]
    world, stock, django_capture_on_commit_callbacks, client
) -> None:
    claim, warehouse = _out_of_stock_claim(world, stock, django_capture_on_commit_callbacks)
    client.force_login(world.agent)
    url = reverse("web:warranty_claim", args=[claim.pk])
    page = client.get(url).content.decode()
    assert 'data-action="replacement-reserve"' in page and 'data-action="replacement-ship"' not in page
    retry = reverse("web:warranty_replacement_reserve", args=[claim.pk])
    assert client.post(retry).status_code == 302  # still out of stock: the timeline says so again
    assert WarrantyClaimEvent.objects.filter(claim=claim, type="replacement_out_of_stock").count() == 2
    _receive(world, warehouse, stock.phone.sku, 1)
    assert client.post(retry).status_code == 302
    replacement = ReplacementRequest.objects.get(claim=claim)
    assert replacement.reserved_at is not None and replacement.warehouse_id == warehouse.pk
    assert WarrantyClaimEvent.objects.get(claim=claim, type="replacement_reserved").actor_id == world.agent.pk
    page = client.get(url).content.decode()
    assert 'data-action="replacement-reserve"' not in page and 'data-action="replacement-ship"' in page
    ship = reverse("web:warranty_replacement_ship", args=[claim.pk])
    assert client.post(ship, {"carrier": "DHL", "tracking_number": "JD0146000031"}).status_code == 302
    replacement.refresh_from_db()
    assert replacement.fulfilled_at is not None and replacement.tracking_number == "JD0146000031"
    level = StockLevel.objects.get(warehouse=warehouse, sku=stock.phone.sku)
    assert (level.on_hand, level.reserved) == (0, 0)
    assert client.post(ship, {"tracking_number": "OTHER"}).status_code == 302  # twice: shipped once
    assert InventoryMovement.objects.filter(kind="ship").count() == 1
    assert ReplacementRequest.objects.get(pk=replacement.pk).tracking_number == "JD0146000031"
    page = client.get(url).content.decode()
    assert "Replacement shipped" in page and "DHL JD0146000031" in page
    assert 'data-action="replacement-ship"' not in page
    assert 'data-action="closed"' in page  # the agent closes the claim


def test_replacement_api_retry_ship_and_refusals(world, stock, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from aftersales.api.tests.helpers import ApiClient

    claim, warehouse = _out_of_stock_claim(world, stock, django_capture_on_commit_callbacks)
    api = ApiClient(user=world.agent)
    base = f"/warranty/claims/{claim.pk}/replacement"
    early = api.request("POST", f"{base}/ship", {})
    assert early.status_code == 409 and early.json()["error"]["field"] == "claim_id"
    still = api.request("POST", f"{base}/reserve")
    assert still.status_code == 200 and still.json()["replacement"]["reserved_at"] is None
    assert "refund" in still.json()["replacement"]["stock_note"]
    _receive(world, warehouse, stock.phone.sku, 1)
    reserved = api.request("POST", f"{base}/reserve").json()["replacement"]
    assert reserved["reserved_at"] is not None and reserved["warehouse_id"] == warehouse.pk
    bad = api.request("POST", f"{base}/ship", {"tracking_number": "x" * 81})
    assert bad.status_code == 422 and "tracking_number" in str(bad.json()["error"].get("field", ""))
    shipped = api.request("POST", f"{base}/ship", {"carrier": "UPS", "tracking_number": "1Z999"}).json()
    assert shipped["replacement"]["fulfilled_at"] is not None and shipped["replacement"]["carrier"] == "UPS"
    after = api.request("POST", f"{base}/reserve")
    assert after.status_code == 409
    assert ApiClient(user=world.viewer).request("POST", f"{base}/reserve").status_code == 403
    assert ApiClient(user=world.foreign_user).request("POST", f"{base}/reserve").status_code == 404
    claim_change_status(user=world.agent, claim_id=claim.pk, status="closed")
    no_replacement = claim_open(user=world.agent, unit_id=claim.unit_id, problem="Again", claimed_at=IN_TIME)
    missing = api.request("POST", f"/warranty/claims/{no_replacement.pk}/replacement/reserve")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "claim_id"
