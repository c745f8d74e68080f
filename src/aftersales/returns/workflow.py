"""The RMA and refund state machines as data: statuses (returns.models), the allowed moves, pure guards.

Only `returns.rma.rma_transition` changes `Rma.status` and only `returns.refunds.refund_transition`
changes `Refund.status` (tests/architecture/test_status_transitions.py)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from aftersales.core.errors import Conflict, ValidationFailed

from .models import ExchangeStatus, RefundStatus, RmaStatus

S = RmaStatus

# RMA: requested -> under_review | needs_evidence -> approved | rejected -> label_issued -> in_transit
# -> received -> inspected -> resolved; returnless refunds (approved -> resolved) and "keep it for a
# partial refund" (partial_offered -> resolved when accepted, -> under_review when declined) are their
# own paths; cancelled from any open status.
RMA_TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.UNDER_REVIEW, S.NEEDS_EVIDENCE, S.APPROVED, S.REJECTED, S.PARTIAL_OFFERED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.NEEDS_EVIDENCE, S.APPROVED, S.REJECTED, S.PARTIAL_OFFERED, S.CANCELLED}),
    S.NEEDS_EVIDENCE: frozenset({S.UNDER_REVIEW, S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.PARTIAL_OFFERED: frozenset({S.RESOLVED, S.UNDER_REVIEW, S.CANCELLED}),
    S.APPROVED: frozenset({S.LABEL_ISSUED, S.IN_TRANSIT, S.RECEIVED, S.RESOLVED, S.CANCELLED}),
    S.LABEL_ISSUED: frozenset({S.IN_TRANSIT, S.RECEIVED, S.CANCELLED}),
    S.IN_TRANSIT: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.INSPECTED}),
    S.INSPECTED: frozenset({S.RESOLVED}),
    S.REJECTED: frozenset(),
    S.RESOLVED: frozenset(),
    S.CANCELLED: frozenset(),
}

RMA_OPEN_STATUSES: frozenset[str] = frozenset(s for s, moves in RMA_TRANSITIONS.items() if moves)
RMA_FINAL_STATUSES: frozenset[str] = frozenset(s for s, moves in RMA_TRANSITIONS.items() if not moves)

R = RefundStatus

# Refund: pending_approval (an approver must approve: above the requester's limit) or in_review (abnormal:
# manual review) -> approved -> executing -> succeeded | failed | pending_sync (the store's connector
# cannot refund: done by hand on the marketplace, then marked succeeded); failed may be retried.
REFUND_TRANSITIONS: dict[str, frozenset[str]] = {
    R.PENDING_APPROVAL: frozenset({R.APPROVED, R.IN_REVIEW, R.REJECTED, R.CANCELLED}),
    R.IN_REVIEW: frozenset({R.APPROVED, R.REJECTED, R.CANCELLED}),
    R.APPROVED: frozenset({R.EXECUTING, R.PENDING_SYNC, R.CANCELLED}),
    R.EXECUTING: frozenset({R.SUCCEEDED, R.FAILED, R.PENDING_SYNC}),
    R.FAILED: frozenset({R.EXECUTING, R.CANCELLED}),
    R.PENDING_SYNC: frozenset({R.SUCCEEDED, R.CANCELLED}),
    R.SUCCEEDED: frozenset(),
    R.REJECTED: frozenset(),
    R.CANCELLED: frozenset(),
}

# Refunds that count against what was paid (money gone or on its way).
REFUND_COMMITTED_STATUSES: frozenset[str] = frozenset(
    {R.PENDING_APPROVAL, R.IN_REVIEW, R.APPROVED, R.EXECUTING, R.PENDING_SYNC, R.SUCCEEDED, R.FAILED}
)


def _check(table: dict[str, frozenset[str]], field: str, old: str, new: str) -> None:
    if new not in table:
        raise ValidationFailed(_("Unknown status %(status)s.") % {"status": new}, field=field)
    if new not in table[old]:
        raise Conflict(_("Cannot move from %(old)s to %(new)s.") % {"old": old, "new": new})


def check_rma_transition(old: str, new: str) -> None:
    """Raise ValidationFailed (unknown status) or Conflict (a move the table refuses)."""
    _check(RMA_TRANSITIONS, "status", old, new)


def check_refund_transition(old: str, new: str) -> None:
    _check(REFUND_TRANSITIONS, "status", old, new)


# Exchange (returns.exchanges.exchange_transition): reserved -> shipped | cancelled; out_of_stock (a
# refund was offered) -> reserved when stock came back and the agent tries again, or cancelled.
X = ExchangeStatus
EXCHANGE_TRANSITIONS: dict[str, frozenset[str]] = {
    X.RESERVED: frozenset({X.SHIPPED, X.CANCELLED}),
    X.OUT_OF_STOCK: frozenset({X.RESERVED, X.CANCELLED}),
    X.SHIPPED: frozenset(),
    X.CANCELLED: frozenset(),
}


def check_exchange_transition(old: str, new: str) -> None:
    _check(EXCHANGE_TRANSITIONS, "status", old, new)
