"""A page's return / refund requests at once: what `apply.apply_return` (returns.services.
return_request_upsert) does for each, in page order, with a few queries per page instead of several
per record (issue 9's sync engine; returns were ~55% of its worker time one by one).

The sync engine applies a segment's buyer messages and return records in one call of the inbox's
message_ingest_many (channels/sync.py): a new request's ticket message is one of the page's
messages, at its place, and what the request writes on the ticket's timeline and publishes goes
right after it (the inbox's `Trailer`s); a newer version of a stored request writes its rows and
events after the message before it. So tickets, messages, audit rows, request rows, request events
and published events are those of the record path, in the same order per ticket and per request
(the sync engine's parity test compares both paths on SQLite and PostgreSQL).

`ReturnsPage(store, records)` reads, for the page: its requests (locked, in id order), their
lines, the orders they name and those orders' lines (one query each); `add()` applies one record in
memory in page order (the older-version rule, return_request_changes, the same events through
returns.services' one definition of each write) and gives the ticket message of a new request;
`written()` (called by message_ingest_many once the messages are written) inserts the new requests
with one INSERT and builds what names them; `finish()` writes the rest: changed requests with one
executemany per set of columns, replaced lines with one DELETE and one INSERT, request events with
one INSERT, and returns each record's `Applied`."""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from aftersales.catalog.models import Order, OrderLine, Store
from aftersales.core import lookups as _lookups  # noqa: F401  (registers `__any_of`)
from aftersales.core.inserts import insert_rows
from aftersales.core.reads import select_rows
from aftersales.inbox.services import InboundMessage, IngestResult
from aftersales.inbox.services.ingest_many import Trailer
from aftersales.returns.models import (
    ReturnRequest,
    ReturnRequestEvent,
    ReturnRequestKind,
    ReturnRequestLine,
    Rma,
    RmaStatus,
)
from aftersales.returns.rma_platform import PLATFORM_CLOSE_REASONS, rmas_follow_platform
from aftersales.returns.services import (
    ReturnRequestData,
    ReturnRequestWrites,
    return_request_changes,
    return_request_inbound,
    return_request_line_keys,
    return_request_line_rows,
    return_request_new,
    return_request_received_writes,
    return_request_update_writes,
)

from .apply import Applied, connector_actor, return_data
from .apply_many import update_rows
from .base import ReturnRecord


class NotBatchable(Exception):
    """A new request's ticket message was not written by the page (a replay of a message stored
    without its request, or a refused one): the page is applied record by record instead."""


@dataclass
class _State:
    """One request of the page as the records leave it."""

    request: ReturnRequest
    new: bool
    line_keys: list[tuple[str, int, str, str]]
    lines: list[ReturnRequestLine] = field(default_factory=list)  # new ones to insert
    full_save: bool = False  # an existing request saved as request.save() does
    platform_time_only: bool = False  # only updated_on_platform moved
    lines_replaced: bool = False
    message_id: int | None = None
    ticket_created: bool = False


class _Slot:
    """Where a deferred record's ticket rows and events go in its trailer (replaced in `written`), so
    that they keep their page order among what other records placed in the same trailer."""

    ticket_id = None


@dataclass
class _Deferred:
    """Writes of a request the page creates: built once its ticket and row exist (`written`) from a
    copy of the request as it was at that record."""

    snapshot: ReturnRequest
    state: _State
    trailer: Trailer
    events: list[ReturnRequestEvent]  # the record's request events (filled in then)
    received: bool = False
    old_status: str = ""
    changed: set[str] = field(default_factory=set)
    lines_changed: bool = False
    slot: _Slot = field(default_factory=_Slot)

    def __post_init__(self) -> None:
        self.trailer.rows.append(self.slot)  # type: ignore[arg-type]
        self.trailer.events.append(self.slot)


class ReturnsPage:
    """A page's return records applied in page order (see the module docstring)."""

    def __init__(self, store: Store, records: list[ReturnRecord]) -> None:
        self.store = store
        self.actor = connector_actor(store)
        self.datas = [return_data(record) for record in records]
        for data in self.datas:
            if data.kind not in ReturnRequestKind.values:
                raise ValueError(f"unknown return kind {data.kind!r}")
        external_ids = sorted({d.external_id for d in self.datas})
        self.states: dict[str, _State] = {}
        stored = select_rows("returns_many.requests", _requests_locked, store.pk, external_ids)
        lines: dict[int, list[tuple[str, int, str, str]]] = {r.pk: [] for r in stored}
        for request_id, sku, quantity, ext, reason in select_rows(
            "returns_many.request_lines", _request_lines, sorted(lines)
        ):
            lines[request_id].append((sku, quantity, ext, reason))
        for request in stored:
            request.store = store  # (the caller's: not read again)
            self.states[request.external_id] = _State(request, new=False, line_keys=lines[request.pk])
        order_ids = sorted({d.order_external_id for d in self.datas if d.order_external_id})
        self.orders = {o.external_id: o for o in select_rows("returns_many.orders", _orders, store.pk, order_ids)}
        # Lines of the orders a new or replaced request line may point to (by platform line id).
        self.order_lines: dict[int, dict[str, int]] = defaultdict(dict)
        order_pks = {o.pk for o in self.orders.values()} | {
            s.request.order_id for s in self.states.values() if s.request.order_id is not None
        }
        if order_pks and any(d.lines for d in self.datas):
            for order_id, ext, pk in select_rows("returns_many.order_lines", _order_lines, sorted(order_pks)):
                if ext:
                    self.order_lines[order_id][ext] = pk
        self.trailers: dict[int, Trailer] = {}
        self.results: list[tuple[str, _State]] = []  # per record: action, request
        self.request_events: list[list[ReturnRequestEvent]] = []  # per record, in order
        self.deferred: list[_Deferred] = []
        self.created: dict[int, _State] = {}  # message position -> request created there
        self.dropped_lines: list[int] = []
        self.with_rmas: set[int] | None = None  # the stored requests with an RMA not cancelled (read once)

    def _trailer(self, position: int) -> Trailer:
        return self.trailers.setdefault(position, Trailer())

    def _lines_for(self, order_id: int | None) -> dict[str, int]:
        return self.order_lines.get(order_id, {}) if order_id is not None else {}

    def add(self, index: int, position: int) -> InboundMessage | None:
        """Apply record `index` (in page order); `position`: how many of the page's messages come
        before it. A new request's ticket message is returned, to be ingested at that place; what
        an update writes goes after the message before it (-1: before the first)."""
        data = self.datas[index]
        state = self.states.get(data.external_id)
        if state is None:
            order = self.orders.get(data.order_external_id) if data.order_external_id else None
            request = return_request_new(self.store, data, order)
            state = _State(request, new=True, line_keys=return_request_line_keys(data))
            state.lines = return_request_line_rows(
                request, data, self._lines_for(order.pk if order is not None else None)
            )
            self.states[data.external_id] = state
            self.created[position] = state
            record_events: list[ReturnRequestEvent] = []
            self.request_events.append(record_events)
            self.deferred.append(
                _Deferred(copy.copy(request), state, self._trailer(position), record_events, received=True)
            )
            self.results.append(("created", state))
            return return_request_inbound(self.store, data, order)
        self.results.append(self._update(state, data, position - 1))
        return None

    def _update(self, state: _State, data: ReturnRequestData, position: int) -> tuple[str, _State]:
        """return_request_upsert's _update on the page's state of the request."""
        request = state.request
        self.request_events.append([])
        if data.updated_at and request.updated_on_platform and data.updated_at < request.updated_on_platform:
            return ("unchanged", state)
        changed, lines_changed = return_request_changes(request, data, state.line_keys)
        if data.updated_at and data.updated_at != request.updated_on_platform:
            request.updated_on_platform = data.updated_at
            if not changed and not lines_changed:
                state.platform_time_only = True
        if not changed and not lines_changed:
            return ("unchanged", state)
        old_status, old_state = request.platform_status, request.platform_state
        for name, value in changed.items():
            setattr(request, name, value)
        if request.order_id is None and data.order_external_id:
            request.order = self.orders.get(data.order_external_id)
        state.full_save = True
        if lines_changed:
            state.line_keys = return_request_line_keys(data)
            if not state.new and not state.lines_replaced:
                self.dropped_lines.append(request.pk)
            state.lines_replaced = True
            state.lines = return_request_line_rows(request, data, self._lines_for(request.order_id))
        trailer = self._trailer(position)
        if state.new:
            self.deferred.append(
                _Deferred(
                    copy.copy(request),
                    state,
                    trailer,
                    self.request_events[-1],
                    old_status=old_status,
                    changed=set(changed),
                    lines_changed=lines_changed,
                )
            )
        else:
            writes = return_request_update_writes(request, old_status, set(changed), lines_changed, self.actor)
            # Its RMAs follow a cancellation / closing now (rows written, events after the request's).
            if self._may_have_rmas(request, old_state):
                rmas_follow_platform(request=request, old_state=old_state, actor=self.actor, published=writes.published)
            self._place(writes, trailer, self.request_events[-1])
        return ("updated", state)

    def _may_have_rmas(self, request: ReturnRequest, old_state: str) -> bool:
        """Whether rmas_follow_platform could find an RMA to follow this request: its state moves to
        one RMAs follow and it has an RMA not cancelled. The page's stored requests with one are read
        once, at the first such move (rmas_follow_platform read, and locked, each request's RMAs,
        none for most; nothing of the page creates or cancels an RMA before it runs)."""
        if request.platform_state not in PLATFORM_CLOSE_REASONS or old_state in PLATFORM_CLOSE_REASONS:
            return False
        if self.with_rmas is None:
            stored = sorted(s.request.pk for s in self.states.values() if not s.new)
            self.with_rmas = set(select_rows("returns_many.with_rmas", _requests_with_rmas, stored))
        return request.pk in self.with_rmas

    @staticmethod
    def _place(writes: ReturnRequestWrites, trailer: Trailer, record_events: list[ReturnRequestEvent]) -> None:
        record_events += writes.request_events
        trailer.rows += writes.ticket_rows
        trailer.events += writes.published

    def written(self, results: dict[int, IngestResult]) -> None:
        """The page's messages are written: the new requests get their tickets and rows (one INSERT),
        then what names them is built in place."""
        for position, state in self.created.items():
            result = results.get(position)
            if result is None:
                raise NotBatchable(state.request.external_id)
            state.request.ticket = result.ticket
            state.request.customer_id = result.ticket.customer_id
            state.message_id = result.message.pk
            state.ticket_created = result.ticket_created
        insert_rows([s.request for s in self.created.values()])
        for deferred in self.deferred:
            real = deferred.state.request
            snapshot = deferred.snapshot
            snapshot.pk = real.pk
            snapshot.ticket_id = real.ticket_id
            snapshot.customer_id = real.customer_id
            if deferred.received:
                assert real.ticket_id is not None
                writes = return_request_received_writes(snapshot, real.ticket_id, self.actor)
            else:
                writes = return_request_update_writes(
                    snapshot, deferred.old_status, deferred.changed, deferred.lines_changed, self.actor
                )
            for row in writes.request_events:
                row.return_request = real
            deferred.events += writes.request_events
            _splice(deferred.trailer.rows, deferred.slot, writes.ticket_rows)
            _splice(deferred.trailer.events, deferred.slot, writes.published)

    def finish(self) -> list[Applied]:
        """The remaining writes (after message_ingest_many); each record's Applied, in order."""
        existing = [s for s in self.states.values() if not s.new]
        update_rows(
            [(s.request, _all_columns()) for s in existing if s.full_save]
            + [
                (s.request, ["updated_on_platform", "updated_at"])
                for s in existing
                if s.platform_time_only and not s.full_save
            ]
        )
        if self.dropped_lines:
            ReturnRequestLine.objects.filter(return_request_id__in=self.dropped_lines).delete()
        insert_rows([line for s in self.states.values() if s.new or s.lines_replaced for line in s.lines])
        insert_rows([row for rows in self.request_events for row in rows])
        applied = []
        for action, state in self.results:
            request = state.request
            if action == "created":
                action = "new_ticket" if state.ticket_created else "thread"
                applied.append(Applied(action, ticket_id=request.ticket_id, message_id=state.message_id))
                state.ticket_created = False  # (a later record of the same request is an update)
            else:
                applied.append(Applied(action, ticket_id=request.ticket_id))
        return applied


# The page's reads (core/reads.py: built once, run with each page's values).
def _requests_locked(store_id: int, external_ids: list[str]) -> QuerySet[ReturnRequest]:
    return (
        ReturnRequest.objects.select_for_update()
        .filter(store_id=store_id, external_id__any_of=external_ids)
        .order_by("pk")
    )


def _request_lines(request_ids: list[int]) -> QuerySet[Any]:
    return (
        ReturnRequestLine.objects.filter(return_request_id__any_of=request_ids)
        .order_by("id")
        .values_list("return_request_id", "sku", "quantity", "external_line_id", "reason")
    )


def _orders(store_id: int, external_ids: list[str]) -> QuerySet[Order]:
    return Order.objects.filter(store_id=store_id, external_id__any_of=external_ids).order_by()


def _order_lines(order_ids: list[int]) -> QuerySet[Any]:
    return OrderLine.objects.filter(order_id__any_of=order_ids).values_list("order_id", "external_line_id", "pk")


def _requests_with_rmas(request_ids: list[int]) -> QuerySet[Any]:
    return (
        Rma.objects.filter(return_request_id__any_of=request_ids)
        .exclude(status=RmaStatus.CANCELLED)
        .values_list("return_request_id", flat=True)
    )


def _splice(items: list[Any], slot: _Slot, replacement: list[Any]) -> None:
    at = next(i for i, item in enumerate(items) if item is slot)
    items[at : at + 1] = replacement


def _all_columns() -> list[str]:
    """What `request.save()` writes: every concrete field but the key."""
    return [f.name for f in ReturnRequest._meta.concrete_fields if not f.primary_key]


__all__ = ["NotBatchable", "ReturnsPage"]
