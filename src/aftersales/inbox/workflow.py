"""Ticket state machine, as data.

Statuses are fixed codes; each maps onto a fixed category (open, waiting, resolved) that SLA and
analytics work on. Labels are translatable; the allowed transitions are a table; guards are pure."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aftersales.core.errors import Conflict, ValidationFailed


class TicketStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("ticket status", "New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Pending customer")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


class StatusCategory(models.TextChoices):
    OPEN = "open", _("Open")
    WAITING = "waiting", _("Waiting")
    RESOLVED = "resolved", _("Resolved")


STATUS_CATEGORY: dict[str, str] = {
    TicketStatus.NEW: StatusCategory.OPEN,
    TicketStatus.OPEN: StatusCategory.OPEN,
    TicketStatus.PENDING_CUSTOMER: StatusCategory.WAITING,
    TicketStatus.ON_HOLD: StatusCategory.WAITING,
    TicketStatus.SOLVED: StatusCategory.RESOLVED,
    TicketStatus.CLOSED: StatusCategory.RESOLVED,
}

_S = TicketStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    _S.NEW: frozenset({_S.OPEN, _S.PENDING_CUSTOMER, _S.ON_HOLD, _S.SOLVED, _S.CLOSED}),
    _S.OPEN: frozenset({_S.PENDING_CUSTOMER, _S.ON_HOLD, _S.SOLVED, _S.CLOSED}),
    _S.PENDING_CUSTOMER: frozenset({_S.OPEN, _S.ON_HOLD, _S.SOLVED, _S.CLOSED}),
    _S.ON_HOLD: frozenset({_S.OPEN, _S.PENDING_CUSTOMER, _S.SOLVED, _S.CLOSED}),
    _S.SOLVED: frozenset({_S.OPEN, _S.CLOSED}),
    _S.CLOSED: frozenset(),
}

# Where a ticket goes when the customer writes again.
ON_CUSTOMER_MESSAGE: dict[str, str] = {
    _S.NEW: _S.NEW,
    _S.OPEN: _S.OPEN,
    _S.PENDING_CUSTOMER: _S.OPEN,
    _S.ON_HOLD: _S.ON_HOLD,
    _S.SOLVED: _S.OPEN,
}
# Where a ticket goes when an agent replies (unless the agent picks a status).
ON_AGENT_REPLY: dict[str, str] = {
    _S.NEW: _S.PENDING_CUSTOMER,
    _S.OPEN: _S.PENDING_CUSTOMER,
    _S.PENDING_CUSTOMER: _S.PENDING_CUSTOMER,
    _S.ON_HOLD: _S.ON_HOLD,
    _S.SOLVED: _S.SOLVED,
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check_transition(current: str, target: str) -> None:
    """Refuse an unknown status (ValidationFailed) or a move the table does not allow (Conflict)."""
    if target not in TicketStatus.values:
        raise ValidationFailed(
            _("unknown status %(status)r; expected one of %(choices)s")
            % {"status": target, "choices": ", ".join(TicketStatus.values)},
            field="status",
        )
    if not can_transition(current, target):
        raise Conflict(
            _("a ticket cannot go from %(old)s to %(new)s") % {"old": current, "new": target}, field="status"
        )


def category_of(status: str) -> str:
    return STATUS_CATEGORY[status]


def accepts_messages(status: str) -> bool:
    """A closed ticket is final: new customer messages open a new ticket."""
    return status != TicketStatus.CLOSED


class TicketCategory(models.TextChoices):
    QUALITY_ISSUE = "quality_issue", _("Quality issue")
    SIZE_MISMATCH = "size_mismatch", _("Size mismatch")
    NOT_RECEIVED = "not_received", _("Not received")
    WRONG_OR_MISSING_ITEM = "wrong_or_missing_item", _("Wrong or missing item")
    USAGE_QUESTION = "usage_question", _("Usage question")
    RETURN = "return", _("Return")
    EXCHANGE = "exchange", _("Exchange")
    REFUND = "refund", _("Refund")
    WARRANTY_REPAIR = "warranty_repair", _("Warranty / repair")
    LOGISTICS = "logistics", _("Logistics")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
