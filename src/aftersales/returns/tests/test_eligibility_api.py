"""POST /returns/eligibility, the versioned policy set (PUT/GET /returns/policy, versions), the rate
table, and manage.py policies_import / policies_export. Bad input: 422 naming the field, nothing written."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.returns.models import ExchangeRate, ReturnPolicyVersion
from aftersales.returns.policy import DEFAULT_POLICY
from aftersales.testing.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user():  # type: ignore[no-untyped-def]
    return lambda user: ApiClient(user=user)


FACTS: dict[str, Any] = {
    "platform": "amazon",
    "site": "amazon.de",
    "delivery_country": "DE",
    "delivered_at": "2026-03-20T10:00:00+01:00",
    "requested_at": "2026-04-03T21:59:59Z",
    "category": "home",
    "unit_price": "49.90",
    "currency": "USD",
    "reason": "changed_mind",
    "quantity_purchased": 2,
    "quantity_requested": 1,
}


def check(client: Any, **changes: Any) -> Any:
    body = {**FACTS, **changes}
    for key in [k for k, v in changes.items() if v is None]:
        body.pop(key)
    return client.post("/returns/eligibility", body)


def fourteen_day_policy() -> dict[str, Any]:
    d = copy.deepcopy(DEFAULT_POLICY)
    d["windows"] = [{"code": "W-14", "days": 14}]
    return d


def test_eligibility_answers_every_field_and_writes_nothing(world, as_user) -> None:
    client = as_user(world.agent)
    with CaptureQueriesContext(connection) as queries:
        response = check(client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "eligible": True,
        "resolution": "return_and_refund",
        "rejection": None,
        "restocking_fee_percent": "0",
        "partial_refund_percent": None,
        "missing_evidence": [],
        "return_shipping_paid_by": "buyer",
        "last_day": "2026-04-19",
        "timezone": "Europe/Berlin",
        "days_since_delivery": 14,
        "value_tier": "low",
        "unit_price_reporting": "49.90",
        "reporting_currency": "USD",
        "rate": {"currency": "USD", "rate": "1", "as_of": None},
        "clauses": ["W-DEFAULT", "reason:changed_mind"],
        "policy_version": 0,
    }
    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == [] or all("django_session" in w or "last_login" in w for w in writes)


@pytest.mark.parametrize(
    ("requested_at", "eligible", "days"),
    [
        ("2026-04-03T21:59:59Z", True, 14),
        ("2026-04-03T22:00:00Z", False, 15),
        ("2026-04-04T06:59:59+09:00", True, 14),
        ("2026-04-04T00:00:00+02:00", False, 15),
    ],
)
def test_day_14_and_15_through_the_api(world, as_user, requested_at: str, eligible: bool, days: int) -> None:
    as_user(world.admin).put("/returns/policy", {"document": fourteen_day_policy()})
    body = check(as_user(world.agent), requested_at=requested_at).json()
    assert (body["eligible"], body["days_since_delivery"], body["last_day"]) == (eligible, days, "2026-04-03")
    assert body["policy_version"] == 1


def test_store_and_sku_facts_from_the_catalog(world, as_user) -> None:
    ProductFactory(organization=world.org, sku="PH-X1", category="phones", price_amount=Decimal("899"))
    ProductFactory(organization=world.foreign_org, sku="PH-FOREIGN", category="phones")
    client = as_user(world.agent)
    body = check(
        client, platform=None, site=None, store_id=world.store_de.pk, category=None, sku="PH-X1", unit_price="899.00"
    ).json()
    assert body["timezone"] == "Europe/Berlin"  # ebay.de's zone from the policy
    assert body["clauses"][0] == "W-HIGH-3C-CHANGED-MIND" and body["value_tier"] == "high"
    assert body["restocking_fee_percent"] == "0"  # inside the EU withdrawal period
    assert_error(check(client, sku="PH-FOREIGN", category=None), 422, field="sku")
    assert_error(check(client, sku="NOPE", category=None), 422, field="sku")
    assert_error(check(client, store_id=world.foreign_store.pk), 422, field="store_id")
    assert_error(check(client, platform=None, site=None), 422, field="store_id")
    assert_error(check(client, category=None), 422, field="sku")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity_requested": 3}, "quantity_requested"),
        ({"quantity_already_returned": 3}, "quantity_already_returned"),
        ({"quantity_requested": 0}, "quantity_requested"),
        ({"unit_price": "-1.00"}, "unit_price"),
        ({"unit_price": "1.001"}, "unit_price"),
        ({"unit_price": "NaN"}, "unit_price"),
        ({"currency": "ZZZ"}, "currency"),
        ({"currency": "EUR"}, "currency"),  # no rate in the table yet
        ({"delivered_at": "2026-03-20T10:00:00"}, "delivered_at"),
        ({"requested_at": "2026-04-03"}, "requested_at"),
        ({"requested_at": "2026-03-01T10:00:00Z"}, "requested_at"),
        ({"reason": "bored"}, "reason"),
        ({"evidence": ["selfie"]}, "evidence"),
        ({"delivery_country": "Germany"}, "delivery_country"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_facts_are_422_naming_the_field(world, as_user, changes: dict[str, Any], field: str) -> None:
    error = assert_error(check(as_user(world.agent), **changes), 422)
    assert error["field"] and error["field"].startswith(field), error


def test_remaining_quantity_is_a_rejection_before_evidence(world, as_user) -> None:
    body = check(
        as_user(world.agent),
        reason="defective",
        quantity_purchased=2,
        quantity_already_returned=1,
        quantity_requested=2,
    ).json()
    assert (body["resolution"], body["rejection"], body["missing_evidence"]) == ("reject", "quantity", [])


def test_rate_table_converts_and_is_reported(world, as_user) -> None:
    admin = as_user(world.admin)
    assert admin.put("/returns/rates/EUR", {"rate": "1.10", "as_of": "2026-03-01"}).status_code == 200
    assert_error(admin.put("/returns/rates/EUR", {"rate": "-1"}), 422, field="rate")
    assert_error(admin.put("/returns/rates/EUR", {"rate": "1.123456789"}), 422, field="rate")
    assert_error(admin.put("/returns/rates/ZZZ", {"rate": "1"}), 422, field="currency")
    assert admin.get("/returns/rates").json() == [{"currency": "EUR", "rate": "1.1", "as_of": "2026-03-01"}]
    body = check(as_user(world.agent), currency="EUR", unit_price="454.55").json()
    assert (body["value_tier"], body["unit_price_reporting"]) == ("high", "500.01")
    assert body["rate"] == {"currency": "EUR", "rate": "1.10000000", "as_of": "2026-03-01"}
    assert ExchangeRate.objects.get().organization_id == world.org.pk


def test_policy_versions_import_export(world, as_user) -> None:
    admin = as_user(world.admin)
    default = admin.get("/returns/policy").json()
    assert (default["number"], default["document"]) == (0, DEFAULT_POLICY)
    first = admin.put("/returns/policy", {"document": fourteen_day_policy(), "comment": "14 days"}).json()
    second = admin.put("/returns/policy", {"document": DEFAULT_POLICY}).json()
    assert (first["number"], second["number"]) == (1, 2)
    versions = admin.get("/returns/policy/versions").json()
    assert [(v["number"], v["is_active"]) for v in versions] == [(2, True), (1, False)]
    assert versions[1]["comment"] == "14 days" and versions[0]["created_by"]
    assert admin.get("/returns/policy/versions/1").json()["document"] == fourteen_day_policy()
    assert_error(admin.get("/returns/policy/versions/9"), 404, field="number")
    assert admin.get("/returns/policy").json()["number"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"windows": [{"code": "D", "days": 1}, {"code": "S", "days": 2, "scope": {"skuu": "A"}}]},
            "document.windows[1].scope.skuu",
        ),
        ({"bogus": True}, "document.bogus"),
        ({"restocking_fees": [{"code": "F", "percent": 10.5}]}, "document.restocking_fees[0].percent"),
    ],
)
def test_bad_policy_document_is_422_naming_the_path_and_writes_nothing(world, as_user, change, field) -> None:
    document = {**DEFAULT_POLICY, **change}
    assert_error(as_user(world.admin).put("/returns/policy", {"document": document}), 422, field=field)
    assert not ReturnPolicyVersion.objects.exists()


def test_management_commands_import_and_export(world, tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "schema_version: 1\nreporting_currency: EUR\nreasons: [{code: changed_mind}]\nwindows: [{code: D, days: 21}]\n"
    )
    out = StringIO()
    call_command("policies_import", "--organization", str(world.org.pk), str(path), stdout=out)
    assert "version 1" in out.getvalue()
    version = ReturnPolicyVersion.objects.get(organization=world.org)
    assert version.is_active and version.document["windows"] == [{"code": "D", "days": 21}]
    exported = StringIO()
    call_command("policies_export", "--organization", str(world.org.pk), stdout=exported)
    assert json.loads(exported.getvalue())["reporting_currency"] == "EUR"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**DEFAULT_POLICY, "windows": [{"code": "D", "days": 1, "scope": {"sku": "A", "x": 1}}]}))
    with pytest.raises(CommandError, match=r"windows\[0\]\.scope\.x"):
        call_command("policies_import", "--organization", str(world.org.pk), str(bad))
    with pytest.raises(CommandError, match="organization"):
        call_command("policies_import", "--organization", "999999", str(path))
    assert ReturnPolicyVersion.objects.count() == 1


def test_compiled_policy_cache_is_not_fooled_by_a_reused_version_id(world) -> None:
    """Versions are immutable, but an id can come back with another document (a database restored or
    flushed): the compiled-policy cache keys on the id and the save time, so it recompiles."""
    from datetime import timedelta

    from aftersales.returns.models import ReturnPolicyVersion
    from aftersales.returns.policy_store import active_compiled_policy, policy_save

    doc = {
        "schema_version": 1,
        "reporting_currency": "USD",
        "reasons": [{"code": "changed_mind"}],
        "windows": [{"code": "W-14", "days": 14}],
    }
    policy_save(user=world.admin, document=doc)
    _, first = active_compiled_policy(world.org.pk)
    assert set(first.reasons) == {"changed_mind"}
    version = ReturnPolicyVersion.objects.get(organization=world.org, is_active=True)
    other = {**doc, "reasons": [{"code": "changed_mind"}, {"code": "defective"}]}
    ReturnPolicyVersion.objects.filter(pk=version.pk).update(
        document=other, created_at=version.created_at + timedelta(seconds=1)
    )
    _, second = active_compiled_policy(world.org.pk)
    assert set(second.reasons) == {"changed_mind", "defective"}
