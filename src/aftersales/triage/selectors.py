"""Triage's reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from .labels import Intent, Sentiment
from .models import LLMConnectionTest, LLMProviderSettings, TriageResult, TriageSettings


@dataclass(frozen=True)
class TicketTriage:
    """The triage of a ticket's latest classified inbound message, as the ticket page shows it."""

    message_id: int
    intent: str
    intent_label: str
    confidence: float
    urgency: str
    sentiment: str
    sentiment_label: str
    needs_human: bool
    reasons: tuple[str, ...]
    entities: tuple[dict[str, Any], ...]
    order_number: str
    model_version: str
    engine: str = "local"
    engine_note: str = ""


def ticket_triage(*, ticket_id: int) -> TicketTriage | None:
    """Callers have already checked that the user may see the ticket."""
    result = (
        TriageResult.objects.filter(message__ticket_id=ticket_id)
        .select_related("order")
        .order_by("-message__created_at", "-message_id")
        .first()
    )
    if result is None:
        return None
    return TicketTriage(
        message_id=result.message_id,
        intent=result.intent,
        intent_label=str(Intent(result.intent).label) if result.intent in Intent.values else result.intent,
        confidence=result.confidence,
        urgency=result.urgency,
        sentiment=result.sentiment,
        sentiment_label=str(Sentiment(result.sentiment).label) if result.sentiment in Sentiment.values else "",
        needs_human=result.needs_human,
        reasons=tuple(result.reasons),
        entities=tuple(result.entities),
        order_number=result.order.external_id if result.order is not None else "",
        model_version=result.model_version,
        engine=result.engine,
        engine_note=result.engine_note,
    )


def triage_settings_of(organization_id: int) -> TriageSettings:
    """The organization's triage switches (the defaults, unsaved, when it never changed them)."""
    row = TriageSettings.objects.filter(organization_id=organization_id).first()
    return row if row is not None else TriageSettings(organization_id=organization_id)


def inbound_message_of(ticket_id: int, *, latest: bool) -> int | None:
    """The id of the ticket's first (or `latest`) inbound message."""
    from aftersales.inbox.models import Message, MessageDirection

    order = ("-created_at", "-id") if latest else ("created_at", "id")
    inbound = Message.objects.filter(ticket_id=ticket_id, direction=MessageDirection.INBOUND)
    return inbound.order_by(*order).values_list("pk", flat=True).first()


def triage_settings_of_many(organization_ids: Sequence[int]) -> dict[int, TriageSettings]:
    """`triage_settings_of` for many organizations, in one query."""
    rows = {row.organization_id: row for row in TriageSettings.objects.filter(organization_id__in=organization_ids)}
    return {org: rows.get(org) or TriageSettings(organization_id=org) for org in organization_ids}


def triage_settings(user: Any) -> TriageSettings:
    """The switches of the user's organization, for its administrators (Settings, API)."""
    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import check_perm, organization_of

    check_perm(user, Permission.ADMINISTER)
    return triage_settings_of(organization_of(user))


@dataclass(frozen=True)
class LLMProviderView:
    """An organization's LLM provider settings as admins see them (the API key never leaves: only
    whether one is stored)."""

    is_enabled: bool
    base_url: str
    model: str
    has_api_key: bool
    timeout_seconds: float
    fields: tuple[str, ...]
    max_per_minute: int
    max_per_day: int
    last_error: str
    last_error_at: Any
    calibration: LLMCalibrationView | None = None  # None: not calibrated for this base URL and model
    calibration_running: bool = False
    calibration_error: str = ""
    uncalibrated_threshold: float = 0.95  # what an uncalibrated intent needs to act without a human


@dataclass(frozen=True)
class LLMCalibrationView:
    """How the provider's self-reported confidence compared with the truth on the held-out split."""

    calibrated_at: Any
    model: str
    examples: int
    answered: int
    accuracy: float
    mean_reported: float
    ece_before: float
    ece_after: float
    points: tuple[tuple[float, float], ...]
    split: str = "heldout"  # what it was fitted on: "dev" (the calibration split); "heldout" before 0005
    languages: tuple[tuple[str, int], ...] = ()  # (language, answers) with their own map
    heldout: dict[str, Any] | None = None  # {answered, accuracy, ece_before, ece_after, languages: {...}}


def llm_calibration_points(row: LLMProviderSettings) -> list[list[float]]:
    """The row's fitted calibration when it was fitted for its current base URL and model, else []."""
    calibration = row.calibration or {}
    if not row.model or calibration.get("model") != row.model or calibration.get("base_url") != row.base_url:
        return []
    return [[float(x), float(y)] for x, y in calibration.get("points") or []]


def _calibration_view(row: LLMProviderSettings) -> LLMCalibrationView | None:
    points = llm_calibration_points(row)
    if not points:
        return None
    c = row.calibration
    return LLMCalibrationView(
        calibrated_at=row.calibrated_at,
        model=str(c.get("model", "")),
        examples=int(c.get("examples", 0)),
        answered=int(c.get("answered", 0)),
        accuracy=float(c.get("accuracy", 0.0)),
        mean_reported=float(c.get("mean_reported", 0.0)),
        ece_before=float(c.get("ece_before", 0.0)),
        ece_after=float(c.get("ece_after", 0.0)),
        points=tuple((x, y) for x, y in points),
        split=str(c.get("split", "heldout")),
        languages=tuple(
            (lang, int(fit.get("answered", 0))) for lang, fit in sorted((c.get("languages") or {}).items())
        ),
        heldout=c.get("heldout") or None,
    )


def llm_provider_of(organization_id: int) -> LLMProviderSettings:
    """The organization's LLM provider row (an unsaved, disabled one when it never configured one)."""
    row = LLMProviderSettings.objects.filter(organization_id=organization_id).first()
    return row if row is not None else LLMProviderSettings(organization_id=organization_id)


def llm_provider_settings(user: Any) -> LLMProviderView:
    """The LLM provider settings of the user's organization, for its administrators (Settings, API)."""
    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import check_perm, organization_of

    check_perm(user, Permission.ADMINISTER)
    row = llm_provider_of(organization_of(user))
    return LLMProviderView(
        is_enabled=row.is_enabled,
        base_url=row.base_url,
        model=row.model,
        has_api_key=bool((row.credentials or {}).get("api_key")),
        timeout_seconds=row.timeout_seconds,
        fields=tuple(row.fields or ()),
        max_per_minute=row.max_per_minute,
        max_per_day=row.max_per_day,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        calibration=_calibration_view(row),
        calibration_running=row.calibration_started_at is not None,
        calibration_error=row.calibration_error,
        uncalibrated_threshold=uncalibrated_threshold(),
    )


def uncalibrated_threshold() -> float:
    """The confidence an uncalibrated provider's intent needs to act without a human
    (TRIAGE_LLM_UNCALIBRATED_THRESHOLD, default 0.95): stricter than the local models' threshold."""
    from django.conf import settings

    return float(getattr(settings, "TRIAGE_LLM_UNCALIBRATED_THRESHOLD", 0.95))


CONNECTION_TEST_STALE = timedelta(minutes=2)  # no answer from the worker by then: it is not running


@dataclass(frozen=True)
class LLMConnectionTestView:
    """A connection test as admins see it: `status` running (the worker has not answered yet), done,
    or stale (no answer within CONNECTION_TEST_STALE: the worker is not running). The key never shows."""

    id: int
    status: str
    base_url: str
    configured_model: str
    created_at: Any
    finished_at: Any
    ok: bool = False
    latency_ms: int = 0
    model: str = ""  # the model the server says answered
    error_kind: str = ""
    error: str = ""
    intent: str = ""
    confidence: float | None = None


def llm_connection_test_view(test: LLMConnectionTest) -> LLMConnectionTestView:
    from django.utils import timezone

    r = test.result or {}
    if test.finished_at is not None:
        status = "done"
    elif test.created_at is not None and timezone.now() - test.created_at > CONNECTION_TEST_STALE:
        status = "stale"
    else:
        status = "running"
    return LLMConnectionTestView(
        id=test.pk,
        status=status,
        base_url=test.base_url,
        configured_model=test.model,
        created_at=test.created_at,
        finished_at=test.finished_at,
        ok=bool(r.get("ok", False)),
        latency_ms=int(r.get("latency_ms", 0)),
        model=str(r.get("model", "")),
        error_kind=str(r.get("error_kind", "")),
        error=str(r.get("error", "")),
        intent=str(r.get("intent", "")),
        confidence=r.get("confidence"),
    )


def llm_connection_test_get(user: Any, test_id: int) -> LLMConnectionTestView:
    """One of the organization's connection tests, for its administrators (404 otherwise)."""
    from django.utils.translation import gettext

    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import check_perm, organization_of
    from aftersales.core.errors import NotFound

    check_perm(user, Permission.ADMINISTER)
    test = LLMConnectionTest.objects.filter(pk=test_id, organization_id=organization_of(user)).first()
    if test is None:
        raise NotFound(gettext("connection test not found"))
    return llm_connection_test_view(test)


def llm_connection_test_latest(user: Any) -> LLMConnectionTestView | None:
    """The organization's latest connection test (the settings page shows it), for administrators."""
    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import check_perm, organization_of

    check_perm(user, Permission.ADMINISTER)
    test = (
        LLMConnectionTest.objects.filter(organization_id=organization_of(user)).order_by("-created_at", "-pk").first()
    )
    return llm_connection_test_view(test) if test is not None else None
