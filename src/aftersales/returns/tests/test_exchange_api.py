"""The inventory and exchange API: happy paths, and bad input answered 422 naming the field with
nothing written (api.tests.helpers.db_state)."""

from __future__ import annotations

import pytest

from aftersales.api.tests.helpers import ApiClient, assert_error, db_state
from aftersales.inventory.models import StockLevel, Warehouse
from aftersales.returns.models import RmaStatus
from aftersales.testing.personas import build_world

from .test_exchange_services import make_rma, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_warehouse_crud(world):
    admin = ApiClient(user=world.admin)
    created = admin.post(
        "/warehouses", {"code": "fra", "name": "Frankfurt hub", "is_return_hub": True, "serves_countries": ["DE", "at"]}
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["code"] == "FRA" and body["serves_countries"] == ["AT", "DE"]
    patched = admin.patch(f"/warehouses/{body['id']}", {"city": "Frankfurt am Main", "country": "DE"})
    assert patched.json()["city"] == "Frankfurt am Main"
    assert [w["code"] for w in ApiClient(user=world.viewer).get("/warehouses").json()] == ["FRA"]
    before = db_state()
    assert_error(
        admin.post("/warehouses", {"code": "X", "name": "X", "serves_countries": ["XX"]}), 422, field="serves_countries"
    )
    assert_error(admin.post("/warehouses", {"code": "FRA", "name": "again"}), 409, field="code")
    assert_error(admin.post("/warehouses", {"code": "Y", "name": "Y", "colour": "red"}), 422)
    assert db_state() == before


def test_stock_and_movements(world):
    _rma, line = make_rma(world)
    wh = stock(world, "SZ", line.sku, 0)
    agent = ApiClient(user=world.agent)
    received = agent.post(
        "/inventory/movements",
        {"warehouse_id": wh.pk, "sku": line.sku, "kind": "receive", "quantity": 4, "idempotency_key": "in-1"},
    )
    assert received.status_code == 201, received.content
    again = agent.post(
        "/inventory/movements",
        {"warehouse_id": wh.pk, "sku": line.sku, "kind": "receive", "quantity": 4, "idempotency_key": "in-1"},
    )
    assert again.json()["id"] == received.json()["id"]
    rows = agent.get("/inventory/stock", {"sku": line.sku}).json()
    assert [(r["warehouse_code"], r["on_hand"], r["reserved"], r["available"]) for r in rows] == [("SZ", 4, 0, 4)]
    page = agent.get("/inventory/movements", {"sku": line.sku, "limit": 1}).json()
    assert page["total"] == 1 and page["items"][0]["kind"] == "receive"
    before = db_state()
    bad = [
        ({"quantity": 0, "kind": "adjust"}, "quantity"),
        ({"quantity": -1}, "quantity"),
        ({"sku": "NOPE"}, "sku"),
        ({"warehouse_id": 999999}, "warehouse_id"),
        ({"kind": "reserve"}, "kind"),
    ]
    for change, field in bad:
        body = {
            "warehouse_id": wh.pk,
            "sku": line.sku,
            "kind": "receive",
            "quantity": 1,
            "idempotency_key": "x",
            **change,
        }
        response = agent.post("/inventory/movements", body)
        assert response.status_code == 422, (change, response.content)
        assert field in (response.json()["error"]["field"] or ""), (change, response.json())
    too_much = {"warehouse_id": wh.pk, "sku": line.sku, "kind": "adjust", "quantity": -5, "idempotency_key": "y"}
    assert_error(agent.post("/inventory/movements", too_much), 409, field="quantity")
    assert db_state() == before
    assert_error(agent.get("/inventory/stock", {"sku": line.sku, "warehouse_id": 999999}), 404, field="warehouse_id")


def test_exchange_endpoints(world):
    rma, line = make_rma(world)
    wh = stock(world, "SZ", line.sku, 3)
    agent = ApiClient(user=world.agent)
    body = {"lines": [{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]}
    created = agent.post(f"/rmas/{rma.pk}/exchange", body)
    assert created.status_code == 201, created.content
    result = created.json()
    assert result["exchange"]["status"] == "reserved" and not result["out_of_stock"]
    assert agent.post(f"/rmas/{rma.pk}/exchange", body).status_code == 200  # the same exchange
    exchange_id = result["exchange"]["id"]
    shipped = agent.post(f"/exchanges/{exchange_id}/ship", {"tracking_number": "1Z9"})
    assert shipped.status_code == 200 and shipped.json()["status"] == "shipped"
    assert_error(agent.post(f"/exchanges/{exchange_id}/cancel", {}), 409)
    level = StockLevel.objects.get(warehouse=wh, sku=line.sku)
    assert (level.on_hand, level.reserved) == (1, 0)


def test_exchange_out_of_stock_answers_offer_a_refund(world):
    rma, line = make_rma(world)
    stock(world, "SZ", line.sku, 1)
    response = ApiClient(user=world.agent).post(
        f"/rmas/{rma.pk}/exchange",
        {"lines": [{"sku": line.sku, "quantity": 2, "replaces_order_line_id": line.pk}]},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 201
    result = response.json()
    assert result["out_of_stock"] and result["exchange"]["status"] == "out_of_stock"
    assert "refund" in result["message"]
    assert result["shortages"] == [{"sku": line.sku, "requested": 2, "available": 1}]


def test_exchange_bad_input_is_422_and_writes_nothing(world):
    rma, line = make_rma(world)
    stock(world, "SZ", line.sku, 5)
    other = Warehouse.objects.create(organization=world.foreign_org, code="F", name="F")
    agent = ApiClient(user=world.agent)
    cases = [
        ({"lines": [{"sku": line.sku, "quantity": -1, "replaces_order_line_id": line.pk}]}, "quantity"),
        ({"lines": [{"sku": line.sku, "quantity": 3, "replaces_order_line_id": line.pk}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "NOPE", "quantity": 1, "replaces_order_line_id": line.pk}]}, "lines[0].sku"),
        (
            {"lines": [{"sku": line.sku, "quantity": 1, "replaces_order_line_id": line.pk}], "warehouse_id": other.pk},
            "warehouse_id",
        ),
        ({"lines": []}, "lines"),
    ]
    before = db_state()
    for body, field in cases:
        response = agent.post(f"/rmas/{rma.pk}/exchange", body)
        assert response.status_code == 422, (body, response.content)
        assert field in (response.json()["error"]["field"] or ""), (body, response.json())
    assert db_state() == before
    rma2, line2 = make_rma(world, status=RmaStatus.REQUESTED, number="RMA-2")
    assert_error(
        agent.post(
            f"/rmas/{rma2.pk}/exchange",
            {"lines": [{"sku": line2.sku, "quantity": 1, "replaces_order_line_id": line2.pk}]},
        ),
        409,
    )
