"""The warranty API: bad input is a 422 naming the field with nothing written; lookup and claims."""

from __future__ import annotations

import pytest

from aftersales.api.tests.helpers import ApiClient
from aftersales.warranty.models import SoldUnit, WarrantyClaim, WarrantyTerm

from .conftest import VALID_IMEI

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"imei": "490154203237519", "sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00"}, "imei", "Luhn"),
        ({"imei": "4901542032375", "sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00"}, "imei", "15 digits"),
        ({"imei": VALID_IMEI, "sku": "NOPE", "sold_at": "2026-03-01T10:00:00+01:00"}, "sku", "unknown SKU"),
        ({"imei": VALID_IMEI, "sku": "PH-1", "sold_at": "1999-12-31T10:00:00+01:00"}, "sold_at", "2000"),
        ({"imei": VALID_IMEI, "sku": "PH-1", "sold_at": "2026-03-01T10:00:00"}, "sold_at", "timezone"),
        (
            {
                "imei": VALID_IMEI,
                "sku": "PH-1",
                "sold_at": "2026-03-01T10:00:00+01:00",
                "delivered_at": "2026-02-01T10:00:00+01:00",
            },
            "delivered_at",
            "before the sale",
        ),
        ({"imei": VALID_IMEI, "sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00", "colour": "red"}, "colour", ""),
        ({"sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00"}, "serial_number", ""),
        (
            {"imei": VALID_IMEI, "sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00", "delivery_country": "ZZ"},
            "delivery_country",
            "",
        ),
    ],
)
def test_bad_units_are_422_naming_the_field(world, stock, body, field, words):
    response = ApiClient(user=world.agent).post("/warranty/units", body)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["field"].endswith(field) and words in error["message"], error
    assert SoldUnit.objects.count() == 0


def test_import_names_the_row_and_writes_nothing(world, stock):
    body = {
        "units": [
            {"imei": VALID_IMEI, "order_line_id": stock.line.pk},
            {"serial_number": "ok-2", "order_line_id": stock.line.pk},
            {"serial_number": "bad#3", "sku": "PH-1", "sold_at": "2026-03-01T10:00:00+01:00"},
        ]
    }
    response = ApiClient(user=world.agent).post("/warranty/units/import", body)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "units[2].serial_number"
    assert SoldUnit.objects.count() == 0


def test_lookup_claim_and_timeline(world, stock):
    client = ApiClient(user=world.agent)
    unit = client.post("/warranty/units", {"imei": VALID_IMEI, "order_line_id": stock.line.pk}).json()
    found = ApiClient(user=world.viewer).get("/warranty/units/lookup", {"q": "49-015420-323751-8"})
    assert found.status_code == 200
    data = found.json()
    assert data["unit"]["id"] == unit["id"] and data["term"]["source"] == "product"
    assert data["warranty"]["ends_on"] == "2027-03-02" and data["claims"] == []
    bad = client.get("/warranty/units/lookup", {"q": "490154203237519"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "q"
    assert client.get("/warranty/units/lookup", {"q": "UNKNOWN1"}).status_code == 404
    claim = client.post("/warranty/claims", {"unit_id": unit["id"], "problem": "Speaker rattles"})
    assert claim.status_code == 201, claim.content
    claim_id = claim.json()["id"]
    moved = client.post(f"/warranty/claims/{claim_id}/status", {"status": "under_review"})
    assert moved.status_code == 200 and moved.json()["status"] == "under_review"
    refused = client.post(f"/warranty/claims/{claim_id}/status", {"status": "closed"})
    assert refused.status_code == 409 and refused.json()["error"]["field"] == "status"
    unknown = client.post(f"/warranty/claims/{claim_id}/status", {"status": "flying"})
    assert unknown.status_code == 422
    detail = client.get(f"/warranty/claims/{claim_id}").json()
    assert [(e["type"], e["actor_kind"], e["actor_name"]) for e in detail["events"]] == [
        ("created", "user", "Alice"),
        ("status_changed", "user", "Alice"),
    ]
    listed = client.get("/warranty/claims", {"status": "under_review"}).json()
    assert [c["id"] for c in listed] == [claim_id]
    assert client.get("/warranty/claims", {"status": "nope"}).status_code == 422
    assert WarrantyClaim.objects.count() == 1


def test_terms_crud_with_validation(world, stock):
    admin = ApiClient(user=world.admin)
    created = admin.post(
        "/warranty/terms", {"category": "phones", "region": "eu", "customer_tier": "vip", "months": 36}
    )
    assert created.status_code == 201 and created.json()["region"] == "EU"
    for body, field in [
        ({"region": "XX", "months": 12}, "region"),
        ({"months": 0}, "months"),
        ({"category": "cars", "months": 12}, "category"),
    ]:
        response = admin.post("/warranty/terms", body)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.content
    clash = admin.post("/warranty/terms", {"category": "phones", "region": "EU", "customer_tier": "vip", "months": 12})
    assert clash.status_code == 409
    term_id = created.json()["id"]
    assert admin.put(f"/warranty/terms/{term_id}", {"category": "phones", "months": 18}).json()["region"] == ""
    assert admin.delete(f"/warranty/terms/{term_id}").status_code == 204
    assert WarrantyTerm.objects.count() == 0
