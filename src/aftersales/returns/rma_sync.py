"""The marketplace hears the seller's decision on an RMA opened from its return request (issue 10,
sections 3 and 8): approved, declined, a partial refund offered, a label provided, the parcel received.
Each decision goes through the store connector's `decide_return` capability and the write-back ledger
(channels.writeback: the key `rma:<id>:decide:<rma event id>` is stored before the call, so a retried
task never decides twice). A store whose connector cannot decide returns records `pending_sync` on the
RMA, with what to do by hand: shown, never pretended. Called by the worker (returns.tasks), as the
system; safe to run twice."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.catalog.selectors import buyer_identity
from aftersales.channels.base import (
    AttachmentRecord,
    Capability,
    ConnectorError,
    ReturnDecision,
    ReturnDecisionKind,
    ReturnKind,
)
from aftersales.channels.models import WriteBackKind, WriteBackStatus
from aftersales.channels.registry import get_connector
from aftersales.channels.writeback import writeback_perform
from aftersales.core.actors import Actor

from .models import LabelSource, PlatformSync, Rma, RmaEvent, RmaStatus
from .rma import record_event

logger = logging.getLogger(__name__)

SYNC_ACTOR = Actor.system("rma-writeback")
# The RMA status a decision is sent for.
DECISION_FOR_STATUS: dict[str, ReturnDecisionKind] = {
    RmaStatus.APPROVED: ReturnDecisionKind.APPROVE,
    RmaStatus.REJECTED: ReturnDecisionKind.DECLINE,
    RmaStatus.PARTIAL_OFFERED: ReturnDecisionKind.OFFER_PARTIAL_REFUND,
    RmaStatus.LABEL_ISSUED: ReturnDecisionKind.PROVIDE_LABEL,
    RmaStatus.RECEIVED: ReturnDecisionKind.MARK_RECEIVED,
}


def _set_sync(
    rma_id: int, state: str, detail: str, *, event: RmaEvent, decision: str, writeback_id: int | None
) -> None:
    with transaction.atomic():
        rma = Rma.objects.select_for_update().get(pk=rma_id)
        rma.platform_sync = state
        rma.platform_sync_detail = detail[:2000]
        rma.save(update_fields=["platform_sync", "platform_sync_detail", "updated_at"])
        record_event(
            rma,
            "platform_sync",
            SYNC_ACTOR,
            state=state,
            decision=decision,
            detail=detail[:500],
            writeback_id=writeback_id,
            for_event_id=event.pk,
        )


def _decision(rma: Rma, event: RmaEvent, kind: ReturnDecisionKind) -> ReturnDecision:
    request = rma.return_request
    assert request is not None
    payload = event.payload or {}
    amount = None
    currency = ""
    label = None
    if kind == ReturnDecisionKind.OFFER_PARTIAL_REFUND:
        amount = Decimal(payload["amount"])
        currency = payload.get("currency", "")
    if kind == ReturnDecisionKind.PROVIDE_LABEL and rma.label_source == LabelSource.UPLOADED and rma.label_file:
        with default_storage.open(rma.label_file, "rb") as handle:
            label = AttachmentRecord(filename=f"{rma.number}-label.pdf", content=handle.read())
    return ReturnDecision(
        return_external_id=request.external_id,
        kind=ReturnKind(request.kind),
        decision=kind,
        comment=str(payload.get("reason") or payload.get("message") or "")[:1000],
        amount=amount,
        currency=currency,
        rma_number=rma.number,
        label=label,
        carrier=rma.label_carrier if kind == ReturnDecisionKind.PROVIDE_LABEL else "",
        tracking_number=rma.label_tracking_number if kind == ReturnDecisionKind.PROVIDE_LABEL else "",
        reason_code=str((rma.decision or {}).get("rejection") or "") if kind == ReturnDecisionKind.DECLINE else "",
        buyer_id=buyer_identity(request.customer_id, request.store_id),
    )


def rma_writeback(*, rma_id: int, rma_event_id: int) -> str:
    """Send the decision of one status change to the marketplace. Returns the RMA's sync state
    (`not_needed` when the RMA has no marketplace request or the status needs no decision)."""
    rma = Rma.objects.select_related("store", "return_request").filter(pk=rma_id).first()
    event = RmaEvent.objects.filter(pk=rma_event_id, rma_id=rma_id).first()
    if rma is None or event is None or rma.return_request is None:
        return PlatformSync.NOT_NEEDED
    kind = DECISION_FOR_STATUS.get((event.payload or {}).get("new", ""))
    if kind is None:
        return PlatformSync.NOT_NEEDED
    if kind == ReturnDecisionKind.PROVIDE_LABEL and rma.label_source == LabelSource.PLATFORM:
        _set_sync(
            rma_id,
            PlatformSync.SYNCED,
            _("The marketplace issues its own label."),
            event=event,
            decision=kind,
            writeback_id=None,
        )
        return PlatformSync.SYNCED
    try:
        connector = get_connector(rma.store.platform)
    except ConnectorError:
        connector = None
    if connector is None or Capability.DECIDE_RETURN not in connector.capabilities:
        detail = _(
            "The store's connector cannot send return decisions: %(decision)s return %(id)s on the marketplace by hand."
        ) % {
            "decision": kind.value,
            "id": rma.return_request.external_id,
        }
        _set_sync(rma_id, PlatformSync.PENDING_SYNC, detail, event=event, decision=kind, writeback_id=None)
        return PlatformSync.PENDING_SYNC
    decision = _decision(rma, event, kind)
    row = writeback_perform(
        store=rma.store,
        kind=WriteBackKind.DECIDE_RETURN,
        key=f"rma:{rma.pk}:decide:{event.pk}",
        request=decision,
        actor=SYNC_ACTOR,
        call=lambda ctx: connector.decide_return(ctx, decision),  # type: ignore[union-attr,attr-defined]
    )  # a transient ConnectorError propagates: the task retries; the ledger keeps it to one decision
    if row.status == WriteBackStatus.SUCCEEDED:
        state, detail = PlatformSync.SYNCED, row.detail
    elif row.status == WriteBackStatus.FAILED:
        state, detail = PlatformSync.FAILED, row.detail
    elif row.status == WriteBackStatus.UNKNOWN:
        state = PlatformSync.FAILED
        detail = _("Outcome unknown (the call broke off): check the marketplace. %(detail)s") % {"detail": row.detail}
    else:
        state, detail = PlatformSync.SYNCING, ""
    _set_sync(rma_id, state, detail or "", event=event, decision=kind, writeback_id=row.pk)
    return state
