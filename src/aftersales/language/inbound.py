"""Inbound translation of many messages at once: what `services.message_translate` does for one message
(detect its language, translate it into the agents' working languages, keep the result and where it
stands), for a batch of messages with a number of queries that does not grow with the batch.

The worker's fan-out jobs (ADR 0038) hand the batch entry point many new messages at once
(tasks.translate_inbound_messages); the single task and `message_translate` are its batch of one.

1. Reads: the messages with their tickets, customers and stores, their translation states, the
   working languages of their organizations (one query each); per organization its providers,
   routes and catalog names, per organization and language pair the glossary's terms and the
   translation memory's segments for every text of the batch (routing.Lookups).
2. No transaction is open while the providers are called (detection, masking, the providers' chain,
   one call per message and target language as before: a failure or a damaged placeholder in one
   message never sends another message to the next provider).
3. Writes, in one transaction: the tickets' detected languages (inbox.tickets_set_detected_language),
   the translations (one UPDATE for the messages whose translations or language changed, the search
   documents of their tickets rebuilt together), the memory segments' use counts, every state in one
   upsert. On SQLite the worker writes `write_items` messages per transaction (core.tasks.write_items,
   ADR 0039): the reads and translations are still done once for the whole batch.

A message whose state says it went through translation already is left alone by the inbound path
(`skip_translated`: a redelivered fan-out task calls no provider again); a pending one is retried by
`services.translations_retry_pending` on its schedule."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import TypeVar

from django.db import transaction

from aftersales.accounts.models import User
from aftersales.core.clock import now
from aftersales.core.errors import DomainError
from aftersales.inbox.models import Message, MessageDirection, Ticket
from aftersales.inbox.services import ticket_search_refresh, tickets_set_detected_language

from .detect import Detection, detect_language
from .languages import WORKING_LANGUAGES, normalise, working_code
from .models import MessageTranslationState, TranslationStatus
from .routing import Lookups, TextPlan, TranslationUnavailable, plan_text, translate_planned

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600)
MAX_ATTEMPTS = 12
STATE_FIELDS = (
    "status",
    "detected_language",
    "detection_source",
    "detection_confidence",
    "attempts",
    "next_attempt_at",
    "last_error",
    "updated_at",
)


def working_languages_of(organization_ids: Sequence[int]) -> dict[int, list[str]]:
    """The working languages of each organization's active agents ("zh-hans", "en"), in one query."""
    ids = sorted(set(organization_ids))
    found: dict[int, set[str]] = {pk: set() for pk in ids}
    if ids:
        rows = User.objects.filter(organization_id__in=ids, is_active=True).values_list("organization_id", "language")
        for organization_id, language in rows.distinct():
            found[organization_id].add(language)
    return {pk: [code for code in WORKING_LANGUAGES if code in found[pk]] or list(WORKING_LANGUAGES) for pk in ids}


@dataclass(eq=False)
class _Work:
    """One message's translation under way."""

    message: Message
    state: MessageTranslationState
    detection: Detection | None = None
    plans: list[tuple[str, TextPlan]] = field(default_factory=list)  # (target key, plan)
    results: dict[str, dict] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    transient: bool = False


def messages_translate(
    *,
    message_ids: Sequence[int],
    targets: Sequence[str] | None = None,
    skip_translated: bool = False,
    write_items: int | None = None,
) -> dict[int, MessageTranslationState]:
    """Detect the language of each message and translate it into `targets` (default: its organization's
    working languages). Never raises for a translation failure: the state says pending (retried by
    `translations_retry_pending`), partial or unsupported. `skip_translated`: a message whose state has an
    attempt already is returned as it is. `write_items`: the writes go in one transaction per that many
    messages, in order (SQLite's short worker transactions, ADR 0039), after all were read and translated.
    Messages that do not exist are left out of the answer; one whose translation crashed is logged and
    left out too (its state, created if missing, stays pending)."""
    ids = list(dict.fromkeys(message_ids))
    messages = {m.pk: m for m in Message.objects.select_related("ticket__customer", "store").filter(pk__in=ids)}
    states = {s.message_id: s for s in MessageTranslationState.objects.filter(message_id__in=list(messages))}
    out: dict[int, MessageTranslationState] = {}
    work: list[_Work] = []
    for message_id in ids:
        message = messages.get(message_id)
        if message is None:
            continue
        state = states.get(message_id) or MessageTranslationState(message=message)
        if skip_translated and state.attempts:
            out[message_id] = state
            continue
        work.append(_Work(message, state))
    wanted = {} if targets else working_languages_of([w.message.ticket.organization_id for w in work])
    lookups = Lookups()
    crashed: list[_Work] = []
    filled: dict[int, str] = {}  # customer id -> the language an earlier message of the batch gives them
    for item in work:
        try:
            _plan(item, list(targets) if targets else wanted[item.message.ticket.organization_id], lookups, filled)
        except Exception:
            logger.exception("inbound translation failed", extra={"message_id": item.message.pk})
            crashed.append(item)
    work = [w for w in work if w not in crashed]
    texts: dict[tuple[int, str, str], list[str]] = {}  # the memory's segments of every text, per pair
    for item in work:
        for _, plan in item.plans:
            texts.setdefault((plan.organization_id, plan.source, plan.target), []).extend(plan.memory_texts())
    for (organization_id, source, target), pair_texts in texts.items():
        lookups.prefetch_memory(organization_id, source, target, pair_texts)
    for item in work:
        for target_key, plan in item.plans:
            _translate(item, target_key, plan, lookups)
    size = write_items or len(work) or 1
    chunks = [work[start : start + size] for start in range(0, len(work), size)] or [[]]
    for i, chunk in enumerate(chunks):
        _write(chunk, lookups, last=i == len(chunks) - 1, crashed=crashed)
    out.update((w.message.pk, w.state) for w in work)
    return {message_id: out[message_id] for message_id in ids if message_id in out}


def _write(work: list[_Work], lookups: Lookups, *, last: bool, crashed: list[_Work]) -> None:
    """One transaction: the messages' outcomes (tickets' detected languages, translations, states); the
    batch's `last` one also writes the memory segments' use counts and the crashed messages' states."""
    with transaction.atomic():
        detected = {
            w.message.pk: w.detection.language for w in work if w.detection and w.detection.source == "detected"
        }
        # the ticket follows what the customer actually writes (filters, team scope by language)
        tickets_set_detected_language(languages=detected)
        translations_store(
            results={w.message.pk: w.results for w in work if w.detection and w.detection.language},
            languages={w.message.pk: w.detection.language for w in work if w.detection and w.detection.language},
        )
        if last:
            lookups.count_memory_uses()
        for item in work:
            _set_state(item.state, *_outcome(item))
        _states_save([w.state for w in work])
        if last:
            missing = [MessageTranslationState(message=w.message) for w in crashed if w.state.pk is None]
            MessageTranslationState.objects.bulk_create(missing, ignore_conflicts=True)


def _plan(item: _Work, wanted: list[str], lookups: Lookups, filled: dict[int, str]) -> None:
    """Detect the message's language and mask its text for each target language. `filled`: the customers'
    preferred languages the batch's earlier messages fill in (inbox.tickets_set_detected_language writes
    them later), which a message translated after them alone would find (a short message falls back to it)."""
    message = item.message
    if not message.body.strip():
        return
    customer = message.ticket.customer
    item.detection = detection = detect_language(
        message.body,
        customer_language=message.language or customer.preferred_language or filled.get(customer.pk, ""),
        store_language=message.store.default_language,
    )
    if detection.source == "detected" and message.direction == MessageDirection.INBOUND:
        filled.setdefault(customer.pk, customer.preferred_language or detection.language)
    state = item.state
    state.detected_language = detection.language
    state.detection_source = detection.source
    state.detection_confidence = detection.confidence
    if not detection.language:
        return
    for key in wanted:
        if normalise(key) == detection.language:
            continue
        plan = _guarded(
            item,
            partial(
                plan_text,
                organization_id=message.ticket.organization_id,
                text=message.body,
                source=detection.language,
                target=normalise(key),
                lookups=lookups,
            ),
        )
        if plan is not None:
            item.plans.append((key, plan))


def _translate(item: _Work, key: str, plan: TextPlan, lookups: Lookups) -> None:
    result = _guarded(item, partial(translate_planned, plan, lookups))
    if result is not None:
        item.results[working_code(key)] = result.as_json(now().isoformat())


def _guarded(item: _Work, call: Callable[[], T]) -> T | None:
    """`call()`, its failure recorded on the message's translation (None): worth retrying or not."""
    try:
        return call()
    except TranslationUnavailable as exc:
        item.transient = True
        item.errors.append(exc.message)
    except DomainError as exc:
        item.errors.append(exc.message)
    except Exception as exc:  # an engine crash must not lose the message
        logger.exception("translation crashed", extra={"message_id": item.message.pk})
        item.transient = True
        item.errors.append(f"internal error: {exc}")
    return None


def _outcome(item: _Work) -> tuple[str, str]:
    """(status, error) of a message's translation."""
    if not item.message.body.strip():
        return TranslationStatus.SKIPPED, ""
    if item.detection is None or not item.detection.language:
        return TranslationStatus.UNSUPPORTED, "the language could not be detected"
    if not item.errors:
        status = TranslationStatus.DONE
    elif item.transient:
        status = TranslationStatus.PENDING
    else:
        status = TranslationStatus.PARTIAL if item.results else TranslationStatus.UNSUPPORTED
    return status, "; ".join(item.errors)


def _set_state(state: MessageTranslationState, status: str, error: str) -> MessageTranslationState:
    """A translation attempt's outcome on its state (not saved)."""
    state.status = status
    state.last_error = error[:2000]
    state.attempts += 1
    if status == TranslationStatus.PENDING and state.attempts < MAX_ATTEMPTS:
        delay = RETRY_DELAYS[min(state.attempts - 1, len(RETRY_DELAYS) - 1)]
        state.next_attempt_at = now() + timedelta(seconds=delay)
    else:
        state.next_attempt_at = None
    return state


def _states_save(states: list[MessageTranslationState]) -> None:
    """Insert or update the states in one statement (the message is the key: a state another worker
    inserted meanwhile is updated)."""
    if not states:
        return
    rows = [
        MessageTranslationState(message_id=s.message_id, **{name: getattr(s, name) for name in STATE_FIELDS})
        for s in states
    ]
    MessageTranslationState.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["message"], update_fields=list(STATE_FIELDS)
    )
    for state, row in zip(states, rows, strict=True):
        state.updated_at = row.updated_at
        if state.pk is None:
            state.pk = row.pk


def translations_store(*, results: Mapping[int, dict[str, dict]], languages: Mapping[int, str] | None = None) -> None:
    """Merge translations into messages (message id -> {working code: translation}) and set their detected
    language (`languages`), in the caller's transaction or its own. The tickets are locked before the
    messages: the order in which every writer locks (a merge locks both tickets, then moves their messages),
    so that storing a translation cannot deadlock with it. Agents search in their own language too: the
    search documents of the tickets whose messages' translations changed are rebuilt."""
    languages = languages or {}
    ids = sorted(set(results) | set(languages))
    if not ids:
        return
    with transaction.atomic(savepoint=False):  # the caller's transaction, or its own
        ticket_ids = Message.objects.filter(pk__in=ids).values("ticket_id")
        list(Ticket.objects.select_for_update().filter(pk__in=ticket_ids).order_by("pk").values_list("pk", flat=True))
        current = Message.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        changed: list[Message] = []
        refresh: set[int] = set()
        for pk, ticket_id, translations, language in current.values_list("pk", "ticket_id", "translations", "language"):
            merged = {**(translations or {}), **results.get(pk, {})}
            new_language = languages.get(pk) or language
            if merged != translations:
                refresh.add(ticket_id)
            elif new_language == language:
                continue
            changed.append(Message(pk=pk, translations=merged, language=new_language))
        Message.objects.bulk_update(changed, ["translations", "language"])
        if refresh:
            ticket_search_refresh(ticket_ids=refresh)
