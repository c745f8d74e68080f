"""A ticket's search document extended with new messages' tokens (services.search.tickets_search_append,
used by message_ingest_many for the existing tickets a page touches) must be exactly the document a
rebuild from the database gives (ticket_search_refresh): the 16,000-token cap, each message's
3,000-token cap, PostgreSQL's 256 positions per lexeme, translations, multilingual text, and the
cases where it cannot append (and rebuilds instead). SQLite and PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aftersales.catalog.models import Customer
from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketSearch
from aftersales.inbox.search import MAX_DOCUMENT_TOKENS, MAX_MESSAGE_TOKENS, appended_tokens, joined_tokens, tokens
from aftersales.inbox.services import InboundMessage
from aftersales.inbox.services.ingest_many import message_ingest_many
from aftersales.inbox.services.search import ticket_search_refresh, tickets_search_append


def _words(prefix: str, n: int) -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def _stored(ticket_id: int) -> str:
    return str(TicketSearch.objects.filter(ticket_id=ticket_id).values_list("document", flat=True).get())


def _rebuilt(ticket_id: int) -> str:
    assert ticket_search_refresh(ticket_ids=[ticket_id]) == 1
    return _stored(ticket_id)


def _ticket(world: Any, subject: str = "Parcel", name: str = "Ann Lee", email: str = "ann@example.com") -> Ticket:
    store = world.store_us
    customer = Customer.objects.create(organization=store.organization, name=name, email=email)
    return Ticket.objects.create(
        organization=store.organization, store=store, platform=store.platform, customer=customer, subject=subject
    )


def _message(ticket: Ticket, body: str, *, translations: dict[str, Any] | None = None, **kw: Any) -> Message:
    return Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel=ticket.platform,
        body=body,
        translations=translations or {},
        **kw,
    )


def _appended_equals_rebuild(ticket: Ticket, new: list[Message], *, appends: bool = True) -> str:
    """Append `new` (already saved) to the ticket's stored document; it must equal a rebuild."""
    extended = tickets_search_append(messages={ticket.pk: new})
    assert extended == (1 if appends else 0)
    document = _stored(ticket.pk)
    assert _rebuilt(ticket.pk) == document
    return document


# Pure part: appended_tokens(len(joined(before)), after) == joined(before + after)[len(joined(before)):]

_token = st.sampled_from(["a", "b", "olá", "x1", "退款", "z"])


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(st.lists(_token, max_size=40), max_size=6),
    after=st.lists(st.lists(_token, max_size=40), max_size=6),
    per_part=st.integers(1, 30),
    cap=st.integers(1, 120),
)
def test_appended_tokens_continue_the_joined_document(before, after, per_part, cap):  # type: ignore[no-untyped-def]
    import aftersales.inbox.search as search

    saved = search.MAX_DOCUMENT_TOKENS
    search.MAX_DOCUMENT_TOKENS = cap
    try:
        head = joined_tokens(before, per_part=per_part)
        whole = joined_tokens(before + after, per_part=per_part)
        assert head + appended_tokens(len(head), after, per_part=per_part) == whole
    finally:
        search.MAX_DOCUMENT_TOKENS = saved


# Against the database


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (["My order arrived broken."], ["Any news?", "Hello again"]),
        (
            ["我要退款，订单还没到。", "Müller São Paulo 205-1234567-7654321"],
            ["商品が届きません。返金をお願いします。"],
        ),
        (["مرحبا، أين طلبي؟"], ["Ελληνικά κείμενα", "Привет, где посылка?", "안녕하세요 환불"]),
        ([], ["first message of a ticket that had none"]),
        ([_words("w", MAX_MESSAGE_TOKENS + 50)], [_words("v", MAX_MESSAGE_TOKENS + 7), "tail"]),
    ],
)
def test_appended_document_equals_a_rebuild(world, earlier, later):  # type: ignore[no-untyped-def]
    ticket = _ticket(world, subject="Wo ist mein Paket? 注文", name="王芳", email="wang@example.cn")
    for body in earlier:
        _message(ticket, body)
    ticket_search_refresh(ticket_ids=[ticket.pk])
    _appended_equals_rebuild(ticket, [_message(ticket, body) for body in later])


def test_new_messages_with_translations_are_rebuilt(world):  # type: ignore[no-untyped-def]
    """A translation is written after its message (none at ingest); the rebuild reads them in the
    JSON's key order, which PostgreSQL's jsonb does not keep: such a ticket is rebuilt."""
    ticket = _ticket(world)
    _message(ticket, "Bonjour", translations={"en": {"text": "Hello there"}})
    ticket_search_refresh(ticket_ids=[ticket.pk])
    new = [
        _message(ticket, "Où est mon colis ?", translations={"en": {"text": "Where is my parcel?"}, "x": "not a dict"}),
        _message(ticket, "你好", translations={"en": {"text": "hi"}, "de": {"text": "hallo"}}),
    ]
    assert "parcel" in _appended_equals_rebuild(ticket, new, appends=False)


@pytest.mark.parametrize("existing", [MAX_DOCUMENT_TOKENS - 2_001, MAX_DOCUMENT_TOKENS - 1, MAX_DOCUMENT_TOKENS])
def test_the_document_cap(world, existing):  # type: ignore[no-untyped-def]
    """Subject 1 token, name 2, e-mail 3: the messages fill the rest up to `existing` tokens (distinct
    words: no lexeme near 256 positions), then new messages cross or meet the 16,000-token cap."""
    ticket = _ticket(world, subject="Parcel", name="Ann Lee", email="ann@example.com")
    left = existing - 6
    while left > 0:
        n = min(left, MAX_MESSAGE_TOKENS)
        _message(ticket, _words(f"e{left}x", n))
        left -= n
    ticket_search_refresh(ticket_ids=[ticket.pk])
    document = _appended_equals_rebuild(
        ticket, [_message(ticket, _words("n", 1_000)), _message(ticket, _words("m", 1_500))]
    )
    if existing == MAX_DOCUMENT_TOKENS:
        assert "n0" not in document
    else:
        assert "n0" in document


def test_a_lexeme_at_256_positions_is_rebuilt(world):  # type: ignore[no-untyped-def]
    """A word written 300 times: PostgreSQL keeps its first 256 positions, so the document no longer
    tells its length; the ticket is rebuilt (on SQLite the length is known: appended)."""
    ticket = _ticket(world)
    _message(ticket, "again " * 300 + "end")
    ticket_search_refresh(ticket_ids=[ticket.pk])
    new = [_message(ticket, "again and again " * 10)]
    _appended_equals_rebuild(ticket, new, appends=connection.vendor != "postgresql")


def test_a_lexeme_below_256_positions_merges_like_a_rebuild(world):  # type: ignore[no-untyped-def]
    """255 positions before, 30 more in the new message: the first 256 are kept either way."""
    ticket = _ticket(world)
    _message(ticket, "again " * 255)
    ticket_search_refresh(ticket_ids=[ticket.pk])
    _appended_equals_rebuild(ticket, [_message(ticket, "again " * 30 + "done")])


def test_an_older_message_sorting_after_a_new_one_means_a_rebuild(world):  # type: ignore[no-untyped-def]
    """A message already there but dated after the new one: the new one's tokens go before its
    tokens, not at the end; the ticket is rebuilt."""
    ticket = _ticket(world)
    _message(ticket, "first")
    later = _message(ticket, "dated later")
    Message.objects.filter(pk=later.pk).update(created_at=timezone.now() + timedelta(hours=1))
    ticket_search_refresh(ticket_ids=[ticket.pk])
    document = _appended_equals_rebuild(ticket, [_message(ticket, "new one")], appends=False)
    if connection.vendor == "sqlite":
        assert document == " parcel ann lee ann example com first new one dated later "


def test_a_ticket_without_a_document_is_rebuilt(world):  # type: ignore[no-untyped-def]
    ticket = _ticket(world)
    TicketSearch.objects.filter(ticket_id=ticket.pk).delete()
    _appended_equals_rebuild(ticket, [_message(ticket, "hello")], appends=False)


def test_new_messages_out_of_order_are_appended_in_document_order(world):  # type: ignore[no-untyped-def]
    ticket = _ticket(world)
    _message(ticket, "zero")
    ticket_search_refresh(ticket_ids=[ticket.pk])
    one, two = _message(ticket, "one"), _message(ticket, "two")
    _appended_equals_rebuild(ticket, [two, one])


# Random conversations, random new messages (the property): incremental == rebuild.

_texts = st.lists(
    st.sampled_from(
        [
            "Where is my parcel?",
            "Müller São Paulo",
            "我要退款",
            "退",
            "商品が届きません",
            "مرحبا",
            "Привет",
            "205-1234567-7654321",
            "the",
            "word",
            "",
        ]
    ),
    min_size=1,
    max_size=6,
).map(" ".join)
_repeated = st.tuples(st.sampled_from(["the ", "退款", "olá "]), st.integers(0, 400)).map(lambda t: t[0] * t[1])
_body = st.one_of(_texts, _repeated, st.text(max_size=60))
_translations = st.one_of(
    st.just({}), st.dictionaries(st.sampled_from(["en", "de", "zh-hans"]), st.builds(lambda t: {"text": t}, _texts))
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    earlier=st.lists(st.tuples(_body, _translations), max_size=5),
    later=st.lists(st.tuples(_body, _translations), min_size=1, max_size=4),
    subject=_texts,
)
def test_property_appended_equals_rebuild(world, earlier, later, subject):  # type: ignore[no-untyped-def]
    ticket = _ticket(world, subject=subject)
    for body, translations in earlier:
        _message(ticket, body, translations=translations)
    ticket_search_refresh(ticket_ids=[ticket.pk])
    new = [_message(ticket, body, translations=translations) for body, translations in later]
    tickets_search_append(messages={ticket.pk: new}, body_tokens={m.pk: tokens(m.body) for m in new[:1]})
    document = _stored(ticket.pk)
    assert _rebuilt(ticket.pk) == document


def test_a_page_into_existing_tickets_keeps_documents_equal_to_a_rebuild(world):  # type: ignore[no-untyped-def]
    """Through message_ingest_many: existing tickets (one near the cap, one with a lexeme at 256
    positions, one that a page's several messages reach), new tickets with several messages."""
    store = world.store_us
    now = timezone.now()

    def inbound(n: int, buyer: str, body: str) -> InboundMessage:
        return InboundMessage(
            store=store,
            external_id=f"append-{n}",
            body=body,
            customer_external_id=buyer,
            customer_name=f"Buyer {buyer}",
            conversation_id=f"conv-{buyer}",
            sent_at=now + timedelta(minutes=n),
        )

    first = message_ingest_many(
        inbounds=[
            inbound(1, "a", _words("w", MAX_MESSAGE_TOKENS)),
            inbound(2, "b", "the " * 300),
            inbound(3, "c", "我要退款"),
        ]
    )
    tickets = [r.ticket.pk for r in first]  # type: ignore[union-attr]
    for n in range(4):
        message_ingest_many(inbounds=[inbound(10 + n, "a", _words(f"v{n}x", MAX_MESSAGE_TOKENS))])
    page = [
        inbound(20, "a", "near the cap " + _words("k", 900)),
        inbound(21, "b", "the end"),
        inbound(22, "c", "还没到"),
        inbound(23, "c", "Müller"),
        inbound(24, "d", "a new buyer"),
        inbound(25, "d", "writes twice"),
    ]
    results = message_ingest_many(inbounds=page)
    assert [r.ticket_created for r in results] == [False, False, False, False, True, False]  # type: ignore[union-attr]
    for ticket_id in [*tickets, results[-1].ticket.pk]:  # type: ignore[union-attr]
        stored = _stored(ticket_id)
        assert _rebuilt(ticket_id) == stored
