"""A buyer's picture in Shopee seller chat (issue 12): downloaded while the message is pulled (without
the shop's token: Shopee's CDN is not the API), stored on the message as an attachment through the
inbox's upload checks; an expired link or a file above the upload limit keeps the message with the
link and the reason. Real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.base import Stream
from aftersales.channels.connectors.shopee.fake import ShopeeFake
from aftersales.channels.sync import sync_stream
from aftersales.inbox.models import Message
from aftersales.testing.acceptance import assert_chat_pictures, fake_store

from .conftest import load

# A 1x1 PNG: what the inbox's type sniffing recognises as image/png.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082"
)


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def store(db: Any, fake: ShopeeFake) -> Store:
    chat = load("conversation.json")
    first = chat["messages"][0]
    pictures = [
        ("2097834567800000101", {"url": fake.add_file("crack.png", PNG)}),
        ("2097834567800000102", {"url": f"{fake.url}/file/gone.png"}),
        ("2097834567800000103", {"url": "http://elsewhere.example/file/x.png"}),
    ]
    messages = [{**first, "created_timestamp": ago(30)}]
    for n, (message_id, content) in enumerate(pictures):
        messages.append(
            {
                **first,
                "message_id": message_id,
                "message_type": "image",
                "content": content,
                "created_timestamp": ago(20 - n),
            }
        )
    fake.add_conversation(chat["conversation"], messages)
    return fake_store(
        fake, platform="shopee", external_id=str(fake.shop_id), credentials=fake.credentials(), site="shopee.sg"
    )


def test_a_chat_picture_becomes_an_attachment(store: Store, fake: ShopeeFake, waits: list[float]) -> None:
    fetched = assert_chat_pictures(
        store,
        fake,
        attached="shopee:2097834567800000101",
        expired="shopee:2097834567800000102",
        served=PNG,
        name="crack.png",
    )
    assert "access_token" not in fetched.query and "sign" not in fetched.query  # the CDN gets no token
    elsewhere = Message.objects.get(store=store, external_id="shopee:2097834567800000103")
    assert elsewhere.body == "[image] http://elsewhere.example/file/x.png (not an https link)"
    assert not elsewhere.attachments.exists()


def test_a_picture_above_the_upload_limit_is_not_kept(
    store: Store, fake: ShopeeFake, waits: list[float], settings: Any
) -> None:
    settings.ATTACHMENT_MAX_BYTES = len(PNG) - 1
    assert sync_stream(store_id=store.pk, stream=Stream.MESSAGES).quarantined == 0
    picture = Message.objects.get(store=store, external_id="shopee:2097834567800000101")
    assert not picture.attachments.exists()
    assert picture.body == f"[image] {fake.url}/file/crack.png (larger than {len(PNG) - 1} bytes)"
