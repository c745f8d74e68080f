"""ORDER_CHANGE notifications from SQS against a local SQS-compatible server (moto in server mode,
real HTTP on 127.0.0.1, boto3 receive/delete): a valid notification triggers a getOrder upsert of
its order; an invalid one is quarantined with the field it breaks; every message is stored raw
and deleted once handled; a redelivered message and the next poll duplicate nothing."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aftersales.catalog.models import Order, Store
from aftersales.channels.base import Stream
from aftersales.channels.connectors.amazon.fake import AmazonFake, sample_order
from aftersales.channels.connectors.amazon.notifications import order_change_poll
from aftersales.channels.models import RawEvent, RawEventStatus
from aftersales.channels.sync import sync_stream
from aftersales.testing.factories import StoreFactory

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime.now(UTC).replace(microsecond=0)
AWS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "aws_region": "us-east-1"}


@pytest.fixture(scope="module")
def sqs_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def queue(sqs_server: str) -> str:
    client = boto3.client("sqs", endpoint_url=sqs_server, region_name="us-east-1", **_keys())
    return str(client.create_queue(QueueName=f"sp-api-{uuid.uuid4().hex}")["QueueUrl"])


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": AWS["aws_access_key_id"], "aws_secret_access_key": AWS["aws_secret_access_key"]}


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[AmazonFake]:
    monkeypatch.setattr("aftersales.channels.http.wait_seconds", lambda _seconds: None)
    fake = AmazonFake()
    fake.add_order(sample_order("701-1588164-9632243", updated=NOW - timedelta(minutes=3), status="SHIPPED"))
    with fake.running():
        yield fake


@pytest.fixture
def store(db: Any, fake: AmazonFake, queue: str) -> Store:
    return StoreFactory(
        platform="amazon",
        site="amazon.com",
        external_id="A2ZPJ4TLUOSWY8",  # the SellerId of the sample notification
        endpoint_url=fake.url,
        credentials={
            "lwa_client_id": fake.client_id,
            "lwa_client_secret": fake.client_secret,
            "refresh_token": "Atzr|fake-refresh-token",
            "sqs_queue_url": queue,
            **AWS,
        },
    )


def notification(notification_id: str = "fb7a833f-bcb7-48b7-8f0b-10397b015af8", **summary: Any) -> dict[str, Any]:
    sample = json.loads((FIXTURES / "order_change_shipped.json").read_text())
    sample["NotificationMetadata"]["NotificationId"] = notification_id
    sample["Payload"]["OrderChangeNotification"]["Summary"].update(summary)
    return sample


def send(queue: str, sqs_server: str, body: Any) -> None:
    client = boto3.client("sqs", endpoint_url=sqs_server, region_name="us-east-1", **_keys())
    client.send_message(QueueUrl=queue, MessageBody=body if isinstance(body, str) else json.dumps(body))


def remaining(queue: str, sqs_server: str) -> int:
    client = boto3.client("sqs", endpoint_url=sqs_server, region_name="us-east-1", **_keys())
    attributes = client.get_queue_attributes(
        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def test_notification_triggers_get_order_upsert_and_is_deleted(store, fake, queue, sqs_server):
    send(queue, sqs_server, notification())
    result = order_change_poll(store=store)
    assert (result.received, result.deleted, result.errors) == (1, 1, [])
    assert [o.action for o in result.outcomes] == ["ignored", "created"]
    assert remaining(queue, sqs_server) == 0
    order = Order.objects.get(store=store, external_id="701-1588164-9632243")
    assert order.status == "shipped"
    [get_order] = fake.requests_to(r"/orders/2026-01-01/orders/701-1588164-9632243", "GET")
    assert get_order.headers["x-amz-access-token"].startswith("Atza|")
    trigger = RawEvent.objects.get(store=store, event_id="order-change:fb7a833f-bcb7-48b7-8f0b-10397b015af8")
    assert (trigger.status, trigger.source) == (RawEventStatus.IGNORED, "sqs")

    # SQS delivers at least once: the same notification again changes nothing
    send(queue, sqs_server, notification())
    again = order_change_poll(store=store)
    assert [o.action for o in again.outcomes] == ["duplicate", "duplicate"]
    # polling reconciles: the order version from searchOrders is the one already stored
    run = sync_stream(store_id=store.pk, stream=Stream.ORDERS, since=NOW - timedelta(days=1), sleep=lambda _s: None)
    assert (run.records, run.created, run.duplicates) == (1, 0, 1)
    assert Order.objects.filter(store=store).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("this is not JSON", "Body"),
        (notification("n-2", OrderStatus="Teleported"), "Payload.OrderChangeNotification.Summary.OrderStatus"),
        (
            {k: v for k, v in notification("n-3").items() if k != "NotificationMetadata"},
            "NotificationMetadata",
        ),
    ],
)
def test_invalid_notification_is_quarantined_with_the_field(store, fake, queue, sqs_server, body, field):
    send(queue, sqs_server, body)
    result = order_change_poll(store=store)
    assert [o.action for o in result.outcomes] == ["quarantined"]
    assert result.deleted == 1 and remaining(queue, sqs_server) == 0
    [row] = RawEvent.objects.filter(store=store, status=RawEventStatus.QUARANTINED)
    assert row.field == field
    assert fake.requests_to(r"/orders/.*") == []  # nothing fetched for a notification we cannot trust


def test_notification_of_another_seller_is_quarantined(store, fake, queue, sqs_server):
    other = notification("n-4")
    other["Payload"]["OrderChangeNotification"]["SellerId"] = "ANOTHERSELLER"
    send(queue, sqs_server, other)
    result = order_change_poll(store=store)
    assert [o.action for o in result.outcomes] == ["quarantined"]
    assert RawEvent.objects.get(store=store).field == "Payload.OrderChangeNotification.SellerId"


def test_get_order_failing_leaves_the_message_for_redelivery(store, fake, queue, sqs_server):
    fake.fail_next(
        r"/orders/2026-01-01/orders/.*", status=503, times=10, body={"errors": [{"code": "x", "message": "busy"}]}
    )
    send(queue, sqs_server, notification("n-5"))
    result = order_change_poll(store=store)
    assert result.deleted == 0 and result.errors and "busy" in result.errors[0]
    assert remaining(queue, sqs_server) == 1
    assert not Order.objects.filter(store=store).exists()


def test_a_batch_of_several(store, fake, queue, sqs_server):
    for n in range(3):
        order_id = f"701-0000000-000000{n}"
        fake.add_order(sample_order(order_id, updated=NOW - timedelta(minutes=n)))
        body = copy.deepcopy(notification(f"batch-{n}"))
        body["Payload"]["OrderChangeNotification"]["AmazonOrderId"] = order_id
        send(queue, sqs_server, body)
    result = order_change_poll(store=store, max_messages=10, batches=2)
    assert result.received == result.deleted == 3
    assert Order.objects.filter(store=store).count() == 3


def test_the_engines_periodic_poll_runs_the_stores_queue(store, fake, queue, sqs_server):
    """channels.tasks.poll_notifications calls AmazonConnector.notification_poll for the store; a store
    without a queue is skipped without a call to SQS."""
    from django.core.cache import cache

    from aftersales.channels.tasks import poll_notifications

    cache.delete(f"channels:notification-poll:{store.pk}")
    without_queue = StoreFactory(organization=store.organization, platform="amazon", credentials={"x": "y"})
    cache.delete(f"channels:notification-poll:{without_queue.pk}")
    send(queue, sqs_server, notification("n-periodic"))
    assert poll_notifications() >= 2
    assert remaining(queue, sqs_server) == 0
    assert Order.objects.filter(store=store, external_id="701-1588164-9632243").exists()
    assert not RawEvent.objects.filter(store=without_queue).exists()
