"""What triage changes on a ticket once a message is classified (pure; the service in services.py
applies it through inbox.services.ticket_update as Actor.system("triage")).

- Category: from the intent by INTENT_CATEGORY, when the intent is confident (no `low_confidence`
  reason; a threat rule's intent has confidence 1.0) and nobody (a user or a rule) set the ticket's category before.
  Intents without a fitting category (cancel, invoice, praise, spam) leave it as it is.
- Urgency: when the intent is confident. Set freely while no user or rule has
  set the ticket's urgency; once one has, triage only raises it, never lowers it.
- Order: the order an extracted order number names, when the ticket has none (not a model guess:
  entities are exact rule-based matches)."""

from __future__ import annotations

from dataclasses import dataclass

from .labels import REASON_LOW_CONFIDENCE, URGENCIES, Intent

# inbox.workflow.TicketCategory values; None: no category fits, the ticket keeps its own.
INTENT_CATEGORY: dict[str, str | None] = {
    Intent.RETURN_REQUEST: "return",
    Intent.EXCHANGE_REQUEST: "exchange",
    Intent.REFUND_REQUEST: "refund",
    Intent.ITEM_NOT_RECEIVED: "not_received",
    Intent.DELIVERY_DELAYED: "logistics",
    Intent.ORDER_STATUS: "logistics",
    Intent.ADDRESS_CHANGE: "logistics",
    Intent.DAMAGED_ITEM: "quality_issue",
    Intent.DEFECTIVE_ITEM: "quality_issue",
    Intent.NOT_AS_DESCRIBED: "quality_issue",
    Intent.WRONG_ITEM: "wrong_or_missing_item",
    Intent.MISSING_PARTS: "wrong_or_missing_item",
    Intent.SIZE_FIT_ISSUE: "size_mismatch",
    Intent.WARRANTY_CLAIM: "warranty_repair",
    Intent.REPAIR_REQUEST: "warranty_repair",
    Intent.PRODUCT_QUESTION: "usage_question",
    Intent.INSTALLATION_HELP: "usage_question",
    Intent.COMPLAINT_ESCALATION: "complaint",
    Intent.CHARGEBACK_DISPUTE_THREAT: "complaint",
    Intent.CANCEL_ORDER: None,
    Intent.INVOICE_REQUEST: None,
    Intent.PRAISE_THANKS: None,
    Intent.SPAM_OTHER: None,
}


@dataclass(frozen=True)
class TriageChanges:
    urgency: str | None = None
    category: str | None = None

    @property
    def empty(self) -> bool:
        return self.urgency is None and self.category is None


def triage_changes(
    *,
    intent: str,
    urgency: str,
    reasons: tuple[str, ...] | list[str],
    ticket_urgency: str,
    ticket_category: str,
    urgency_set_by_someone: bool,
    category_set_by_someone: bool,
) -> TriageChanges:
    """The urgency and category triage sets (None: leave as is)."""
    confident = REASON_LOW_CONFIDENCE not in reasons  # a threat rule's intent has confidence 1.0
    new_urgency: str | None = None
    if confident and urgency in URGENCIES and urgency != ticket_urgency:
        raises = ticket_urgency not in URGENCIES or URGENCIES.index(urgency) > URGENCIES.index(ticket_urgency)
        if raises or not urgency_set_by_someone:
            new_urgency = urgency
    new_category: str | None = None
    mapped = INTENT_CATEGORY.get(intent)
    if confident and mapped and mapped != ticket_category and not category_set_by_someone:
        new_category = mapped
    return TriageChanges(urgency=new_urgency, category=new_category)
