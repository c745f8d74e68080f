"""One ticket's life: a script of what the buyer and the agents did, played like the inbox services
would have recorded it (messages, notes, mentions, tags and the event trail), returning the
ticket's denormalised fields so they agree with its messages.

The rules mirrored here are those of inbox.services: a customer message sets is_unreplied and moves
the status by ON_CUSTOMER_MESSAGE; a reply clears is_unreplied, sets first_response_at and moves
the status by ON_AGENT_REPLY unless the agent picks one; assigning a new ticket opens it;
resolving sets resolved_at, reopening clears it; closing sets closed_at."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aftersales.inbox.models import Message, TicketEvent
from aftersales.inbox.workflow import ON_AGENT_REPLY, ON_CUSTOMER_MESSAGE, STATUS_CATEGORY, TicketStatus

from .texts import LanguageCorpus, Note
from .writer import BulkTable, IdAllocator

S = TicketStatus
MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
DELIVERY_ERRORS = (
    "HTTP 503 from the marketplace API (service unavailable); retries exhausted",
    "Buyer-seller messaging rejected the message: contains a link that is not allowed",
    "Conversation is closed on the platform; reply through the order page",
)


# The generated message rows, by column (writer.BulkTable.add_named fills the columns not named here).
MESSAGE_COLUMNS = (
    "id", "ticket_id", "store_id", "direction", "channel", "external_id", "author_id", "author_name", "body",
    "body_html", "body_display", "language", "translations", "delivery_status", "delivery_error",
    "delivery_attempts", "idempotency_key", "sent_at", "created_at",
)  # fmt: skip


@dataclass(slots=True)
class Step:
    kind: str  # in | assign | note | tags | reply | close
    offset: float  # seconds after the first customer message
    text: str = ""
    language: str = ""
    status: str = ""  # reply/close: the status the agent picks ("" = the automatic one)
    actor: int | None = None
    author_name: str = ""
    mention: int | None = None
    reason: str = ""


@dataclass(slots=True)
class TicketFacts:
    status: str
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    last_customer_message_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    is_unreplied: bool


@dataclass(frozen=True, slots=True)
class Party:
    """Who writes on the ticket: the buyer, the assignee, a colleague to @mention."""

    customer_name: str
    store_id: int
    platform: str
    assignee: int | None
    assignee_name: str
    assignee_language: str
    assigner: int | None
    mention: int | None
    mention_username: str


class ScriptWriter:
    """Draws the script for a target status (random gaps, texts from the corpus)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _gap(self, low: float, high: float) -> float:
        return low + (high - low) * self.rng.random()

    def script(
        self,
        *,
        status: str,
        corpus: LanguageCorpus,
        english: LanguageCorpus,
        first_message: str,
        ctx: dict[str, str],
        has_order: bool,
        party: Party,
        notes: tuple[Note, ...],
        tags: bool,
    ) -> list[Step]:
        rng = self.rng
        gap = self._gap
        steps = [Step("in", 0.0, first_message, corpus.language)]
        t = 0.0

        def customer(text_pool: tuple[str, ...]) -> None:
            nonlocal t
            t += gap(4 * HOUR, 3 * DAY)
            steps.append(Step("in", t, text_pool[rng.randrange(len(text_pool))].format_map(ctx), corpus.language))

        def reply(kind: str, status: str = "") -> None:
            nonlocal t
            t += gap(20 * MINUTE, 30 * HOUR)
            lang = corpus if rng.random() < 0.85 else english
            body = lang.reply_ack if kind == "ack" else lang.replies[ctx["category"]]
            text = f"{lang.reply_greeting}\n\n{body}\n\n{lang.reply_closing}".format_map(ctx)
            steps.append(Step("reply", t, text, lang.language, status, party.assignee, party.assignee_name))

        followups = corpus.followups if has_order else corpus.followups_without_order
        if status == S.NEW:
            if rng.random() < 0.25:
                customer(followups)
            return steps
        t += gap(10 * MINUTE, 20 * HOUR)
        steps.append(Step("assign", t, actor=party.assigner))
        if tags:
            t += gap(MINUTE, 30 * MINUTE)
            steps.append(Step("tags", t, actor=party.assignee))
        if notes and rng.random() < 0.25:
            t += gap(MINUTE, 2 * HOUR)
            note = notes[rng.randrange(len(notes))].text.format_map(ctx)
            lang = "zh" if party.assignee_language == "zh-hans" else "en"
            steps.append(Step("note", t, note, lang, actor=party.assignee, author_name=party.assignee_name))
            steps[-1].mention = party.mention if "@" in note else None
        if status == S.OPEN:
            if rng.random() < 0.4:
                reply("ack")
                customer(followups)
        elif status == S.PENDING_CUSTOMER:
            reply("ack" if rng.random() < 0.5 else "solution")
            if rng.random() < 0.3:
                customer(followups)
                reply("solution")
        elif status == S.ON_HOLD:
            reply("ack", S.ON_HOLD)
            if rng.random() < 0.3:
                customer(followups)
        else:  # solved or closed
            if rng.random() < 0.5:
                reply("ack")
                customer(followups)
            reply("solution", S.SOLVED)
            if status == S.CLOSED:
                if rng.random() < 0.1:
                    customer(corpus.thanks)
                    t += gap(10 * MINUTE, 10 * HOUR)
                    steps.append(Step("close", t, status=S.CLOSED, actor=party.assignee))
                else:
                    t += gap(3 * DAY, 7 * DAY)
                    steps.append(Step("close", t, status=S.CLOSED, reason="auto_close"))
        return steps


class ConversationPlayer:
    """Turns a script into rows, tracking the ticket's state as the services would."""

    def __init__(self, *, rng: random.Random, ids: IdAllocator, tables: dict[str, BulkTable]) -> None:
        self.rng = rng
        self.ids = ids
        self.messages = tables["messages"]
        self.events = tables["events"]
        self.mentions = tables["mentions"]
        self.ticket_tags = tables["ticket_tags"]

    def _event(self, ticket_id: int, type_: str, actor: int | None, at: datetime, payload: str) -> None:
        """payload: JSON text (built with f-strings from ids and codes on the hot path: no escaping needed)."""
        kind, ref = ("user", str(actor)) if actor else ("system", "")  # actor_kind, actor_ref (core.actors)
        self.events.add((self.ids.take(TicketEvent), ticket_id, type_, actor, payload, at, kind, ref))

    def play(
        self,
        *,
        ticket_id: int,
        index: int,
        steps: list[Step],
        t0: datetime,
        now: datetime,
        party: Party,
        team_id: int | None,
        tag_ids: list[int],
        tag_names: list[str],
    ) -> TicketFacts:
        rng = self.rng
        ids = self.ids
        event = self._event
        # Squeeze the script into the time between the first message and now.
        room = max((now - t0).total_seconds() - 120, 1.0)
        last_offset = steps[-1].offset
        scale = room / last_offset if last_offset > room else 1.0
        status: str = S.NEW
        created_at = updated_at = t0
        last_message = last_customer = first_response = resolved = closed = None
        unreplied = True
        inbound_n = outbound_n = 0
        for step in steps:
            at = t0 + timedelta(seconds=step.offset * scale)
            kind = step.kind
            if kind == "in":
                seen = at + timedelta(seconds=(5 + rng.random() * 90) * scale)  # when the connector fetched it
                inbound_n += 1
                external = f"dm{index}.{inbound_n}"
                message_id = ids.take(Message)
                self.messages.add_named(
                    dict(zip(MESSAGE_COLUMNS, (
                        message_id, ticket_id, party.store_id, "inbound", party.platform, external, None,
                        party.customer_name, step.text, "", "", step.language, "{}", "n/a", "", 0, None, at, seen,
                    ), strict=True))
                )  # fmt: skip
                if inbound_n == 1:
                    created_at = seen
                    event(
                        ticket_id,
                        "created",
                        None,
                        seen,
                        f'{{"source": "{party.platform}", "store_id": {party.store_id}}}',
                    )
                    if team_id is not None:
                        event(
                            ticket_id,
                            "team_changed",
                            None,
                            seen,
                            f'{{"old": null, "new": {team_id}, "reason": "routing"}}',
                        )
                else:
                    target = ON_CUSTOMER_MESSAGE.get(status, status)
                    if target != status:
                        event(
                            ticket_id, "status_changed", None, seen,
                            f'{{"old": "{status}", "new": "{target}", "reason": "customer_message"}}',
                        )  # fmt: skip
                        status = target
                        resolved = None
                event(
                    ticket_id,
                    "message_received",
                    None,
                    seen,
                    f'{{"message_id": {message_id}, "external_id": "{external}"}}',
                )
                last_message = last_customer = at
                unreplied = True
                updated_at = seen
            elif kind == "assign":
                event(ticket_id, "assigned", step.actor, at, f'{{"old": null, "new": {party.assignee}}}')
                if status == S.NEW:
                    event(
                        ticket_id,
                        "status_changed",
                        step.actor,
                        at,
                        f'{{"old": "{status}", "new": "open", "reason": "assigned"}}',
                    )
                    status = S.OPEN
                updated_at = at
            elif kind == "tags":
                for tag_id in tag_ids:
                    self.ticket_tags.add((ids.take(self.ticket_tags.model), ticket_id, tag_id))
                event(ticket_id, "tags_changed", step.actor, at, json.dumps({"old": [], "new": sorted(tag_names)}))
                updated_at = at
            elif kind == "note":
                message_id = ids.take(Message)
                self.messages.add_named(
                    dict(zip(MESSAGE_COLUMNS, (
                        message_id, ticket_id, party.store_id, "note", party.platform, None, step.actor,
                        step.author_name, step.text, "", "", step.language, "{}", "n/a", "", 0, None, None, at,
                    ), strict=True))
                )  # fmt: skip
                mentioned = []
                if step.mention is not None:
                    self.mentions.add((ids.take(self.mentions.model), message_id, step.mention))
                    mentioned = [step.mention]
                event(
                    ticket_id, "note_added", step.actor, at, f'{{"message_id": {message_id}, "mentioned": {mentioned}}}'
                )
                updated_at = at
            elif kind == "reply":
                outbound_n += 1
                message_id = ids.take(Message)
                failed = rng.random() < 0.015
                error = DELIVERY_ERRORS[rng.randrange(len(DELIVERY_ERRORS))] if failed else ""
                delivered_at = at + timedelta(seconds=2 + rng.random() * 40)
                self.messages.add_named(
                    dict(zip(MESSAGE_COLUMNS, (
                        message_id, ticket_id, party.store_id, "outbound", party.platform,
                        None if failed else f"out{index}.{outbound_n}", step.actor, step.author_name, step.text, "",
                        "", step.language, "{}", "failed" if failed else "sent",
                        error,
                        3 if failed else 1, None, None if failed else delivered_at, at,
                    ), strict=True))
                )  # fmt: skip
                first_response = first_response or at
                last_message = at
                unreplied = False
                event(ticket_id, "replied", step.actor, at, f'{{"message_id": {message_id}}}')
                target = step.status or ON_AGENT_REPLY.get(status, status)
                if target != status:
                    event(ticket_id, "status_changed", step.actor, at, f'{{"old": "{status}", "new": "{target}"}}')
                    status = target
                    if STATUS_CATEGORY[target] == "resolved":
                        resolved = resolved or at
                if failed:
                    event(
                        ticket_id,
                        "reply_failed",
                        None,
                        delivered_at,
                        json.dumps({"message_id": message_id, "error": error}),
                    )
                else:
                    event(ticket_id, "reply_sent", None, delivered_at, f'{{"message_id": {message_id}}}')
                updated_at = delivered_at
            elif kind == "close":
                payload: dict[str, Any] = {"old": status, "new": step.status}
                if step.reason:
                    payload["reason"] = step.reason
                event(ticket_id, "status_changed", step.actor, at, json.dumps(payload))
                status = step.status
                resolved = resolved or at
                closed = at
                updated_at = at
        return TicketFacts(
            status=status,
            created_at=created_at,
            updated_at=updated_at,
            last_message_at=last_message,
            last_customer_message_at=last_customer,
            first_response_at=first_response,
            resolved_at=resolved,
            closed_at=closed,
            is_unreplied=unreplied,
        )
