"""Keeping tickets' search documents current (see inbox/search.py for what a document holds).

`ticket_search_refresh` rebuilds the documents of the given tickets from the database; the services
that change what a document holds (ingest, reply, note, subject, merge, translations, a customer's
name) call it inside their own transaction, so search never lags behind a committed change.
`search_rebuild` does every ticket in batches: for an upgrade (migration 0007), `manage.py
search_rebuild`, and the demo generator's checks."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction

from ..models import Message, Ticket, TicketSearch
from ..search import SQLITE_FTS_TABLE, joined_tokens, ticket_document


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
