"""The Amazon fake answers exactly like the SP-API models say (each answer validated against the
Swagger definitions, strictly: no field the model does not define), and enforces what Amazon
enforces (LWA credentials, the access token, searchOrders' parameters, the report window)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from aftersales.channels.base import MappingError
from aftersales.channels.connectors.amazon import schemas
from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order, sample_return_row

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime.now(UTC).replace(microsecond=0)


def assert_valid(model: str, definition: str, instance: Any) -> None:
    errors = schemas.errors_of(schemas.definition_validator(model, definition), instance)
    assert errors == [], errors


@pytest.fixture
def fake() -> Iterator[AmazonFake]:
    fake = AmazonFake()
    for i in range(5):
        fake.add_order(sample_order(f"111-0000000-000000{i}", updated=NOW - timedelta(hours=5 - i)))
    fake.returns.append(
        sample_return_row("111-0000000-0000001", rma="DRMA1", sku="SKU-1", requested=NOW - timedelta(days=2))
    )
    with fake.running():
        yield fake


def token(fake: AmazonFake, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "Atzr|fake-refresh-token",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        **overrides,
    }
    return httpx.post(f"{fake.url}/auth/o2/token", data=form)


@pytest.fixture
def api(fake: AmazonFake) -> Iterator[httpx.Client]:
    access = token(fake).json()["access_token"]
    with httpx.Client(base_url=fake.url, headers={"x-amz-access-token": access}) as client:
        yield client


def test_lwa_checks_client_and_refresh_token(fake):
    good = token(fake)
    assert good.status_code == 200
    assert set(good.json()) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert token(fake, client_secret="wrong").json()["error"] == "invalid_client"
    assert token(fake, refresh_token="Atzr|revoked").json()["error"] == "invalid_grant"


def test_access_token_required_and_expiring(fake, api):
    missing = httpx.get(f"{fake.url}/orders/2026-01-01/orders/111-0000000-0000001")
    assert missing.status_code == 403
    assert_valid("orders_2026-01-01", "ErrorList", missing.json())
    assert api.get("/orders/2026-01-01/orders/111-0000000-0000001").status_code == 200
    fake.expire_tokens()
    expired = api.get("/orders/2026-01-01/orders/111-0000000-0000001")
    assert expired.status_code == 403
    assert "expired" in expired.json()["errors"][0]["details"]


def test_search_orders_pages_match_the_model(fake, api):
    params = {
        "lastUpdatedAfter": (NOW - timedelta(days=1)).isoformat(),
        "marketplaceIds": "ATVPDKIKX0DER",
        "maxResultsPerPage": 2,
    }
    seen = []
    response = api.get("/orders/2026-01-01/orders", params=params)
    while True:
        assert response.status_code == 200
        assert response.headers["x-amzn-RateLimit-Limit"] == "0.0056"
        body = response.json()
        assert_valid("orders_2026-01-01", "SearchOrdersResponse", body)
        seen += [o["orderId"] for o in body["orders"]]
        next_token = body.get("pagination", {}).get("nextToken")
        if not next_token:
            break
        response = api.get("/orders/2026-01-01/orders", params={**params, "paginationToken": next_token})
    assert seen == [f"111-0000000-000000{i}" for i in range(5)]


def test_search_orders_filters_by_last_update(fake, api):
    after = (NOW - timedelta(hours=1, minutes=30)).isoformat()
    body = api.get(
        "/orders/2026-01-01/orders", params={"lastUpdatedAfter": after, "marketplaceIds": "ATVPDKIKX0DER"}
    ).json()
    assert [o["orderId"] for o in body["orders"]] == ["111-0000000-0000004"]


@pytest.mark.parametrize(
    "params",
    [
        {"marketplaceIds": "ATVPDKIKX0DER"},  # neither createdAfter nor lastUpdatedAfter
        {
            "createdAfter": "2026-01-01T00:00:00Z",
            "lastUpdatedAfter": "2026-01-01T00:00:00Z",
            "marketplaceIds": "ATVPDKIKX0DER",
        },
        {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "OTHER"},
        {"lastUpdatedAfter": "2026-01-01T00:00:00Z", "marketplaceIds": "ATVPDKIKX0DER", "maxResultsPerPage": "500"},
    ],
)
def test_search_orders_refuses_what_amazon_refuses(api, params):
    response = api.get("/orders/2026-01-01/orders", params=params)
    assert response.status_code == 400
    assert_valid("orders_2026-01-01", "ErrorList", response.json())


def test_get_order_and_not_found(api):
    body = api.get("/orders/2026-01-01/orders/111-0000000-0000002").json()
    assert_valid("orders_2026-01-01", "GetOrderResponse", body)
    missing = api.get("/orders/2026-01-01/orders/999-0000000-0000000")
    assert missing.status_code == 404
    assert_valid("orders_2026-01-01", "ErrorList", missing.json())


def test_model_examples_are_valid_against_the_strict_definitions():
    """The fixtures the mapping tests use are the model's own examples: they pass the strict check
    the fake's answers are held to (so the check itself is right)."""
    assert_valid("orders_2026-01-01", "GetOrderResponse", json.loads((FIXTURES / "get_order.json").read_text()))
    assert_valid("orders_2026-01-01", "SearchOrdersResponse", json.loads((FIXTURES / "search_orders.json").read_text()))


def test_throttled_answer_is_amazons(fake, api):
    fake.throttle_amazon(r"/orders/2026-01-01/orders/.*", operation="getOrder")
    response = api.get("/orders/2026-01-01/orders/111-0000000-0000001")
    assert response.status_code == 429
    assert response.headers["x-amzn-RateLimit-Limit"] == "0.5"
    assert "Retry-After" not in response.headers
    assert_valid("orders_2026-01-01", "ErrorList", response.json())


def test_returns_report_lifecycle_matches_the_model(fake, api):
    spec = {
        "reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
        "dataStartTime": (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dataEndTime": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "marketplaceIds": ["ATVPDKIKX0DER"],
    }
    assert_valid("reports_2021-06-30", "CreateReportSpecification", spec)
    created = api.post("/reports/2021-06-30/reports", json=spec)
    assert created.status_code == 202
    assert_valid("reports_2021-06-30", "CreateReportResponse", created.json())
    report_id = created.json()["reportId"]
    statuses = []
    for _ in range(3):
        report = api.get(f"/reports/2021-06-30/reports/{report_id}").json()
        assert_valid("reports_2021-06-30", "Report", report)
        statuses.append(report["processingStatus"])
    assert statuses == ["IN_PROGRESS", "DONE", "DONE"]
    document = api.get(f"/reports/2021-06-30/documents/{report['reportDocumentId']}").json()
    assert_valid("reports_2021-06-30", "ReportDocument", document)
    assert document["compressionAlgorithm"] == "GZIP"
    content = gzip.decompress(httpx.get(document["url"]).content).decode()
    assert content.splitlines()[1].startswith("111-0000000-0000001\t")


def test_returns_report_longer_than_60_days_is_refused(api):
    spec = {
        "reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
        "dataStartTime": "2026-01-01T00:00:00Z",
        "dataEndTime": "2026-04-01T00:00:00Z",
        "marketplaceIds": ["ATVPDKIKX0DER"],
    }
    response = api.post("/reports/2021-06-30/reports", json=spec)
    assert response.status_code == 400
    assert_valid("reports_2021-06-30", "ErrorList", response.json())


def test_feed_refund_posts_finance_events_shaped_like_the_model(fake, api):
    created = api.post("/feeds/2021-06-30/documents", json={"contentType": "text/xml; charset=UTF-8"}).json()
    feed = (
        b"<AmazonEnvelope><MessageType>PaymentAdjustment</MessageType><Message><MessageID>1</MessageID>"
        b"<OrderAdjustment><AmazonOrderID>111-0000000-0000001</AmazonOrderID><AdjustedItem>"
        b"<AmazonOrderItemCode>00000010001</AmazonOrderItemCode><AdjustmentReason>CustomerReturn</AdjustmentReason>"
        b'<ItemPriceAdjustments><Component><Type>Principal</Type><Amount currency="USD">5.00</Amount></Component>'
        b"</ItemPriceAdjustments></AdjustedItem></OrderAdjustment></Message></AmazonEnvelope>"
    )
    wrong_type = httpx.put(created["url"], content=feed, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 403  # the presigned URL is signed for the declared content type
    assert (
        httpx.put(created["url"], content=feed, headers={"Content-Type": "text/xml; charset=UTF-8"}).status_code == 200
    )
    feed_id = api.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": created["feedDocumentId"],
        },
    ).json()["feedId"]
    assert api.get(f"/feeds/2021-06-30/feeds/{feed_id}").json()["processingStatus"] == "DONE"
    events = api.get("/finances/v0/orders/111-0000000-0000001/financialEvents").json()
    assert_valid("financesV0", "ListFinancialEventsResponse", events)
    [refund] = events["payload"]["FinancialEvents"]["RefundEventList"]
    charge = refund["ShipmentItemAdjustmentList"][0]["ItemChargeAdjustmentList"][0]
    assert charge["ChargeAmount"] == {"CurrencyCode": "USD", "CurrencyAmount": -5.0}


def test_order_change_sample_and_the_runtime_check_agree_with_jsonschema():
    from jsonschema import Draft7Validator

    sample = json.loads((FIXTURES / "order_change_shipped.json").read_text())
    validator = Draft7Validator(schemas.order_change_schema())
    assert list(validator.iter_errors(sample)) == []
    schemas.check_order_change(sample)
    broken = json.loads(json.dumps(sample))
    broken["Payload"]["OrderChangeNotification"]["Summary"]["OrderStatus"] = "Teleported"
    assert list(validator.iter_errors(broken))
    with pytest.raises(MappingError) as raised:
        schemas.check_order_change(broken)
    assert raised.value.field == "Payload.OrderChangeNotification.Summary.OrderStatus"
    del broken["NotificationMetadata"]
    assert list(validator.iter_errors(broken))
    with pytest.raises(MappingError):
        schemas.check_order_change(broken)
