"""The seller types in the shipped units of an order whose platform reports no IMEI / serial number
(eBay, Shopify; Amazon outside FBA): warranty.services.order_units_register, the page
/warranty/units/order/ and POST /api/v1/warranty/orders/{id}/units. IMEIs are Luhn-checked
(python-stdnum); all or nothing; errors name the order line."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory
from aftersales.warranty.models import SoldUnit

from .conftest import OTHER_IMEI, VALID_IMEI

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world):  # type: ignore[no-untyped-def]
    phone = ProductFactory(organization=world.org, sku="PH-1", title="Phone X", category="phones", warranty_months=12)
    o = OrderFactory(store=world.store_de, external_id="12-34567-89012", ship_country="DE", currency="EUR")
    o.phones = OrderLineFactory(order=o, product=phone, sku="PH-1", quantity=2, unit_price_amount=Decimal("399"))
    return o


def test_the_page_registers_imeis_and_serials_per_line(world, order, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    url = reverse("web:warranty_order_units")
    page = client.get(url, {"order": order.external_id})
    assert page.status_code == 200 and f'name="line_{order.phones.pk}"' in page.content.decode()
    done = client.post(
        f"{url}?order={order.external_id}",
        {"order_id": order.pk, f"line_{order.phones.pk}": f"{VALID_IMEI[:8]}-{VALID_IMEI[8:]}\n\n  sn-77 a \n"},
    )
    assert done.status_code == 302
    units = {(u.imei, u.serial_number): u for u in SoldUnit.objects.all()}
    assert set(units) == {(VALID_IMEI, ""), ("", "SN77A")}
    assert all(u.order_line_id == order.phones.pk and str(u.delivery_country) == "DE" for u in units.values())
    after = client.get(url, {"order": order.external_id}).content.decode()
    assert f"IMEI {VALID_IMEI}" in after and f'name="line_{order.phones.pk}"' not in after  # 2 of 2 registered


def test_a_bad_imei_or_too_many_units_names_the_line_and_writes_nothing(world, order, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    url = f"{reverse('web:warranty_order_units')}?order={order.external_id}"
    field = f"line_{order.phones.pk}"
    bad = client.post(url, {"order_id": order.pk, field: f"{OTHER_IMEI}\n{VALID_IMEI[:-1]}0"})
    assert bad.status_code == 422 and f'data-error="{field}"' in bad.content.decode()
    assert f"{VALID_IMEI[:-1]}0" in bad.content.decode()
    too_many = client.post(url, {"order_id": order.pk, field: "A1\nA2\nA3"})
    assert too_many.status_code == 422 and f'data-error="{field}"' in too_many.content.decode()
    assert not SoldUnit.objects.exists()


def test_the_api_uses_the_same_service(world, order) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(user=world.agent)
    path = f"/warranty/orders/{order.pk}/units"
    made = api.request("POST", path, {"lines": [{"order_line_id": order.phones.pk, "identifiers": [VALID_IMEI]}]})
    assert made.status_code == 201 and made.json()[0]["imei"] == VALID_IMEI
    again = api.request("POST", path, {"lines": [{"order_line_id": order.phones.pk, "identifiers": [VALID_IMEI]}]})
    assert again.status_code == 409 and again.json()["error"]["field"] == f"line_{order.phones.pk}"
    other = OrderFactory(store=world.store_us)
    foreign_line = OrderLineFactory(order=other, sku="X").pk
    wrong = api.request("POST", path, {"lines": [{"order_line_id": foreign_line, "identifiers": ["S1"]}]})
    assert wrong.status_code == 404 and wrong.json()["error"]["field"] == f"line_{foreign_line}"
    empty = api.request("POST", path, {"lines": [{"order_line_id": order.phones.pk, "identifiers": [" "]}]})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "units"
    assert (
        ApiClient(user=world.viewer)
        .request("POST", path, {"lines": [{"order_line_id": 1, "identifiers": ["S"]}]})
        .status_code
        == 403
    )
    assert (
        ApiClient(user=world.foreign_user)
        .request("POST", path, {"lines": [{"order_line_id": 1, "identifiers": ["S"]}]})
        .status_code
        == 404
    )
    assert SoldUnit.objects.count() == 1
