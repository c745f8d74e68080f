"""The agent UI: Settings -> Warehouses (admins) and the Stock page, in English and simplified Chinese."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from aftersales.core.actors import Actor
from aftersales.inventory.models import InventoryMovement, Warehouse
from aftersales.inventory.services import stock_move
from aftersales.testing.factories import ProductFactory
from aftersales.testing.personas import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def client_for(user, language=""):
    if language:
        user.language = language
        user.save(update_fields=["language"])
    c = Client()
    c.force_login(user)
    return c


def test_admin_adds_and_edits_a_warehouse(world):
    admin = client_for(world.admin)
    response = admin.post(
        "/settings/warehouses/",
        {
            "code": "lax-hub",
            "name": "Los Angeles hub",
            "is_return_hub": "on",
            "is_active": "on",
            "serves_countries": "us, ca",
        },
    )
    assert response.status_code == 302
    warehouse = Warehouse.objects.get(organization=world.org, code="LAX-HUB")
    assert warehouse.serves_countries == ["CA", "US"] and warehouse.is_return_hub
    page = admin.get("/settings/warehouses/").content.decode()
    assert 'data-warehouse="LAX-HUB"' in page and "CA US" in page
    bad = admin.post(
        f"/settings/warehouses/{warehouse.pk}/",
        {"code": "LAX-HUB", "name": "Los Angeles hub", "serves_countries": "US XX", "is_active": "on"},
    )
    assert bad.status_code == 422
    assert 'data-error="serves_countries"' in bad.content.decode()
    assert Warehouse.objects.get(pk=warehouse.pk).serves_countries == ["CA", "US"]
    ok = admin.post(f"/settings/warehouses/{warehouse.pk}/", {"code": "LAX-HUB", "name": "LA", "is_active": ""})
    assert ok.status_code == 302
    assert Warehouse.objects.get(pk=warehouse.pk).is_active is False


def test_stock_page_search_levels_and_movements(world):
    ProductFactory(organization=world.org, sku="PHONE-X1", title="Phone X1")
    ProductFactory(organization=world.org, sku="PHONE-X2", title="Phone X2")
    wh = Warehouse.objects.create(organization=world.org, code="SZ", name="Shenzhen")
    stock_move(
        organization_id=world.org.pk, warehouse_id=wh.pk, sku="PHONE-X1", kind="receive", quantity=5,
        reference="t", idempotency_key="in", actor=Actor.system("t"),
    )  # fmt: skip
    viewer = client_for(world.viewer)
    matches = viewer.get("/stock/", {"q": "phone"}).content.decode()
    assert "PHONE-X1" in matches and "PHONE-X2" in matches
    assert viewer.get("/stock/", {"q": "X1"})["Location"] == "/stock/?sku=PHONE-X1"
    page = viewer.get("/stock/", {"sku": "PHONE-X1"}).content.decode()
    assert 'data-warehouse="SZ" data-available="5"' in page
    assert 'data-kind="receive"' in page
    assert 'id="stock-record"' not in page  # the viewer may not record movements


def test_agent_records_goods_received_and_a_refused_adjustment(world):
    ProductFactory(organization=world.org, sku="CASE-1")
    wh = Warehouse.objects.create(organization=world.org, code="SZ", name="Shenzhen")
    agent = client_for(world.agent)
    page = agent.get("/stock/", {"sku": "CASE-1"}).content.decode()
    assert 'id="stock-record"' in page
    done = agent.post(
        "/stock/record/", {"sku": "CASE-1", "warehouse_id": wh.pk, "kind": "receive", "quantity": "3", "key": "k1"}
    )
    assert done.status_code == 302 and done["Location"] == "/stock/?sku=CASE-1"
    again = agent.post(
        "/stock/record/", {"sku": "CASE-1", "warehouse_id": wh.pk, "kind": "receive", "quantity": "3", "key": "k1"}
    )
    assert again.status_code == 302 and InventoryMovement.objects.count() == 1  # a double submit
    refused = agent.post(
        "/stock/record/", {"sku": "CASE-1", "warehouse_id": wh.pk, "kind": "adjust", "quantity": "-9", "key": "k2"}
    )
    assert refused.status_code == 409
    assert 'data-error="quantity"' in refused.content.decode()
    bad = agent.post(
        "/stock/record/", {"sku": "CASE-1", "warehouse_id": wh.pk, "kind": "receive", "quantity": "abc", "key": "k3"}
    )
    assert bad.status_code == 422
    assert InventoryMovement.objects.count() == 1


def test_pages_in_chinese(world):
    admin = client_for(world.admin, "zh-hans")
    with translation.override("en"):  # the request activates Chinese: do not leak it into later tests
        assert "仓库" in admin.get("/settings/warehouses/").content.decode()
        assert "库存" in admin.get("/stock/").content.decode()
