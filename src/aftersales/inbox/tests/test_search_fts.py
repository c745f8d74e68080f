"""Search on SQLite through FTS5 (migration 0010, docs/adr/0013-sqlite-fts5-search.md): the index follows
every write, gives the results of the LIKE scan it replaces, cannot be fed an FTS5 syntax error, and is
what the inbox query reads. The query-text tests also run on PostgreSQL."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.inbox import search, selectors
from aftersales.inbox.models import TicketSearch
from aftersales.inbox.search import SQLITE_FTS_TABLE, document_tokens, parse_query, to_sqlite_document
from aftersales.inbox.selectors import parse_ticket_filters, ticket_page
from aftersales.inbox.services import (
    InboundMessage,
    message_ingest,
    search_rebuild,
    ticket_add_note,
    ticket_merge,
    ticket_reply,
    ticket_update,
)

# The FTS5 index is SQLite's: these run in the SQLite pass and are deselected (not skipped) in the PostgreSQL one.
sqlite_only = pytest.mark.sqlite

# Text an agent may type that means something to FTS5 (or to tsquery): all of it is just words to us.
AWKWARD_QUERIES = [
    '"',
    '""',
    '"hinge',
    "hinge*",
    "*",
    "hinge OR sparks",
    "hinge AND",
    "NOT hinge",
    "AND OR NOT",
    "NEAR(hinge sparks)",
    "NEAR hinge",
    "(hinge",
    "hinge)",
    "{document}: hinge",
    "document:hinge",
    "^hinge",
    "-hinge",
    "+hinge",
    "hinge:*",
    "'hinge'",
    "h'inge",
    "\\hinge",
    "hinge & sparks | x <-> y !z",
    "充电器*",
    '"充电器"',
    "充电器 OR 退款",
    "rowid:1",
    "inbox_ticketsearch_fts",
]


def _inbound(world, external_id: str, body: str, **kwargs):
    defaults = {"customer_external_id": "buyer-1", "customer_name": "Maria Oliveira", "subject": ""}
    return message_ingest(
        inbound=InboundMessage(store=world.store_us, external_id=external_id, body=body, **{**defaults, **kwargs})
    )


def _search(user, text: str) -> list[int]:
    return [t.pk for t in ticket_page(user, parse_ticket_filters({"q": text}), limit=100).tickets]


def _search_both_ways(user, text: str, monkeypatch) -> list[int]:
    """SQLite: the FTS5 result, checked against the LIKE scan of every document (before 0010)."""
    found = _search(user, text)
    if connection.vendor == "sqlite":
        with monkeypatch.context() as m:
            m.setattr(search, "SQLITE_FTS", False)
            assert _search(user, text) == found, text
    return found


def _fts_in_sync() -> None:
    """FTS5's own check that its index holds exactly the documents of inbox_ticketsearch."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}, rank) VALUES ('integrity-check', 1)")  # noqa: S608


def test_fts5_match_expressions_quote_every_phrase():
    assert parse_query("Maria olive").fts5_match() == '"maria" * AND "olive" *'
    assert parse_query("205-1234567-76543").fts5_match() == '"205 1234567 76543" *'
    assert parse_query("退款了").fts5_match() == '"退款 款了"'
    assert parse_query("退").fts5_match() == '"退" *'
    assert parse_query("a").fts5_match() == '"a"'
    assert parse_query('NEAR("x" OR y*)').fts5_match() == '"near x" AND "or" * AND "y"'


@sqlite_only
def test_fts_follows_every_write_path(world, monkeypatch):
    """Ingest, threading, reply, note, subject change, merge, a customer's late name, delete, rebuild:
    after each, FTS5's integrity check against the documents passes and FTS5 finds what LIKE finds."""
    first = _inbound(world, "w-1", "The hinge snapped", subject="Broken laptop").ticket
    _fts_in_sync()
    assert _search_both_ways(world.admin, "hinge", monkeypatch) == [first.pk]
    _inbound(world, "w-2", "Also the charger sparks")
    ticket_reply(ticket=first, author=world.agent, body="Please send a photo of the adaptor")
    ticket_add_note(ticket=first, author=world.agent, body="Supplier batch 7Q check")
    ticket_update(ticket=first, actor=world.agent, subject="Laptop hinge and charger")
    _fts_in_sync()
    for text in ("sparks", "adaptor", "supplier batch", "laptop charger", "7q"):
        assert _search_both_ways(world.admin, text, monkeypatch) == [first.pk], text
    assert _search_both_ways(world.admin, "broken", monkeypatch) == []  # the old subject left the index

    other = _inbound(world, "w-3", "Where is my parcel", customer_external_id="b9", customer_name="Klaus Weber").ticket
    ticket_merge(source=other, target=first, actor=world.admin, confirm_differences=True)
    _fts_in_sync()
    assert _search_both_ways(world.admin, "parcel", monkeypatch) == [first.pk]

    anon = _inbound(world, "w-4", "hello", customer_external_id="anon", customer_name="").ticket
    _inbound(world, "w-5", "still there?", customer_external_id="anon", customer_name="Ingrid Svensson")
    _fts_in_sync()
    assert _search_both_ways(world.admin, "ingrid", monkeypatch) == [anon.pk]

    TicketSearch.objects.filter(ticket=anon).delete()  # a delete leaves the index too
    _fts_in_sync()
    assert _search(world.admin, "ingrid") == []
    anon.delete()
    _fts_in_sync()


@sqlite_only
def test_search_rebuild_rebuilds_the_fts_index(world):
    ticket = _inbound(world, "r-1", "screen flickers").ticket
    with connection.cursor() as cursor:  # the index emptied behind the documents' back
        cursor.execute(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('delete-all')")  # noqa: S608
    assert _search(world.admin, "flickers") == []
    search_rebuild()
    _fts_in_sync()
    assert _search(world.admin, "flickers") == [ticket.pk]


def test_awkward_queries_never_raise_and_agree_with_the_like_scan(world, monkeypatch):
    """Quotes, *, NEAR, AND/OR/NOT, parentheses, column filters, CJK: never an FTS5 (or tsquery)
    syntax error, and the same tickets as the token rules say (the LIKE scan on SQLite)."""
    hit = _inbound(world, "q-1", "The hinge sparks near the 充电器; 退款 or not, and (document) rowid").ticket
    _inbound(world, "q-2", "Unrelated words", customer_external_id="b2", customer_name="Li Wei")
    for text in AWKWARD_QUERIES:
        if not parse_query(text):
            continue  # nothing to search for: a 422 naming q (test_search.py)
        found = _search_both_ways(world.admin, text, monkeypatch)
        assert found in ([], [hit.pk]), text
    assert _search(world.admin, "hinge OR sparks") == [hit.pk]  # "or" is a word here, and so are the others
    assert _search(world.admin, "sparks NEAR") == [hit.pk]
    assert _search(world.admin, "NEAR(hinge sparks)") == []  # "near hinge" is not in the text: a phrase
    assert _search(world.admin, "充电器 OR 退款") == [hit.pk]


@sqlite_only
def test_the_fts_index_gives_each_token_as_one_term(db):
    """The ascii tokenizer splits only on ASCII separators: every token of any text (CJK bigrams,
    accents of other scripts, digits of any script) is one FTS5 term, and a text's own query matches
    it, as the LIKE patterns do."""
    rng = random.Random(13)
    alphabet = "abcXYZ019 _-'\\\"!&|<>():*@#.,;é漢字かなカナ한글عربيةไทยदेवनागरी"
    alphabet += "\u0301\u3099\t\n\u200b\U0001f600ｆｕｌｌ٣"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60))) for _ in range(300)]
    texts += ["NEAR(a b)", 'a "b" c', "x" * 5000, "Müller Straße ドライヤー नमस्ते"]
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIRTUAL TABLE temp.fts_check USING fts5(document, tokenize='ascii')")
        cursor.execute("CREATE VIRTUAL TABLE temp.fts_check_terms USING fts5vocab(temp, fts_check, 'instance')")
        try:
            for i, text in enumerate(texts, start=1):
                toks = document_tokens([text])
                cursor.execute("INSERT INTO fts_check(rowid, document) VALUES (%s, %s)", [i, to_sqlite_document(toks)])
                cursor.execute("SELECT term FROM fts_check_terms WHERE doc = %s ORDER BY offset", [i])
                assert [row[0] for row in cursor.fetchall()] == toks, text
                query = parse_query(text)
                if query:
                    cursor.execute(
                        "SELECT rowid FROM fts_check WHERE fts_check MATCH %s AND rowid = %s", [query.fts5_match(), i]
                    )
                    assert cursor.fetchone() == (i,), text
        finally:
            cursor.execute("DROP TABLE temp.fts_check_terms")
            cursor.execute("DROP TABLE temp.fts_check")


def _plans(ctx) -> str:
    plans = []
    with connection.cursor() as cursor:
        for captured in ctx.captured_queries:
            sql = captured["sql"]
            if sql.startswith("SELECT"):
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plans.append(" | ".join(str(row[-1]) for row in cursor.fetchall()))
    return "\n".join(plans)


@sqlite_only
def test_sqlite_search_reads_the_fts_index(world, monkeypatch):
    """A word with few matches: their ids from the FTS index, the tickets looked up by id. Many: the
    inbox walked in its order, each ticket checked against the FTS matches. Both read the virtual
    table, neither scans the documents."""
    hits = [_inbound(world, f"p-{i}", f"blender leaks {i}", customer_external_id=f"b{i}").ticket for i in range(3)]
    expected = sorted((t.pk for t in hits), reverse=True)
    with CaptureQueriesContext(connection) as ctx:
        assert sorted(_search(world.admin, "blender"), reverse=True) == expected
    plans = _plans(ctx)
    assert f"SCAN {SQLITE_FTS_TABLE} VIRTUAL TABLE" in plans
    assert "SEARCH inbox_ticket USING INTEGER PRIMARY KEY" in plans
    assert "inbox_ticketsearch " not in plans.replace("inbox_ticketsearch_fts", "")

    monkeypatch.setattr(selectors, "SQLITE_FEW_MATCHES", 1)  # as if "blender" were in many tickets
    with CaptureQueriesContext(connection) as ctx:
        assert sorted(_search(world.admin, "blender"), reverse=True) == expected
    plans = _plans(ctx)
    assert f"SCAN {SQLITE_FTS_TABLE} VIRTUAL TABLE" in plans
    assert "SEARCH inbox_ticket USING INDEX ticket_org_updated" in plans
    assert "inbox_ticketsearch " not in plans.replace("inbox_ticketsearch_fts", "")


@sqlite_only
def test_both_sqlite_strategies_page_alike(world, monkeypatch):
    """Few matches (ids) and many (walk and check) give the same pages, cursor included, with filters."""
    for i in range(7):
        _inbound(world, f"pg-{i}", f"kettle {i}", customer_external_id=f"k{i}", subject=f"Kettle {i}")

    def pages(text: str, **params: str) -> list[list[int]]:
        out, cursor = [], None
        while True:
            page = ticket_page(world.admin, parse_ticket_filters({"q": text, **params}), limit=3, cursor=cursor)
            out.append([t.pk for t in page.tickets])
            if not (cursor := page.next_cursor):
                return out

    few = [pages("kettle"), pages("kettle", store=str(world.store_us.pk)), pages("kettle 3")]
    monkeypatch.setattr(selectors, "SQLITE_FEW_MATCHES", 0)
    assert [pages("kettle"), pages("kettle", store=str(world.store_us.pk)), pages("kettle 3")] == few
    assert sum(len(p) for p in few[0]) == 7


@sqlite_only
@pytest.mark.django_db
def test_migration_0010_indexes_existing_documents_and_reverses():
    from django.db.migrations.executor import MigrationExecutor

    from aftersales.testing.migrations import applied_apps, scratch_database

    before, after = [("inbox", "0009_ticketevent_actor")], [("inbox", "0010_ticket_search_fts5")]

    def fts_exists() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE %s", [f"{SQLITE_FTS_TABLE}%"])
            return cursor.fetchone()[0] > 0

    with scratch_database():  # an empty database migrated forward to 0010, then 0010 reversed
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert fts_exists()
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert not fts_exists()  # tables and triggers gone
        old = applied_apps()
        org = old.get_model("accounts", "Organization").objects.create(name="Org", slug="org")
        store = old.get_model("catalog", "Store").objects.create(organization=org, name="Amazon US", platform="amazon")
        customer = old.get_model("catalog", "Customer").objects.create(organization=org, name="Ana")
        ticket = old.get_model("inbox", "Ticket").objects.create(
            organization=org, subject="s", store=store, platform="amazon", customer=customer
        )
        old.get_model("inbox", "TicketSearch").objects.create(ticket=ticket, document=["kettle", "退款", "款"])

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        _fts_in_sync()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH %s",  # noqa: S608
                [parse_query("kett 退款").fts5_match()],
            )
            assert cursor.fetchall() == [(ticket.pk,)]
    assert fts_exists()  # the test database is untouched
