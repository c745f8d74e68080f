"""Triage's reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .labels import Intent, Sentiment
from .models import TriageResult, TriageSettings


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
    )


def triage_settings_of(organization_id: int) -> TriageSettings:
    """The organization's triage switches (the defaults, unsaved, when it never changed them)."""
    row = TriageSettings.objects.filter(organization_id=organization_id).first()
    return row if row is not None else TriageSettings(organization_id=organization_id)


def triage_settings(user: Any) -> TriageSettings:
    """The switches of the user's organization, for its administrators (Settings, API)."""
    from aftersales.accounts.models import Permission
    from aftersales.accounts.permissions import check_perm, organization_of

    check_perm(user, Permission.ADMINISTER)
    return triage_settings_of(organization_of(user))
