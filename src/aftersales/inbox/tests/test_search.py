"""Free-text search: the tokenizer, the query parser, and search through the inbox on both databases
(tsvector + GIN on PostgreSQL, LIKE over the token string on SQLite: same results)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

from aftersales.catalog.models import Customer
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import TicketSearch
from aftersales.inbox.search import (
    MAX_DOCUMENT_TOKENS,
    MAX_TOKEN_CHARS,
    Phrase,
    document_tokens,
    parse_query,
    tokens,
)
from aftersales.inbox.selectors import parse_ticket_filters, ticket_page
from aftersales.inbox.services import (
    InboundMessage,
    message_ingest,
    saved_view_create,
    search_rebuild,
    ticket_add_note,
    ticket_merge,
    ticket_reply,
    ticket_update,
)
from aftersales.inbox.services.search import build_documents

# --- tokenizer and parser (no database) ---------------------------------------------------------


def test_words_are_folded_for_case_and_latin_accents():
    assert tokens("Müller SÃO Paulo, Straße ÉCOUTEURS") == ["muller", "sao", "paulo", "strasse", "ecouteurs"]
    assert tokens("ｉＰｈｏｎｅ１５") == ["iphone15"]  # full-width forms (NFKC)
    assert tokens("order 205-1234567-7654321, mail a.b@x.com") == [
        "order", "205", "1234567", "7654321", "mail", "a", "b", "x", "com",
    ]  # fmt: skip
    assert tokens("snake_case") == ["snake", "case"]  # like PostgreSQL's parser would, underscores split


def test_marks_of_other_scripts_are_kept():
    assert tokens("ドライヤー") != tokens("トライヤー")  # the voiced mark is part of the letter
    assert tokens("Привет") == ["привет"]
    assert tokens("مرحبا بك") == ["مرحبا", "بك"]


def test_cjk_runs_become_bigrams_plus_their_last_character():
    assert tokens("我要退款") == ["我要", "要退", "退款", "款"]
    assert tokens("退") == ["退"]
    assert tokens("iPhone充电器坏了!") == ["iphone", "充电", "电器", "器坏", "坏了", "了"]
    assert tokens("返品したい") == ["返品", "品し", "した", "たい", "い"]
    assert tokens("환불 요청") == ["환불", "불", "요청", "청"]


def test_long_tokens_and_documents_are_capped():
    assert tokens("x" * 500) == ["x" * MAX_TOKEN_CHARS]
    parts = ["word " * 5000] * 10
    assert len(document_tokens(parts)) == MAX_DOCUMENT_TOKENS
    assert len(document_tokens(["a " * 5000])) == 3000  # one message cannot fill the document


def test_query_parts_phrases_and_prefixes():
    q = parse_query("Maria  olive")
    assert q.phrases == (Phrase(("maria",), True), Phrase(("olive",), True))
    assert q.tsquery() == "('maria':*) & ('olive':*)"
    assert q.like_patterns() == ["% maria%", "% olive%"]
    order = parse_query("205-1234567-76543")
    assert order.phrases == (Phrase(("205", "1234567", "76543"), True),)
    assert order.tsquery() == "('205' <-> '1234567' <-> '76543':*)"
    assert order.like_patterns() == ["% 205 1234567 76543%"]
    assert parse_query("退款了").phrases == (Phrase(("退款", "款了"), False),)
    assert parse_query("退").phrases == (Phrase(("退",), True),)
    assert parse_query("a").phrases == (Phrase(("a",), False),)  # one letter: exact, not every word
    assert parse_query("iphone退款").phrases == (Phrase(("iphone",), True), Phrase(("退款",), False))
    assert not parse_query("!!! ---")
    assert len(parse_query(" ".join(f"w{i}" for i in range(50))).phrases) == 8


# --- search through the inbox ------------------------------------------------------------------


def _inbound(world, external_id: str, body: str, **kwargs):
    defaults = {"customer_external_id": "buyer-1", "customer_name": "Maria Oliveira", "subject": ""}
    return message_ingest(
        inbound=InboundMessage(store=world.store_us, external_id=external_id, body=body, **{**defaults, **kwargs})
    )


def _search(user, text: str) -> list[int]:
    return [t.pk for t in ticket_page(user, parse_ticket_filters({"q": text}), limit=100).tickets]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("olive", True),  # prefix of the customer's name
        ("OLIVEIRA maria", True),  # parts in any order, any case
        ("liveira", False),  # not a word start: words, not substrings
        ("退款", True),
        ("要退款", True),  # a phrase of bigrams
        ("退", True),  # one character: a bigram's start
        ("款", True),  # ... or a run's last character
        ("款退", False),  # the characters must be consecutive
        ("充电器", True),
        ("充器", False),
        ("tela quebrada", True),
        ("quebrada tela", True),  # AND, not a phrase across white space
        ("tela-quebrada", True),  # a phrase: consecutive words
        ("quebrada-tela", False),
        ("3DV-77", True),  # prefix of the last word of an identifier phrase
    ],
)
def test_search_semantics_are_the_same_on_both_databases(world, text, found):
    hit = _inbound(world, "m-1", "Olá, a tela quebrada. 我要退款，充电器坏了。 Código 3DV-7781.").ticket
    _inbound(world, "m-2", "Unrelated question about sizes", customer_external_id="buyer-2", customer_name="Li Wei")
    assert _search(world.admin, text) == ([hit.pk] if found else [])


def test_every_write_path_keeps_the_document_current(world):
    """After each service that changes searchable text, the stored document equals a fresh rebuild,
    and the new text is found."""
    first = _inbound(world, "w-1", "The hinge snapped", subject="Broken laptop").ticket
    stored = _document_tokens  # the stored document, read back
    assert stored(first.pk) == build_documents([first.pk])[first.pk]
    assert _search(world.admin, "hinge") == [first.pk]

    _inbound(world, "w-2", "Also the charger sparks")  # threads into the same ticket
    assert _search(world.admin, "sparks") == [first.pk]
    ticket_reply(ticket=first, author=world.agent, body="Please send a photo of the adaptor")
    assert _search(world.admin, "adaptor") == [first.pk]
    ticket_add_note(ticket=first, author=world.agent, body="Supplier batch 7Q check")
    assert _search(world.admin, "supplier batch") == [first.pk]
    ticket_update(ticket=first, actor=world.agent, subject="Laptop hinge and charger")
    assert _search(world.admin, "laptop charger") == [first.pk]
    assert _search(world.admin, "broken") == []  # the old subject is gone

    other = _inbound(
        world, "w-3", "Where is my parcel", customer_external_id="buyer-9", customer_name="Klaus Weber"
    ).ticket
    assert _search(world.admin, "parcel") == [other.pk]
    ticket_merge(source=other, target=first, actor=world.admin, confirm_differences=True)
    assert _search(world.admin, "parcel") == [first.pk]  # the messages moved; the source is merged
    assert stored(other.pk) == build_documents([other.pk])[other.pk]

    customer = Customer.objects.create(organization=world.org, name="")
    from aftersales.catalog.models import CustomerIdentity

    CustomerIdentity.objects.create(customer=customer, store=world.store_us, external_id="anon")
    anon = _inbound(world, "w-4", "hello", customer_external_id="anon", customer_name="").ticket
    assert _search(world.admin, "ingrid") == []
    _inbound(world, "w-5", "still there?", customer_external_id="anon", customer_name="Ingrid Svensson")
    assert _search(world.admin, "ingrid") == [anon.pk]  # the customer's name arrived later
    for pk in (first.pk, anon.pk):
        assert stored(pk) == build_documents([pk])[pk]


def test_translations_are_searchable(world):
    from aftersales.language.services import _store_translations

    ticket = _inbound(world, "t-1", "Das Ladegerät ist kaputt").ticket
    message = ticket.messages.get()
    _store_translations(message.pk, {"zh-hans": {"text": "充电器坏了", "provider": "test"}})
    assert _search(world.admin, "充电器") == [ticket.pk]
    assert _search(world.admin, "ladegerat") == [ticket.pk]


def test_search_rebuild_restores_missing_documents(world):
    a = _inbound(world, "r-1", "screen flickers").ticket
    b = world.ticket(subject="Zipper broken")
    TicketSearch.objects.all().delete()
    assert _search(world.admin, "flickers") == []
    assert search_rebuild(batch_size=1) >= 2
    assert _search(world.admin, "flickers") == [a.pk]
    assert _search(world.admin, "zipper") == [b.pk]
    TicketSearch.objects.filter(ticket=a).delete()
    out = io.StringIO()
    call_command("search_rebuild", "--organization", str(world.org.pk), stdout=out)
    assert "rebuilt the search documents of" in out.getvalue()
    assert _search(world.admin, "flickers") == [a.pk]


def test_nothing_to_search_for_is_a_clear_error(world):
    with pytest.raises(ValidationFailed) as err:
        _search(world.admin, "!!! ---")
    assert err.value.field == "q"
    with pytest.raises(ValidationFailed) as err:  # refused when saved too, not only when used
        saved_view_create(user=world.agent, name="nothing", filters={"q": "¿?"})
    assert err.value.field == "q"
    assert not world.agent.saved_views.exists()


def test_search_respects_scope_and_organization(world):
    mine = _inbound(world, "s-1", "blender leaks").ticket
    foreign = world.foreign_ticket(subject="blender leaks too")
    assert _search(world.admin, "blender") == [mine.pk]
    assert _search(world.foreign_user, "blender") == [foreign.pk]


def _document_tokens(ticket_id: int) -> list[str]:
    """The stored document, read back as tokens in order (either database)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT document FROM inbox_ticketsearch WHERE ticket_id = %s", [ticket_id])
        (raw,) = cursor.fetchone()
    if connection.vendor != "postgresql":
        return raw.split()
    by_position: dict[int, str] = {}
    for item in raw.split(" "):
        lexeme, _, positions = item.rpartition(":")
        for p in positions.split(","):
            by_position[int(p)] = lexeme.strip("'")
    return [by_position[p] for p in sorted(by_position)]


@pytest.mark.postgres
def test_postgres_sessions_run_without_parallel_workers(db):
    """Settings turn parallel query off for the application's sessions (see settings/base.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ticket_search_document'")
        assert "gin (document)" in cursor.fetchone()[0]


def test_a_ticket_reference_finds_that_ticket_only(world):
    target = _inbound(world, "ref-1", "first").ticket
    noisy = _inbound(
        world, "ref-2", f"I paid {target.pk}99 yen, ref {target.pk}", customer_external_id="b2", customer_name="X Y"
    ).ticket
    assert _search(world.admin, f"#{target.pk}") == [target.pk]
    assert set(_search(world.admin, str(target.pk))) == {target.pk, noisy.pk}  # a bare number is also a word


def test_any_text_gives_a_document_and_a_query_the_database_accepts(db):
    """Whatever buyers write or agents type (any script, control characters, quotes, backslashes,
    tsquery operators), documents and queries are well-formed on this database."""
    import random

    rng = random.Random(12)
    alphabet = "abcXYZ019 _-'\\\"!&|<>():*@#.,;é漢字かなカナ한글عربيةไทย\u0301\u3099\t\n\u200b\U0001f600ｆｕｌｌ"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 60))) for _ in range(300)]
    texts += ["'", "\\", "a'b", "':*", "!", "&|", "<->", "x" * 5000]
    from aftersales.inbox.search import to_postgres_tsvector, to_sqlite_document

    with connection.cursor() as cursor:
        for text in texts:
            toks = document_tokens([text])
            query = parse_query(text)
            if connection.vendor == "postgresql":
                cursor.execute("SELECT %s::tsvector", [to_postgres_tsvector(toks)])
                if query:
                    cursor.execute("SELECT %s::tsvector @@ %s::tsquery", [to_postgres_tsvector(toks), query.tsquery()])
                    assert cursor.fetchone()[0] is True, text  # a text always matches its own query
            else:
                for pattern in query.like_patterns():
                    cursor.execute("SELECT %s LIKE %s", [to_sqlite_document(toks), pattern])
                    assert cursor.fetchone()[0] == 1, text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_waits_for_the_tickets_writer(world):
    """Two transactions rebuilding one document must not interleave (a translation stored while a reply
    is written would otherwise be lost from it): the rebuild locks the ticket row first."""
    import threading

    from django.db import OperationalError, connections, transaction

    from aftersales.inbox.models import Ticket
    from aftersales.inbox.services import ticket_search_refresh

    ticket = _inbound(world, "lock-1", "hello").ticket
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                list(Ticket.objects.select_for_update().filter(pk=ticket.pk))
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
            ticket_search_refresh(ticket_ids=[ticket.pk])
    finally:
        release.set()
        thread.join()
    assert ticket_search_refresh(ticket_ids=[ticket.pk]) == 1  # outside any transaction: its own
