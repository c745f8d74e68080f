"""Acceptance (issue 9, Shopify): orders and returns from the fake Shopify into the database and
tickets through the sync engine, run twice (no duplicates); every write-back through the
write-back ledger with the exact request Shopify received; throttling honoured; a malformed record
quarantined while the page goes on; webhooks verified (bad HMAC refused, nothing stored) and
deduplicated by X-Shopify-Event-Id. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales.catalog.models import Order, OrderLine, Shipment
from aftersales.channels.base import (
    RefundLine,
    RefundRequest,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
    SignatureInvalid,
    Stream,
)
from aftersales.channels.connectors.shopify import operations
from aftersales.channels.connectors.shopify.connector import ShopifyConnector
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.models import RawEvent, RawEventStatus, SyncRunStatus, WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import quarantined_events, receive_records, store_context, sync_stream
from aftersales.channels.writeback import writeback_perform
from aftersales.core.actors import Actor
from aftersales.inbox.models import Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.shopify import shopify_store_for

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-04/graphql.json"
SINCE = datetime.now(UTC) - timedelta(days=2)


@pytest.fixture
def store(shopify_fake):  # type: ignore[no-untyped-def]
    return shopify_store_for(shopify_fake)


def seed(shopify_fake: ShopifyFake) -> dict[str, dict]:
    first = shopify_fake.add_order(
        lines=[("MUG-BLUE", 2, "12.50"), ("TEA-500G", 1, "8.90")], email="lena@example.de", customer_name="Lena Fischer"
    )
    second = shopify_fake.add_order(
        lines=[("LAMP-1", 1, "49.00")], email="mario@example.it", customer_name="Mario Rossi", country="IT", locale="it"
    )
    third = shopify_fake.add_order(
        lines=[("CABLE-2M", 3, "4.00")], email="ana@example.es", customer_name="Ana Ruiz", country="ES", locale="es"
    )
    shopify_fake.add_fulfillment(first["legacyResourceId"], company="DHL", number="00340434161234567890")
    shopify_fake.add_fulfillment(second["legacyResourceId"], company="GLS", number="GLS123456")
    ret_a = shopify_fake.add_return(first["legacyResourceId"], quantities={"MUG-BLUE": 1}, note="The handle came off")
    ret_b = shopify_fake.add_return(
        second["legacyResourceId"],
        quantities={"LAMP-1": 1},
        reason="NOT_AS_DESCRIBED",
        note="It is much smaller than in the photos",
    )
    return {"first": first, "second": second, "third": third, "ret_a": ret_a, "ret_b": ret_b}


def sync_all(store, recorded_waits) -> dict[str, object]:  # type: ignore[no-untyped-def]
    orders = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    returns = sync_stream(store_id=store.pk, stream=Stream.RETURNS, since=SINCE, sleep=recorded_waits.append)
    return {"orders": orders, "returns": returns}


def test_sync_orders_and_returns_into_tickets_and_again_without_duplicates(shopify_fake, store, recorded_waits):
    data = seed(shopify_fake)
    runs = sync_all(store, recorded_waits)
    orders_run, returns_run = runs["orders"], runs["returns"]
    assert orders_run.status == SyncRunStatus.SUCCEEDED and orders_run.created == 3  # type: ignore[attr-defined]
    assert returns_run.status == SyncRunStatus.SUCCEEDED and returns_run.created == 2  # type: ignore[attr-defined]

    first = Order.objects.get(store=store, external_id=data["first"]["legacyResourceId"])
    assert first.status == "shipped" and first.total_amount == Decimal("33.90") and first.currency == "EUR"
    assert first.customer is not None and first.customer.name == "Lena Fischer"
    lines = {line.sku: line for line in OrderLine.objects.filter(order=first)}
    assert lines["MUG-BLUE"].external_line_id == data["first"]["lineItems"][0]["id"].rsplit("/", 1)[-1]
    assert lines["MUG-BLUE"].quantity == 2 and lines["MUG-BLUE"].unit_price_amount == Decimal("12.50")
    assert list(Shipment.objects.filter(order=first).values_list("carrier", "tracking_number")) == [
        ("DHL", "00340434161234567890")
    ]
    ret = ReturnRequest.objects.get(store=store, external_id=data["ret_a"]["legacyResourceId"])
    assert ret.platform_status == "REQUESTED" and ret.reason == "DEFECTIVE"
    assert ret.order == first and ret.ticket is not None
    assert ret.ticket.customer == first.customer
    assert Ticket.objects.filter(store=store).count() == 2

    counts = (
        Order.objects.count(),
        OrderLine.objects.count(),
        Shipment.objects.count(),
        ReturnRequest.objects.count(),
        Ticket.objects.count(),
        RawEvent.objects.count(),
    )
    again = sync_all(store, recorded_waits)
    assert again["orders"].created == 0 and again["returns"].created == 0  # type: ignore[attr-defined]
    assert (
        Order.objects.count(),
        OrderLine.objects.count(),
        Shipment.objects.count(),
        ReturnRequest.objects.count(),
        Ticket.objects.count(),
        RawEvent.objects.count(),
    ) == counts

    # a change on Shopify arrives with the next run (from the stored, overlapping cursor)
    shopify_fake.add_fulfillment(data["third"]["legacyResourceId"], company="UPS", number="1Z999AA10123456784")
    later = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=recorded_waits.append)
    assert later.updated == 1  # type: ignore[attr-defined]
    assert Order.objects.get(external_id=data["third"]["legacyResourceId"]).status == "shipped"


def _mutations(shopify_fake: ShopifyFake) -> list[tuple[dict, dict]]:
    out = []
    for request in shopify_fake.requests_to(GRAPHQL, "POST"):
        body = json.loads(request.body)
        if body["query"].lstrip().startswith("mutation"):
            out.append((request.headers, body))
    return out


def test_every_write_back_and_the_exact_request(shopify_fake, store, recorded_waits):
    data = seed(shopify_fake)
    sync_all(store, recorded_waits)
    connector = get_connector("shopify")
    agent = Actor.system("test")

    def perform(kind: str, key: str, request, method):  # type: ignore[no-untyped-def]
        def call(ctx):  # type: ignore[no-untyped-def]
            # the key is stored (and claimed) before Shopify is called
            assert WriteBack.objects.get(store=store, idempotency_key=key).status == WriteBackStatus.SENDING
            return method(ctx, request)

        return writeback_perform(store=store, kind=kind, key=key, request=request, actor=agent, call=call)

    approve = ReturnDecision(
        return_external_id=data["ret_a"]["legacyResourceId"],
        kind=ReturnKind.RETURN,
        decision=ReturnDecisionKind.APPROVE,
    )
    row = perform("decide_return", "approve-a", approve, connector.decide_return)
    assert row.status == WriteBackStatus.SUCCEEDED and row.detail == "OPEN"
    headers, body = _mutations(shopify_fake)[-1]
    assert headers["x-shopify-access-token"] == shopify_fake.access_token
    assert body == {
        "query": operations.RETURN_APPROVE_MUTATION,
        "variables": {"input": {"id": data["ret_a"]["id"], "notifyCustomer": True}},
    }

    decline = ReturnDecision(
        return_external_id=data["ret_b"]["legacyResourceId"],
        kind=ReturnKind.RETURN,
        decision=ReturnDecisionKind.DECLINE,
        comment="Final sale item",
    )
    row = perform("decide_return", "decline-b", decline, connector.decide_return)
    assert row.status == WriteBackStatus.SUCCEEDED
    assert _mutations(shopify_fake)[-1][1] == {
        "query": operations.RETURN_DECLINE_MUTATION,
        "variables": {
            "input": {
                "id": data["ret_b"]["id"],
                "declineReason": "OTHER",
                "notifyCustomer": True,
                "declineNote": "Final sale item",
            }
        },
    }

    first = data["first"]
    line_id = first["lineItems"][0]["id"].rsplit("/", 1)[-1]
    refund = RefundRequest(
        idempotency_key="refund-ret-a-1",
        order_external_id=first["legacyResourceId"],
        amount=Decimal("12.50"),
        currency="EUR",
        return_external_id=data["ret_a"]["legacyResourceId"],
        note="Handle came off",
        lines=[RefundLine(line_id, 1, Decimal("12.50"))],
    )
    row = perform("issue_refund", refund.idempotency_key, refund, connector.issue_refund)
    assert row.status == WriteBackStatus.SUCCEEDED and row.external_id == first["refunds"][0]["legacyResourceId"]
    mutations = len(_mutations(shopify_fake))
    again = perform("issue_refund", refund.idempotency_key, refund, connector.issue_refund)  # asked twice
    assert again.pk == row.pk and again.status == WriteBackStatus.SUCCEEDED
    assert len(_mutations(shopify_fake)) == mutations  # the ledger answered: Shopify was not called again
    assert len(first["refunds"]) == 1
    headers, body = _mutations(shopify_fake)[-1]
    assert body == {
        "query": operations.REFUND_CREATE_MUTATION,
        "variables": {
            "idempotencyKey": "refund-ret-a-1",
            "input": {
                "orderId": first["id"],
                "notify": True,
                "note": "Handle came off",
                "transactions": [
                    {
                        "orderId": first["id"],
                        "parentId": first["transactions"][0]["id"],
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": "12.50",
                    }
                ],
                "refundLineItems": [
                    {"lineItemId": first["lineItems"][0]["id"], "quantity": 1, "restockType": "NO_RESTOCK"}
                ],
            },
        },
    }
    assert "@idempotent(key: $idempotencyKey)" in body["query"]
    # a resend of the same key (the engine lost the answer) is still one refund on Shopify
    ctx = store_context(store)
    assert connector.issue_refund(ctx, refund).external_id == row.external_id
    assert len(first["refunds"]) == 1
    assert connector.refund_status(ctx, refund, connector.issue_refund(ctx, refund)).state == "succeeded"

    third = data["third"]
    shipment = ShipmentConfirmation(
        order_external_id=third["legacyResourceId"],
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        shipped_at=datetime.now(UTC),
    )
    row = perform("mark_shipped", "ship-third", shipment, connector.mark_shipped)
    assert row.status == WriteBackStatus.SUCCEEDED
    fulfillment_order = third["fulfillmentOrders"][0]
    assert _mutations(shopify_fake)[-1][1] == {
        "query": operations.FULFILLMENT_CREATE_MUTATION,
        "variables": {
            "fulfillment": {
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order["id"],
                        "fulfillmentOrderLineItems": [{"id": fulfillment_order["lineItems"][0]["id"], "quantity": 3}],
                    }
                ],
                "trackingInfo": {"company": "UPS", "number": "1Z999AA10123456784"},
                "notifyCustomer": True,
            }
        },
    }
    # the next sync sees what the write-backs did
    sync_all(store, recorded_waits)
    assert ReturnRequest.objects.get(external_id=data["ret_a"]["legacyResourceId"]).platform_status == "OPEN"
    assert ReturnRequest.objects.get(external_id=data["ret_b"]["legacyResourceId"]).platform_status == "DECLINED"
    assert Order.objects.get(external_id=first["legacyResourceId"]).status == "partially_refunded"
    assert Shipment.objects.filter(
        order__external_id=third["legacyResourceId"], tracking_number="1Z999AA10123456784"
    ).exists()


def test_a_refused_write_back_is_recorded_failed_with_shopifys_words(shopify_fake, store, recorded_waits):
    data = seed(shopify_fake)
    connector = get_connector("shopify")
    decision = ReturnDecision(
        return_external_id=data["ret_a"]["legacyResourceId"],
        kind=ReturnKind.RETURN,
        decision=ReturnDecisionKind.DECLINE,
    )
    shopify_fake.find_return(data["ret_a"]["legacyResourceId"])[1]["status"] = "CLOSED"
    row = writeback_perform(
        store=store,
        kind="decide_return",
        key="decline-closed",
        request=decision,
        actor=Actor.system("test"),
        call=lambda ctx: connector.decide_return(ctx, decision),
    )
    assert row.status == WriteBackStatus.FAILED and "Only returns with status REQUESTED" in row.detail


def test_throttling_is_honoured(shopify_fake, store, recorded_waits):
    seed(shopify_fake)
    clock = [0.0]
    shopify_fake._monotonic = lambda: clock[0]
    shopify_fake._bucket_at = 0.0
    shopify_fake._available = 100.0  # another app used the shared bucket

    def wait(seconds: float) -> None:  # the waits pass the fake's time
        recorded_waits.append(seconds)
        clock[0] += seconds

    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=wait)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 3
    throttled = [c for c in shopify_fake.graphql_calls if c["throttled"]]
    assert len(throttled) == 1
    # requested 572 with 100 available at 50 points/s: retried after (572 - 100) / 50 = 9.44 -> 9.5 s,
    # and the store's cost bucket in the engine's limiter was emptied for that long (other workers
    # of the store wait too): the retry waited for it
    assert recorded_waits[0] == 9.5
    assert recorded_waits[1] == pytest.approx(9.5 + 1.0, abs=0.2)  # the penalty plus the retry's own cost (50 / 50/s)


def test_http_429_and_5xx_are_retried(shopify_fake, store, recorded_waits):
    seed(shopify_fake)
    shopify_fake.throttle_next(GRAPHQL, retry_after=4)
    shopify_fake.fail_next(GRAPHQL, status=502)
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 3
    assert 4.0 in recorded_waits


def test_revoked_token_pauses_the_store_with_shopifys_message(shopify_fake, store, recorded_waits):
    store.credentials = {**store.credentials, "access_token": "shpat_revoked"}
    store.save()
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    assert run.status == SyncRunStatus.PAUSED and "Invalid API key or access token" in run.error


def test_a_malformed_record_is_quarantined_and_the_page_goes_on(shopify_fake, store, recorded_waits):
    data = seed(shopify_fake)
    shopify_fake.tamper(data["second"]["legacyResourceId"], displayFinancialStatus="SPLIT_PAID")
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 2 and run.quarantined == 1
    assert not Order.objects.filter(external_id=data["second"]["legacyResourceId"]).exists()
    (bad,) = quarantined_events(organization_id=store.organization_id)
    assert bad.field == "displayFinancialStatus" and "SPLIT_PAID" in bad.reason


@pytest.mark.django_db(transaction=True)
def test_webhooks_through_the_endpoint_over_http(shopify_fake, store, recorded_waits, live_server):
    """The fake delivers like Shopify to POST /hooks/shopify/<token> on a live server."""
    from aftersales.channels.sync import store_sync_for

    data = seed(shopify_fake)
    url = f"{live_server.url}/hooks/shopify/{store_sync_for(store).webhook_token}"
    order_id = data["first"]["legacyResourceId"]
    body = shopify_fake.order_webhook_body(order_id)
    refused = shopify_fake.send_webhook(url, "orders/updated", body, event_id="evt-1", valid=False)
    assert refused.status_code == 401 and refused.json()["code"] == "signature_invalid"
    assert RawEvent.objects.filter(store=store).count() == 0 and not Order.objects.exists()
    first = shopify_fake.send_webhook(url, "orders/updated", body, event_id="evt-1")
    assert first.status_code == 200 and first.json() == {"received": 1, "actions": {"created": 1}}
    retried = shopify_fake.send_webhook(url, "orders/updated", body, event_id="evt-1")  # Shopify's retry
    assert retried.status_code == 200 and retried.json()["actions"] == {"duplicate": 1}
    assert RawEvent.objects.filter(store=store, event_id="evt-1", source="webhook").count() == 1
    assert Order.objects.filter(store=store, external_id=order_id).count() == 1
    ret = shopify_fake.send_webhook(
        url, "returns/request", shopify_fake.return_webhook_body(data["ret_a"]["legacyResourceId"]), event_id="evt-2"
    )
    assert ret.json()["actions"] == {"new_ticket": 1}
    other_shop = shopify_fake.send_webhook(url, "orders/updated", body, event_id="evt-3", secret="another-apps-secret")
    assert other_shop.status_code == 401
    malformed = dict(body, financial_status="split")
    quarantined = shopify_fake.send_webhook(url, "orders/updated", malformed, event_id="evt-4")
    assert quarantined.status_code == 200 and quarantined.json()["actions"] == {"quarantined": 1}
    assert RawEvent.objects.get(store=store, event_id="evt-4").field == "financial_status"
    # the polls afterwards find the same order and return: nothing twice
    sync_all(store, recorded_waits)
    assert Order.objects.filter(store=store).count() == 3
    assert ReturnRequest.objects.filter(store=store).count() == 2
    assert Ticket.objects.filter(store=store).count() == 2


def test_webhooks(shopify_fake, store, recorded_waits):
    data = seed(shopify_fake)
    connector = ShopifyConnector()
    ctx = store_context(store)
    order_id = data["third"]["legacyResourceId"]
    body = json.dumps(shopify_fake.order_webhook_body(order_id)).encode()
    headers = {
        "X-Shopify-Topic": "orders/updated",
        "X-Shopify-Hmac-Sha256": shopify_fake.sign(body),
        "X-Shopify-Shop-Domain": shopify_fake.shop,
        "X-Shopify-Event-Id": "98f5a1b2-0001",
        "X-Shopify-Triggered-At": "2026-11-21T09:30:00Z",
    }
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook(ctx, {**headers, "X-Shopify-Hmac-Sha256": shopify_fake.sign(body, "wrong")}, body)
    assert RawEvent.objects.count() == 0
    records = connector.verify_webhook(ctx, headers, body)
    (first,) = receive_records(store=store, records=records, source="webhook")
    assert first.action == "created"
    # Shopify retries the same event (same X-Shopify-Event-Id) for up to 4 hours: stored once
    (retry,) = receive_records(store=store, records=connector.verify_webhook(ctx, headers, body), source="webhook")
    assert retry.action == "duplicate"
    assert RawEvent.objects.filter(store=store, event_id="98f5a1b2-0001").count() == 1
    assert Order.objects.filter(store=store, external_id=order_id).count() == 1
    # a return webhook opens the ticket at once; the poll afterwards finds it, no duplicate
    ret_body = json.dumps(shopify_fake.return_webhook_body(data["ret_b"]["legacyResourceId"])).encode()
    ret_headers = {
        **headers,
        "X-Shopify-Topic": "returns/request",
        "X-Shopify-Event-Id": "98f5a1b2-0002",
        "X-Shopify-Hmac-Sha256": shopify_fake.sign(ret_body),
    }
    (outcome,) = receive_records(
        store=store, records=connector.verify_webhook(ctx, ret_headers, ret_body), source="webhook"
    )
    assert outcome.action == "new_ticket"
    sync_all(store, recorded_waits)
    assert ReturnRequest.objects.filter(store=store).count() == 2
    assert Ticket.objects.filter(store=store).count() == 2
    # refunds/create (Shopify's REST refund) is kept and ignored: the order poll carries its effect
    refund_body = json.dumps({"id": 509562969, "order_id": int(order_id), "transactions": []}).encode()
    refund_headers = {
        **headers,
        "X-Shopify-Topic": "refunds/create",
        "X-Shopify-Event-Id": "98f5a1b2-0003",
        "X-Shopify-Hmac-Sha256": shopify_fake.sign(refund_body),
    }
    (ignored,) = receive_records(
        store=store, records=connector.verify_webhook(ctx, refund_headers, refund_body), source="webhook"
    )
    assert ignored.action == "ignored"
    assert RawEvent.objects.get(event_id="98f5a1b2-0003").status == RawEventStatus.IGNORED
