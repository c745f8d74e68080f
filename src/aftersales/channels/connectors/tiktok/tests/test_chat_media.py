"""A buyer's picture in TikTok Shop customer-service chat (issue 12): an IMAGE message's picture is
downloaded while the message is pulled (no access token sent to the file server), stored on the
message as an attachment through the inbox's upload checks; an expired link keeps the message with
the link and the reason. Real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.connectors.shopee.tests.test_chat_media import PNG
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.testing.acceptance import assert_chat_pictures, fake_store

from .conftest import load


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def store(db: Any, fake: TikTokFake) -> Store:
    chat = load("conversation.json")
    first = {**chat["messages"][0], "create_time": ago(30)}
    links = [fake.add_file("box.png", PNG), f"{fake.url}/file/gone.png"]
    pictures = [
        {
            **first,
            "id": f"72828345132114189{50 + n}",
            "type": "IMAGE",
            "create_time": ago(20 - n),
            "content": json.dumps({"url": link, "width": 1, "height": 1}),
        }
        for n, link in enumerate(links)
    ]
    fake.add_conversation(chat["conversation"], [first, *pictures])
    return fake_store(
        fake, platform="tiktok", external_id=fake.shop_id, credentials=fake.credentials(), site="shop.tiktok.com/us"
    )


def test_a_chat_picture_becomes_an_attachment(store: Store, fake: TikTokFake, waits: list[float]) -> None:
    fetched = assert_chat_pictures(
        store,
        fake,
        attached="tiktok:7282834513211418950",
        expired="tiktok:7282834513211418951",
        served=PNG,
        name="box.png",
    )
    assert "x-tts-access-token" not in fetched.headers and "sign" not in fetched.query  # no token to the CDN
