"""Warranty claim and repair order state machines, as data.

Statuses are fixed codes with translatable labels; the allowed moves are tables; guards are pure.
Only `warranty.transition` (claim_transition, repair_transition) changes a status."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from aftersales.core.errors import Conflict, ValidationFailed


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("warranty claim status", "Submitted")
    UNDER_REVIEW = "under_review", pgettext_lazy("warranty claim status", "Under review")
    APPROVED = "approved", pgettext_lazy("warranty claim status", "Approved")
    REJECTED = "rejected", pgettext_lazy("warranty claim status", "Rejected")
    REPAIR = "repair", pgettext_lazy("warranty claim status", "In repair")
    REPLACEMENT = "replacement", pgettext_lazy("warranty claim status", "Replacement requested")
    CLOSED = "closed", pgettext_lazy("warranty claim status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("warranty claim status", "Cancelled")


_C = ClaimStatus
CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    _C.SUBMITTED: frozenset({_C.UNDER_REVIEW, _C.CANCELLED}),
    _C.UNDER_REVIEW: frozenset({_C.APPROVED, _C.REJECTED, _C.CANCELLED}),
    # An approved claim is resolved by a repair order or a replacement.
    _C.APPROVED: frozenset({_C.REPAIR, _C.REPLACEMENT}),
    # A cancelled repair (beyond repair, the buyer withdrew) sends the claim back to approved, so a
    # replacement can be chosen; a repair shipped back and closed closes the claim.
    _C.REPAIR: frozenset({_C.APPROVED, _C.CLOSED}),
    _C.REPLACEMENT: frozenset({_C.CLOSED}),
    _C.REJECTED: frozenset(),
    _C.CLOSED: frozenset(),
    _C.CANCELLED: frozenset(),
}
CLAIM_FINAL = frozenset(s for s, targets in CLAIM_TRANSITIONS.items() if not targets)
# Moves an agent asks for directly (the others follow from repair orders and replacements: a claim
# in repair closes when its repair order closes, and goes back to approved when it is cancelled).
CLAIM_MANUAL_MOVES: frozenset[tuple[str, str]] = frozenset(
    {
        (_C.SUBMITTED, _C.UNDER_REVIEW),
        (_C.SUBMITTED, _C.CANCELLED),
        (_C.UNDER_REVIEW, _C.APPROVED),
        (_C.UNDER_REVIEW, _C.REJECTED),
        (_C.UNDER_REVIEW, _C.CANCELLED),
        (_C.REPLACEMENT, _C.CLOSED),
    }
)
# Deciding (approve / reject) needs the APPROVE permission; the rest PROCESS.
CLAIM_DECISIONS = frozenset({_C.APPROVED, _C.REJECTED})


class RepairStatus(models.TextChoices):
    AWAITING_UNIT = "awaiting_unit", pgettext_lazy("repair status", "Awaiting the unit")
    RECEIVED = "received", pgettext_lazy("repair status", "Received")
    DIAGNOSING = "diagnosing", pgettext_lazy("repair status", "Diagnosing")
    REPAIRING = "repairing", pgettext_lazy("repair status", "Repairing")
    SHIPPED_BACK = "shipped_back", pgettext_lazy("repair status", "Shipped back")
    CLOSED = "closed", pgettext_lazy("repair status", "Closed")
    CANCELLED = "cancelled", pgettext_lazy("repair status", "Cancelled")


_R = RepairStatus
REPAIR_TRANSITIONS: dict[str, frozenset[str]] = {
    _R.AWAITING_UNIT: frozenset({_R.RECEIVED, _R.CANCELLED}),
    _R.RECEIVED: frozenset({_R.DIAGNOSING, _R.CANCELLED}),
    # No fault found: the unit goes straight back.
    _R.DIAGNOSING: frozenset({_R.REPAIRING, _R.SHIPPED_BACK, _R.CANCELLED}),
    _R.REPAIRING: frozenset({_R.SHIPPED_BACK, _R.CANCELLED}),
    _R.SHIPPED_BACK: frozenset({_R.CLOSED}),
    _R.CLOSED: frozenset(),
    _R.CANCELLED: frozenset(),
}
REPAIR_FINAL = frozenset(s for s, targets in REPAIR_TRANSITIONS.items() if not targets)


def _check(
    table: dict[str, frozenset[str]], choices: type[models.TextChoices], current: str, target: str, what: str
) -> None:
    if target not in choices.values:
        raise ValidationFailed(
            _("unknown status %(status)r; expected one of %(choices)s")
            % {"status": target, "choices": ", ".join(choices.values)},
            field="status",
        )
    if target not in table.get(current, frozenset()):
        raise Conflict(
            _("a %(what)s cannot go from %(old)s to %(new)s") % {"what": what, "old": current, "new": target},
            field="status",
        )


def can_claim_transition(current: str, target: str) -> bool:
    return target in CLAIM_TRANSITIONS.get(current, frozenset())


def check_claim_transition(current: str, target: str) -> None:
    """Refuse an unknown status (ValidationFailed) or a move the table does not allow (Conflict)."""
    _check(CLAIM_TRANSITIONS, ClaimStatus, current, target, _("warranty claim"))


def check_manual_claim_move(current: str, target: str) -> None:
    """An agent's move: in the table, and not one that belongs to a repair order or a resolution."""
    check_claim_transition(current, target)
    if (current, target) not in CLAIM_MANUAL_MOVES:
        raise Conflict(
            _("a warranty claim goes from %(old)s to %(new)s through its repair order or its resolution")
            % {"old": current, "new": target},
            field="status",
        )


def can_repair_transition(current: str, target: str) -> bool:
    return target in REPAIR_TRANSITIONS.get(current, frozenset())


def check_repair_transition(current: str, target: str) -> None:
    _check(REPAIR_TRANSITIONS, RepairStatus, current, target, _("repair order"))


def claim_status_after_repair(repair_status: str) -> str | None:
    """Where the claim goes when its repair order reaches `repair_status` (None: it stays)."""
    if repair_status == RepairStatus.CLOSED:
        return ClaimStatus.CLOSED
    if repair_status == RepairStatus.CANCELLED:
        return ClaimStatus.APPROVED
    return None
