"""Customer notifications of a warranty claim (issue 10, section 7): the replacement shipped (carrier,
tracking number, tracking link), the unit for repair received, the repaired unit shipped back (its
return parcel's carrier and tracking). Sent through the RMA notifications' one path
(returns.notify.notice_send: the organization's reply template in the buyer's language, the step's
switch in returns.notify_settings, the author rules, the reply's idempotency key
`warranty-<claim id>-<step>-<event id>`), recorded on the claim's timeline as `customer_notified` /
`notification_skipped`. The repair order has no separate "repaired" status (repairing -> shipped back;
diagnosing -> shipped back when no fault was found): "shipped back" is the message that it is done."""

from __future__ import annotations

from aftersales.core.actors import Actor
from aftersales.language.languages import normalise
from aftersales.returns.notify import Notice, notice_send

from .models import RepairOrder, ReplacementRequest, WarrantyClaim
from .transition import claim_record

WARRANTY_NOTIFY_ACTOR = Actor.system("warranty-notifications")
STEPS = ("replacement_shipped", "repair_received", "repair_shipped_back")


def warranty_notify_customer(*, claim_id: int, step: str, event_id: int, actor_user_id: int | None) -> str:
    """Tell the claim's buyer of `step`; `event_id` is the claim's `replacement_shipped` row or the
    repair order's `status_changed` row. Returns what returns.notify.notice_send returned."""
    claim = WarrantyClaim.objects.select_related("ticket").filter(pk=claim_id).first()
    if claim is None or step not in STEPS:
        return "unknown"
    tracking: tuple[str, str] | None = None
    if step == "replacement_shipped":
        replacement = ReplacementRequest.objects.filter(claim_id=claim.pk).first()
        if replacement is None or replacement.fulfilled_at is None:
            return "unknown"
        tracking = (replacement.carrier, replacement.tracking_number)
    elif step == "repair_shipped_back":
        repair = RepairOrder.objects.filter(claim_id=claim.pk, events__pk=event_id).first()
        if repair is not None:
            tracking = (repair.return_carrier, repair.return_tracking_number)
    ticket = claim.ticket
    notice = Notice(
        organization_id=claim.organization_id,
        ticket=ticket,
        step=step,
        template=step,
        language=normalise(ticket.language if ticket is not None else "") or "en",
        actor_user_id=actor_user_id,
        idempotency_key=f"warranty-{claim.pk}-{step}-{event_id}",
        for_event_id=event_id,
        tracking=tracking,
    )
    return notice_send(
        notice,
        timeline=claim.events.all(),
        record=lambda type_, actor, **data: claim_record(claim, type_, actor, **data),
        actor=WARRANTY_NOTIFY_ACTOR,
    )
