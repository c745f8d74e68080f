"""Triage's writes: classify an inbound message (worker), and the API's classify-a-batch request
(the web process writes the request and waits; the worker, which holds the models, answers)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError, ValidationFailed
from aftersales.core.events import publish_many

from .events import MessageTriaged
from .models import ClassificationRequest, LLMConnectionTest, LLMProviderSettings, TriageResult, TriageSettings
from .selectors import (
    inbound_message_of,
    llm_calibration_points,
    llm_provider_of,
    triage_settings_of,
    uncalibrated_threshold,
)

ACTOR = Actor.system("triage")
logger = logging.getLogger(__name__)
_classification_runner: Callable[[int], Any] | None = None


def register_classification_runner(runner: Callable[[int], Any]) -> None:
    """subscribers.py registers how a classify request reaches the worker (a Huey task)."""
    global _classification_runner
    _classification_runner = runner


MAX_BATCH = 100
MAX_TEXT = 10_000


class TriageUnavailable(DomainError):
    """The worker did not answer in time (503: try again)."""

    status_code = 503
    code = "triage_unavailable"


def order_for_entities(*, organization_id: int, entities: list[dict[str, Any]]) -> Any:
    """The organization's order an extracted order number names (Shopify's "#1043" also as "1043").
    (The batch of one of `orders_for_entities`.)"""
    return orders_for_entities(items=[(organization_id, entities)])[0]


def orders_for_entities(*, items: Sequence[tuple[int, list[dict[str, Any]]]]) -> list[Any]:
    """`order_for_entities` for many (organization id, entities) items, in one query for them all: for each
    item, the order named by its first order number that names one (the oldest order of that number)."""
    from aftersales.catalog.models import Order

    wanted: dict[int, set[str]] = {}
    for organization_id, entities in items:
        for entity in entities:
            if entity["type"] == "order_number":
                wanted.setdefault(organization_id, set()).update({entity["value"], entity["value"].lstrip("#")})
    found: dict[tuple[int, str], Any] = {}
    if wanted:
        named = models.Q()
        for organization_id, values in sorted(wanted.items()):
            named |= models.Q(organization_id=organization_id, external_id__in=sorted(values))
        for row in Order.objects.filter(named).order_by("pk"):
            found.setdefault((row.organization_id, row.external_id), row)
    out: list[Any] = []
    for organization_id, entities in items:
        order: Any = None
        for entity in entities:
            if entity["type"] != "order_number":
                continue
            matches = [found.get((organization_id, v)) for v in (entity["value"], entity["value"].lstrip("#"))]
            hits = [m for m in matches if m is not None]
            if hits:
                order = min(hits, key=lambda o: o.pk)
                break
        out.append(order)
    return out


def message_triage(*, message_id: int, force: bool = False) -> TriageResult | None:
    """Classify an inbound message and keep the result (one row per message). Idempotent: a message
    already classified by the current model version is left alone unless `force`. Loads the models:
    call it from the worker. (The batch of one of `messages_triage`.)"""
    return messages_triage(message_ids=[message_id], force=force)[message_id]


def messages_triage(
    *, message_ids: Sequence[int], force: bool = False, write_items: int | None = None
) -> dict[int, TriageResult | None]:
    """`message_triage` for a batch (the worker's fan-out jobs of many messages: core/tasks.py): what it
    would do for each message, with one read of the messages and their results, one model call per
    organization (classify_in_organization) and one transaction that writes every result and publishes
    each MessageTriaged; with `write_items`, one such transaction per `write_items` messages (SQLite's
    short worker transactions, ADR 0039), in order. Returns the result per message id (None: not an
    inbound message)."""
    from aftersales.inbox.models import Message, MessageDirection

    from .artifacts import get_bundle
    from .decide import Context

    ids = list(dict.fromkeys(message_ids))
    found = {m.pk: m for m in Message.objects.select_related("ticket").filter(pk__in=ids)}
    bundle = get_bundle()
    existing = {r.message_id: r for r in TriageResult.objects.filter(message_id__in=ids)} if found else {}
    out: dict[int, TriageResult | None] = dict.fromkeys(ids)
    todo: dict[int, list[Any]] = {}  # organization id -> its messages to classify
    for message_id in ids:
        message = found.get(message_id)
        if message is None or message.direction != MessageDirection.INBOUND:
            continue
        result = existing.get(message_id)
        if result is not None and result.model_version == bundle.version and not force:
            out[message_id] = result
            continue
        todo.setdefault(message.ticket.organization_id, []).append(message)
    if not todo:
        return out
    answered: list[tuple[int, Any, Any, str]] = []  # (organization id, message, model output, note)
    for organization_id, messages in todo.items():
        answers = classify_in_organization(
            organization_id=organization_id,
            texts=[m.body for m in messages],
            languages=[m.language or None for m in messages],
            contexts=[Context(customer_tier=m.ticket.customer_tier, platform=m.ticket.platform) for m in messages],
            attempts=None,
        )
        answered += [(organization_id, m, output, note) for m, (output, note) in zip(messages, answers, strict=True)]
    entities_of = {message.pk: [e.as_dict() for e in output.entities] for _, message, output, _ in answered}
    orders = orders_for_entities(items=[(org_id, entities_of[message.pk]) for org_id, message, _, _ in answered])
    fields: dict[int, dict[str, Any]] = {}
    for (organization_id, message, output, note), order in zip(answered, orders, strict=True):
        fields[message.pk] = {
            "organization_id": organization_id,
            "intent": output.intent,
            "confidence": output.confidence,
            "urgency": output.urgency,
            "sentiment": output.sentiment,
            "needs_human": output.needs_human,
            "reasons": list(output.reasons),
            "entities": entities_of[message.pk],
            "alternatives": [{"intent": i, "probability": p} for i, p in output.alternatives],
            "language": output.language,
            "order": order,
            "model_version": output.model_version,
            "engine": output.engine[:120],
            "engine_note": note[:300],
        }
    ordered = list(fields.items())
    size = write_items or len(ordered)
    for start in range(0, len(ordered), size):
        out.update(_triage_results_write(dict(ordered[start : start + size]), found))
    return out


def _triage_results_write(fields: dict[int, dict[str, Any]], found: dict[int, Any]) -> dict[int, TriageResult]:
    """One transaction: each message's result written (created, or its row locked and updated) and its
    MessageTriaged published, in the order given."""
    with transaction.atomic():
        # (the rows read above may have changed meanwhile: locked and read again, as update_or_create does)
        current = {r.message_id: r for r in TriageResult.objects.select_for_update().filter(message_id__in=fields)}
        new = [
            TriageResult(message_id=message_id, **values)
            for message_id, values in fields.items()
            if message_id not in current
        ]
        TriageResult.objects.bulk_create(new)
        written = {r.message_id: r for r in new}
        for message_id, result in current.items():
            for name, value in fields[message_id].items():
                setattr(result, name, value)
            result.save()
            written[message_id] = result
        published = []
        out: dict[int, TriageResult] = {}
        for message_id in fields:  # (in the order the messages were given)
            result = written[message_id]
            ticket = found[message_id].ticket
            out[message_id] = result
            published.append(
                MessageTriaged(
                    message_id=message_id,
                    ticket_id=ticket.pk,
                    organization_id=ticket.organization_id,
                    intent=result.intent,
                    urgency=result.urgency,
                    needs_human=result.needs_human,
                    actor=ACTOR,
                )
            )
        publish_many(published)
    return out


def _llm_quota_take(row: LLMProviderSettings) -> str:
    """Count one call against the organization's per-minute and per-day limits (the cache's atomic
    counters); "" when within them, else why not."""
    from django.core.cache import cache

    now = int(time.time())
    for span, seconds, limit in (("minute", 60, row.max_per_minute), ("day", 86400, row.max_per_day)):
        key = f"triage-llm:{row.organization_id}:{span}:{now // seconds}"
        cache.add(key, 0, timeout=seconds * 2)
        if cache.incr(key) > limit:
            return f"limit of {limit} messages per {span} reached"
    return ""


BATCH_SECONDS = 20.0  # TRIAGE_LLM_BATCH_SECONDS: how much longer the API waits when the provider classifies
BATCH_CONCURRENCY = 4  # TRIAGE_LLM_BATCH_CONCURRENCY: requests in flight for one batch


def _provider_config(row: LLMProviderSettings, *, switched_off_too: bool = False) -> Any:
    """The row's llm.ProviderConfig, or None when nothing may be sent (off, incomplete, no field).
    `switched_off_too`: also when it is off or decides no field (calibration asks before it is on)."""
    from . import llm

    fields = llm.allowed_fields(row.fields or ())
    if not (row.base_url and row.model):
        return None
    if not switched_off_too and not (row.is_enabled and fields):
        return None
    return llm.ProviderConfig(
        base_url=row.base_url,
        model=row.model,
        api_key=str((row.credentials or {}).get("api_key") or ""),
        timeout=row.timeout_seconds,
        fields=fields,
    )


def _with_answer(
    *, row: LLMProviderSettings, config: Any, output: Any, text: str, answer: Any, context: Any
) -> tuple[Any, str]:
    """The provider's answer merged into the local output: its confidence mapped through the
    calibration (the message language's own map when it had enough calibration answers, else the
    global one), or, uncalibrated, compared with the stricter threshold; then the same rules.
    Returns (output, note): the note says which calibration was used (kept as engine_note)."""
    from . import llm
    from .artifacts import get_bundle
    from .decide import Labels, with_provider_labels

    threshold = get_bundle().threshold
    confidence = answer.confidence
    if llm_calibration_points(row):
        points, which = calibration_points_for(row.calibration, output.language)
        confidence = llm.calibrated(answer.confidence, points)
        own = f"the language's own map ({which})"
        note = f"LLM confidence calibrated with {own if which != 'global' else 'the global map (all languages)'}"
    else:
        note = "LLM confidence not calibrated"
        if "intent" in config.fields:
            threshold = max(threshold, uncalibrated_threshold())
            note += f": its intent needs {threshold:.2f} to act without a human"
    labels = Labels(answer.intent, confidence, answer.urgency, answer.sentiment)
    merged = with_provider_labels(
        output, text, labels, fields=config.fields, context=context, threshold=threshold, engine=f"llm:{row.model}"
    )
    return merged, note


def classify_in_organization(
    *,
    organization_id: int,
    texts: list[str],
    languages: list[str | None],
    contexts: list[Any],
    within: float | None = None,
    attempts: int | None = 2,
) -> list[tuple[Any, str]]:
    """The one classification path of a stored message (message_triage) and of the API's batch
    (classification_request_run): the local models with each text's context (customer tier: the
    VIP rule), then the organization's LLM provider when it is on, merged with the same rules and
    the same context. One (output, note) per text. `attempts` None: the provider's default retries
    (a stored message); the API's batch allows 2 within `within` seconds. Worker only."""
    from .classify import classify_texts

    deadline = time.monotonic() + within if within is not None else None  # the local models' time counts
    outputs = classify_texts(texts, languages=languages, contexts=contexts)
    return with_llm_provider_many(
        organization_id=organization_id,
        texts=texts,
        outputs=outputs,
        contexts=contexts,
        within=deadline - time.monotonic() if deadline is not None else None,
        attempts=attempts,
    )


def with_llm_provider_many(
    *,
    organization_id: int,
    texts: list[str],
    outputs: list[Any],
    within: float | None,
    contexts: list[Any] | None = None,
    attempts: int | None = 2,
) -> list[tuple[Any, str]]:
    """A batch through the organization's LLM provider (bounded concurrency, each answer validated on
    its own, every message counted against the limits): one (output, note) per message, the local
    output with the reason for each message whose answer was invalid, failed, over a limit or not
    back within `within` seconds. Nothing is sent when the provider is off. `contexts` (one per text):
    what the rules know beside the text (the customer's tier), as on the local path."""
    from . import llm

    row = llm_provider_of(organization_id)
    config = _provider_config(row)
    if config is None:
        return [(output, "") for output in outputs]
    results: list[tuple[Any, str]] = [(output, "") for output in outputs]
    asked: list[int] = []
    for i, output in enumerate(outputs):
        refused = _llm_quota_take(row)
        if refused:
            results[i] = (output, f"LLM not asked: {refused}")
        else:
            asked.append(i)
    if not asked:
        return results
    concurrency = int(getattr(settings, "TRIAGE_LLM_BATCH_CONCURRENCY", BATCH_CONCURRENCY))
    answers = llm.classify_many(
        config,
        [(texts[i], outputs[i].language) for i in asked],
        concurrency=concurrency,
        within=max(within, 0.0) if within is not None else None,
        attempts=attempts if attempts is not None else llm.MAX_ATTEMPTS,
    )
    failures: list[str] = []
    for i, answer in zip(asked, answers, strict=True):
        if isinstance(answer, llm.LLMError):
            note = f"LLM answer not used ({answer.kind}): {answer}"[:300]
            failures.append(note)
            results[i] = (outputs[i], note)
        else:
            context = contexts[i] if contexts is not None else None
            results[i] = _with_answer(
                row=row, config=config, output=outputs[i], text=texts[i], answer=answer, context=context
            )
    if failures:
        logger.warning(
            "triage LLM provider of organization %s: %d of %d answers in a batch not used, e.g. %s",
            organization_id,
            len(failures),
            len(asked),
            failures[0],
        )
        LLMProviderSettings.objects.filter(pk=organization_id).update(
            last_error=failures[-1], last_error_at=timezone.now()
        )
    return results


@dataclass(frozen=True)
class ClassifyItem:
    """One text of the API's batch. The customer (their id in the caller's organization, or only a
    tier) makes the same rules apply as for a stored message of theirs (a VIP's problem is more urgent).
    `field` is how the API names the item in errors (texts[3] or, for a single text, "")."""

    text: str
    language: str = ""
    customer_id: int | None = None
    customer_tier: str = ""
    field: str | None = None


def _item_field(item: ClassifyItem, i: int, name: str) -> str:
    prefix = item.field if item.field is not None else f"texts[{i}]"
    return f"{prefix}.{name}" if prefix else name


def _customer_tiers(organization_id: int, items: list[ClassifyItem]) -> list[str]:
    """Each item's customer tier: the tier given, or the tier of the customer whose id is given (in the
    organization: another organization's customer is as unknown as a missing one, 422 naming the
    field), "" when neither."""
    from aftersales.catalog.models import Customer, CustomerTier

    ids = {item.customer_id for item in items if item.customer_id is not None}
    known = (
        dict(Customer.objects.filter(organization_id=organization_id, pk__in=ids).values_list("pk", "tier"))
        if ids
        else {}
    )
    tiers = []
    for i, item in enumerate(items):
        if item.customer_id is not None and item.customer_tier:
            raise ValidationFailed(
                _("give customer_id or customer_tier, not both"), field=_item_field(item, i, "customer_tier")
            )
        if item.customer_tier and item.customer_tier not in CustomerTier.values:
            raise ValidationFailed(
                _("unknown customer tier %(tier)r") % {"tier": item.customer_tier},
                field=_item_field(item, i, "customer_tier"),
            )
        if item.customer_id is not None and item.customer_id not in known:
            raise ValidationFailed(_("no such customer"), field=_item_field(item, i, "customer_id"))
        tiers.append(known[item.customer_id] if item.customer_id is not None else item.customer_tier)
    return tiers


def check_classify_items(items: list[ClassifyItem], *, organization_id: int) -> list[dict[str, str]]:
    from aftersales.language.languages import SUPPORTED, normalise

    if not items:
        raise ValidationFailed(_("give at least one text"), field="texts")
    if len(items) > MAX_BATCH:
        raise ValidationFailed(_("at most %(count)d texts at once") % {"count": MAX_BATCH}, field="texts")
    clean = []
    for i, item in enumerate(items):
        if not item.text.strip():
            raise ValidationFailed(_("the text is empty"), field=_item_field(item, i, "text"))
        if len(item.text) > MAX_TEXT:
            raise ValidationFailed(
                _("at most %(count)d characters") % {"count": MAX_TEXT}, field=_item_field(item, i, "text")
            )
        language = normalise(item.language)
        if language and language not in SUPPORTED:
            raise ValidationFailed(
                _("unsupported language %(language)r") % {"language": item.language},
                field=_item_field(item, i, "language"),
            )
        clean.append({"text": item.text, "language": language})
    for row, tier in zip(clean, _customer_tiers(organization_id, items), strict=True):
        if tier:
            row["customer_tier"] = tier
    return clean


def classify_via_worker(*, user: Any, items: list[ClassifyItem], timeout: float | None = None) -> list[dict[str, Any]]:
    """Classify a batch for the API without loading models in this (web) process: write the request,
    let the worker answer, wait for it (TRIAGE_API_TIMEOUT seconds, default 10). Raises
    TriageUnavailable when the worker did not answer in time."""
    check_perm(user, Permission.VIEW)
    organization_id = organization_of(user)
    clean = check_classify_items(items, organization_id=organization_id)
    request = ClassificationRequest.objects.create(organization_id=organization_id, items=clean)
    if _classification_runner is None:
        raise TriageUnavailable(_("the triage worker is not configured"))
    _classification_runner(request.pk)  # enqueue; Huey's immediate mode (tests) runs it right here
    limit = timeout if timeout is not None else classification_wait(organization_id)
    deadline = time.monotonic() + limit
    delay = 0.02
    while True:
        row = ClassificationRequest.objects.filter(pk=request.pk).values("results", "error", "finished_at").first()
        if row is not None and row["finished_at"] is not None:
            if row["error"] or row["results"] is None:
                raise TriageUnavailable(
                    _("the triage worker could not classify: %(error)s") % {"error": row["error"] or "-"}
                )
            return list(row["results"])
        if time.monotonic() >= deadline:
            raise TriageUnavailable(_("the triage worker did not answer in time, try again"))
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def classification_wait(organization_id: int) -> float:
    """How long the API waits for a batch: TRIAGE_API_TIMEOUT (default 10 s), plus
    TRIAGE_LLM_BATCH_SECONDS (default 20 s) when the organization's LLM provider classifies."""
    wait = float(getattr(settings, "TRIAGE_API_TIMEOUT", 10.0))
    if _provider_config(llm_provider_of(organization_id)) is not None:
        wait += float(getattr(settings, "TRIAGE_LLM_BATCH_SECONDS", BATCH_SECONDS))
    return wait


def classification_request_run(*, request_id: int) -> bool:
    """Worker side of classify_via_worker: the local models classify the batch, then the
    organization's LLM provider when it is on (with_llm_provider_many, within what is left of the
    API's wait, less a margin). Claims the request with a conditional update, so running it twice
    classifies once. Returns whether this call did the work."""
    from .decide import Context

    request = ClassificationRequest.objects.filter(pk=request_id, finished_at__isnull=True).first()
    if request is None:
        return False
    items = request.items
    try:
        texts = [i["text"] for i in items]
        elapsed = (timezone.now() - request.created_at).total_seconds()
        decided = classify_in_organization(
            organization_id=request.organization_id,
            texts=texts,
            languages=[i.get("language") or None for i in items],
            contexts=[Context(customer_tier=i.get("customer_tier", "")) for i in items],
            within=classification_wait(request.organization_id) - elapsed - 1.5,
        )
        results: list[dict[str, Any]] | None = [{**o.as_dict(), "engine_note": note} for o, note in decided]
        error = ""
    except Exception as exc:  # recorded for the waiting request, which answers 503
        results, error = None, f"{type(exc).__name__}: {exc}"[:500]
    claimed = ClassificationRequest.objects.filter(pk=request_id, finished_at__isnull=True).update(
        results=results, error=error, finished_at=timezone.now()
    )
    return bool(claimed)


def classification_requests_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    deleted, _ = ClassificationRequest.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# --------------------------------------------------------------------------- acting on the ticket


def _set_by_someone(ticket_id: int, event_type: str) -> bool:
    """Whether a user or a rule (not triage itself, nor a migration's system row) ever set this field."""
    from aftersales.inbox.models import TicketEvent

    return TicketEvent.objects.filter(ticket_id=ticket_id, type=event_type, actor_kind__in=SET_BY_SOMEONE).exists()


SET_BY_SOMEONE = ("user", "rule")  # the actor kinds whose change of a field triage respects


def _triage_changes_of(
    *,
    result: TriageResult,
    ticket: Any,
    apply_results: bool,
    latest_inbound: Callable[[], int | None],
    set_by_someone: Callable[[str], bool],
) -> tuple[Any, bool] | None:
    """What applying `result` (a message's triage) would change on `ticket`: (the urgency and category
    changes, whether to link the order it names), or None when nothing. `latest_inbound` and
    `set_by_someone` read what they say (only when needed): one query each alone, a batch's reads in
    `triage_results_apply_batch`. The decision of `triage_result_apply` (triage/apply.py says what)."""
    from aftersales.inbox.models import TicketEventType
    from aftersales.inbox.workflow import TicketStatus

    from .apply import triage_changes

    if not apply_results:
        return None
    if ticket.status == TicketStatus.CLOSED or ticket.merged_into_id is not None:
        return None
    if latest_inbound() != result.message_id:
        return None
    changes = triage_changes(
        intent=result.intent,
        urgency=result.urgency,
        reasons=result.reasons or [],
        ticket_urgency=ticket.urgency,
        ticket_category=ticket.category,
        urgency_set_by_someone=set_by_someone(TicketEventType.URGENCY_CHANGED),
        category_set_by_someone=set_by_someone(TicketEventType.CATEGORY_CHANGED),
    )
    link_order = (
        ticket.order_id is None and result.order is not None and result.order.organization_id == ticket.organization_id
    )
    if changes.empty and not link_order:
        return None
    return changes, link_order


def triage_result_apply(*, message_id: int) -> Any:
    """Apply a message's triage to its ticket (triage/apply.py says what), as Actor.system("triage"),
    through inbox.services.ticket_update. Only the ticket's latest inbound message acts (an older one
    classified again says nothing new); closed or merged tickets and organizations that turned
    "triage applies its results" off are left alone. Idempotent: applying twice changes nothing more.
    Returns the ticket, or None when nothing was applied."""
    from aftersales.inbox.services import ticket_update

    result = TriageResult.objects.select_related("message__ticket", "order").filter(message_id=message_id).first()
    if result is None:
        return None
    ticket = result.message.ticket
    decided = _triage_changes_of(
        result=result,
        ticket=ticket,
        apply_results=triage_settings_of(ticket.organization_id).apply_results,
        latest_inbound=lambda: inbound_message_of(ticket.pk, latest=True),
        set_by_someone=lambda event_type: _set_by_someone(ticket.pk, event_type),
    )
    if decided is None:
        return None
    changes, link_order = decided
    extra: dict[str, Any] = {"order": result.order} if link_order else {}
    return ticket_update(
        ticket=ticket,
        actor=ACTOR,
        urgency=changes.urgency,
        category=changes.category,
        reason=f"triage: {result.intent} ({result.confidence:.2f}), message {message_id}",
        **extra,
    )


@dataclass(frozen=True)
class TriagedMessagesRead:
    """What `triage_results_apply_batch` reads for a batch of triaged messages, in a fixed number of
    queries: their results (with message, ticket and named order), their organizations' switches, and per
    ticket its first and latest inbound message and whether a user or a rule ever set its urgency or
    category."""

    results: dict[int, TriageResult]
    settings: dict[int, TriageSettings]
    first_inbound: dict[int, int | None]
    latest_inbound: dict[int, int | None]
    set_by_someone: dict[int, frozenset[str]]


def triaged_messages_read(*, message_ids: Sequence[int]) -> TriagedMessagesRead:
    from django.db.models import Exists, OuterRef, Subquery

    from aftersales.inbox.models import Message, MessageDirection, Ticket, TicketEvent, TicketEventType

    from .selectors import triage_settings_of_many

    results = {
        r.message_id: r
        for r in TriageResult.objects.select_related("message__ticket", "order").filter(message_id__in=message_ids)
    }
    tickets = {r.message.ticket for r in results.values()}
    switches = triage_settings_of_many(sorted({t.organization_id for t in tickets}))
    first: dict[int, int | None] = {}
    latest: dict[int, int | None] = {}
    set_by: dict[int, frozenset[str]] = {}
    if any(s.apply_results or s.auto_route for s in switches.values()):
        inbound = Message.objects.filter(ticket=OuterRef("pk"), direction=MessageDirection.INBOUND)
        someone = TicketEvent.objects.filter(ticket=OuterRef("pk"), actor_kind__in=SET_BY_SOMEONE)
        fields = (TicketEventType.URGENCY_CHANGED, TicketEventType.CATEGORY_CHANGED)
        rows = (
            Ticket.objects.filter(pk__in=sorted(t.pk for t in tickets))
            .annotate(
                first_inbound=Subquery(inbound.order_by("created_at", "id").values("pk")[:1]),
                latest_inbound=Subquery(inbound.order_by("-created_at", "-id").values("pk")[:1]),
                **{f"set_{i}": Exists(someone.filter(type=event_type)) for i, event_type in enumerate(fields)},
            )
            .values_list("pk", "first_inbound", "latest_inbound", "set_0", "set_1")
        )
        for ticket_id, first_id, latest_id, *flags in rows:
            first[ticket_id], latest[ticket_id] = first_id, latest_id
            set_by[ticket_id] = frozenset(str(f) for f, on in zip(fields, flags, strict=True) if on)
    return TriagedMessagesRead(results, switches, first, latest, set_by)


def triage_results_apply_batch(*, message_ids: Sequence[int]) -> list[int]:
    """What the worker's `apply_triage` job does (`triage_result_apply`, then routing's `ticket_route_new`),
    for a batch of messages, in their order, with the same outcome as one job at a time: the batch's facts
    are read once (`triaged_messages_read`: 3 queries instead of up to 7 per message), and a message for
    which they say that applying or routing would change something goes through those same functions (which
    read again, then write, exactly as the job alone). The others, which they would leave alone, cost no
    query. A ticket one of these writes touched is not decided from the batch's reads again: its later
    messages go through both functions. Returns the messages that failed (each raised: the others went on)."""
    read = triaged_messages_read(message_ids=message_ids)
    touched: set[int] = set()
    failed: list[int] = []
    for message_id in message_ids:
        result = read.results.get(message_id)
        ticket_id = result.message.ticket_id if result is not None else None
        try:
            wrote = _apply_triage_one(message_id, read if ticket_id not in touched else None)
        except Exception:
            logger.warning("apply_triage failed in a batch", exc_info=True, extra={"message_id": message_id})
            failed.append(message_id)
            wrote = True  # (it may have written part of its work)
        if wrote and ticket_id is not None:
            touched.add(ticket_id)
    return failed


def _apply_triage_one(message_id: int, read: TriagedMessagesRead | None) -> bool:
    """The apply_triage job for one message of a batch, deciding from the batch's reads `read` whether it
    has anything to do (None: as the job alone, each function reading for itself). Returns whether it
    wrote (or may have)."""
    from . import routing

    result = read.results.get(message_id) if read is not None else None
    if read is None or result is None:  # (no result: nothing to apply; routing reads the message itself)
        applied = triage_result_apply(message_id=message_id)
        return applied is not None or routing.ticket_route_new(message_id=message_id) is not None
    ticket = result.message.ticket
    switches = read.settings[ticket.organization_id]

    def set_by_someone(event_type: str) -> bool:
        return event_type in read.set_by_someone[ticket.pk]

    applied = None
    if _triage_changes_of(
        result=result,
        ticket=ticket,
        apply_results=switches.apply_results,
        latest_inbound=lambda: read.latest_inbound[ticket.pk],
        set_by_someone=set_by_someone,
    ):
        applied = triage_result_apply(message_id=message_id)  # (reads again: the job's own outcome)
    if applied is not None or routing.route_new_wanted(
        ticket=ticket,
        message_id=message_id,
        auto_route=switches.auto_route,
        first_inbound=lambda: read.first_inbound[ticket.pk],
    ):
        return routing.ticket_route_new(message_id=message_id) is not None or applied is not None
    return False


def triage_settings_update(
    *, user: Any, apply_results: bool | None = None, auto_route: bool | None = None
) -> TriageSettings:
    """Change the organization's triage and routing switches (administrators); None leaves one as is."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    with transaction.atomic():
        row, _created = TriageSettings.objects.select_for_update().get_or_create(organization_id=organization_id)
        if apply_results is not None:
            row.apply_results = bool(apply_results)
        if auto_route is not None:
            row.auto_route = bool(auto_route)
        setting_audit(row, ("apply_results", "auto_route"), actor=user, setting="triage")
        row.save()
    return row


LLM_MAX_TIMEOUT = 60.0
# What the settings audit (accounts.audit) records of the LLM provider (its key as a secret).
LLM_AUDIT_FIELDS = (
    "is_enabled",
    "base_url",
    "model",
    "credentials",
    "timeout_seconds",
    "fields",
    "max_per_minute",
    "max_per_day",
)


def llm_provider_update(
    *,
    user: Any,
    is_enabled: bool | None = None,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout_seconds: float | None = None,
    fields: list[str] | None = None,
    max_per_minute: int | None = None,
    max_per_day: int | None = None,
) -> LLMProviderSettings:
    """Change the organization's LLM classification provider (administrators); None keeps a value,
    an empty api_key removes the stored key. The base URL is checked like a webhook's (https, no
    credentials, no private address unless the installation allows it: TRIAGE_LLM_ALLOWED_NETWORKS,
    TRIAGE_LLM_ALLOW_HTTP). Turning it on needs a base URL, a model and at least one field."""
    from . import llm

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean_url = _check_provider_values(base_url=base_url, model=model, api_key=api_key, timeout_seconds=timeout_seconds)
    if fields is not None:
        unknown = [f for f in fields if f not in llm.FIELDS]
        if unknown:
            raise ValidationFailed(
                _("unknown field %(field)r; expected some of %(fields)s")
                % {"field": unknown[0], "fields": ", ".join(llm.FIELDS)},
                field="fields",
            )
    for name, value in (("max_per_minute", max_per_minute), ("max_per_day", max_per_day)):
        if value is not None and not 0 <= value <= 1_000_000:
            raise ValidationFailed(_("between 0 and 1000000"), field=name)
    with transaction.atomic():
        row, _created = LLMProviderSettings.objects.select_for_update().get_or_create(
            organization_id=organization_id, defaults={"fields": list(llm.FIELDS)}
        )
        before = (row.base_url, row.model)
        if base_url is not None:
            row.base_url = clean_url or ""
        if model is not None:
            row.model = model.strip()
        if (row.base_url, row.model) != before:  # a calibration belongs to one server and model
            row.calibration, row.calibrated_at, row.calibration_error = {}, None, ""
        if api_key is not None:
            row.credentials = {"api_key": api_key.strip()} if api_key.strip() else {}
        if timeout_seconds is not None:
            row.timeout_seconds = float(timeout_seconds)
        if fields is not None:
            row.fields = list(llm.allowed_fields(fields))
        if max_per_minute is not None:
            row.max_per_minute = max_per_minute
        if max_per_day is not None:
            row.max_per_day = max_per_day
        if is_enabled is not None:
            row.is_enabled = bool(is_enabled)
        if row.is_enabled:
            for name, missing in (("base_url", not row.base_url), ("model", not row.model), ("fields", not row.fields)):
                if missing:
                    raise ValidationFailed(_("needed to turn the LLM provider on"), field=name)
        setting_audit(row, LLM_AUDIT_FIELDS, actor=user, setting="llm_provider", secret=("credentials",))
        row.save()
    return row


def _check_provider_values(
    *, base_url: str | None, model: str | None, api_key: str | None, timeout_seconds: float | None
) -> str | None:
    """Checks of the connection values (saving them, or testing them unsaved). Returns the clean base
    URL (None when none was given). The base URL is checked like a webhook's."""
    from aftersales.notifications.webhooks import check_webhook_url

    from . import llm

    clean_url = None
    if base_url is not None and base_url.strip():
        if len(base_url.strip()) > 300:
            raise ValidationFailed(_("at most %(count)d characters") % {"count": 300}, field="base_url")
        clean_url = check_webhook_url(
            base_url, field="base_url", networks=llm.ALLOWED_NETWORKS_SETTING, allow_http=llm.ALLOW_HTTP_SETTING
        )
    if model is not None and (len(model.strip()) > 120 or not model.strip().isprintable()):
        raise ValidationFailed(_("a model name of at most 120 printable characters"), field="model")
    if api_key is not None and (len(api_key) > 500 or any(ch.isspace() for ch in api_key.strip())):
        raise ValidationFailed(_("an API key of at most 500 characters without spaces"), field="api_key")
    if timeout_seconds is not None and not 1 <= timeout_seconds <= LLM_MAX_TIMEOUT:
        raise ValidationFailed(
            _("between %(low)s and %(high)s seconds") % {"low": 1, "high": int(LLM_MAX_TIMEOUT)},
            field="timeout_seconds",
        )
    return clean_url


# --------------------------------------------------------------------------- testing the connection

CONNECTION_TEST_TEXT = "Hello, my parcel has not arrived yet. Where is it?"
CONNECTION_TEST_MAX_TIMEOUT = 20.0


@dataclass(frozen=True)
class ConnectionTest:
    """What one tiny classification sent to the provider showed. `error_kind` (empty when ok): auth,
    timeout, tls, invalid_answer (the answer does not follow the schema), unavailable, refused,
    rate_limited, bad_request."""

    ok: bool
    latency_ms: int
    model: str  # the model the server says answered ("" when it did not answer)
    configured_model: str
    error_kind: str = ""
    error: str = ""
    intent: str = ""
    confidence: float | None = None


def _connection_config(
    *,
    user: Any,
    base_url: str | None,
    model: str | None,
    api_key: str | None,
    timeout_seconds: float | None,
) -> Any:
    """The llm.ProviderConfig a connection test sends with (administrators): the values given (typed,
    unsaved), else the stored ones; an empty or missing api_key uses the stored key. 422 naming the
    field for a bad or missing value."""
    from . import llm

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean_url = _check_provider_values(base_url=base_url, model=model, api_key=api_key, timeout_seconds=timeout_seconds)
    row = llm_provider_of(organization_id)
    url = clean_url or (row.base_url if base_url is None or not base_url.strip() else "")
    name = model.strip() if model is not None and model.strip() else row.model
    if not url:
        raise ValidationFailed(_("needed to test the connection"), field="base_url")
    if not name:
        raise ValidationFailed(_("needed to test the connection"), field="model")
    key = api_key.strip() if api_key else str((row.credentials or {}).get("api_key") or "")
    timeout = min(timeout_seconds if timeout_seconds is not None else row.timeout_seconds, CONNECTION_TEST_MAX_TIMEOUT)
    return llm.ProviderConfig(base_url=url, model=name, api_key=key, timeout=timeout)


def _connection_check(config: Any) -> ConnectionTest:
    """One tiny classification sent with `config`: one attempt, no retry."""
    from . import llm

    started = time.monotonic()
    try:
        reply = llm.ask(config, CONNECTION_TEST_TEXT, "en", attempts=1)
    except llm.LLMError as exc:
        latency = round((time.monotonic() - started) * 1000)
        return ConnectionTest(False, latency, "", config.model, error_kind=exc.kind, error=str(exc)[:300])
    latency = round((time.monotonic() - started) * 1000)
    return ConnectionTest(
        True, latency, reply.served_model, config.model, intent=reply.answer.intent, confidence=reply.answer.confidence
    )


def llm_provider_test(
    *,
    user: Any,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout_seconds: float | None = None,
) -> ConnectionTest:
    """Send one tiny classification to the LLM provider now, in this process, and report latency, the
    model that answered and a precise error (administrators). Values given replace the stored ones
    for this test; an empty or missing api_key uses the stored key. One attempt, no retry; nothing is
    saved. The page and the API do not wait for it: they use llm_provider_test_start (the worker)."""
    config = _connection_config(
        user=user, base_url=base_url, model=model, api_key=api_key, timeout_seconds=timeout_seconds
    )
    return _connection_check(config)


CONNECTION_TEST_KEEP = 10  # the latest tests kept per organization
_connection_test_runner: Callable[[int], Any] | None = None


def register_connection_test_runner(runner: Callable[[int], Any]) -> None:
    """subscribers.py registers how a connection test reaches the worker (a Huey task)."""
    global _connection_test_runner
    _connection_test_runner = runner


def llm_provider_test_start(
    *,
    user: Any,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout_seconds: float | None = None,
) -> Any:
    """Test connection without holding a web request (administrators): the values are checked here
    (422 naming the field, nothing written), the test is written and handed to the worker after
    commit; the caller polls llm_connection_test_get. A typed key is stored encrypted on the row until
    the worker has used it. The provider's settings are not changed."""
    from .selectors import llm_connection_test_view  # -> LLMConnectionTestView

    config = _connection_config(
        user=user, base_url=base_url, model=model, api_key=api_key, timeout_seconds=timeout_seconds
    )
    organization_id = organization_of(user)
    if _connection_test_runner is None:
        raise TriageUnavailable(_("the triage worker is not configured"))
    test = LLMConnectionTest.objects.create(
        organization_id=organization_id,
        requested_by=user,
        base_url=config.base_url,
        model=config.model,
        timeout_seconds=config.timeout,
        credentials={"api_key": config.api_key} if config.api_key else {},
    )
    keep = LLMConnectionTest.objects.filter(organization_id=organization_id).order_by("-created_at", "-pk")
    LLMConnectionTest.objects.filter(pk__in=list(keep.values_list("pk", flat=True)[CONNECTION_TEST_KEEP:])).delete()
    runner = _connection_test_runner
    transaction.on_commit(lambda: runner(test.pk))
    return llm_connection_test_view(test)


def llm_provider_test_run(*, test_id: int) -> bool:
    """Worker side of llm_provider_test_start: send the test, keep the result, wipe the typed key.
    Claimed with a conditional update, so running it twice sends once. Returns whether it ran."""
    from . import llm

    test = LLMConnectionTest.objects.filter(pk=test_id, finished_at__isnull=True).first()
    if test is None:
        return False
    config = llm.ProviderConfig(
        base_url=test.base_url,
        model=test.model,
        api_key=str((test.credentials or {}).get("api_key") or ""),
        timeout=test.timeout_seconds,
    )
    result = _connection_check(config)
    fields = {
        "ok": result.ok,
        "latency_ms": result.latency_ms,
        "model": result.model,
        "configured_model": result.configured_model,
        "error_kind": result.error_kind,
        "error": result.error,
        "intent": result.intent,
        "confidence": result.confidence,
    }
    claimed = LLMConnectionTest.objects.filter(pk=test_id, finished_at__isnull=True).update(
        result=fields, credentials={}, finished_at=timezone.now()
    )
    return bool(claimed)


# --------------------------------------------------------------------------- calibration

CALIBRATION_MIN_ANSWERS = 20
CALIBRATION_STALE = timedelta(hours=2)  # a run started longer ago is taken as dead
_calibration_runner: Callable[[int], Any] | None = None


def register_calibration_runner(runner: Callable[[int], Any]) -> None:
    """subscribers.py registers how a calibration run reaches the worker (a Huey task)."""
    global _calibration_runner
    _calibration_runner = runner


def llm_provider_calibration_start(*, user: Any) -> LLMProviderSettings:
    """Ask the worker to calibrate the organization's LLM provider (administrators): it classifies
    the corpus's held-out split (no customer data) and fits how often each reported confidence is
    right. Refused (409) while a run is under way; the provider needs a base URL and a model."""
    from aftersales.core.errors import Conflict

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    row = llm_provider_of(organization_id)
    if not (row.pk and row.base_url and row.model):
        raise ValidationFailed(_("save a base URL and a model first"), field="base_url")
    now = timezone.now()
    claimed = (
        LLMProviderSettings.objects.filter(pk=organization_id)
        .filter(
            models.Q(calibration_started_at__isnull=True) | models.Q(calibration_started_at__lt=now - CALIBRATION_STALE)
        )
        .update(calibration_started_at=now, calibration_error="")
    )
    if not claimed:
        raise Conflict(_("a calibration is already running"))
    if _calibration_runner is None:
        LLMProviderSettings.objects.filter(pk=organization_id).update(
            calibration_started_at=None, calibration_error="the triage worker is not configured"
        )
        raise TriageUnavailable(_("the triage worker is not configured"))
    runner = _calibration_runner
    transaction.on_commit(lambda: runner(organization_id))
    return llm_provider_of(organization_id)


CALIBRATION_SPLIT = "dev"  # docs/triage-labelling.md: the provider's calibration split
CALIBRATION_MIN_PER_LANGUAGE = 20  # valid answers a language needs for its own map (else the global one)
CALIBRATION_MIN_EACH_OUTCOME = 3  # ... of which at least this many right and this many wrong


def _even_sample(examples: list[Any], limit: int | None) -> list[Any]:
    """Every k-th message in the file order, so each language keeps its share."""
    if limit is not None and 0 < limit < len(examples):
        step = len(examples) / limit
        return [examples[int(i * step)] for i in range(limit)]
    return examples


def calibration_examples(*, limit: int | None = None) -> list[Any]:
    """The provider's calibration split (the languages the installation trains): the corpus's dev
    split, disjoint from train and from the held-out split, so the held-out split still measures the
    provider independently (docs/triage-labelling.md). `limit`: an even sample."""
    from .artifacts import train_languages
    from .dataset import load_split

    return _even_sample(load_split(CALIBRATION_SPLIT, languages=train_languages()), limit)


def calibration_heldout_examples(*, limit: int | None = None) -> list[Any]:
    """The held-out split the calibrated provider is measured on (never fitted on)."""
    from .artifacts import train_languages
    from .dataset import load_split

    return _even_sample(load_split("heldout", languages=train_languages()), limit)


def _ask_all(config: Any, examples: list[Any], *, concurrency: int | None, transport_factory: Any) -> list[Any]:
    from . import llm

    return llm.classify_many(
        config,
        [(e.text, e.language) for e in examples],
        concurrency=concurrency or int(getattr(settings, "TRIAGE_LLM_BATCH_CONCURRENCY", BATCH_CONCURRENCY)),
        transport_factory=transport_factory,
    )


def _answered(examples: list[Any], answers: list[Any]) -> tuple[list[tuple[str, float, bool]], dict[str, int]]:
    """(language, reported confidence, intent right) per valid answer, and the errors by kind."""
    from . import llm

    rows: list[tuple[str, float, bool]] = []
    errors: dict[str, int] = {}
    for example, answer in zip(examples, answers, strict=True):
        if isinstance(answer, llm.LLMError):
            errors[answer.kind] = errors.get(answer.kind, 0) + 1
        else:
            rows.append((example.language, answer.confidence, answer.intent == example.intent))
    return rows, errors


def _per_language_fits(rows: list[tuple[str, float, bool]]) -> dict[str, dict[str, Any]]:
    """A language's own map where it has enough answers, right and wrong (else the global map is used)."""
    from .calibration import fit_calibration

    minimum = int(getattr(settings, "TRIAGE_LLM_CALIBRATION_MIN_PER_LANGUAGE", CALIBRATION_MIN_PER_LANGUAGE))
    fits: dict[str, dict[str, Any]] = {}
    for language in sorted({r[0] for r in rows}):
        mine = [r for r in rows if r[0] == language]
        right = sum(1 for r in mine if r[2])
        if len(mine) < minimum or min(right, len(mine) - right) < CALIBRATION_MIN_EACH_OUTCOME:
            continue
        fitted = fit_calibration([r[1] for r in mine], [r[2] for r in mine])
        fits[language] = {**fitted.as_dict(), "answered": len(mine)}
    return fits


def _heldout_figures(rows: list[tuple[str, float, bool]], calibration: dict[str, Any]) -> dict[str, Any]:
    """Accuracy and calibration error on the held-out split (never fitted on): the reported confidence,
    and the confidence mapped as at run time (the language's map, else the global one)."""
    from . import llm
    from .calibration import expected_calibration_error

    def figures(part: list[tuple[str, float, bool]]) -> dict[str, Any]:
        mapped = [llm.calibrated(c, calibration_points_for(calibration, lang)[0]) for lang, c, _ok in part]
        correct = [ok for _lang, _c, ok in part]
        return {
            "answered": len(part),
            "accuracy": round(sum(correct) / len(part), 4) if part else 0.0,
            "ece_before": expected_calibration_error([c for _l, c, _o in part], correct),
            "ece_after": expected_calibration_error(mapped, correct),
        }

    languages = sorted({r[0] for r in rows})
    return {**figures(rows), "languages": {lang: figures([r for r in rows if r[0] == lang]) for lang in languages}}


def calibration_points_for(calibration: dict[str, Any], language: str) -> tuple[list[list[float]], str]:
    """The knots that map a reported confidence for a message in `language`, and which map they are:
    the language's own ("de") when it had enough calibration answers, else the global one ("global")."""
    own = (calibration.get("languages") or {}).get(language)
    if own and own.get("points"):
        return [[float(x), float(y)] for x, y in own["points"]], language
    return [[float(x), float(y)] for x, y in calibration.get("points") or []], "global"


def llm_provider_calibrate(
    *,
    organization_id: int,
    limit: int | None = None,
    concurrency: int | None = None,
    transport_factory: Callable[[], Any] | None = None,
    heldout: bool = True,
) -> dict[str, Any]:
    """Run the organization's configured LLM provider over the calibration split (the corpus's dev
    split), fit a monotone map from its reported confidence to the accuracy observed (isotonic
    regression, triage/calibration.py) over all languages and, where a language has enough answers,
    per language; then measure it on the held-out split (never fitted on: `heldout`). Keep it with the
    provider's settings, for the base URL and model it was fitted for (a change of either since the
    run started discards it). Not counted against the per-minute/per-day limits (an
    administrator asked for it). Worker or management command only (loads scikit-learn).
    Returns the stored calibration; raises ValidationFailed when too few answers were valid."""
    from .calibration import fit_calibration

    row = LLMProviderSettings.objects.get(pk=organization_id)
    config = _provider_config(row, switched_off_too=True)  # calibrating before switching it on is fine
    if config is None:
        raise ValidationFailed(_("save a base URL and a model first"), field="base_url")
    examples = calibration_examples(limit=limit)
    started = time.monotonic()
    rows, errors = _answered(
        examples, _ask_all(config, examples, concurrency=concurrency, transport_factory=transport_factory)
    )
    if len(rows) < CALIBRATION_MIN_ANSWERS:
        raise ValidationFailed(
            _("only %(valid)d of %(count)d answers were valid (%(errors)s); at least %(needed)d are needed")
            % {
                "valid": len(rows),
                "count": len(examples),
                "errors": ", ".join(f"{k}: {v}" for k, v in sorted(errors.items())) or "-",
                "needed": CALIBRATION_MIN_ANSWERS,
            },
            field="calibration",
        )
    fitted = fit_calibration([r[1] for r in rows], [r[2] for r in rows])
    calibration = {
        **fitted.as_dict(),
        "model": config.model,
        "base_url": config.base_url,
        "split": CALIBRATION_SPLIT,
        "examples": len(examples),
        "answered": len(rows),
        "errors": errors,
        "languages": _per_language_fits(rows),
    }
    if heldout:  # measured, never fitted on
        held = calibration_heldout_examples(limit=limit)
        held_rows, held_errors = _answered(
            held, _ask_all(config, held, concurrency=concurrency, transport_factory=transport_factory)
        )
        calibration["heldout"] = {
            **_heldout_figures(held_rows, calibration),
            "examples": len(held),
            "errors": held_errors,
        }
    calibration["seconds"] = round(time.monotonic() - started, 1)
    with transaction.atomic():
        current = LLMProviderSettings.objects.select_for_update().get(pk=organization_id)
        if (current.base_url, current.model) != (config.base_url, config.model):
            raise ValidationFailed(_("the base URL or model changed during the calibration"), field="calibration")
        current.calibration = calibration
        current.calibrated_at = timezone.now()
        current.calibration_started_at = None
        current.calibration_error = ""
        current.save(update_fields=["calibration", "calibrated_at", "calibration_started_at", "calibration_error"])
    return calibration


def llm_provider_calibration_failed(*, organization_id: int, error: str) -> None:
    """The worker's calibration run ended without a fit: say why on the settings page."""
    LLMProviderSettings.objects.filter(pk=organization_id).update(
        calibration_started_at=None, calibration_error=error[:300]
    )
