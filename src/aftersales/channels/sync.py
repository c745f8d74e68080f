"""The sync engine: raw first, then processed; cursors per (store, stream); one worker per stream.

receive_records(store, records, source)   every record, pulled, pushed (webhook) or read from a
                                          mailbox, goes through here:
  1 stored raw (RawEvent, unique per store + event id; committed before anything is processed)
  2 per page, in one transaction, under the raw rows' locks (claims them: two workers receiving
    the same records process them once): connector.map_record -> apply each Record in the page's
    order (channels/apply.py); consecutive buyer messages through the inbox's message_ingest_many.
    No savepoint while the page applies cleanly; if a record fails, the page is rolled back and
    applied again with a savepoint per record (_process_page)
  3 a MappingError (or a record the inbox refuses) quarantines that one record with its reason and
    field; the rest goes on. raw_event_retry() re-maps it after a fix.

sync_stream(store_id, stream)             one run of a pulled stream:
  claim the (store, stream) cursor (conditional UPDATE: a live claim of another worker means this
  run is skipped; a claim left by a dead process is taken over) -> pull page after page (transient
  errors retried with backoff, honouring Retry-After) -> receive_records(page) -> persist the cursor
  after each page -> SyncRun bookkeeping. A permanent error pauses the store's sync with the
  platform's message.

A crash anywhere loses nothing: a page whose cursor was not persisted is pulled again, its records
are found raw (duplicates, or still `received`: processed now), and upserts are idempotent."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.catalog.models import Store
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import DomainError, NotFound, ValidationFailed
from aftersales.core.inserts import update_rows
from aftersales.core.reads import select_rows
from aftersales.inbox.services import InboundMessage, IngestResult
from aftersales.inbox.services.ingest_many import PageCustomers, message_ingest_many

from .apply import Applied, applied_of_ingest, apply_record, connector_actor, inbound_from_record
from .apply_many import orders_apply_many
from .base import (
    PULL_CAPABILITY,
    ConnectorError,
    MappingError,
    MessageRecord,
    Page,
    RawRecord,
    Record,
    Stream,
)
from .context import store_context, store_credentials_save
from .http import wait_seconds
from .models import RawEvent, RawEventStatus, StoreSync, StreamCursor, SyncRun, SyncRunStatus
from .page_plan import MESSAGE, RETURN, PagePlan, kind_of
from .pausing import store_sync_pause
from .registry import get_connector
from .returns_many import ReturnsPage
from .status import (
    StreamStatus,
    capabilities_of,
    pull_streams,
    quarantined_events,
    store_streams_status,
    store_sync_for,
    stores_needing_attention,
)

logger = logging.getLogger(__name__)

__all__ = [
    "RecordOutcome",
    "StreamStatus",
    "capabilities_of",
    "pull_streams",
    "quarantined_events",
    "raw_event_retry",
    "raw_events_process_pending",
    "receive_records",
    "store_backfill_from",
    "store_context",
    "store_credentials_save",
    "store_streams_status",
    "store_sync_for",
    "store_sync_pause",
    "store_sync_resume",
    "stores_needing_attention",
    "sync_runs_mark_abandoned",
    "sync_stream",
]

ACTIONS = frozenset(
    {"new_ticket", "thread", "created", "updated", "unchanged", "duplicate", "quarantined", "ignored", "bounce"}
)
# When a raw record stands for several records, its outcome is the most telling of theirs.
_PRIORITY = ["new_ticket", "thread", "created", "updated", "bounce", "duplicate", "ignored", "unchanged"]
MAX_EVENT_ID = 300


@dataclass(frozen=True)
class RecordOutcome:
    event_id: str
    action: str  # one of ACTIONS
    reason: str = ""
    ticket_id: int | None = None
    message_id: int | None = None


# --- receiving ----------------------------------------------------------------------------------


def _event_id(record: RawRecord) -> str:
    """The record's event id, or a content hash when it has none or one too long to index."""
    event_id = record.event_id or ""
    if event_id and len(event_id) <= MAX_EVENT_ID:
        return event_id
    source = event_id.encode() if event_id else _payload_json(record).encode() + bytes(record.raw)
    return "sha256:" + hashlib.sha256(source).hexdigest()


def _payload_json(record: RawRecord) -> str:
    return json.dumps(dict(record.payload), cls=DjangoJSONEncoder, sort_keys=True)


def _payload(record: RawRecord) -> dict:
    loaded = json.loads(_payload_json(record))
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def receive_records(
    *,
    store: Store,
    records: list[RawRecord],
    source: str,
    connector: object | None = None,
    ctx: object | None = None,
) -> list[RecordOutcome]:
    """Store each record raw, then process it (see the module docstring). Returns one outcome per
    record, in order. Idempotent: a record whose event id is known answers "duplicate" with the
    ticket it went to. `connector` / `ctx` let sync_stream pass its own (tests, throttling)."""
    if not records:
        return []
    connector = connector or get_connector(store.platform)
    ctx = ctx or store_context(store, connector=connector)  # type: ignore[arg-type]
    ids = [_event_id(r) for r in records]
    known = _store_raw(store, records, ids, source)
    outcomes: dict[int, RecordOutcome] = {}
    todo: list[tuple[int, int, RawRecord, str]] = []
    seen: set[str] = set()
    for index, (record, event_id) in enumerate(zip(records, ids, strict=True)):
        if event_id in seen:  # the same event twice in one batch
            outcomes[index] = RecordOutcome(event_id, "duplicate", reason="repeated in the same batch")
            continue
        seen.add(event_id)
        todo.append((index, known[event_id], record, event_id))
    outcomes.update(_process_page(store, connector, ctx, todo))
    return [outcomes[index] for index in range(len(records))]


def _store_raw(store: Store, records: list[RawRecord], ids: list[str], source: str) -> dict[str, int]:
    """Insert the records not stored yet (one INSERT, conflicts ignored: a concurrent receiver may
    have stored some); returns event id -> RawEvent id for all of them."""
    if connection.vendor == "postgresql":
        return _store_raw_postgresql(store, records, ids, source)
    wanted = list(dict.fromkeys(ids))
    existing = dict(RawEvent.objects.filter(store=store, event_id__in=wanted).values_list("event_id", "pk"))
    at = now()
    new_rows = []
    for record, event_id in zip(records, ids, strict=True):
        if event_id in existing:
            continue
        existing[event_id] = 0  # placeholder: inserted below
        new_rows.append(
            RawEvent(
                store=store,
                stream=str(record.stream),
                source=source[:20],
                event_id=event_id,
                payload=_payload(record),
                raw=bytes(record.raw),
                received_at=at,
            )
        )
    if new_rows:
        RawEvent.objects.bulk_create(new_rows, ignore_conflicts=True)
        existing.update(
            RawEvent.objects.filter(store=store, event_id__in=[r.event_id for r in new_rows]).values_list(
                "event_id", "pk"
            )
        )
    return existing


_RAW_INSERT = ""


def _store_raw_postgresql(store: Store, records: list[RawRecord], ids: list[str], source: str) -> dict[str, int]:
    """_store_raw in one statement on PostgreSQL: INSERT ... SELECT FROM UNNEST (one array per
    column) ON CONFLICT DO NOTHING RETURNING the new rows' ids; only the records stored before (a
    page pulled again, a concurrent receiver) are read afterwards. The payloads go as one JSON array
    of the texts `_payload` would have made (jsonb stores the same values), element n for row n:
    not decoded and encoded again, and one string parameter instead of a text array whose every
    quote psycopg escapes in Python. The row is the one the ORM path writes (Django's defaults of
    the other columns)."""
    global _RAW_INSERT
    if not _RAW_INSERT:
        quote = connection.ops.quote_name
        _RAW_INSERT = (
            f"INSERT INTO {quote(RawEvent._meta.db_table)} "  # noqa: S608
            "(store_id, stream, source, event_id, payload, raw, status, action, reason, field, attempts, received_at) "
            "SELECT %s, v.stream, %s, v.event_id, (%s)::jsonb -> (v.n::integer - 1), v.raw, %s, '', '', '', 0, %s "
            "FROM UNNEST((%s)::varchar[], (%s)::varchar[], (%s)::bytea[]) "
            "WITH ORDINALITY AS v(stream, event_id, raw, n) "
            "ON CONFLICT (store_id, event_id) DO NOTHING RETURNING event_id, id"
        )
    rows: dict[str, RawRecord] = {}
    for record, event_id in zip(records, ids, strict=True):
        rows.setdefault(event_id, record)
    params: list[Any] = [
        store.pk,
        source[:20],
        "[" + ",".join(_payload_json(record) for record in rows.values()) + "]",
        RawEventStatus.RECEIVED.value,
        now(),
        [str(record.stream) for record in rows.values()],
        list(rows),
        [bytes(record.raw) for record in rows.values()],
    ]
    with connection.cursor() as cursor:
        cursor.execute(_RAW_INSERT, params)
        stored = dict(cursor.fetchall())
    missing = [event_id for event_id in rows if event_id not in stored]
    if missing:  # stored before: a page pulled again, or a concurrent receiver's
        stored.update(
            RawEvent.objects.filter(store=store, event_id__any_of=missing).order_by().values_list("event_id", "pk")
        )
    return stored


class _PageFailed(Exception):
    """A record of a page applied without savepoints failed: the page is rolled back and applied
    again with a savepoint per record (which quarantines that record alone)."""


@contextmanager
def _without_savepoints() -> Iterator[None]:
    """Nested `transaction.atomic()` blocks (the engine's, the inbox's, the returns app's) open no
    SAVEPOINT: a page that applies cleanly needs none, and they were ~30% of its statements. An
    error inside then marks the whole transaction for rollback (what Django's atomic() does when it
    has no savepoint), which the caller turns into `_PageFailed`. The connection's own
    `_savepoint_allowed` (both backends ask it before every SAVEPOINT) answers no until the block
    ends; a connection belongs to one thread."""
    wrapper = transaction.get_connection()
    wrapper._savepoint_allowed = lambda: False  # type: ignore[method-assign]
    try:
        yield
    finally:
        del wrapper._savepoint_allowed


def _process_page(
    store: Store, connector: object, ctx: object, todo: list[tuple[int, int, RawRecord, str]]
) -> dict[int, RecordOutcome]:
    """Process a batch in one transaction (one commit per page, not per record: the commit is most
    of a record's cost), its raw rows locked in id order (the claim: a concurrent receiver of the
    same records waits, then finds them processed).

    Batched (the default, CHANNELS_SYNC_BATCH_MESSAGES): the page is first applied without any
    savepoint (`_without_savepoints`); if any record fails to apply (the inbox or the returns app
    refuses it, a bug), everything is rolled back and the page is applied again with a savepoint
    per record, so the bad record is quarantined alone and the others land (the raw rows are still
    `received`: the second pass is the first one's exact replay). A record that fails to map is
    quarantined in the first pass (mapping writes nothing). Record by record (batching off): a
    savepoint per record from the start. If the database aborts the page (a deadlock with a
    concurrent worker touching the same tickets in another order), the page is processed again one
    record per transaction."""
    batched = bool(getattr(settings, "CHANNELS_SYNC_BATCH_MESSAGES", True))
    passes = ["clean", "savepoints"] if batched and len(todo) > 1 else ["savepoints"]
    try:
        for mode in passes:
            outcomes: dict[int, RecordOutcome] = {}
            try:
                with transaction.atomic():
                    rows = {row.pk: row for row in select_rows("sync.raw_rows", _raw_rows, [t[1] for t in todo])}
                    changed: list[RawEvent] = []
                    if mode == "clean":
                        with _without_savepoints():
                            _process_rows_batched(store, connector, ctx, rows, todo, outcomes, changed, strict=True)
                    elif batched:
                        _process_rows_batched(store, connector, ctx, rows, todo, outcomes, changed, strict=False)
                    else:
                        for index, row_id, record, event_id in todo:
                            row = rows.get(row_id)
                            if row is None:  # pragma: no cover - deleted between storing and processing
                                outcomes[index] = RecordOutcome(event_id, "duplicate", reason="raw record deleted")
                                continue
                            outcome, dirty = _process_row(store, connector, ctx, row, record, event_id)
                            outcomes[index] = outcome
                            if dirty:
                                changed.append(row)
                    _save_rows(changed)
                return outcomes
            except _PageFailed as failed:
                logger.info(
                    "page rolled back; applying it again with a savepoint per record",
                    extra={"store_id": store.pk, "event_id": str(failed)},
                )
        raise AssertionError("unreachable")  # pragma: no cover - the savepoints pass returns or raises
    except DatabaseError as exc:
        # OperationalError: a deadlock with a concurrent worker; with batching, any database error
        # (the page's records are then applied one by one, each in its own transaction, as before).
        if len(todo) == 1 or not (batched or isinstance(exc, OperationalError)):
            raise
        logger.warning("page transaction aborted; processing its records one by one", extra={"store_id": store.pk})
    return {
        index: _process(store, connector, ctx, row_id, record, event_id) for index, row_id, record, event_id in todo
    }


@dataclass
class _Entry:
    index: int
    row: RawEvent
    record: RawRecord
    event_id: str
    mapped: list[Record]
    inbound: InboundMessage | None  # a buyer's message: applied with the page's others


def _process_rows_batched(
    store: Store,
    connector: object,
    ctx: object,
    rows: dict[int, RawEvent],
    todo: list[tuple[int, int, RawRecord, str]],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
    *,
    strict: bool,
) -> None:
    """The page's records in the caller's transaction, their buyer messages through the inbox's
    message_ingest_many in as few calls as the page allows, everything else one record at a time,
    with the same result as taking the records one by one in order. `strict` (no savepoints): a
    record that fails to apply raises _PageFailed; otherwise it is quarantined alone (its savepoint
    rolled back).

    Consecutive buyer messages form one batch; any other record ends it (the batch is applied, then
    that record), so the page is applied in its own order. (Applying messages ahead of earlier
    orders and returns they share no buyer, e-mail or order with was tried: a buyer id first seen
    in the same page can still reach the same customer, and the parity test found it; not done.)
    A record that fails to map, or that the inbox refuses, is quarantined alone, as before."""
    entries: list[_Entry] = []
    for index, row_id, record, event_id in todo:
        row = rows.get(row_id)
        if row is None:  # pragma: no cover - deleted between storing and processing
            outcomes[index] = RecordOutcome(event_id, "duplicate", reason="raw record deleted")
            continue
        if row.status != RawEventStatus.RECEIVED:
            outcomes[index], _dirty = _process_row(store, connector, ctx, row, record, event_id)
            continue
        failure: tuple[str, str] | None = None
        mapped: list[Record] = []
        inbound: InboundMessage | None = None
        try:
            mapped = list(connector.map_record(ctx, record))  # type: ignore[attr-defined]
            if len(mapped) == 1 and isinstance(mapped[0], MessageRecord) and not mapped[0].from_seller:
                inbound = inbound_from_record(store, mapped[0])
        except MappingError as exc:
            failure = (exc.reason, exc.field)
        except DomainError as exc:
            failure = (exc.message, exc.field or "")
        except DatabaseError:
            raise  # the page is processed again record by record
        except Exception as exc:
            logger.exception("record could not be mapped", extra={"store_id": store.pk, "event_id": event_id})
            failure = (f"could not be processed: {type(exc).__name__}: {exc}"[:2000], "")
        if failure is not None:
            outcomes[index] = _quarantine(store, row, event_id, failure)
            changed.append(row)
            continue
        entries.append(_Entry(index, row, record, event_id, mapped, inbound))
    if strict:
        _apply_planned(store, connector, ctx, entries, outcomes, changed)
        return
    batch: list[_Entry] = []
    for entry in entries:
        if entry.inbound is not None:
            batch.append(entry)
            continue
        _apply_messages(store, connector, ctx, batch, outcomes, changed, strict=strict)
        batch.clear()
        _apply_one(store, connector, ctx, entry, outcomes, changed, strict=strict)
    _apply_messages(store, connector, ctx, batch, outcomes, changed, strict=strict)


def _apply_planned(
    store: Store,
    connector: object,
    ctx: object,
    entries: list[_Entry],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
) -> None:
    """The clean pass (no savepoints): the page in segments (channels/page_plan.py), each segment's
    orders through orders_apply_many, then its buyer messages and returns in page order (through one
    message_ingest_many), then its later orders; a barrier record alone in its place.
    Any failure: _PageFailed (the page is applied again record by record with savepoints).
    The page's customers are read once, by the plan, and handed to each segment's calls
    (PageCustomers: they resolve buyers from it and keep it current); a barrier record may create
    or change customers on its own, so after one the next calls read again what they need."""
    customers = PageCustomers()
    plan = PagePlan(store, [(e, kind_of(e.mapped, e.inbound), e.mapped, e.inbound) for e in entries], customers)
    for step in plan.steps():
        if isinstance(step, _Entry):
            customers.forget()
            _apply_one(store, connector, ctx, step, outcomes, changed, strict=True)
            continue
        _apply_orders(store, step.orders, outcomes, changed, customers)
        if not any(kind == RETURN for kind, _entry in step.rest):
            _apply_messages(
                store,
                connector,
                ctx,
                [entry for _kind, entry in step.rest],
                outcomes,
                changed,
                strict=True,
                customers=customers,
            )
        else:
            try:
                _apply_messages_and_returns(store, step.rest, outcomes, changed, customers)
            except (OperationalError, InterfaceError):
                raise  # the database aborted the page (a deadlock): its records one by one
            except Exception as exc:
                raise _PageFailed(step.rest[0][1].event_id) from exc
        _apply_orders(store, step.later, outcomes, changed, customers)


def _apply_orders(
    store: Store,
    orders: list[_Entry],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
    customers: PageCustomers | None = None,
) -> None:
    """A segment's order versions through orders_apply_many (the clean pass: a failure is _PageFailed)."""
    if not orders:
        return
    try:
        applied = orders_apply_many(store, [e.mapped[0] for e in orders], customers)  # type: ignore[misc]
    except (OperationalError, InterfaceError):
        raise  # the database aborted the page (a deadlock): its records one by one
    except Exception as exc:
        raise _PageFailed(orders[0].event_id) from exc
    for entry, result in zip(orders, applied, strict=True):
        outcomes[entry.index] = _applied(entry.row, entry.event_id, [result])
        changed.append(entry.row)


def _apply_messages_and_returns(
    store: Store,
    rest: list[tuple[str, _Entry]],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
    customers: PageCustomers | None = None,
) -> None:
    """A segment's buyer messages and return records in page order with one message_ingest_many call
    (channels/returns_many.py): a new request's ticket message at its place among the messages, what
    the requests write around them through the inbox's trailers."""
    returns = [entry for kind, entry in rest if kind == RETURN]
    page = ReturnsPage(store, [entry.mapped[0] for entry in returns])  # type: ignore[misc]
    inbounds: list[InboundMessage] = []
    messages: list[_Entry] = []
    message_results: list[int] = []  # per message entry: its index in inbounds
    next_return = 0
    for kind, entry in rest:
        if kind == MESSAGE:
            assert entry.inbound is not None
            message_results.append(len(inbounds))
            messages.append(entry)
            inbounds.append(entry.inbound)
            continue
        inbound = page.add(next_return, len(inbounds))
        if inbound is not None:
            inbounds.append(inbound)
        next_return += 1
    results = message_ingest_many(inbounds=inbounds, trailers=page.trailers, written=page.written, customers=customers)
    applied = page.finish()
    _messages_applied(store, messages, [results[i] for i in message_results], outcomes, changed)
    for entry, result in zip(returns, applied, strict=True):
        outcomes[entry.index] = _applied(entry.row, entry.event_id, [result])
        changed.append(entry.row)


def _apply_one(
    store: Store,
    connector: object,
    ctx: object,
    entry: _Entry,
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
    *,
    strict: bool = False,
) -> None:
    if strict:
        try:
            applied = [apply_record(store, item) for item in entry.mapped]
        except (OperationalError, InterfaceError):
            raise  # the database aborted the page (a deadlock): its records one by one
        except Exception as exc:
            raise _PageFailed(entry.event_id) from exc
        outcomes[entry.index] = _applied(entry.row, entry.event_id, applied)
        changed.append(entry.row)
        return
    outcome, dirty = _process_row(store, connector, ctx, entry.row, entry.record, entry.event_id, entry.mapped)
    outcomes[entry.index] = outcome
    if dirty:
        changed.append(entry.row)


def _apply_messages(
    store: Store,
    connector: object,
    ctx: object,
    batch: list[_Entry],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
    *,
    strict: bool = False,
    customers: PageCustomers | None = None,
) -> None:
    """The batch's buyer messages in one message_ingest_many call (in a savepoint unless `strict`);
    a message the inbox refuses is quarantined alone (nothing of it was written). Should the call
    fail as a whole (a bug, not a refusal), the records are applied one by one, each quarantined on
    its own error as before (`strict`: _PageFailed, the page is applied again with savepoints)."""
    if not batch:
        return
    if strict:
        try:
            results = message_ingest_many(
                inbounds=[e.inbound for e in batch if e.inbound is not None], customers=customers
            )
        except (OperationalError, InterfaceError):
            raise  # the database aborted the page (a deadlock): its records one by one
        except Exception as exc:
            raise _PageFailed(batch[0].event_id) from exc
        _messages_applied(store, batch, results, outcomes, changed)
        return
    try:
        with transaction.atomic():
            results = message_ingest_many(inbounds=[e.inbound for e in batch if e.inbound is not None])
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("page of messages failed; applying them one by one", extra={"store_id": store.pk})
        for entry in batch:
            _apply_one(store, connector, ctx, entry, outcomes, changed)
        return
    _messages_applied(store, batch, results, outcomes, changed)


def _messages_applied(
    store: Store,
    batch: list[_Entry],
    results: list[IngestResult | DomainError],
    outcomes: dict[int, RecordOutcome],
    changed: list[RawEvent],
) -> None:
    for entry, result in zip(batch, results, strict=True):
        if isinstance(result, DomainError):
            outcomes[entry.index] = _quarantine(store, entry.row, entry.event_id, (result.message, result.field or ""))
        else:
            outcomes[entry.index] = _applied(entry.row, entry.event_id, [applied_of_ingest(result)])
        changed.append(entry.row)


_ROW_FIELDS = ["status", "action", "reason", "field", "attempts", "processed_at", "ticket_id", "message_id"]


def _raw_rows(ids: list[int]) -> QuerySet[RawEvent]:
    """The page's raw rows, locked in id order (the records are in memory: not their payload and bytes)."""
    return RawEvent.objects.select_for_update().filter(pk__any_of=ids).only(*_ROW_FIELDS).order_by("pk")


def _save_rows(rows: list[RawEvent]) -> None:
    """The processed rows' outcome, through core.inserts.update_rows: on PostgreSQL one UPDATE ... FROM
    json_to_recordset (the rows as one JSON document: ADR 0040, 0047; the backend plans one statement instead
    of one per row), elsewhere one executemany (bulk_update's CASE per column cost ~10 ms a row in query
    building)."""
    if not rows:
        return
    adapt = connection.ops.adapt_datetimefield_value  # (PostgreSQL: the datetime itself)
    update_rows(
        RawEvent,
        [RawEvent._meta.get_field(name) for name in _ROW_FIELDS],  # type: ignore[misc]
        [
            (
                row.status,
                row.action,
                row.reason,
                row.field,
                row.attempts,
                adapt(row.processed_at),
                row.ticket_id,
                row.message_id,
                row.pk,
            )
            for row in rows
        ],
    )


def _process(
    store: Store, connector: object, ctx: object, row_id: int, record: RawRecord, event_id: str
) -> RecordOutcome:
    """Map and apply one stored record, in one transaction, under its raw row's lock."""
    with transaction.atomic():
        row = RawEvent.objects.select_for_update().filter(pk=row_id).first()
        if row is None:  # pragma: no cover - deleted between storing and processing
            return RecordOutcome(event_id, "duplicate", reason="raw record deleted")
        outcome, dirty = _process_row(store, connector, ctx, row, record, event_id)
        if dirty:
            row.save(update_fields=_ROW_FIELDS)
        return outcome


def _process_row(
    store: Store,
    connector: object,
    ctx: object,
    row: RawEvent,
    record: RawRecord,
    event_id: str,
    mapped: list[Record] | None = None,
) -> tuple[RecordOutcome, bool]:
    """Map (unless `mapped` is given) and apply one record whose raw row the caller holds locked,
    inside the caller's transaction (in a savepoint of its own). Returns the outcome and whether
    `row` was changed (the caller saves it)."""
    if row.status != RawEventStatus.RECEIVED:  # known and already processed (or quarantined)
        reason = f"quarantined earlier: {row.reason}" if row.status == RawEventStatus.QUARANTINED else ""
        return RecordOutcome(
            event_id, "duplicate", reason=reason, ticket_id=row.ticket_id, message_id=row.message_id
        ), False
    failure: tuple[str, str] | None = None
    applied: list[Applied] = []
    try:
        with transaction.atomic():
            if mapped is None:
                mapped = connector.map_record(ctx, record)  # type: ignore[attr-defined]
            applied = [apply_record(store, item) for item in mapped]
    except MappingError as exc:
        failure = (exc.reason, exc.field)
    except DomainError as exc:  # ValidationFailed and the like: the inbox refuses the record
        failure = (exc.message, exc.field or "")
    except (OperationalError, InterfaceError):
        raise  # the database is gone or aborted us: the record stays `received`
    except Exception as exc:
        logger.exception("record could not be processed", extra={"store_id": store.pk, "event_id": event_id})
        failure = (f"could not be processed: {type(exc).__name__}: {exc}"[:2000], "")
    if failure is not None:
        return _quarantine(store, row, event_id, failure), True
    return _applied(row, event_id, applied), True


def _quarantine(store: Store, row: RawEvent, event_id: str, failure: tuple[str, str]) -> RecordOutcome:
    """Mark the (locked) raw row quarantined with its reason and field (the caller saves it)."""
    row.attempts += 1
    row.processed_at = now()
    row.status = RawEventStatus.QUARANTINED
    row.action = "quarantined"
    row.reason, row.field = failure[0][:5000], failure[1][:200]
    logger.info(
        "record quarantined",
        extra={"store_id": store.pk, "event_id": event_id, "reason": row.reason, "field": row.field},
    )
    return RecordOutcome(event_id, "quarantined", reason=row.reason)


def _applied(row: RawEvent, event_id: str, applied: list[Applied]) -> RecordOutcome:
    """Mark the (locked) raw row processed with what applying it did (the caller saves it)."""
    row.attempts += 1
    row.processed_at = now()
    outcome = _combine(event_id, applied)
    row.status = RawEventStatus.IGNORED if outcome.action == "ignored" else RawEventStatus.PROCESSED
    row.action = outcome.action
    row.reason = outcome.reason[:5000]
    row.field = ""
    row.ticket_id = outcome.ticket_id
    row.message_id = outcome.message_id
    return outcome


def _combine(event_id: str, applied: list[Applied]) -> RecordOutcome:
    if not applied:
        return RecordOutcome(event_id, "ignored", reason="nothing to apply")
    best = min(applied, key=lambda a: _PRIORITY.index(a.action) if a.action in _PRIORITY else len(_PRIORITY))
    ticket_id = best.ticket_id or next((a.ticket_id for a in applied if a.ticket_id), None)
    message_id = best.message_id or next((a.message_id for a in applied if a.message_id), None)
    return RecordOutcome(event_id, best.action, reason=best.reason, ticket_id=ticket_id, message_id=message_id)


def _raw_record_of(row: RawEvent) -> RawRecord:
    return RawRecord(stream=Stream(row.stream), event_id=row.event_id, payload=row.payload, raw=bytes(row.raw or b""))


def raw_event_retry(*, raw_event_id: int, actor: Actor, organization_id: int | None = None) -> RecordOutcome:
    """Process a quarantined record again (after the connector or the data was fixed): the stored
    payload is mapped anew. NotFound for an unknown id (or one of another organization when
    `organization_id` is given); ValidationFailed when it is not quarantined."""
    found = RawEvent.objects.select_related("store").filter(pk=raw_event_id)
    if organization_id is not None:
        found = found.filter(store__organization_id=organization_id)
    row = found.first()
    if row is None:
        raise NotFound(_("no such received record"), field="raw_event_id")
    if row.status not in (RawEventStatus.QUARANTINED, RawEventStatus.RECEIVED):
        raise ValidationFailed(_("only a quarantined record can be retried"), field="raw_event_id")
    reopened = RawEvent.objects.filter(pk=row.pk, status=row.status).update(status=RawEventStatus.RECEIVED)
    if not reopened:
        raise ValidationFailed(_("the record was retried by someone else just now"), field="raw_event_id")
    logger.info("quarantined record retried", extra={"raw_event_id": row.pk, "actor": f"{actor.kind}:{actor.id}"})
    connector = get_connector(row.store.platform)
    ctx = store_context(row.store, connector=connector)
    return _process(row.store, connector, ctx, row.pk, _raw_record_of(row), row.event_id)


def raw_events_process_pending(*, older_than: timedelta = timedelta(minutes=5), limit: int = 500) -> int:
    """Process records left `received` by a worker that died between storing and processing them
    (a webhook answered 5xx and not retried, a pull whose process was killed)."""
    rows = list(
        RawEvent.objects.select_related("store")
        .filter(status=RawEventStatus.RECEIVED, received_at__lt=now() - older_than)
        .order_by("pk")[:limit]
    )
    done = 0
    for row in rows:
        connector = get_connector(row.store.platform)
        ctx = store_context(row.store, connector=connector)
        _process(row.store, connector, ctx, row.pk, _raw_record_of(row), row.event_id)
        done += 1
    return done


def sync_runs_mark_abandoned(*, older_than: timedelta = timedelta(minutes=30)) -> int:
    """Runs left `running` by a worker that died (SIGKILL, OOM): marked failed once their stream is
    no longer claimed by anyone (a live run renews its claim every page)."""
    at = now()
    count = 0
    stale = SyncRun.objects.filter(status=SyncRunStatus.RUNNING, started_at__lt=at - older_than)
    for run in stale:
        live = StreamCursor.objects.filter(
            store_id=run.store_id, stream=run.stream, key=run.key, locked_until__gt=at
        ).exclude(claimed_by="")
        if live.exists():
            continue
        count += SyncRun.objects.filter(pk=run.pk, status=SyncRunStatus.RUNNING).update(
            status=SyncRunStatus.FAILED, finished_at=at, error="abandoned: the worker stopped during the run"
        )
    return count


# --- store sync state (services the store pages call) -------------------------------------------


def store_sync_resume(*, store: Store, actor: Actor) -> StoreSync:
    sync = store_sync_for(store)
    StoreSync.objects.filter(pk=sync.pk).update(
        paused=False, paused_reason="", paused_at=None, paused_by="", last_error="", updated_at=now()
    )
    sync.refresh_from_db()
    logger.info("store sync resumed", extra={"store_id": store.pk, "actor": f"{actor.kind}:{actor.id}"})
    return sync


def store_backfill_from(*, store: Store, since: datetime, actor: Actor, streams: Iterable[Stream] | None = None) -> int:
    """Make the next run of each stream (all pulled streams by default) start again from `since`;
    returns the number of streams marked. Upserts make the re-read harmless."""
    chosen = list(streams) if streams is not None else pull_streams(store)
    for stream in chosen:
        cursor, _ = StreamCursor.objects.get_or_create(store=store, stream=str(stream), key="")
        StreamCursor.objects.filter(pk=cursor.pk).update(backfill_since=since, updated_at=now())
    logger.info("backfill requested", extra={"store_id": store.pk, "since": since.isoformat()})
    return len(chosen)


# --- pulling ------------------------------------------------------------------------------------


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(claimed_by: str) -> bool:
    """A claim of a process of this machine that no longer exists (killed) can be taken over at once."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _lease() -> timedelta:
    # Long enough for a page throttled by a slow platform (Amazon's searchOrders: 178 s per 429); a
    # claim of a process that died on this machine is taken over at once anyway.
    return timedelta(seconds=float(getattr(settings, "CHANNELS_SYNC_LEASE_SECONDS", 1800)))


def _claim(cursor: StreamCursor, worker: str) -> bool:
    at = now()
    free = Q(claimed_by="") | Q(locked_until__isnull=True) | Q(locked_until__lt=at)
    claimed = StreamCursor.objects.filter(free, pk=cursor.pk).update(
        claimed_by=worker, locked_until=at + _lease(), last_run_at=at
    )
    if claimed:
        return True
    holder = StreamCursor.objects.filter(pk=cursor.pk).values_list("claimed_by", flat=True).first() or ""
    if holder and _holder_is_dead(holder):
        return bool(
            StreamCursor.objects.filter(pk=cursor.pk, claimed_by=holder).update(
                claimed_by=worker, locked_until=at + _lease(), last_run_at=at
            )
        )
    return False


def _release(cursor: StreamCursor, worker: str) -> None:
    StreamCursor.objects.filter(pk=cursor.pk, claimed_by=worker).update(claimed_by="", locked_until=None)


_TALLY = {
    "new_ticket": "created",
    "thread": "created",
    "created": "created",
    "updated": "updated",
    "bounce": "updated",
    "unchanged": "unchanged",
    "duplicate": "duplicates",
    "ignored": "ignored",
    "quarantined": "quarantined",
}
_COUNTERS = ["pages", "records", "created", "updated", "unchanged", "duplicates", "ignored", "quarantined", "errors"]
RUN_CURSOR_CHARS = 500


def run_cursor(cursor: str | None) -> str:
    """The cursor as a SyncRun records it (for people reading the run: nothing resumes from it): whole up to
    RUN_CURSOR_CHARS, else its start and its length. The StreamCursor row keeps the whole cursor; an eBay cursor
    with its closed-return ids reaches ~30 KB and was copied into the run's row after every page."""
    text = cursor or ""
    if len(text) <= RUN_CURSOR_CHARS:
        return text
    return f"{text[:RUN_CURSOR_CHARS]}... ({len(text):,} characters; the stream cursor holds it whole)"


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ConnectorError) and not exc.permanent


def sync_stream(
    *,
    store_id: int,
    stream: Stream | str,
    since: datetime | None = None,
    max_pages: int | None = None,
    key: str = "",
    sleep: Callable[[float], None] | None = None,
) -> SyncRun:
    """One run of one pulled stream of a store (see the module docstring). Returns its SyncRun;
    never raises a ConnectorError (the run says what happened)."""
    stream = Stream(stream)
    store = Store.objects.select_related("organization").get(pk=store_id)
    started = time.monotonic()
    run = SyncRun.objects.create(store=store, stream=stream, key=key, started_at=now())
    sync = store_sync_for(store)
    connector = get_connector(store.platform)

    def finish(status: str, error: str = "") -> SyncRun:
        run.status = status
        run.error = error[:5000]
        run.finished_at = now()
        run.duration_ms = int((time.monotonic() - started) * 1000)
        run.save()
        logger.info(
            "sync run finished",
            extra={"store_id": store.pk, "stream": str(stream), "status": status, "pages": run.pages},
        )
        return run

    if not store.is_active:
        return finish(SyncRunStatus.SKIPPED, "the store is deactivated")
    if sync.paused:
        return finish(SyncRunStatus.SKIPPED, f"sync paused: {sync.paused_reason}")
    if PULL_CAPABILITY[stream] not in connector.capabilities:
        return finish(SyncRunStatus.FAILED, f"the {store.platform} connector does not pull {stream}")
    cursor_row, _ = StreamCursor.objects.get_or_create(store=store, stream=str(stream), key=key)
    worker = _worker_id()
    if not _claim(cursor_row, worker):
        return finish(SyncRunStatus.SKIPPED, "another worker is syncing this stream")
    try:
        cursor_row.refresh_from_db()
        ctx = store_context(store, connector=connector, sleep=sleep)
        cursor: str | None = cursor_row.cursor or None
        start_since = since
        if since is None and cursor_row.backfill_since is not None:
            start_since = cursor_row.backfill_since
        if start_since is not None:
            cursor = None  # start again from the date
        run.cursor_before = run_cursor(cursor)
        run.save(update_fields=["cursor_before"])
        status = SyncRunStatus.SUCCEEDED
        while True:
            if max_pages is not None and run.pages >= max_pages:
                status = SyncRunStatus.PARTIAL
                break
            page = _pull(connector, ctx, stream, cursor, start_since, run, sleep)
            outcomes = receive_records(store=store, records=page.records, source="pull", connector=connector, ctx=ctx)
            run.pages += 1
            run.records += len(outcomes)
            for outcome in outcomes:
                counter = _TALLY.get(outcome.action)
                if counter:
                    setattr(run, counter, getattr(run, counter) + 1)
            next_cursor = page.next_cursor if page.next_cursor is not None else cursor
            # The page is stored and processed: persist where the next one starts.
            kept = StreamCursor.objects.filter(pk=cursor_row.pk, claimed_by=worker).update(
                cursor=next_cursor or "",
                backfill_since=None,
                locked_until=now() + _lease(),
                updated_at=now(),
            )
            run.cursor_after = run_cursor(next_cursor)
            run.save(update_fields=[*_COUNTERS, "cursor_after"])
            if not kept:
                status = SyncRunStatus.FAILED
                run.error = "the stream was claimed by another worker (lease expired)"
                break
            if page.done or page.next_cursor is None:
                break
            cursor = next_cursor
        at = now()
        if status != SyncRunStatus.FAILED:
            StreamCursor.objects.filter(pk=cursor_row.pk).update(last_success_at=at, last_error="")
            StoreSync.objects.filter(pk=sync.pk).update(last_success_at=at, updated_at=at)
        return finish(status, run.error)
    except ConnectorError as exc:
        message = str(exc) or type(exc).__name__
        at = now()
        StreamCursor.objects.filter(pk=cursor_row.pk).update(last_error=message[:5000])
        StoreSync.objects.filter(pk=sync.pk).update(last_error=message[:5000], last_error_at=at, updated_at=at)
        if exc.permanent:
            store_sync_pause(store=store, reason=message, actor=connector_actor(store))
            return finish(SyncRunStatus.PAUSED, message)
        return finish(SyncRunStatus.FAILED, message)
    except Exception as exc:
        logger.exception("sync run crashed", extra={"store_id": store.pk, "stream": str(stream)})
        finish(SyncRunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    finally:
        _release(cursor_row, worker)


def _pull(
    connector: object,
    ctx: object,
    stream: Stream,
    cursor: str | None,
    since: datetime | None,
    run: SyncRun,
    sleep: Callable[[float], None] | None,
) -> Page:
    """One page, transient errors retried with backoff (Retry-After honoured)."""
    from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt  # not in web processes

    backoff = float(getattr(settings, "CHANNELS_SYNC_BACKOFF", 2.0))
    max_retry_after = float(getattr(settings, "CHANNELS_HTTP_MAX_RETRY_AFTER", 300.0))

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ConnectorError) and exc.retry_after is not None:
            return min(exc.retry_after, max_retry_after)
        return min(300.0, backoff * (2 ** (state.attempt_number - 1)))

    def count_error(state: RetryCallState) -> None:
        run.errors += 1

    retrying = Retrying(
        stop=stop_after_attempt(int(getattr(settings, "CHANNELS_SYNC_MAX_ATTEMPTS", 5))),
        wait=wait,
        retry=retry_if_exception(_is_transient),
        sleep=sleep or wait_seconds,
        before_sleep=count_error,
        reraise=True,
    )
    try:
        page = retrying(connector.pull, ctx, stream, cursor, since)  # type: ignore[attr-defined]
    except ConnectorError:
        run.errors += 1
        raise
    if not isinstance(page, Page):
        raise ConnectorError(f"the connector returned {type(page).__name__} instead of a Page", permanent=True)
    return page
