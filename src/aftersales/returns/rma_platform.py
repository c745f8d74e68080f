"""RMAs follow a cancellation or closing of their marketplace return request (issue 10).

When the sync engine sees a request's normalized state (ReturnRequest.platform_state, each
connector's RETURN_STATES) move to `cancelled` (the buyer withdrew it) or `closed` (the marketplace
closed it without saying it was completed), every RMA opened for that request and not cancelled
yet is looked at, under its row lock, in the caller's transaction (returns.services._update for one
record, channels.returns_many.ReturnsPage for a page: the same function, the same rows and events):

- an RMA the table lets go to `cancelled` (requested ... label_issued) with no refund counting
  against the order (returns.workflow.REFUND_COMMITTED_STATUSES) is cancelled through the one
  transition, by the connector, reason `buyer_cancelled` / `platform_closed`, the platform's word
  in the event's payload;
- an RMA the goods or the money have moved for (in transit, received, inspected, or a refund
  requested, executing, paid or failed) stays as it is: a `platform_closed` row on its timeline
  says "the marketplace closed the request but the RMA is <status>" and the exceptions list shows
  it while it is open, for the agent to decide (finish the refund, send the parcel back...);
- an RMA already rejected, or resolved when the marketplace only closed the request (its normal
  end), is left alone; a resolved RMA whose request the buyer cancelled gets the note.

Either way RmaPlatformClosed is published (after the RmaStatusChanged of a cancellation). A replay
of the same payload changes no state, so nothing runs twice. The buyer gets the organization's
"cancelled" notice like any cancellation (its text says the marketplace did it: the actor is the
connector; the step can be switched off in Settings > Customer notifications)."""

from __future__ import annotations

from typing import Any

from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now

from .events import RmaPlatformClosed
from .models import PlatformReturnState, Refund, ReturnRequest, Rma, RmaEvent, RmaStatus
from .rma import rma_transition_batch
from .workflow import REFUND_COMMITTED_STATUSES, RMA_TRANSITIONS

# The request's states an RMA follows, and the reason its cancellation names.
PLATFORM_CLOSE_REASONS: dict[str, str] = {
    PlatformReturnState.CANCELLED: "buyer_cancelled",
    PlatformReturnState.CLOSED: "platform_closed",
}

CANCEL, NOTE, NOTHING = "cancel", "note", "nothing"


def platform_close_decision(rma_status: str, platform_state: str, *, refund_committed: bool) -> str:
    """What an RMA in `rma_status` does when its request reaches `platform_state` (a key of
    PLATFORM_CLOSE_REASONS): cancel, note (stay, tell the agent) or nothing. Pure."""
    if rma_status in (RmaStatus.CANCELLED, RmaStatus.REJECTED):
        return NOTHING
    if rma_status == RmaStatus.RESOLVED:
        return NOTE if platform_state == PlatformReturnState.CANCELLED else NOTHING
    if refund_committed or RmaStatus.CANCELLED not in RMA_TRANSITIONS[rma_status]:
        return NOTE
    return CANCEL


def rmas_follow_platform(
    *, request: ReturnRequest, old_state: str, actor: Actor, published: list[object] | None = None
) -> list[int]:
    """The RMAs of `request` follow its move from `old_state` to request.platform_state (see the
    module docstring). Runs in the caller's transaction (the request row locked); locks the RMA rows.
    `published`: events are appended there for the caller to publish (else published here).
    Returns the ids of the RMAs cancelled."""
    state = request.platform_state
    reason = PLATFORM_CLOSE_REASONS.get(state)
    if reason is None or old_state in PLATFORM_CLOSE_REASONS or request.pk is None:
        return []
    rmas = list(
        Rma.objects.select_for_update()
        .filter(return_request_id=request.pk)
        .exclude(status=RmaStatus.CANCELLED)
        .order_by("pk")
    )
    if not rmas:
        return []
    committed = set(
        Refund.objects.filter(rma_id__in=[r.pk for r in rmas], status__in=REFUND_COMMITTED_STATUSES).values_list(
            "rma_id", flat=True
        )
    )
    out: list[object] = [] if published is None else published
    detail: dict[str, Any] = {
        "platform_reason": reason,
        "platform": request.store.platform,
        "platform_status": request.platform_status,
        "return_request_id": request.pk,
    }
    cancel = [r for r in rmas if platform_close_decision(r.status, state, refund_committed=r.pk in committed) == CANCEL]
    note = [r for r in rmas if platform_close_decision(r.status, state, refund_committed=r.pk in committed) == NOTE]
    closed: list[RmaPlatformClosed] = []
    if cancel:
        changes: list[object] = []
        rma_transition_batch(
            [(r, dict(detail)) for r in cancel], RmaStatus.CANCELLED, actor=actor, reason=reason, published=changes
        )
        out += changes
        closed += [
            _closed(r, detail, True, getattr(c, "rma_event_id", 0), actor) for r, c in zip(cancel, changes, strict=True)
        ]
    if note:
        at = now()
        rows = RmaEvent.objects.bulk_create(
            [
                RmaEvent(
                    rma=r,
                    type="platform_closed",
                    payload={**detail, "rma_status": r.status, "refund_committed": r.pk in committed},
                    actor_kind=actor.kind,
                    actor_ref=actor.id,
                    actor_user_id=actor.user_id,
                    at=at,
                )
                for r in note
            ]
        )
        closed += [_closed(r, detail, False, row.pk, actor) for r, row in zip(note, rows, strict=True)]
    closed.sort(key=lambda e: e.rma_id)
    out += closed
    if published is None:
        events.publish_many(out)
    return [r.pk for r in cancel]


def _closed(rma: Rma, detail: dict[str, Any], followed: bool, event_id: int, actor: Actor) -> RmaPlatformClosed:
    return RmaPlatformClosed(
        rma_id=rma.pk,
        organization_id=rma.organization_id,
        return_request_id=detail["return_request_id"],
        reason=detail["platform_reason"],
        followed=followed,
        platform_status=detail["platform_status"],
        rma_status=rma.status,
        rma_event_id=event_id,
        ticket_id=rma.ticket_id,
        actor=actor,
    )
