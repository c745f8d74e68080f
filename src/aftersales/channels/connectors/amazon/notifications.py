"""ORDER_CHANGE notifications from the store's Amazon SQS queue: triggers, not the truth.

SP-API delivers ORDER_CHANGE to an SQS queue of the seller's AWS account (Notifications API
destination). `order_change_poll` receives a batch, and for each message:
1. the notification is stored raw (event id `order-change:<NotificationId>`, or the SQS message id
   when the body is unreadable) and checked against OrderChangeNotification.json: a message that
   breaks it is quarantined with the field it breaks; a valid one maps to an ignored "trigger"
   record (its content is not trusted as the order's state);
2. for a valid one, getOrder fetches the order and it is stored and applied exactly like a polled
   order (event id orderId:lastUpdatedTime: the same version from the poll is a duplicate);
3. the SQS message is deleted once both are stored. A transient failure (SQS, getOrder) leaves the
   message in the queue: SQS delivers it again after its visibility timeout.
Polling with the overlapping watermark reconciles whatever a lost notification missed.

Store credentials used: sqs_queue_url, aws_access_key_id, aws_secret_access_key, aws_region.
A loopback queue URL (moto in tests, `make run`'s demo) is used as the SQS endpoint only when
settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE is on."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from aftersales.catalog.models import Store
from aftersales.channels.base import ConnectorError, RawRecord, Stream
from aftersales.channels.context import is_loopback_url, store_context
from aftersales.channels.registry import get_connector
from aftersales.channels.sync import RecordOutcome, receive_records

logger = logging.getLogger(__name__)


@dataclass
class PollResult:
    received: int = 0
    deleted: int = 0
    outcomes: list[RecordOutcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def notification_raw(body: str, message_id: str) -> RawRecord:
    """The stored form of one SQS message body."""
    try:
        notification = json.loads(body)
    except ValueError:
        notification = None
    if isinstance(notification, dict):
        metadata = notification.get("NotificationMetadata")
        notification_id = metadata.get("NotificationId") if isinstance(metadata, dict) else None
        event_id = f"order-change:{notification_id or 'sqs-' + message_id}"
        return RawRecord(stream=Stream.ORDERS, event_id=event_id, payload={"order_change": notification})
    return RawRecord(
        stream=Stream.ORDERS,
        event_id=f"order-change:sqs-{message_id}",
        payload={"order_change": None, "body": body[:10000]},
    )


def sqs_client(credentials: dict[str, Any]) -> Any:
    queue_url = str(credentials.get("sqs_queue_url") or "")
    if not queue_url:
        raise ConnectorError("the store has no sqs_queue_url for Amazon notifications", permanent=True)
    endpoint = None
    if is_loopback_url(queue_url):
        if not getattr(settings, "CHANNELS_ALLOW_ENDPOINT_OVERRIDE", False):
            raise ConnectorError("a loopback SQS queue is allowed only with endpoint overrides on", permanent=True)
        parts = urlsplit(queue_url)
        endpoint = f"{parts.scheme}://{parts.netloc}"
    return boto3.client(
        "sqs",
        region_name=str(credentials.get("aws_region") or "us-east-1"),
        aws_access_key_id=str(credentials.get("aws_access_key_id") or "") or None,
        aws_secret_access_key=str(credentials.get("aws_secret_access_key") or "") or None,
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def order_change_poll(*, store: Store, max_messages: int = 10, wait_seconds: int = 0, batches: int = 1) -> PollResult:
    """Receive up to `batches` x `max_messages` ORDER_CHANGE messages of the store's queue (see the
    module docstring). Raises ConnectorError when SQS itself cannot be reached."""
    credentials = dict(store.credentials or {})
    queue_url = str(credentials.get("sqs_queue_url") or "")
    client = sqs_client(credentials)
    connector = get_connector(store.platform)
    ctx = store_context(store, connector=connector)
    result = PollResult()
    for _ in range(batches):
        try:
            answer = client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=max(1, min(10, max_messages)),
                WaitTimeSeconds=wait_seconds,
            )
        except (BotoCoreError, ClientError) as exc:
            raise ConnectorError(f"Amazon SQS could not be read: {exc}") from exc
        messages = answer.get("Messages") or []
        if not messages:
            break
        result.received += len(messages)
        for message in messages:
            done = _handle(store, connector, ctx, message, result)
            if done:
                try:
                    client.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                    result.deleted += 1
                except (BotoCoreError, ClientError) as exc:  # delivered again later: a duplicate then
                    result.errors.append(f"delete failed: {exc}")
    return result


def _handle(store: Store, connector: Any, ctx: Any, message: dict[str, Any], result: PollResult) -> bool:
    """True when the message may be deleted (everything it asks for is stored)."""
    raw = notification_raw(str(message.get("Body") or ""), str(message.get("MessageId") or ""))
    [outcome] = receive_records(store=store, records=[raw], source="sqs", connector=connector, ctx=ctx)
    result.outcomes.append(outcome)
    if outcome.action == "quarantined" or (outcome.action == "duplicate" and outcome.reason.startswith("quarantined")):
        return True  # kept (quarantined) with its reason: the seller sees it; nothing to fetch
    order_id = raw.payload["order_change"]["Payload"]["OrderChangeNotification"]["AmazonOrderId"]
    try:
        order = connector.fetch_order(ctx, order_id)
    except ConnectorError as exc:
        result.errors.append(f"getOrder {order_id}: {exc}")
        logger.warning("ORDER_CHANGE trigger could not fetch the order", extra={"store_id": store.pk})
        return bool(exc.permanent)  # e.g. the order is gone: nothing to retry
    result.outcomes += receive_records(store=store, records=[order], source="sqs", connector=connector, ctx=ctx)
    return True
