"""Messenger events -> records (pure)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from aftersales.channels.base import DeliveryReceiptRecord, IgnoredRecord, MappingError, MessageRecord
from aftersales.channels.connectors.messenger.connector import parse_push, push_items
from aftersales.channels.connectors.messenger.mapping import map_payload

PAGE = "104712345678901"


def event(**message: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "page_id": PAGE,
        "event": {
            "sender": {"id": "6012345678901234"},
            "recipient": {"id": PAGE},
            "timestamp": 1765000000000,
            "message": {"mid": "m_1", **message},
        },
        "profile": {"first_name": "Maria", "last_name": "Santos"},
        "media": [],
    }


def test_text_and_picture() -> None:
    [text] = map_payload(event(text="Hola"))
    assert isinstance(text, MessageRecord) and text.body == "Hola" and text.buyer.name == "Maria Santos"
    assert text.sent_at.timestamp() == 1765000000 and text.conversation_id == f"fb:{PAGE}:6012345678901234"
    item = event(attachments=[{"type": "image", "payload": {"url": "https://cdn.example/1"}}])
    item["media"] = [{"type": "image", "mime_type": "image/png", "data_b64": base64.b64encode(b"png").decode()}]
    [picture] = map_payload(item)
    assert isinstance(picture, MessageRecord) and picture.attachments[0].filename == "image-1.png"


def test_an_undownloadable_attachment_and_an_empty_message_are_quarantined() -> None:
    item = event(attachments=[{"type": "file", "payload": {"url": "https://cdn.example/2"}}])
    item["media"] = [{"error": "HTTP 404"}]
    with pytest.raises(MappingError) as caught:
        map_payload(item)
    assert caught.value.field == "message.attachments[0].payload.url"
    with pytest.raises(MappingError) as empty:
        map_payload(event())
    assert empty.value.field == "message.text"
    [sticker] = map_payload(event(attachments=[{"type": "template", "payload": {}}]))
    assert isinstance(sticker, IgnoredRecord)


def test_pushes_for_another_page_or_not_a_page_are_refused() -> None:
    with pytest.raises(MappingError) as other:
        push_items(parse_push(b'{"object": "page", "entry": [{"id": "1", "messaging": []}]}'), page_id=PAGE)
    assert other.value.field == "entry.id"
    with pytest.raises(MappingError) as wrong:
        parse_push(b'{"object": "instagram", "entry": []}')
    assert wrong.value.field == "object"
    delivery = {"sender": {"id": "6"}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_1"], "watermark": 1}}
    [(event_id, item)] = push_items({"object": "page", "entry": [{"id": PAGE, "messaging": [delivery]}]}, page_id=PAGE)
    assert event_id.startswith("delivery:") and item == {"kind": "delivery", "page_id": PAGE, "event": delivery}
    [receipt] = map_payload(item)
    assert isinstance(receipt, DeliveryReceiptRecord)
    assert (receipt.external_id, receipt.receipt, receipt.conversation_id) == ("m_1", "delivered", "")
    read = {"sender": {"id": "6"}, "recipient": {"id": PAGE}, "read": {"watermark": 1458668856253}}
    [(event_id, item)] = push_items({"object": "page", "entry": [{"id": PAGE, "messaging": [read]}]}, page_id=PAGE)
    [receipt] = map_payload(item)
    assert isinstance(receipt, DeliveryReceiptRecord) and event_id.startswith("read:")
    assert (receipt.external_id, receipt.receipt, receipt.conversation_id) == ("", "read", f"fb:{PAGE}:6")
    assert receipt.at == datetime.fromtimestamp(1458668856.253, tz=UTC)
    for broken, field in (({**read, "read": {}}, "read.watermark"), ({**read, "sender": {}}, "sender.id")):
        with pytest.raises(MappingError) as caught:
            map_payload({"kind": "read", "page_id": PAGE, "event": broken})
        assert caught.value.field == field
