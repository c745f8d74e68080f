"""Keeping tickets' search documents current (see inbox/search.py for what a document holds).

`ticket_search_refresh` rebuilds the documents of the given tickets from the database; the services
that change what a document holds (ingest, reply, note, subject, merge, translations, a customer's
name) call it inside their own transaction, so search never lags behind a committed change.
`search_rebuild` does every ticket in batches: for an upgrade (migration 0007), `manage.py
search_rebuild`, and the demo generator's checks."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery

from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.reads import select_rows

from ..models import Message, Ticket, TicketSearch
from ..search import (
    MAX_MESSAGE_TOKENS,
    SQLITE_FTS_TABLE,
    DocumentLength,
    appended_tokens,
    joined_tokens,
    ticket_document,
    to_postgres_tsvector,
    tokens,
)


def translation_texts(translations: Any) -> list[str]:
    """The texts of a message's stored translations ({"zh-hans": {"text": ...}, ...})."""
    if not isinstance(translations, dict):
        return []
    return [e["text"] for e in translations.values() if isinstance(e, dict) and isinstance(e.get("text"), str)]


def build_documents(
    ticket_ids: Iterable[int], *, ticket_model: Any = Ticket, message_model: Any = Message
) -> dict[int, list[str]]:
    """Tokens of each ticket's document, read from the database (two queries). The ticket rows are
    locked first (FOR UPDATE, in id order, the order every writer locks tickets in), so that two
    transactions rebuilding the same document one after the other each read the other's committed
    text: without it, a translation stored while a reply is being written could leave a document
    without one of them. Callers that already hold the lock (reply, note, ingest) pay nothing more
    than the query they would run anyway. The model arguments let a migration pass its historical
    models."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    texts: dict[int, list[str]] = defaultdict(list)
    with transaction.atomic(savepoint=False):  # the caller's transaction (which should write), or its own
        heads = list(
            ticket_model.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", "subject", "customer__name", "customer__email")
        )
        rows = (
            message_model.objects.filter(ticket_id__in=ids)
            .order_by("ticket_id", "created_at", "id")
            .values_list("ticket_id", "body", "translations")
        )
        for ticket_id, body, translations in rows:
            texts[ticket_id].append(body)
            texts[ticket_id] += translation_texts(translations)
    return {
        pk: ticket_document(subject, name or "", email or "", texts.get(pk, [])) for pk, subject, name, email in heads
    }


def _save(documents: dict[int, list[str]], search_model: Any = TicketSearch) -> None:
    search_model.objects.bulk_create(
        [search_model(ticket_id=pk, document=toks) for pk, toks in documents.items()],
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=["document"],
    )


def ticket_search_refresh(*, ticket_ids: Iterable[int]) -> int:
    """Rebuild the search documents of these tickets. Call it inside the transaction that changed
    them (it joins it); returns how many documents were written."""
    with transaction.atomic(savepoint=False):  # the caller's transaction, or its own
        documents = build_documents(ticket_ids)
        if documents:
            _save(documents)
    return len(documents)


def new_ticket_search_create(*, ticket_id: int, parts: list[list[str]]) -> None:
    """The document of a ticket created in the current transaction with its first message, from its
    parts already tokenized by the caller (`search.tokens` of the subject, the customer's name, the
    customer's e-mail and the message body, in that order: `ticket_document`'s order). Nothing is
    read back: it is the document `ticket_search_refresh` would build at this point (a test checks
    it), written in one INSERT instead of two reads and an upsert; and no other transaction can have
    written to a ticket not committed yet, so there is nothing to lock."""
    TicketSearch.objects.bulk_create([TicketSearch(ticket_id=ticket_id, document=joined_tokens(parts))])


def new_tickets_search_create(*, parts_by_ticket: dict[int, list[list[str]]]) -> None:
    """new_ticket_search_create for several tickets created in the current transaction (one INSERT)."""
    if parts_by_ticket:
        TicketSearch.objects.bulk_create(
            [TicketSearch(ticket_id=pk, document=joined_tokens(parts)) for pk, parts in parts_by_ticket.items()]
        )


def message_document_parts(message: Message, body_tokens: list[str] | None = None) -> list[list[str]]:
    """A message without translations as parts of its ticket's document: its body's tokens
    (`body_tokens`: `tokens(message.body)` when the caller has them). (A message with translations is
    not built in memory: build_documents takes them in the order the database gives the JSON keys,
    which on PostgreSQL is not the order they were written in.)"""
    assert not translation_texts(message.translations)
    return [body_tokens if body_tokens is not None else tokens(message.body)]


def tickets_search_append(
    *, messages: Mapping[int, Sequence[Message]], body_tokens: Mapping[int, list[str]] | None = None
) -> int:
    """The documents of tickets that took new messages in the current transaction (`messages`: ticket
    id -> the saved messages), extended with those messages' tokens instead of rebuilt: the stored
    document is the one `build_documents` gave before these messages (every writer of a ticket's
    messages, translations, subject or customer refreshes it in its transaction, under the ticket's
    row lock, which the caller holds), so when the new messages sort after every other message of the
    ticket (created_at, id) the rebuild would be that document followed by their tokens, up to the
    16,000-token cap. One read (each document's token count and each ticket's latest other message)
    and one UPDATE for the page, nothing re-read or re-tokenized. A ticket where that cannot be known
    is rebuilt (`ticket_search_refresh`): no document row, a lexeme at PostgreSQL's 256 positions (the
    document's length is then unknown: see search.DocumentLength), an older message sorting after
    a new one, or a new message with translations (message_document_parts). `body_tokens`: message
    id -> `tokens(message.body)`, when the caller has them. Returns how many documents were extended
    (tests). See docs/adr/0036-search-documents-appended-at-ingest.md."""
    if not messages:
        return 0
    body_tokens = body_tokens or {}
    new_ids = sorted(m.pk for ms in messages.values() for m in ms)
    rows = select_rows("search.append_state", _append_state, sorted(messages), new_ids)
    rebuild = set(messages)
    appends: list[tuple[int, list[str]]] = []
    for ticket_id, length, last_at, last_id in rows:
        ordered = sorted(messages[ticket_id], key=lambda m: (m.created_at, m.pk))
        if length is None or (last_id is not None and (last_at, last_id) > (ordered[0].created_at, ordered[0].pk)):
            continue
        if any(translation_texts(m.translations) for m in ordered):
            continue
        rebuild.discard(ticket_id)
        parts = (part for m in ordered for part in message_document_parts(m, body_tokens.get(m.pk)))
        toks = appended_tokens(length, parts, per_part=MAX_MESSAGE_TOKENS)
        if toks:
            appends.append((ticket_id, toks))
    _append(appends)
    if rebuild:
        ticket_search_refresh(ticket_ids=rebuild)
    return len(messages) - len(rebuild)


def _append_state(ticket_ids: list[int], new_ids: list[int]) -> QuerySet[Any]:
    """tickets_search_append's read (its SQL built once: core/reads.py): per document, its token count and
    the ticket's latest message other than the new ones."""
    latest = (
        Message.objects.filter(ticket_id=OuterRef("ticket_id"))
        .exclude(pk__any_of=new_ids)
        .order_by("-created_at", "-id")
    )
    return (
        TicketSearch.objects.filter(ticket_id__any_of=ticket_ids)
        .annotate(
            length=DocumentLength(F("document")),
            last_at=Subquery(latest.values("created_at")[:1]),
            last_id=Subquery(latest.values("pk")[:1]),
        )
        .order_by()
        .values_list("ticket_id", "length", "last_at", "last_id")
    )


def _append(appends: list[tuple[int, list[str]]]) -> None:
    if not appends:
        return
    table = connection.ops.quote_name(TicketSearch._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # `||` places the right side's positions after the left side's largest position, which
            # is the document's length (DocumentLength was not NULL), and keeps each lexeme's first
            # 256 positions, as the document built whole would.
            cursor.execute(
                f"UPDATE {table} AS s SET document = s.document || v.added::tsvector "  # noqa: S608
                "FROM unnest(%s::bigint[], %s::text[]) AS v(ticket_id, added) WHERE s.ticket_id = v.ticket_id",
                [[pk for pk, _t in appends], [to_postgres_tsvector(toks) for _pk, toks in appends]],
            )
        else:  # " tok1 tok2 " + "tok3 tok4 " (an empty document is " ")
            cursor.executemany(
                f"UPDATE {table} SET document = document || %s WHERE ticket_id = %s",  # noqa: S608
                [(" ".join(toks) + " ", pk) for pk, toks in appends],
            )


def customer_search_refresh(*, customer_id: int) -> int:
    """A customer's name or e-mail changed: their tickets' documents hold both."""
    ids = list(Ticket.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    return ticket_search_refresh(ticket_ids=ids)


def search_rebuild(
    *,
    organization_id: int | None = None,
    batch_size: int = 2000,
    progress: Callable[[int, float], None] | None = None,
    ticket_model: Any = Ticket,
    message_model: Any = Message,
    search_model: Any = TicketSearch,
) -> int:
    """Rebuild every ticket's document (of one organization, or all), one transaction per batch so a
    large install is not locked for the whole run. Idempotent: safe to interrupt and run again.
    On SQLite the FTS5 index follows each document through its triggers, which need it to agree with
    the stored documents: it is rebuilt from them first (in case it was restored apart from them)."""
    started = time.monotonic()
    tickets = ticket_model.objects.all()
    if organization_id is not None:
        tickets = tickets.filter(organization_id=organization_id)
    sqlite_fts_rebuild()
    done = 0
    last = 0
    while True:
        ids = list(tickets.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            documents = build_documents(ids, ticket_model=ticket_model, message_model=message_model)
            _save(documents, search_model)
        done += len(ids)
        last = ids[-1]
        if progress is not None:
            progress(done, time.monotonic() - started)
    return done


def sqlite_fts_rebuild() -> bool:
    """SQLite: rebuild the FTS5 index of the search documents from inbox_ticketsearch (about 2 s per
    100,000 tickets). False where there is none (PostgreSQL, or before migration 0010)."""
    if connection.vendor != "sqlite":
        return False
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [SQLITE_FTS_TABLE])
        if cursor.fetchone() is None:
            return False
        cursor.execute(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
    return True
