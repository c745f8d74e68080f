"""The Shopify connector against the fake Shopify (real HTTP on 127.0.0.1), without the database:
paging and watermark cursors, follow-up pages, webhooks, every write-back's exact request, the
fake's rules (schema validation, @idempotent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from aftersales.channels.base import (
    Capability,
    ConnectorError,
    OutboundReply,
    RawRecord,
    RefundLine,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
    SignatureInvalid,
    Stream,
)
from aftersales.channels.connectors.shopify import operations, schema
from aftersales.channels.connectors.shopify.connector import OVERLAP, ShopifyConnector
from aftersales.channels.connectors.shopify.fake import ShopifyFake

from .conftest import make_ctx

GRAPHQL = "/admin/api/2026-04/graphql.json"


def graphql_bodies(fake: ShopifyFake) -> list[dict]:
    return [json.loads(r.body) for r in fake.requests_to(r"/admin/api/.*/graphql\.json")]


def test_every_document_is_valid_against_the_admin_schema():
    for name, document in operations.ALL_DOCUMENTS.items():
        assert schema.validation_errors(document) == [], name
    assert schema.validation_errors("{ shop { name notAField } }")
    assert "@idempotent(key: $idempotencyKey)" in operations.REFUND_CREATE_MUTATION


def test_capabilities_declare_no_messaging():
    connector = ShopifyConnector()
    assert Capability.PULL_MESSAGES not in connector.capabilities
    assert Capability.SEND_MESSAGE not in connector.capabilities
    assert {Capability.PULL_ORDERS, Capability.PULL_RETURNS, Capability.WEBHOOKS, Capability.ISSUE_REFUND} <= (
        connector.capabilities
    )
    reply = OutboundReply(
        message_id=1,
        store_id=1,
        credentials={},
        conversation_id="",
        order_external_id=None,
        customer_address="a@example.com",
        customer_name="",
        subject="",
        body="hi",
    )
    with pytest.raises(ConnectorError) as caught:
        connector.send_reply(reply)
    assert caught.value.permanent and "e-mail" in str(caught.value)


def test_orders_are_paged_and_the_watermark_overlaps(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    ids = [shopify_fake.add_order()["legacyResourceId"] for _ in range(23)]
    since = datetime.now(UTC) - timedelta(days=1)
    seen, cursor, pages = [], None, 0
    while True:
        page = connector.pull(ctx, Stream.ORDERS, cursor, since if cursor is None else None)
        pages += 1
        seen += [connector.map_record(ctx, r)[0].external_id for r in page.records]
        cursor = page.next_cursor
        if page.done:
            break
    assert pages == 3 and seen == ids
    bodies = graphql_bodies(shopify_fake)
    assert bodies[0]["variables"] == {
        "first": operations.ORDERS_PAGE_SIZE,
        "after": None,
        "query": f"updated_at:>='{since.strftime('%Y-%m-%dT%H:%M:%SZ')}'",
    }
    assert bodies[1]["variables"]["after"] and bodies[1]["variables"]["query"] == bodies[0]["variables"]["query"]
    # caught up: the next run starts OVERLAP before the newest updatedAt seen
    newest = max(o["updatedAt"] for o in shopify_fake.orders.values())
    watermark = datetime.fromisoformat(newest.replace("Z", "+00:00")) - OVERLAP
    assert json.loads(cursor)["since"] == watermark.strftime("%Y-%m-%dT%H:%M:%SZ")
    again = connector.pull(ctx, Stream.ORDERS, cursor, None)
    # re-read from the watermark (every order is within the overlap here): the same event ids, no-ops
    assert len(again.records) == operations.ORDERS_PAGE_SIZE and not again.done
    assert {r.event_id for r in again.records} <= {
        f"order:{o['id']}:{o['updatedAt']}" for o in shopify_fake.orders.values()
    }


def test_an_order_with_many_lines_is_completed(shopify_fake):
    lines = [(f"SKU-{n}", 1, "1.00") for n in range(operations.LINE_ITEMS_PAGE_SIZE + 7)]
    shopify_fake.add_order(lines=lines)
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    page = connector.pull(ctx, Stream.ORDERS, None, None)
    (record,) = connector.map_record(ctx, page.records[0])
    assert [line.sku for line in record.lines] == [sku for sku, _, _ in lines]
    assert any("AftersalesOrderLineItems" in b["query"] for b in graphql_bodies(shopify_fake))


def test_returns_are_pulled_through_their_orders(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    with_returns = shopify_fake.add_order(lines=[("A", 3, "5.00")])
    shopify_fake.add_order()  # no return: read, yields nothing
    for _ in range(operations.RETURNS_PER_ORDER + 2):
        shopify_fake.add_return(with_returns["legacyResourceId"], quantities={"A": 1})
    page = connector.pull(ctx, Stream.RETURNS, None, None)
    records = [connector.map_record(ctx, r)[0] for r in page.records]
    assert len(records) == operations.RETURNS_PER_ORDER + 2
    assert {r.order_external_id for r in records} == {with_returns["legacyResourceId"]}
    first = graphql_bodies(shopify_fake)[0]
    assert first["variables"]["query"].startswith("updated_at:>=")
    assert any("AftersalesOrderReturns" in b["query"] for b in graphql_bodies(shopify_fake))


def test_a_malformed_node_is_a_record_not_a_page_error(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    good = shopify_fake.add_order()
    bad = shopify_fake.add_order()
    shopify_fake.tamper(bad["legacyResourceId"], displayFinancialStatus="SPLIT_PAID")
    page = connector.pull(ctx, Stream.ORDERS, None, None)
    assert len(page.records) == 2
    assert connector.map_record(ctx, page.records[0])[0].external_id == good["legacyResourceId"]
    with pytest.raises(Exception) as caught:
        connector.map_record(ctx, page.records[1])
    assert getattr(caught.value, "field", None) == "displayFinancialStatus"


def test_test_connection(shopify_fake):
    connector = ShopifyConnector()
    check = connector.test_connection(make_ctx(shopify_fake))
    assert check.ok and shopify_fake.shop in check.detail
    refused = connector.test_connection(make_ctx(shopify_fake, access_token="wrong"))
    assert not refused.ok and "Invalid API key" in refused.detail


# --- webhooks ------------------------------------------------------------------------------------


def _headers(fake: ShopifyFake, body: bytes, **extra: str) -> dict[str, str]:
    return {
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Hmac-Sha256": fake.sign(body),
        "X-Shopify-Shop-Domain": fake.shop,
        "X-Shopify-Event-Id": "evt-1",
        "X-Shopify-Triggered-At": "2026-11-21T09:30:00Z",
        **extra,
    }


def test_webhook_verified_and_parsed(shopify_fake):
    connector = ShopifyConnector()
    order = shopify_fake.add_order()
    body = json.dumps(shopify_fake.order_webhook_body(order["legacyResourceId"])).encode()
    (raw,) = connector.verify_webhook(make_ctx(shopify_fake), _headers(shopify_fake, body), body)
    assert raw.event_id == "evt-1" and raw.stream == Stream.ORDERS
    (record,) = connector.map_record(make_ctx(shopify_fake), raw)
    assert record.external_id == order["legacyResourceId"]


@pytest.mark.parametrize(
    "tamper",
    [
        {"X-Shopify-Hmac-Sha256": "AAAA"},
        {"X-Shopify-Hmac-Sha256": ""},
        {"X-Shopify-Shop-Domain": "another-shop.myshopify.com"},
        {"X-Shopify-Event-Id": ""},
    ],
)
def test_webhook_refused(shopify_fake, tamper):
    body = b'{"id": 1}'
    headers = {k: v for k, v in {**_headers(shopify_fake, body), **tamper}.items() if v}
    with pytest.raises(SignatureInvalid):
        ShopifyConnector().verify_webhook(make_ctx(shopify_fake), headers, body)


def test_webhook_body_changed_after_signing_is_refused(shopify_fake):
    body = b'{"id": 1}'
    with pytest.raises(SignatureInvalid):
        ShopifyConnector().verify_webhook(make_ctx(shopify_fake), _headers(shopify_fake, body), b'{"id": 2}')


def test_webhook_signed_with_the_previous_secret_during_rotation(shopify_fake):
    body = b'{"id": 1, "order_id": 2}'
    headers = _headers(shopify_fake, body, **{"X-Shopify-Topic": "refunds/create"})
    ctx = make_ctx(shopify_fake, client_secret="new-secret", old_client_secret=shopify_fake.client_secret)
    (raw,) = ShopifyConnector().verify_webhook(ctx, headers, body)
    assert raw.payload["topic"] == "refunds/create"


def test_webhook_with_a_body_that_is_not_json_is_kept_for_quarantine(shopify_fake):
    body = b"<html>not json</html>"
    (raw,) = ShopifyConnector().verify_webhook(make_ctx(shopify_fake), _headers(shopify_fake, body), body)
    assert raw.payload["body"] is None and raw.payload["body_text"] == "<html>not json</html>"
    with pytest.raises(Exception) as caught:
        ShopifyConnector().map_record(make_ctx(shopify_fake), raw)
    assert getattr(caught.value, "field", None) == "body"


def test_send_webhook_delivers_like_shopify(shopify_fake):
    """The fake's webhook sender, against a second fake acting as the receiver."""
    from aftersales.testing.fake_platform import FakePlatform, FakeResponse

    receiver = FakePlatform()
    receiver.route("POST", "/hook", lambda request: FakeResponse(status=200))
    with receiver.running():
        response = shopify_fake.send_webhook(receiver.url + "/hook", "returns/request", {"id": 5}, event_id="e-9")
        bad = shopify_fake.send_webhook(receiver.url + "/hook", "returns/request", {"id": 5}, valid=False)
    assert response.status_code == 200 and bad.status_code == 200
    good_request, bad_request = receiver.requests
    assert good_request.headers["x-shopify-event-id"] == "e-9"
    assert good_request.headers["x-shopify-hmac-sha256"] == shopify_fake.sign(good_request.body)
    assert bad_request.headers["x-shopify-hmac-sha256"] != shopify_fake.sign(bad_request.body)


# --- write-backs: the exact request Shopify received ----------------------------------------------


def _last_mutation(fake: ShopifyFake) -> dict:
    return next(b for b in reversed(graphql_bodies(fake)) if b["query"].lstrip().startswith("mutation"))


def test_approve_and_decline(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    order = shopify_fake.add_order()
    first = shopify_fake.add_return(order["legacyResourceId"])
    second = shopify_fake.add_return(order["legacyResourceId"])
    approve = ReturnDecision(
        return_external_id=first["legacyResourceId"], kind=ReturnKind.RETURN, decision=ReturnDecisionKind.APPROVE
    )
    receipt = connector.decide_return(ctx, approve)
    assert (receipt.external_id, receipt.detail) == (first["legacyResourceId"], "OPEN")
    request = shopify_fake.requests[-1]
    assert request.path == GRAPHQL and request.headers["x-shopify-access-token"] == shopify_fake.access_token
    assert json.loads(request.body) == {
        "query": operations.RETURN_APPROVE_MUTATION,
        "variables": {"input": {"id": first["id"], "notifyCustomer": True}},
    }
    assert first["status"] == "OPEN"
    # a retry after a lost answer: already approved, nothing changes, no error
    assert connector.decide_return(ctx, approve).detail == "already OPEN"
    decline = ReturnDecision(
        return_external_id=second["legacyResourceId"],
        kind=ReturnKind.RETURN,
        decision=ReturnDecisionKind.DECLINE,
        comment="Worn items cannot be returned",
        notify_customer=False,
    )
    assert connector.decide_return(ctx, decline).detail == "DECLINED"
    assert _last_mutation(shopify_fake) == {
        "query": operations.RETURN_DECLINE_MUTATION,
        "variables": {
            "input": {
                "id": second["id"],
                "declineReason": "OTHER",
                "notifyCustomer": False,
                "declineNote": "Worn items cannot be returned",
            }
        },
    }
    assert second["decline"] == {"reason": "OTHER", "note": "Worn items cannot be returned"}
    # approving a declined return: Shopify's refusal, permanent
    with pytest.raises(ConnectorError) as caught:
        connector.decide_return(
            ctx,
            ReturnDecision(
                return_external_id=second["legacyResourceId"],
                kind=ReturnKind.RETURN,
                decision=ReturnDecisionKind.APPROVE,
            ),
        )
    assert caught.value.permanent and caught.value.code == "INVALID_STATE"
    with pytest.raises(ConnectorError, match="approved or declined"):
        connector.decide_return(
            ctx,
            ReturnDecision(return_external_id="1", kind=ReturnKind.RETURN, decision=ReturnDecisionKind.PROVIDE_LABEL),
        )


def test_a_return_declined_by_the_window_says_return_period_ended(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    late = shopify_fake.add_return(shopify_fake.add_order()["legacyResourceId"])
    decline = ReturnDecision(
        return_external_id=late["legacyResourceId"],
        kind=ReturnKind.RETURN,
        decision=ReturnDecisionKind.DECLINE,
        comment="The 30-day window ended on 2026-11-30",
        reason_code="window_expired",
    )
    assert connector.decide_return(ctx, decline).detail == "DECLINED"
    sent = _last_mutation(shopify_fake)["variables"]["input"]
    assert (sent["declineReason"], sent["declineNote"]) == (
        "RETURN_PERIOD_ENDED",
        "The 30-day window ended on 2026-11-30",
    )
    assert late["decline"] == {"reason": "RETURN_PERIOD_ENDED", "note": "The 30-day window ended on 2026-11-30"}


def test_refund_create_is_idempotent(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    order = shopify_fake.add_order(lines=[("A", 2, "10.00"), ("B", 1, "5.50")])
    line_id = order["lineItems"][0]["id"].rsplit("/", 1)[-1]
    refund = RefundRequest(
        idempotency_key="refund-rma-7-1",
        order_external_id=order["legacyResourceId"],
        amount=Decimal("10.00"),
        currency="EUR",
        note="Defective mug",
        lines=[RefundLine(external_line_id=line_id, quantity=1, amount=Decimal("10.00"))],
    )
    receipt = connector.issue_refund(ctx, refund)
    assert receipt.state == RefundState.SUCCEEDED
    sale = order["transactions"][0]
    assert _last_mutation(shopify_fake) == {
        "query": operations.REFUND_CREATE_MUTATION,
        "variables": {
            "idempotencyKey": "refund-rma-7-1",
            "input": {
                "orderId": order["id"],
                "notify": True,
                "note": "Defective mug",
                "transactions": [
                    {
                        "orderId": order["id"],
                        "parentId": sale["id"],
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": "10.00",
                    }
                ],
                "refundLineItems": [
                    {"lineItemId": order["lineItems"][0]["id"], "quantity": 1, "restockType": "NO_RESTOCK"}
                ],
            },
        },
    }
    again = connector.issue_refund(ctx, refund)  # the answer was lost, say: resent with the same key
    assert again == receipt
    assert len(order["refunds"]) == 1 and order["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.SUCCEEDED
    # a new intent (another key) is a second refund; more than is left is refused before any call
    second = RefundRequest(
        idempotency_key="refund-rma-8-1",
        order_external_id=order["legacyResourceId"],
        amount=Decimal("15.50"),
        currency="EUR",
    )
    assert connector.issue_refund(ctx, second).state == RefundState.SUCCEEDED
    assert order["displayFinancialStatus"] == "REFUNDED"
    calls = len(shopify_fake.requests)
    with pytest.raises(ConnectorError) as caught:
        connector.issue_refund(
            ctx,
            RefundRequest(
                idempotency_key="k3",
                order_external_id=order["legacyResourceId"],
                amount=Decimal("0.01"),
                currency="EUR",
            ),
        )
    assert caught.value.permanent and len(shopify_fake.requests) == calls + 1  # the read, no mutation
    with pytest.raises(ConnectorError, match="in USD"):
        connector.issue_refund(
            ctx,
            RefundRequest(
                idempotency_key="k4", order_external_id=order["legacyResourceId"], amount=Decimal("1"), currency="USD"
            ),
        )


def test_refund_pending_then_failed_status(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    order = shopify_fake.add_order()
    shopify_fake.refund_outcome = "PENDING"
    refund = RefundRequest(
        idempotency_key="k-p", order_external_id=order["legacyResourceId"], amount=Decimal("1.00"), currency="EUR"
    )
    receipt = connector.issue_refund(ctx, refund)
    assert receipt.state == RefundState.PENDING
    order["refunds"][0]["transactions"][0]["status"] = "FAILURE"
    assert connector.refund_status(ctx, refund, receipt).state == RefundState.FAILED


def test_fake_requires_the_idempotent_directive_from_2026_04(shopify_fake):
    order = shopify_fake.add_order()
    sale = order["transactions"][0]
    variables = {
        "input": {
            "orderId": order["id"],
            "transactions": [
                {
                    "orderId": order["id"],
                    "parentId": sale["id"],
                    "gateway": sale["gateway"],
                    "kind": "REFUND",
                    "amount": "1.00",
                }
            ],
        }
    }
    without = operations.REFUND_CREATE_MUTATION.replace(" @idempotent(key: $idempotencyKey)", "").replace(
        ", $idempotencyKey: String!", ""
    )
    headers = {"X-Shopify-Access-Token": shopify_fake.access_token}

    def post(version: str, query: str, variables: dict) -> dict:
        return httpx.post(
            f"{shopify_fake.url}/admin/api/{version}/graphql.json",
            headers=headers,
            json={"query": query, "variables": variables},
        ).json()

    refused = post("2026-04", without, variables)
    assert refused["errors"][0]["message"] == "The @idempotent directive is required for this mutation."
    assert order["refunds"] == []
    unknown = post("2025-01", operations.REFUND_CREATE_MUTATION, {**variables, "idempotencyKey": "k"})
    assert "Unknown directive" in unknown["errors"][0]["message"]
    assert post("2025-01", without, variables)["data"]["refundCreate"]["refund"]["id"]  # older versions: no key
    keyed = {**variables, "idempotencyKey": "k-1"}
    one = post("2026-04", operations.REFUND_CREATE_MUTATION, keyed)
    two = post("2026-04", operations.REFUND_CREATE_MUTATION, keyed)
    assert one["data"]["refundCreate"]["refund"]["id"] == two["data"]["refundCreate"]["refund"]["id"]
    assert len(order["refunds"]) == 2  # the un-keyed one of 2025-01 and the keyed one, once
    changed = {**keyed, "input": {**variables["input"], "note": "other"}}
    mismatch = post("2026-04", operations.REFUND_CREATE_MUTATION, changed)
    assert mismatch["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"
    assert len(order["refunds"]) == 2


def test_mark_shipped(shopify_fake):
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    order = shopify_fake.add_order(lines=[("A", 2, "10.00"), ("B", 1, "5.50")])
    line_b = order["lineItems"][1]["id"].rsplit("/", 1)[-1]
    shipped_at = datetime(2026, 11, 22, 8, tzinfo=UTC)
    receipt = connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id=order["legacyResourceId"],
            carrier="DHL",
            tracking_number="JJD0001",
            shipped_at=shipped_at,
            line_ids=[line_b],
        ),
    )
    fulfillment_order = order["fulfillmentOrders"][0]
    fo_line_b = fulfillment_order["lineItems"][1]
    assert _last_mutation(shopify_fake) == {
        "query": operations.FULFILLMENT_CREATE_MUTATION,
        "variables": {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": [{"id": fo_line_b["id"], "quantity": 1}],
                    }
                ],
                "trackingInfo": {"company": "DHL", "number": "JJD0001"},
                "notifyCustomer": True,
            }
        },
    }
    assert receipt.external_id == order["fulfillments"][0]["id"].rsplit("/", 1)[-1]
    assert order["displayFulfillmentStatus"] == "PARTIALLY_FULFILLED"
    again = connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id=order["legacyResourceId"], carrier="DHL", tracking_number="JJD0001", shipped_at=shipped_at
        ),
    )
    assert again.external_id == receipt.external_id and "already" in again.detail
    rest = connector.mark_shipped(
        ctx,
        ShipmentConfirmation(
            order_external_id=order["legacyResourceId"], carrier="UPS", tracking_number="1Z999", shipped_at=shipped_at
        ),
    )
    assert rest.external_id != receipt.external_id and order["displayFulfillmentStatus"] == "FULFILLED"
    with pytest.raises(ConnectorError, match="nothing left to fulfil") as caught:
        connector.mark_shipped(
            ctx,
            ShipmentConfirmation(
                order_external_id=order["legacyResourceId"],
                carrier="UPS",
                tracking_number="1Z000",
                shipped_at=shipped_at,
            ),
        )
    assert caught.value.permanent


def test_raw_records_are_json(shopify_fake):
    """The engine stores payloads as JSON and maps them again from storage."""
    connector = ShopifyConnector()
    ctx = make_ctx(shopify_fake)
    order = shopify_fake.add_order()
    shopify_fake.add_return(order["legacyResourceId"])
    for stream in (Stream.ORDERS, Stream.RETURNS):
        (raw,) = connector.pull(ctx, stream, None, None).records
        stored = RawRecord(stream=raw.stream, event_id=raw.event_id, payload=json.loads(json.dumps(raw.payload)))
        assert connector.map_record(ctx, stored) == connector.map_record(ctx, raw)


def test_an_api_version_without_the_idempotent_directive_refuses_refunds(shopify_fake):
    connector = ShopifyConnector()
    order = shopify_fake.add_order()
    ctx = make_ctx(shopify_fake, api_version="2025-07")
    orders = connector.pull(ctx, Stream.ORDERS, None, None)  # reading works on that version
    assert shopify_fake.requests[-1].path == "/admin/api/2025-07/graphql.json" and orders.records
    refund = RefundRequest(
        idempotency_key="k", order_external_id=order["legacyResourceId"], amount=Decimal("1"), currency="EUR"
    )
    with pytest.raises(ConnectorError, match="2026-01 or later") as caught:
        connector.issue_refund(ctx, refund)
    assert caught.value.permanent and order["refunds"] == []
