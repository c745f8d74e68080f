"""Acceptance (issue 9, Amazon): the Amazon fake -> the sync engine -> orders, return requests and
tickets; reruns duplicate nothing; every write-back Amazon offers goes through the write-back
ledger (key stored before the call) and the exact request Amazon received is asserted (path,
headers with x-amz-access-token, body); an expired token is refreshed and stored encrypted; a 429
is honoured; a malformed order is quarantined while the rest of the page goes on. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import (
    Capability,
    RefundLine,
    RefundReceipt,
    RefundRequest,
    RefundState,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
    ShipmentConfirmation,
    Stream,
)
from aftersales.channels.connectors.amazon import schemas
from aftersales.channels.connectors.amazon.connector import AmazonConnector
from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order, sample_return_row
from aftersales.channels.models import RawEvent, SyncRunStatus, WriteBack, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import quarantined_events, sync_stream
from aftersales.channels.writeback import writeback_perform
from aftersales.core.actors import Actor
from aftersales.inbox.models import Ticket
from aftersales.returns.models import ReturnRequest
from aftersales.testing.factories import StoreFactory, UserFactory

NOW = datetime.now(UTC).replace(microsecond=0)
ORDER = "113-1111111-1111111"
TWO_ITEMS = "114-2222222-2222222"
BROKEN = "115-3333333-3333333"


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits (backoff, 429s, report polling, the rate limiter) recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", waits.append)
    monkeypatch.setattr("aftersales.channels.sync.wait_seconds", waits.append)
    monkeypatch.setattr(get_connector("amazon"), "report_poll_interval", 0.0)
    monkeypatch.setattr(get_connector("amazon"), "page_size", 2)
    return waits


@pytest.fixture
def fake() -> Iterator[AmazonFake]:
    fake = AmazonFake()
    fake.add_order(sample_order(ORDER, updated=NOW - timedelta(hours=5), buyer_email="k4x9@marketplace.amazon.com"))
    fake.add_order(
        sample_order(
            TWO_ITEMS,
            updated=NOW - timedelta(hours=4),
            items=[("22220001", "KETTLE-1L", 1, "39.00"), ("22220002", "CABLE-USB-C-2M", 2, "4.99")],
        )
    )
    broken = sample_order(BROKEN, updated=NOW - timedelta(hours=3))
    broken["fulfillment"]["fulfillmentStatus"] = "LOST_IN_SPACE"  # an enum value the model does not know
    fake.put_raw_order(BROKEN, broken)
    fake.add_order(sample_order("116-4444444-4444444", updated=NOW - timedelta(hours=2), status="SHIPPED"))
    fake.returns += [
        sample_return_row(ORDER, rma="DkR8xYz1RMA", sku="SKU-1", requested=NOW - timedelta(days=2)),
        sample_return_row(TWO_ITEMS, rma="Dq7mN2bRMA", sku="KETTLE-1L", requested=NOW - timedelta(days=1)),
        sample_return_row(TWO_ITEMS, rma="Dq7mN2bRMA", sku="CABLE-USB-C-2M", requested=NOW - timedelta(days=1)),
        {
            **sample_return_row(ORDER, rma="DbadQtyRMA", sku="SKU-1", requested=NOW - timedelta(days=1)),
            "Return quantity": "one",  # a malformed row: quarantined, the rest of the report goes on
        },
    ]
    with fake.running():
        yield fake


@pytest.fixture
def store(db: Any, fake: AmazonFake) -> Store:
    return StoreFactory(
        platform="amazon",
        site="amazon.com",
        currency="USD",
        external_id=fake.seller_id,
        endpoint_url=fake.url,
        credentials={
            "lwa_client_id": fake.client_id,
            "lwa_client_secret": fake.client_secret,
            "refresh_token": "Atzr|fake-refresh-token",
        },
    )


def counts(store: Store) -> tuple[int, int, int, int]:
    return (
        Order.objects.filter(store=store).count(),
        ReturnRequest.objects.filter(store=store).count(),
        Ticket.objects.filter(store=store).count(),
        RawEvent.objects.filter(store=store).count(),
    )


def sync_both(store: Store, slept: list[float], **kwargs: Any) -> tuple[Any, Any]:
    orders = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append, **kwargs)
    returns = sync_stream(store_id=store.pk, stream=Stream.RETURNS, sleep=slept.append, **kwargs)
    return orders, returns


def test_registered_with_what_amazon_allows() -> None:
    connector = get_connector("amazon")
    assert isinstance(connector, AmazonConnector)
    assert connector.capabilities == {
        Capability.PULL_ORDERS,
        Capability.PULL_RETURNS,
        Capability.ISSUE_REFUND,
        Capability.MARK_SHIPPED,
        Capability.TEST_CONNECTION,
    }


def test_sync_orders_and_returns_then_rerun_duplicates_nothing(store, fake, slept):
    orders, returns = sync_both(store, slept, since=NOW - timedelta(days=7))
    assert (orders.status, returns.status) == (SyncRunStatus.SUCCEEDED, SyncRunStatus.SUCCEEDED)
    assert (orders.pages, orders.records, orders.created, orders.quarantined) == (2, 4, 3, 1)
    assert (returns.records, returns.created, returns.quarantined) == (3, 2, 1)
    # the malformed order and return are quarantined with the field, the rest of their page went on
    bad_return, bad = quarantined_events(organization_id=store.organization_id, store_id=store.pk)
    assert bad.event_id.startswith(f"{BROKEN}:") and bad.field == "fulfillment.fulfillmentStatus"
    assert "LOST_IN_SPACE" in bad.reason
    assert bad_return.event_id.startswith("return:DbadQtyRMA:") and bad_return.field == "Return quantity"

    order = Order.objects.get(store=store, external_id=TWO_ITEMS)
    assert sorted(order.lines.values_list("external_line_id", "sku", "quantity")) == [
        ("22220001", "KETTLE-1L", 1),
        ("22220002", "CABLE-USB-C-2M", 2),
    ]
    assert (order.status, order.total_amount, order.currency) == ("unshipped", Decimal("48.98"), "USD")
    first = Order.objects.get(store=store, external_id=ORDER)
    assert first.customer is not None
    assert first.customer.identities.get(store=store).external_id == "k4x9@marketplace.amazon.com"

    rma = ReturnRequest.objects.get(store=store, external_id="Dq7mN2bRMA")
    assert (rma.kind, rma.platform_status, rma.order_id, rma.reason) == ("return", "Approved", order.pk, "CR-DEFECTIVE")
    assert rma.ticket is not None and rma.ticket.store_id == store.pk
    assert rma.lines.count() == 2
    before = counts(store)
    assert before[:3] == (3, 2, 2)

    # the same data again: nothing new anywhere
    again_orders, again_returns = sync_both(store, slept)
    assert again_orders.created == again_returns.created == 0
    assert counts(store) == before

    # an order changes on Amazon (shipped): the next poll updates it, no duplicate
    fake.touch_order(TWO_ITEMS, fulfillment={"fulfillmentStatus": "SHIPPED", "fulfilledBy": "MERCHANT"})
    fake.orders[TWO_ITEMS]["packages"] = [
        {
            "packageReferenceId": "1",
            "packageStatus": {"status": "IN_TRANSIT"},
            "carrier": "UPS",
            "shipTime": (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "trackingNumber": "1Z999AA10123456784",
        }
    ]
    updated = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append)
    assert updated.updated == 1
    order.refresh_from_db()
    assert order.status == "shipped"
    assert order.shipments.get().tracking_number == "1Z999AA10123456784"
    assert counts(store)[:3] == before[:3]


def test_write_backs_exact_requests_key_stored_first(store, fake, slept):
    sync_both(store, slept, since=NOW - timedelta(days=7))
    store = Store.objects.get(pk=store.pk)  # with the access token the sync stored
    connector = get_connector("amazon")
    actor = Actor.user(UserFactory())
    refund = RefundRequest(
        idempotency_key="rma-Dq7mN2bRMA-refund-1",
        order_external_id=TWO_ITEMS,
        amount=Decimal("48.98"),
        currency="USD",
        return_external_id="Dq7mN2bRMA",
        lines=[
            RefundLine(external_line_id="22220001", quantity=1, amount=Decimal("39.00")),
            RefundLine(external_line_id="22220002", quantity=2, amount=Decimal("9.98")),
        ],
    )
    seen_before_call: list[str] = []

    def issue(ctx: Any) -> RefundReceipt:
        row = WriteBack.objects.get(store=store, idempotency_key=refund.idempotency_key)
        seen_before_call.append(row.status)  # the key is stored before Amazon is called
        return connector.issue_refund(ctx, refund)

    row = writeback_perform(
        store=store, kind="issue_refund", key=refund.idempotency_key, request=refund, actor=actor, call=issue
    )
    assert seen_before_call == [WriteBackStatus.SENDING]
    assert row.status == WriteBackStatus.SUCCEEDED and row.external_id in fake.feeds
    token = store.credentials["access_token"]
    assert len(fake.requests_to(r"/auth/o2/token")) == 1  # the token of the sync, still valid

    doc, upload, feed = (
        fake.requests_to(r"/feeds/2021-06-30/documents", "POST")
        + fake.requests_to(r"/_uploads/.*", "PUT")
        + fake.requests_to(r"/feeds/2021-06-30/feeds", "POST")
    )
    assert doc.headers["x-amz-access-token"] == token == feed.headers["x-amz-access-token"]
    assert doc.headers["content-type"] == "application/json"
    assert json.loads(doc.body) == {"contentType": "text/xml; charset=UTF-8"}
    assert "x-amz-access-token" not in upload.headers
    assert upload.headers["content-type"] == "text/xml; charset=UTF-8"
    assert upload.body.decode() == (
        "<?xml version='1.0' encoding='utf-8'?>\n"
        '<AmazonEnvelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="amzn-envelope.xsd"><Header><DocumentVersion>1.01</DocumentVersion>'
        "<MerchantIdentifier>A2FAKESELLER</MerchantIdentifier></Header><MessageType>PaymentAdjustment</MessageType>"
        f"<Message><MessageID>1</MessageID><OrderAdjustment><AmazonOrderID>{TWO_ITEMS}</AmazonOrderID>"
        "<AdjustedItem><AmazonOrderItemCode>22220001</AmazonOrderItemCode>"
        f"<MerchantAdjustmentItemID>{_item_id(refund, 1)}</MerchantAdjustmentItemID>"
        "<AdjustmentReason>CustomerReturn</AdjustmentReason><ItemPriceAdjustments><Component><Type>Principal</Type>"
        '<Amount currency="USD">39.00</Amount></Component></ItemPriceAdjustments></AdjustedItem>'
        "<AdjustedItem><AmazonOrderItemCode>22220002</AmazonOrderItemCode>"
        f"<MerchantAdjustmentItemID>{_item_id(refund, 2)}</MerchantAdjustmentItemID>"
        "<AdjustmentReason>CustomerReturn</AdjustmentReason><ItemPriceAdjustments><Component><Type>Principal</Type>"
        '<Amount currency="USD">9.98</Amount></Component></ItemPriceAdjustments></AdjustedItem>'
        "</OrderAdjustment></Message></AmazonEnvelope>"
    )
    assert json.loads(feed.body) == {
        "feedType": "POST_PAYMENT_ADJUSTMENT_DATA",
        "marketplaceIds": ["ATVPDKIKX0DER"],
        "inputFeedDocumentId": upload.path.rsplit("/", 1)[1],
    }

    # the same key again: the recorded row, no second feed (money moves once)
    again = writeback_perform(
        store=store, kind="issue_refund", key=refund.idempotency_key, request=refund, actor=actor, call=issue
    )
    assert again.pk == row.pk and len(fake.feeds) == 1 and seen_before_call == [WriteBackStatus.SENDING]

    # reconciliation: the feed's processing report, then the order's refund events
    status = connector.refund_status(_ctx(store), refund, RefundReceipt(row.external_id, RefundState.PENDING))
    assert status.state == RefundState.SUCCEEDED
    [events] = fake.requests_to(rf"/finances/v0/orders/{TWO_ITEMS}/financialEvents", "GET")
    assert events.query == {"MaxResultsPerPage": ["100"]}

    # confirm shipment (orders v0)
    shipment = ShipmentConfirmation(
        order_external_id=ORDER,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        shipped_at=NOW - timedelta(hours=1),
    )
    shipped = writeback_perform(
        store=store,
        kind="mark_shipped",
        key="ship-113-1",
        request=shipment,
        actor=actor,
        call=lambda ctx: connector.mark_shipped(ctx, shipment),
    )
    assert shipped.status == WriteBackStatus.SUCCEEDED and shipped.external_id == f"{ORDER}/1"
    [confirm] = fake.requests_to(rf"/orders/v0/orders/{ORDER}/shipmentConfirmation", "POST")
    assert confirm.headers["x-amz-access-token"] == token
    body = json.loads(confirm.body)
    assert body == {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": "1",
            "carrierCode": "UPS",
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "orderItems": [{"orderItemId": f"{ORDER[-7:]}0001", "quantity": 1}],
        },
    }
    assert schemas.errors_of(schemas.definition_validator("ordersV0", "ConfirmShipmentRequest"), body) == []

    # deciding a return is not offered by SP-API: refused with the reason, nothing sent
    decision = ReturnDecision(
        return_external_id="Dq7mN2bRMA", kind=ReturnKind.RETURN, decision=ReturnDecisionKind.APPROVE
    )
    refused = writeback_perform(
        store=store,
        kind="decide_return",
        key="decide-1",
        request=decision,
        actor=actor,
        call=lambda ctx: connector.decide_return(ctx, decision),
    )
    assert refused.status == WriteBackStatus.FAILED and "Seller Central" in refused.detail


def _item_id(refund: RefundRequest, index: int) -> str:
    from aftersales.channels.connectors.amazon.feeds import merchant_adjustment_item_id

    return merchant_adjustment_item_id(refund.idempotency_key, index)


def _ctx(store: Store) -> Any:
    from aftersales.channels.context import store_context

    return store_context(Store.objects.get(pk=store.pk))


def test_expired_token_refreshed_and_stored_encrypted(store, fake, slept):
    sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append, since=NOW - timedelta(days=7))
    first = Store.objects.get(pk=store.pk).credentials["access_token"]
    assert len(fake.requests_to(r"/auth/o2/token")) == 1
    fake.expire_tokens()
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append)
    assert run.status == SyncRunStatus.SUCCEEDED
    assert len(fake.requests_to(r"/auth/o2/token")) == 2
    second = Store.objects.get(pk=store.pk).credentials["access_token"]
    assert second != first and second.startswith("Atza|")
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM catalog_store WHERE id = %s", [store.pk])
        stored = str(cursor.fetchone()[0])
    assert second not in stored and "Atzr|" not in stored and fake.client_secret not in stored


def test_revoked_refresh_token_pauses_the_store_with_amazons_words(store, fake, slept):
    fake.refresh_tokens.clear()
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append)
    assert run.status == SyncRunStatus.PAUSED
    assert "invalid grant" in run.error


def test_429_honoured(store, fake, slept):
    fake.throttle_amazon(r"/orders/2026-01-01/orders", operation="searchOrders")
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, sleep=slept.append, since=NOW - timedelta(days=7))
    assert run.status == SyncRunStatus.SUCCEEDED and run.created == 3
    # x-amzn-RateLimit-Limit: one request per 178.6 s (the limiter's bucket is emptied as long too)
    assert slept[0] == pytest.approx(1 / 0.0056)
    assert len(fake.requests_to(r"/orders/2026-01-01/orders")) == 3  # the 429, then both pages
