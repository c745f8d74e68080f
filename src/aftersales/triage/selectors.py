"""Triage's reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .labels import Intent, Sentiment
from .models import TriageResult


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
