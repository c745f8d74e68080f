"""SQLite: a word in a large share of the tickets is checked against each walked ticket's own document
(issue 13, docs/adr/0013-sqlite-fts5-search.md) instead of reading all its FTS5 matches first. The three
SQLite strategies (ids of few matches, FTS5 probe, document scan) give the same pages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.inbox import selectors
from aftersales.inbox.search import SQLITE_FTS_TABLE, parse_query, sqlite_match_share, sqlite_newest_matches
from aftersales.inbox.selectors import parse_ticket_filters, ticket_page
from aftersales.inbox.services import InboundMessage, message_ingest

pytestmark = pytest.mark.sqlite  # FTS5 is SQLite's (deselected in the PostgreSQL pass)


def _ingest(world, i: int, body: str, subject: str = "") -> int:  # type: ignore[no-untyped-def]
    inbound = InboundMessage(
        store=world.store_us, external_id=f"cw-{i}", body=body, subject=subject, customer_external_id=f"cw{i}"
    )
    return message_ingest(inbound=inbound).ticket.pk


def _pages(world, text: str, **params: str) -> list[list[int]]:  # type: ignore[no-untyped-def]
    out, cursor = [], None
    while True:
        page = ticket_page(world.admin, parse_ticket_filters({"q": text, **params}), limit=3, cursor=cursor)
        out.append([t.pk for t in page.tickets])
        if not (cursor := page.next_cursor):
            return out


def test_three_strategies_page_alike(world, monkeypatch):  # type: ignore[no-untyped-def]
    for i in range(9):
        _ingest(world, i, f"toaster sparks {i}" if i % 3 else f"toaster and kettle {i}", subject=f"Toaster {i}")
    cases = [("toaster", {}), ("toaster", {"store": str(world.store_us.pk)}), ("toaster kett", {}), ("toast 4", {})]
    few = [_pages(world, text, **params) for text, params in cases]
    assert sum(len(p) for p in few[0]) == 9 and sum(len(p) for p in few[2]) == 3
    monkeypatch.setattr(selectors, "SQLITE_FEW_MATCHES", 0)
    monkeypatch.setattr(selectors, "SQLITE_COMMON_SHARE", 2.0)  # never "common": the FTS5 probe
    assert [_pages(world, text, **params) for text, params in cases] == few
    monkeypatch.setattr(selectors, "SQLITE_COMMON_SHARE", 0.0)  # always "common": the document scan
    assert [_pages(world, text, **params) for text, params in cases] == few


def test_common_word_walks_the_inbox_reading_each_document(world, monkeypatch):  # type: ignore[no-untyped-def]
    for i in range(4):
        _ingest(world, i, f"blender {i}")
    monkeypatch.setattr(selectors, "SQLITE_FEW_MATCHES", 0)
    monkeypatch.setattr(selectors, "SQLITE_COMMON_SHARE", 0.0)
    with CaptureQueriesContext(connection) as ctx:
        assert len(ticket_page(world.admin, parse_ticket_filters({"q": "blender"}), limit=50).tickets) == 4
    page_query = next(q["sql"] for q in ctx.captured_queries if "LIKE" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {page_query}".replace("%s", "?"), ["% blender%"] * page_query.count("%s"))
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "SEARCH inbox_ticket USING INDEX ticket_org_updated" in plan, plan  # the inbox, in its order
    assert "(ticket_id=?)" in plan, plan  # each walked ticket's document, by its key
    assert SQLITE_FTS_TABLE not in plan, plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # walked in the inbox's order, no sort


def test_match_share(world):  # type: ignore[no-untyped-def]
    ids = [_ingest(world, i, "mixer" if i == 4 else f"grinder {i}") for i in range(10)]
    newest = sqlite_newest_matches(parse_query("grinder"), limit=5)
    assert newest == sorted(ids[5:], reverse=True)  # newest first, at most `limit`
    assert sqlite_match_share(newest) == pytest.approx(1.0)
    assert sqlite_match_share(sqlite_newest_matches(parse_query("mixer"), limit=5)) == pytest.approx(1 / 6)
    assert sqlite_match_share(sqlite_newest_matches(parse_query("zzqxvw"), limit=5)) == 0.0
