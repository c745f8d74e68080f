"""A buyer's picture in the AliExpress message centre (issue 12): an image message's picture (its
content is the link) is downloaded while the message is pulled and stored on the message as an
attachment through the inbox's upload checks; a link the file server refuses keeps the message with
the link and the reason. Real HTTP against the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from aftersales.catalog.models import Store
from aftersales.channels.connectors.aliexpress.fake import AliExpressFake
from aftersales.channels.connectors.shopee.tests.test_chat_media import PNG
from aftersales.testing.acceptance import assert_chat_pictures, fake_store

from .conftest import load, ms_ago


@pytest.fixture
def store(db: Any, fake: AliExpressFake) -> Store:
    chat = load("conversation.json")
    first = chat["messages"][0]
    fake.add_message(chat["relation"], {**first, "gmt_create": ms_ago(30)})
    for n, link in enumerate((fake.add_file("cable.png", PNG), f"{fake.url}/file/gone.png")):
        picture = {**first, "id": f"9001112230{n}", "message_type": "image", "content": link}
        fake.add_message(chat["relation"], {**picture, "gmt_create": ms_ago(20 - n)})
    return fake_store(
        fake,
        platform="aliexpress",
        external_id=fake.seller_login_id,
        credentials=fake.credentials(),
        site="aliexpress.com",
    )


def test_a_chat_picture_becomes_an_attachment(store: Store, fake: AliExpressFake, waits: list[float]) -> None:
    fetched = assert_chat_pictures(
        store,
        fake,
        attached="aliexpress:90011122300",
        expired="aliexpress:90011122301",
        served=PNG,
        name="cable.png",
    )
    assert fetched.body == b"" and "access_token" not in fetched.query  # no session key to the CDN
