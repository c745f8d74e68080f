"""WhatsApp webhook items -> records (pure), over payloads of the Cloud API's published shapes."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aftersales.channels.base import (
    DeliveryFailureRecord,
    DeliveryReceiptRecord,
    IgnoredRecord,
    MappingError,
    MessageRecord,
)
from aftersales.channels.connectors.whatsapp.mapping import map_payload
from aftersales.channels.connectors.whatsapp.webhooks import parse_push, push_items

FIXTURES = Path(__file__).parent / "fixtures"
PHONE = "106540352242922"


def items(name: str) -> list[dict[str, Any]]:
    push = parse_push((FIXTURES / name).read_bytes())
    return [item for _event, item in push_items(push, phone_number_id=PHONE)]


def test_a_text_message_is_a_message_of_its_buyer_thread() -> None:
    [item] = items("text.json")
    [record] = map_payload(item)
    assert isinstance(record, MessageRecord)
    assert record.external_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert record.body == "Hi, my parcel arrived damaged."
    assert record.buyer.external_id == "16505551234" and record.buyer.name == "Sheena Nelson"
    assert record.conversation_id == f"wa:{PHONE}:16505551234"
    assert record.sent_at.timestamp() == 1749416383


def test_a_voice_note_is_an_audio_attachment() -> None:
    [item] = items("voice.json")
    item["media"] = {"mime_type": "audio/ogg", "filename": "", "data_b64": base64.b64encode(b"OggS...").decode()}
    [record] = map_payload(item)
    assert isinstance(record, MessageRecord)
    [attachment] = record.attachments
    assert attachment.content == b"OggS..." and attachment.content_type == "audio/ogg"
    assert attachment.filename.startswith("voice-note-") and attachment.filename.endswith(".oga")


def test_media_that_could_not_be_downloaded_is_quarantined_with_the_field() -> None:
    [item] = items("voice.json")
    item["media"] = {"error": "Unsupported get request (code 100)"}
    with pytest.raises(MappingError) as caught:
        map_payload(item)
    assert caught.value.field == "audio.id" and "Unsupported get request" in caught.value.reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "text", "text": {}}, "text.body"),
        ({"type": "hologram"}, "messages.type"),
        ({"timestamp": "yesterday"}, "messages.timestamp"),
        ({"from": "sheena"}, "messages.from"),
    ],
)
def test_malformed_messages_name_the_field(change: dict[str, Any], field: str) -> None:
    [item] = items("text.json")
    item["message"].update(change)
    with pytest.raises(MappingError) as caught:
        map_payload(item)
    assert caught.value.field == field


def test_a_reaction_is_ignored_with_a_reason() -> None:
    [item] = items("text.json")
    item["message"] = {**item["message"], "type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "x"}}
    [record] = map_payload(item)
    assert isinstance(record, IgnoredRecord) and "reaction" in record.reason


def test_statuses_failed_marks_the_reply_delivered_and_read_are_receipts_sent_is_kept_raw() -> None:
    failed, read = items("statuses.json")
    [failure] = map_payload(failed)
    assert isinstance(failure, DeliveryFailureRecord)
    assert failure.original_message_ids == ["wamid.HBgLMTY1MDUxNzY1NTIVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"]
    assert failure.reason == "WhatsApp: Message undeliverable (code 131026)"
    [seen] = map_payload(read)
    assert isinstance(seen, DeliveryReceiptRecord) and seen.receipt == "read"
    assert seen.external_id == read["status"]["id"]
    assert seen.at == datetime.fromtimestamp(int(read["status"]["timestamp"]), tz=UTC)
    [delivered] = map_payload({**read, "status": {**read["status"], "status": "delivered"}})
    assert isinstance(delivered, DeliveryReceiptRecord) and delivered.receipt == "delivered"
    [sent] = map_payload({**read, "status": {**read["status"], "status": "sent"}})
    assert isinstance(sent, IgnoredRecord) and sent.reason == "WhatsApp status sent"
    read["status"]["status"] = "bounced"
    with pytest.raises(MappingError) as caught:
        map_payload(read)
    assert caught.value.field == "statuses.status"


def test_a_push_for_another_phone_number_is_refused() -> None:
    push = parse_push((FIXTURES / "text.json").read_bytes())
    with pytest.raises(MappingError) as caught:
        push_items(push, phone_number_id="999")
    assert caught.value.field == "metadata"


def test_a_push_that_is_not_whatsapps_is_refused() -> None:
    with pytest.raises(MappingError) as caught:
        parse_push(json.dumps({"object": "page", "entry": []}).encode())
    assert caught.value.field == "object"
