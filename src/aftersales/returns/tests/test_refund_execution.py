"""Refund execution end to end: approval enqueues the execution after commit; the local Shopify fake
receives exactly one refundCreate with the refund's idempotency key, a second execution sends
nothing; a refusal is `failed` with Shopify's words and a retry sends the SAME key; a connector
without the refund capability leaves the refund pending sync until an agent marks it done; a
platform-pending refund is settled by reconciliation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales.accounts.models import DEFAULT_ROLE_PERMISSIONS, Role, RoleKind
from aftersales.catalog.models import Order, OrderLine
from aftersales.channels import registry
from aftersales.channels.base import Stream
from aftersales.channels.connectors.shopify import operations
from aftersales.channels.connectors.shopify.fake import ShopifyFake
from aftersales.channels.models import WriteBack, WriteBackStatus
from aftersales.channels.sync import sync_stream
from aftersales.returns.models import RefundEvent, RefundStatus
from aftersales.returns.refunds import (
    refund_approve,
    refund_execute,
    refund_mark_done,
    refund_reconcile,
    refund_request,
    refund_retry,
    refunds_to_reconcile,
)
from aftersales.testing.factories import OrderFactory, OrderLineFactory, StoreFactory, UserFactory
from aftersales.testing.shopify import shopify_store_for

from .refund_connector import PATH, PLATFORM, RecordingConnector

pytestmark = pytest.mark.django_db

GRAPHQL = "/admin/api/2026-04/graphql.json"
SINCE = datetime.now(UTC) - timedelta(days=2)


@pytest.fixture
def recording() -> Iterator[type[RecordingConnector]]:
    RecordingConnector.reset()
    registry.register(PLATFORM, PATH)
    yield RecordingConnector
    registry.unregister(PLATFORM)
    RecordingConnector.reset()


def approver_of(org, name: str = "approver", limit: str = "500"):  # type: ignore[no-untyped-def]
    role, _ = Role.objects.get_or_create(
        organization=org,
        name=f"approver-{limit}",
        defaults={
            "kind": RoleKind.APPROVER,
            "permissions": [str(p) for p in DEFAULT_ROLE_PERMISSIONS[RoleKind.APPROVER]],
            "approval_limit_amount": Decimal(limit),
            "approval_limit_currency": "EUR",
        },
    )
    return UserFactory(username=name, organization=org, role=role)


@pytest.fixture
def shop(shopify_fake, recorded_waits):  # type: ignore[no-untyped-def]
    store = shopify_store_for(shopify_fake)
    data = shopify_fake.add_order(
        lines=[("MUG-BLUE", 2, "12.50"), ("TEA-500G", 1, "8.90")], email="lena@example.de", customer_name="Lena Fischer"
    )
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=SINCE, sleep=recorded_waits.append)
    assert run.created == 1
    order = Order.objects.get(store=store, external_id=data["legacyResourceId"])
    return store, data, order


def _refund_mutations(shopify_fake: ShopifyFake) -> list[dict]:
    out = []
    for request in shopify_fake.requests_to(GRAPHQL, "POST"):
        body = json.loads(request.body)
        if body["query"].lstrip().startswith("mutation") and "refundCreate" in body["query"]:
            out.append(body)
    return out


def test_an_approved_refund_is_executed_once_on_shopify(shopify_fake, shop, django_capture_on_commit_callbacks):
    store, data, order = shop
    approver = approver_of(store.organization)
    mug = OrderLine.objects.get(order=order, sku="MUG-BLUE")
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            user=approver,
            order_id=order.pk,
            kind="partial",
            currency="EUR",
            lines=[{"order_line_id": mug.pk, "amount": "12.50", "quantity": 1}],
            reason="Handle came off",
        )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED, refund.platform_detail
    assert refund.platform_refund_id == data["refunds"][0]["legacyResourceId"]
    assert refund.reconciled_at is not None and refund.executed_at is not None
    key = f"refund:{refund.idempotency_key}"
    row = WriteBack.objects.get(store=store, idempotency_key=key)
    assert row.status == WriteBackStatus.SUCCEEDED and refund.writeback_id == row.pk
    (body,) = _refund_mutations(shopify_fake)
    assert body == {
        "query": operations.REFUND_CREATE_MUTATION,
        "variables": {
            "idempotencyKey": key,
            "input": {
                "orderId": data["id"],
                "notify": True,
                "note": "Handle came off",
                "transactions": [
                    {
                        "orderId": data["id"],
                        "parentId": data["transactions"][0]["id"],
                        "gateway": "shopify_payments",
                        "kind": "REFUND",
                        "amount": "12.50",
                    }
                ],
                "refundLineItems": [
                    {"lineItemId": data["lineItems"][0]["id"], "quantity": 1, "restockType": "NO_RESTOCK"}
                ],
            },
        },
    }
    # a second execution (a redelivered task, a double click) sends nothing
    again = refund_execute(refund_id=refund.pk)
    assert again.status == RefundStatus.SUCCEEDED
    assert len(_refund_mutations(shopify_fake)) == 1 and len(data["refunds"]) == 1
    transitions = list(
        RefundEvent.objects.filter(refund=refund, type="status_changed").values_list("payload__to", flat=True)
    )
    assert transitions == ["approved", "executing", "succeeded"]


def test_a_refusal_is_failed_with_the_platforms_words_and_retry_sends_the_same_key(
    shopify_fake, shop, django_capture_on_commit_callbacks
):
    store, data, order = shop
    approver = approver_of(store.organization)
    saved = data["transactions"]
    data["transactions"] = []  # nothing captured on Shopify: the connector refuses
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(user=approver, order_id=order.pk, kind="partial", currency="EUR", amount="8.90")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert "left to refund" in refund.platform_detail
    assert _refund_mutations(shopify_fake) == []

    data["transactions"] = saved
    with django_capture_on_commit_callbacks(execute=True):
        refund_retry(user=approver, refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    (body,) = _refund_mutations(shopify_fake)
    assert body["variables"]["idempotencyKey"] == f"refund:{refund.idempotency_key}"
    assert WriteBack.objects.filter(store=store).count() == 1  # the same ledger row, reopened
    assert WriteBack.objects.get(store=store).attempts == 2


def test_a_connector_that_cannot_refund_leaves_it_pending_sync(world, django_capture_on_commit_callbacks):
    store = StoreFactory(organization=world.org, platform="email", site="mail", currency="USD")
    order = OrderFactory(store=store, total_amount=Decimal("20.00"), currency="USD")
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("20.00"), currency="USD")
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(user=world.approver, order_id=order.pk, kind="full", currency="USD")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING_SYNC
    assert "by hand" in refund.platform_detail and not WriteBack.objects.exists()
    done = refund_mark_done(user=world.agent, refund_id=refund.pk, platform_refund_id="PP-77")
    assert done.status == RefundStatus.SUCCEEDED and done.platform_refund_id == "PP-77"
    last = RefundEvent.objects.filter(refund=refund).last()
    assert last.actor_user_id == world.agent.pk and last.payload["reason"] == "done_by_hand"


def test_a_pending_platform_refund_is_settled_by_reconciliation(world, recording, django_capture_on_commit_callbacks):
    store = StoreFactory(organization=world.org, platform=PLATFORM, site="x", currency="USD")
    order = OrderFactory(store=store, total_amount=Decimal("50.00"), currency="USD", external_id="ORD-9")
    line = OrderLineFactory(
        order=order, quantity=1, unit_price_amount=Decimal("50.00"), currency="USD", external_line_id="L-1"
    )
    recording.answer = "pending"
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(user=world.approver, order_id=order.pk, kind="full", currency="USD")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.EXECUTING and refund.platform_refund_id == "RF-1"
    (sent,) = recording.calls
    assert sent.order_external_id == "ORD-9" and sent.amount == Decimal("50.00")
    assert [(x.external_line_id, x.quantity, x.amount) for x in sent.lines] == [("L-1", 1, Decimal("50.00"))]
    assert line.pk and refunds_to_reconcile() == [refund.pk]

    recording.status_answer = "pending"
    assert refund_reconcile(refund_id=refund.pk).status == RefundStatus.EXECUTING
    recording.status_answer = "succeeded"
    settled = refund_reconcile(refund_id=refund.pk)
    assert settled.status == RefundStatus.SUCCEEDED and settled.reconciled_at is not None
    assert refunds_to_reconcile() == [] and len(recording.calls) == 1


def test_an_approval_by_review_executes_and_a_refused_one_can_be_retried(
    world, recording, django_capture_on_commit_callbacks
):
    store = StoreFactory(organization=world.org, platform=PLATFORM, site="x", currency="USD")
    order = OrderFactory(store=store, total_amount=Decimal("150.00"), currency="USD")
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("150.00"), currency="USD")
    refund = refund_request(user=world.agent, order_id=order.pk, kind="full", currency="USD")
    assert refund.status == RefundStatus.PENDING_APPROVAL and recording.calls == []
    recording.answer = "refuse"
    with django_capture_on_commit_callbacks(execute=True):
        refund_approve(user=world.admin, refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and "exceeds the captured amount" in refund.platform_detail
    recording.answer = "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        refund_retry(user=world.admin, refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert [c.idempotency_key for c in recording.calls] == [f"refund:{refund.idempotency_key}"] * 2


TWO_ITEMS = "114-2222222-2222222"


@pytest.fixture
def amazon(monkeypatch: pytest.MonkeyPatch, recorded_waits):  # type: ignore[no-untyped-def]
    from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order
    from aftersales.channels.registry import get_connector

    monkeypatch.setattr(get_connector("amazon"), "report_poll_interval", 0.0)
    shopify_fake = AmazonFake()
    shopify_fake.add_order(
        sample_order(
            TWO_ITEMS,
            updated=datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4),
            items=[("22220001", "KETTLE-1L", 1, "39.00"), ("22220002", "CABLE-USB-C-2M", 2, "4.99")],
        )
    )
    with shopify_fake.running():
        store = StoreFactory(
            platform="amazon",
            site="amazon.com",
            currency="USD",
            external_id=shopify_fake.seller_id,
            endpoint_url=shopify_fake.url,
            credentials={
                "lwa_client_id": shopify_fake.client_id,
                "lwa_client_secret": shopify_fake.client_secret,
                "refresh_token": "Atzr|fake-refresh-token",
            },
        )
        sync_stream(
            store_id=store.pk, stream=Stream.ORDERS, since=SINCE - timedelta(days=5), sleep=recorded_waits.append
        )
        yield shopify_fake, store


def test_amazon_refund_is_a_feed_settled_by_reconciliation(amazon, django_capture_on_commit_callbacks):
    shopify_fake, store = amazon
    order = Order.objects.get(store=store, external_id=TWO_ITEMS)
    kettle = OrderLine.objects.get(order=order, sku="KETTLE-1L")
    approver = approver_of(store.organization)
    approver.role.approval_limit_currency = "USD"
    approver.role.save()
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_request(
            user=approver,
            order_id=order.pk,
            kind="partial",
            currency="USD",
            lines=[{"order_line_id": kettle.pk, "amount": "39.00", "quantity": 1}],
            reason="Arrived dented",
        )
    refund.refresh_from_db()
    # Amazon takes a payment-adjustment feed: submitted, not yet settled
    assert refund.status == RefundStatus.EXECUTING and refund.platform_refund_id in shopify_fake.feeds
    (upload,) = shopify_fake.requests_to(r"/_uploads/.*", "PUT")
    body = upload.body.decode()
    assert f"<AmazonOrderID>{TWO_ITEMS}</AmazonOrderID>" in body
    assert "<AmazonOrderItemCode>22220001</AmazonOrderItemCode>" in body
    assert '<Amount currency="USD">39.00</Amount>' in body and "22220002" not in body
    assert refunds_to_reconcile() == [refund.pk]
    refund_execute(refund_id=refund.pk)  # a second execution: the ledger answers, no second feed
    assert len(shopify_fake.feeds) == 1
    settled = refund_reconcile(refund_id=refund.pk)
    assert settled.status == RefundStatus.SUCCEEDED and settled.reconciled_at is not None
    assert shopify_fake.requests_to(rf"/finances/v0/orders/{TWO_ITEMS}/financialEvents", "GET")
    assert refunds_to_reconcile() == []


def test_an_execution_abandoned_after_transient_errors_is_resumed_with_the_same_key(world, recording):
    from aftersales.channels.base import ConnectorError
    from aftersales.core.clock import now
    from aftersales.returns.models import Refund
    from aftersales.returns.refund_tasks import refunds_reconcile_task
    from aftersales.returns.refunds import refunds_to_resume

    store = StoreFactory(organization=world.org, platform=PLATFORM, site="x", currency="USD")
    order = OrderFactory(store=store, total_amount=Decimal("30.00"), currency="USD")
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("30.00"), currency="USD")
    refund = refund_request(user=world.approver, order_id=order.pk, kind="full", currency="USD")
    recording.answer = "transient"
    with pytest.raises(ConnectorError):
        refund_execute(refund_id=refund.pk)  # the task would retry; say it gave up
    refund.refresh_from_db()
    assert refund.status == RefundStatus.EXECUTING and refund.writeback_id is None
    assert WriteBack.objects.get().status == WriteBackStatus.PENDING
    assert refunds_to_resume() == []  # not before RESUME_AFTER
    Refund.objects.filter(pk=refund.pk).update(updated_at=now() - timedelta(minutes=31))
    assert refunds_to_resume() == [refund.pk]
    recording.answer = "succeeded"
    refunds_reconcile_task.call_local()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert [c.idempotency_key for c in recording.calls] == [f"refund:{refund.idempotency_key}"] * 2
    assert WriteBack.objects.count() == 1
