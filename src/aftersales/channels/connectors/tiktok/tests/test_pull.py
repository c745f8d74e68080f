"""Paging against the fake: orders by page token over a frozen window, returns then cancellations,
conversations newest first down to the watermark; the cursors that follow. No database."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

from aftersales.channels.base import Stream
from aftersales.channels.connectors.tiktok.connector import TikTokConnector
from aftersales.channels.connectors.tiktok.fake import TikTokFake
from aftersales.testing.connectors import Recorder

from .conftest import load, make_ctx


def ago(minutes: int) -> int:
    return int((datetime.now(UTC) - timedelta(minutes=minutes)).timestamp())


def test_orders_are_paged_by_token_in_a_frozen_window(fake: TikTokFake, recorder: Recorder, waits: list[float]) -> None:
    for n in range(120):
        order = load("order.json")
        order.update(id=str(576461413038700000 + n), update_time=ago(200 - n))
        fake.add_order(order)
    connector, ctx = TikTokConnector(), make_ctx(fake, recorder)
    pages, cursor, seen = 0, None, []
    while True:
        page = connector.pull(ctx, Stream.ORDERS, cursor, None)
        pages += 1
        seen += [r.payload["data"]["id"] for r in page.records]
        cursor = page.next_cursor
        if page.done:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 120
    windows = {(r.json()["update_time_ge"], r.json()["update_time_lt"]) for r in fake.requests_to(".*/orders/search")}
    assert len(windows) == 1  # the window stays frozen while it is paged
    assert set(json.loads(cursor or "{}")) == {"next_from"}
    again = connector.pull(ctx, Stream.ORDERS, cursor, None)  # the next pass overlaps by 10 minutes only
    assert again.done and again.records == []


def test_returns_then_cancellations(fake: TikTokFake, recorder: Recorder, waits: list[float]) -> None:
    item = load("return.json")
    item["update_time"] = ago(5)
    fake.add_return(item)
    cancel = load("cancellation.json")
    cancel["update_time"] = ago(4)
    fake.add_cancellation(cancel)
    connector, ctx = TikTokConnector(), make_ctx(fake, recorder)
    first = connector.pull(ctx, Stream.RETURNS, None, None)
    assert [r.payload["kind"] for r in first.records] == ["return"] and not first.done
    second = connector.pull(ctx, Stream.RETURNS, first.next_cursor, None)
    assert [r.payload["kind"] for r in second.records] == ["cancellation"] and second.done


def test_conversations_newest_first_down_to_the_watermark(
    fake: TikTokFake, recorder: Recorder, waits: list[float]
) -> None:
    chat = load("conversation.json")
    for n in range(25):  # two pages of conversations (20 at most per page)
        conversation = copy.deepcopy(chat["conversation"])
        conversation["id"] = str(7282834513211400000 + n)
        message = copy.deepcopy(chat["messages"][0])
        message.update(id=str(7282834513211500000 + n), create_time=ago(100 - n))
        fake.add_conversation(conversation, [message])
    connector, ctx = TikTokConnector(), make_ctx(fake, recorder)
    first = connector.pull(ctx, Stream.MESSAGES, None, None)
    assert len(first.records) == 20 and not first.done
    second = connector.pull(ctx, Stream.MESSAGES, first.next_cursor, None)
    assert len(second.records) == 5 and second.done
    newest = max(m["create_time"] for ms in fake.messages.values() for m in ms)
    assert json.loads(second.next_cursor or "{}")["next_from"] == newest  # the newest message seen
    fake.add_message("7282834513211400003", {**chat["messages"][0], "id": "7282834513211599999", "create_time": ago(1)})
    later = connector.pull(ctx, Stream.MESSAGES, second.next_cursor, None)
    seen = {r.event_id for r in first.records + second.records}
    new = [r.event_id for r in later.records if r.event_id not in seen]
    assert new == ["message:7282834513211599999"] and later.done  # the rest: the 10-minute overlap (no-ops)
