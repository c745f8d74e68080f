"""Shipped units from a CSV file (warranty.units_import): the page /warranty/units/import/ and
POST /api/v1/warranty/units/import-csv, one service; encodings (UTF-8 with / without BOM, GB18030),
all or nothing with `row N, column X`, IMEI Luhn through the one writer (units_register),
idempotent (the same file twice registers once), a preview that writes nothing."""

from __future__ import annotations

import codecs
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory
from aftersales.warranty import units_import as importer
from aftersales.warranty.models import SoldUnit
from aftersales.warranty.serials import normalise_serial

from .conftest import OTHER_IMEI, VALID_IMEI

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world):  # type: ignore[no-untyped-def]
    phone = ProductFactory(organization=world.org, sku="PH-1", title="Phone X", category="phones", warranty_months=12)
    case = ProductFactory(organization=world.org, sku="CASE-1", title="Case", category="accessories")
    o = OrderFactory(store=world.store_de, external_id="12-34567-89012", ship_country="DE", currency="EUR")
    o.phones = OrderLineFactory(order=o, product=phone, sku="PH-1", quantity=2, unit_price_amount=Decimal("399"))
    o.cases = OrderLineFactory(order=o, product=case, sku="CASE-1", quantity=1, unit_price_amount=Decimal("9"))
    return o


def _csv(order, *rows: str, header: str = "order,sku,line_id,identifier") -> str:  # type: ignore[no-untyped-def]
    return "\n".join([header, *rows]) + "\n"


def _upload(text: str | bytes, name: str = "units.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text if isinstance(text, bytes) else text.encode(), content_type="text/csv")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_the_api_registers_a_file_once_in_every_encoding(world, order, encoding) -> None:  # type: ignore[no-untyped-def]
    text = _csv(
        order,
        f"{order.external_id},PH-1,,{VALID_IMEI[:8]}-{VALID_IMEI[8:]}",
        f"{order.external_id},,{order.cases.pk},SN-77",
        header="订单号,SKU,行号,序列号" if encoding == "gb18030" else "Order Number,SKU,Line ID,IMEI/Serial",
    )
    api = ApiClient(user=world.agent)
    made = api.upload("/warranty/units/import-csv", {"file": _upload(text.encode(encoding))})
    assert made.status_code == 201, made.json()
    assert (made.json()["registered"], made.json()["skipped"]) == (2, 0)
    units = {(u.imei, u.serial_number, u.order_line_id) for u in SoldUnit.objects.all()}
    assert (VALID_IMEI, "", order.phones.pk) in units and len(units) == 2
    again = api.upload("/warranty/units/import-csv", {"file": _upload(text.encode(encoding))})
    assert again.status_code == 201 and (again.json()["registered"], again.json()["skipped"]) == (0, 2)
    assert SoldUnit.objects.count() == 2


def test_errors_name_the_row_and_column_and_nothing_is_written(world, order) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(user=world.agent)
    cases = [
        (
            _csv(order, f"{order.external_id},PH-1,,{OTHER_IMEI}", f"{order.external_id},PH-1,,{VALID_IMEI[:-1]}0"),
            "row 3, column identifier",
        ),
        (_csv(order, f"{order.external_id},PH-1,,{OTHER_IMEI}", f"99-nope,PH-1,,{VALID_IMEI}"), "row 3, column order"),
        (_csv(order, f"{order.external_id},NOPE,,{VALID_IMEI}"), "row 2, column sku"),
        (_csv(order, f"{order.external_id},,abc,{VALID_IMEI}"), "row 2, column line_id"),
        (
            _csv(order, f"{order.external_id},CASE-1,,SN-1", f"{order.external_id},CASE-1,,SN-2"),
            "row 3, column line_id",
        ),
        (
            _csv(order, f"{order.external_id},PH-1,,{VALID_IMEI}", f"{order.external_id},PH-1,,{VALID_IMEI}"),
            "row 3, column identifier",
        ),
        ("sku,identifier\nPH-1,SN-1\n", "the first row must name the columns"),
        (b"\xff\xfe\x00o\x00r", "not UTF-8 or GB18030"),
    ]
    for text, where in cases:
        refused = api.upload("/warranty/units/import-csv", {"file": _upload(text)})
        assert refused.status_code == 422, (where, refused.json())
        assert refused.json()["error"]["field"] == "file" and where in refused.json()["error"]["message"], where
    assert not SoldUnit.objects.exists()
    SoldUnit.objects.create(
        organization=world.org,
        product=order.phones.product,
        serial_number=normalise_serial("SN-ELSEWHERE"),
        sold_at=order.placed_at,
    )
    taken = api.upload(
        "/warranty/units/import-csv", {"file": _upload(_csv(order, f"{order.external_id},CASE-1,,SN-ELSEWHERE"))}
    )
    assert taken.status_code == 409 and "row 2, column identifier" in taken.json()["error"]["message"]


def test_limits_and_the_preview(world, order, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(user=world.agent)
    preview = api.upload(
        "/warranty/units/import-csv?commit=false",
        {"file": _upload(_csv(order, f"{order.external_id},PH-1,,{VALID_IMEI}"))},
    )
    assert preview.status_code == 200 and preview.json()["committed"] is False
    assert preview.json()["rows"][0]["row"] == 2 and preview.json()["to_register"] == 1
    assert not SoldUnit.objects.exists()
    monkeypatch.setattr(importer, "MAX_ROWS", 2)
    many = _csv(order, *[f"{order.external_id},PH-1,,S-{i}" for i in range(3)])
    assert (
        "at most 2 rows" in api.upload("/warranty/units/import-csv", {"file": _upload(many)}).json()["error"]["message"]
    )
    monkeypatch.setattr(importer, "MAX_BYTES", 50)
    big = api.upload("/warranty/units/import-csv", {"file": _upload(many)})
    assert big.status_code == 422 and "larger than" in big.json()["error"]["message"]
    assert api.request("GET", "/warranty/units/import-csv/example").content.startswith(codecs.BOM_UTF8 + b"order,sku")
    assert ApiClient(user=world.viewer).upload("/warranty/units/import-csv", {"file": _upload(many)}).status_code == 403


def test_the_page_previews_then_registers(world, order, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    url = reverse("web:warranty_units_import")
    assert 'name="file"' in client.get(url).content.decode()
    text = _csv(order, f"{order.external_id},PH-1,,{VALID_IMEI}", f"{order.external_id},CASE-1,,SN-9")
    shown = client.post(url, {"file": _upload(text), "action": "preview"})
    body = shown.content.decode()
    assert shown.status_code == 200 and 'data-row="3"' in body and 'name="kept"' in body
    assert not SoldUnit.objects.exists()
    kept = body.split('name="kept" value="', 1)[1].split('"', 1)[0]
    assert client.post(url, {"kept": kept, "action": "register"}).status_code == 302
    assert SoldUnit.objects.count() == 2
    bad = client.post(
        url, {"file": _upload(_csv(order, f"{order.external_id},PH-1,,{VALID_IMEI[:-1]}0")), "action": "register"}
    )
    assert bad.status_code == 422 and "row 2, column identifier" in bad.content.decode()
    example = client.get(reverse("web:warranty_units_import_example"))
    assert example.status_code == 200 and example["Content-Type"].startswith("text/csv")


def test_the_store_column_picks_the_order_when_two_stores_share_its_number(world, order, client) -> None:  # type: ignore[no-untyped-def]
    """The optional `store` column: the store's id or its name as Settings > Stores shows it (case
    ignored), scoped to the organization; an unknown store, or another organization's, is a 422 naming
    the row and the column, and nothing is written."""
    phone = ProductFactory(organization=world.org, sku="PH-1B", title="Phone X", category="phones")
    twin = OrderFactory(store=world.store_us, external_id=order.external_id, ship_country="US")
    twin_line = OrderLineFactory(order=twin, product=phone, sku="PH-1", quantity=1, unit_price_amount=Decimal("399"))
    api = ApiClient(user=world.agent)
    header = "order,sku,line_id,identifier,store"
    ambiguous = api.upload(
        "/warranty/units/import-csv",
        {"file": _upload(_csv(order, f"{order.external_id},PH-1,,SN-1", header="order,sku,line_id,identifier"))},
    )
    assert ambiguous.status_code == 422 and "row 2, column order" in ambiguous.json()["error"]["message"]
    assert "add the store column" in ambiguous.json()["error"]["message"]
    for store in (world.foreign_store.name, str(world.foreign_store.pk), "No such shop"):
        refused = api.upload(
            "/warranty/units/import-csv",
            {
                "file": _upload(
                    _csv(
                        order,
                        f"{order.external_id},PH-1,,SN-1,{world.store_de.pk}",
                        f"{order.external_id},PH-1,,SN-2,{store}",
                        header=header,
                    )
                )
            },
        )
        assert refused.status_code == 422, (store, refused.json())
        assert refused.json()["error"]["field"] == "file"
        assert "row 3, column store" in refused.json()["error"]["message"], store
    assert not SoldUnit.objects.exists()
    text = _csv(
        order,
        f"{order.external_id},PH-1,,{VALID_IMEI},{world.store_de.name.upper()}",  # by name, any case
        f"{order.external_id},PH-1,,{OTHER_IMEI},{world.store_us.pk}",  # by id
        header="Order Number,SKU,Line ID,IMEI/Serial,Store",
    )
    made = api.upload("/warranty/units/import-csv", {"file": _upload(text)})
    assert made.status_code == 201, made.json()
    assert [(r["order_id"], r["store_id"]) for r in made.json()["rows"]] == [
        (order.pk, world.store_de.pk),
        (twin.pk, world.store_us.pk),
    ]
    assert {(u.imei, u.order_line_id) for u in SoldUnit.objects.all()} == {
        (VALID_IMEI, order.phones.pk),
        (OTHER_IMEI, twin_line.pk),
    }
    # the page uses the same service: the store column there too
    client.force_login(world.agent)
    url = reverse("web:warranty_units_import")
    page = client.get(url).content.decode()
    assert "store" in page.split("Columns:", 1)[1].split("</p>", 1)[0]
    bad = client.post(
        url, {"file": _upload(_csv(order, f"{order.external_id},PH-1,,SN-3,Nope", header=header)), "action": "preview"}
    )
    assert bad.status_code == 422 and "row 2, column store" in bad.content.decode()
    shown = client.post(url, {"file": _upload(text), "action": "preview"})
    assert shown.status_code == 200 and world.store_us.name in shown.content.decode()
