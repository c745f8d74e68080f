"""The whole way of a return: request, approval (return hub), label (tracking followed), transit,
receipt (warehouse reminded), inspection (QC checklist, stock moved), resolution (refund requested);
customer notifications on the ticket at each step, in the buyer's language; evidence uploads."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from aftersales.catalog.models import Shipment
from aftersales.core.actors import Actor
from aftersales.core.errors import Conflict, ValidationFailed
from aftersales.inbox.models import Message
from aftersales.inventory.models import InventoryMovement
from aftersales.notifications.models import Notification
from aftersales.returns.models import RmaEvidence, RmaStatus
from aftersales.returns.rma import rma_approve, rma_create, rma_request_evidence
from aftersales.returns.rma_actions import (
    Upload,
    rma_accept_partial,
    rma_add_evidence,
    rma_cancel,
    rma_decline_partial,
    rma_inspect,
    rma_issue_label,
    rma_mark_in_transit,
    rma_offer_partial,
    rma_receive,
    rma_resolve,
    rma_tracking_update,
)

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db

IMEI = "490154203237518"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def replies(ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Message.objects.filter(ticket=ticket, direction="outbound").order_by("id").values_list("body", flat=True)
    )


def test_the_whole_way_of_a_phone_return(world, django_capture_on_commit_callbacks) -> None:
    hub = return_hub(world)
    order = delivered_order(world, lines=(("phones", "299.00", 1, "USD"),))
    ticket = ticket_for(world, order, assignee=world.agent)
    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
            reason="defective",
            ticket_id=ticket.pk,
        )
    assert rma.status == RmaStatus.NEEDS_EVIDENCE
    assert rma.decision["missing_evidence"] == ["imei", "photos", "video"]
    assert "photos of the item" in replies(ticket)[-1]  # the buyer is asked at once

    with django_capture_on_commit_callbacks(execute=True):
        rma_add_evidence(user=world.agent, rma_id=rma.pk, kind="imei", value=IMEI)
        photo = rma_add_evidence(user=world.agent, rma_id=rma.pk, kind="photo", upload=Upload("a.html", png()))
    assert photo.file_name.startswith(f"rma/{world.org.pk}/") and photo.file_name.endswith(".png")
    assert default_storage.exists(photo.file_name)
    with pytest.raises(ValidationFailed) as err:
        rma_add_evidence(user=world.agent, rma_id=rma.pk, kind="video", upload=Upload("v.mp4", png()))
    assert err.value.field == "file"
    with pytest.raises(ValidationFailed) as err:
        rma_add_evidence(user=world.agent, rma_id=rma.pk, kind="imei", value="490154203237519")
    assert err.value.field == "value"
    rma.refresh_from_db()
    assert rma.status == RmaStatus.NEEDS_EVIDENCE  # the video is still missing
    with django_capture_on_commit_callbacks(execute=True):
        rma_add_evidence(user=world.agent, rma_id=rma.pk, kind="video", upload=Upload("v.mp4", _mp4()))
    rma.refresh_from_db()
    assert rma.status == RmaStatus.UNDER_REVIEW

    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_approve(user=world.approver, rma_id=rma.pk)
    assert rma.return_warehouse_id == hub.pk
    assert "1 Return Way" in replies(ticket)[-1] and rma.number in replies(ticket)[-1]

    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_issue_label(
            user=world.agent, rma_id=rma.pk, source="carrier", carrier="UPS", tracking_number="1Z999AA10123456784"
        )
    assert rma.label_issued_at is not None
    assert Shipment.objects.filter(order=order, tracking_number="1Z999AA10123456784").exists()  # tracking follows it
    assert "1Z999AA10123456784" in replies(ticket)[-1]

    # the tracking app sees it move, then delivered: in transit, then the warehouse is reminded
    carrier = Actor.connector(store_id=order.store_id, platform="17track")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            rma_tracking_update(
                order_id=order.pk, tracking_number="1Z999AA10123456784", new_status="in_transit", actor=carrier
            )
            == "in_transit"
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            rma_tracking_update(
                order_id=order.pk, tracking_number="1Z999AA10123456784", new_status="delivered", actor=carrier
            )
            == "delivered"
        )
    reminded = Notification.objects.filter(dedupe_key=f"rma-arrived:{rma.pk}")
    reminded_ids = set(reminded.values_list("user_id", flat=True))
    assert reminded_ids >= {world.agent.pk, world.approver.pk, world.admin.pk}
    assert not reminded.filter(user=world.viewer).exists() and not reminded.filter(user=world.outsider).exists()

    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_receive(user=world.agent, rma_id=rma.pk)
    assert rma.status == RmaStatus.RECEIVED and rma.received_at is not None

    with pytest.raises(ValidationFailed) as err:  # the IMEI read must be given for a phone with one on record
        rma_inspect(
            user=world.agent,
            rma_id=rma.pk,
            lines=[
                {
                    "line_id": rma.lines.get().pk,
                    "checklist": {"activation_lock_off": True, "screen_ok": True, "body_ok": True},
                }
            ],
        )
    assert err.value.field == "lines[0].imei"
    line = rma.lines.get()
    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_inspect(
            user=world.agent,
            rma_id=rma.pk,
            lines=[
                {
                    "line_id": line.pk,
                    "imei": IMEI,
                    "checklist": {"activation_lock_off": True, "screen_ok": True, "body_ok": True},
                }
            ],
        )
    assert rma.status == RmaStatus.INSPECTED and rma.inspection_result == "passed"
    line.refresh_from_db()
    assert line.disposition == "restock" and [i["passed"] for i in line.qc_checklist] == [True, True, True, True]
    move = InventoryMovement.objects.get(idempotency_key=f"rma:{rma.pk}:line:{line.pk}:qc")
    assert move.kind == "restock" and move.on_hand_delta == 1 and move.warehouse_id == hub.pk

    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_resolve(user=world.approver, rma_id=rma.pk, outcome="refunded")
    assert rma.status == RmaStatus.RESOLVED and rma.outcome == "refunded" and rma.resolved_at is not None
    refund = rma.refunds.get()
    assert refund.amount == Decimal("299.00") and refund.idempotency_key == f"rma:{rma.pk}:refund"
    timeline = list(rma.events.filter(type="status_changed").values_list("payload__new", flat=True))
    assert timeline == [
        "needs_evidence",
        "under_review",
        "approved",
        "label_issued",
        "in_transit",
        "received",
        "inspected",
        "resolved",
    ]
    notified = list(rma.events.filter(type="customer_notified").values_list("payload__step", flat=True))
    assert notified == [
        "evidence_requested",
        "approved",
        "label_issued",
        "in_transit",
        "delivered",
        "received",
        "inspected",
        "resolved",
    ]


def _mp4() -> bytes:
    # the smallest ISO base media header filetype recognises as video/mp4
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64


def test_a_failed_inspection_writes_off_and_never_restocks(world) -> None:
    return_hub(world)
    order = delivered_order(world, lines=(("electronic_accessories", "19.00", 2, "USD"),))
    rma = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 2}],
        reason="changed_mind",
    )
    rma_approve(user=world.approver, rma_id=rma.pk)
    rma_mark_in_transit(user=world.agent, rma_id=rma.pk, carrier="DHL", tracking_number="JD014600001")
    rma_receive(user=world.agent, rma_id=rma.pk)
    line = rma.lines.get()
    with pytest.raises(ValidationFailed) as err:
        rma_inspect(
            user=world.agent,
            rma_id=rma.pk,
            lines=[{"line_id": line.pk, "checklist": {"complete_undamaged": False}, "disposition": "restock"}],
        )
    assert err.value.field == "lines[0].disposition"
    with pytest.raises(ValidationFailed) as err:
        rma_inspect(user=world.agent, rma_id=rma.pk, lines=[{"line_id": line.pk, "checklist": {"screen_ok": True}}])
    assert err.value.field == "lines[0].checklist.screen_ok"
    assert not InventoryMovement.objects.exists()
    rma = rma_inspect(
        user=world.agent,
        rma_id=rma.pk,
        lines=[{"line_id": line.pk, "checklist": {"complete_undamaged": False}, "disposition": "write_off"}],
    )
    assert rma.inspection_result == "failed"
    kinds = sorted(InventoryMovement.objects.values_list("kind", "on_hand_delta"))
    assert kinds == [("receive", 2), ("write_off", -2)]
    with pytest.raises(ValidationFailed):
        rma_resolve(user=world.approver, rma_id=rma.pk, outcome="exchanged")  # not the resolution
    rma = rma_resolve(user=world.approver, rma_id=rma.pk, outcome="returned_to_customer")
    assert rma.outcome == "returned_to_customer" and not rma.refunds.exists()


def test_partial_refund_offer_accepted_and_declined(world) -> None:
    order = delivered_order(world, lines=(("home", "40.00", 1, "USD"),))
    rma = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="changed_mind",
    )
    with pytest.raises(ValidationFailed) as err:
        rma_offer_partial(user=world.approver, rma_id=rma.pk)  # the policy offers nothing for changed_mind
    assert err.value.field == "amount"
    with pytest.raises(ValidationFailed) as err:
        rma_offer_partial(user=world.approver, rma_id=rma.pk, amount="40.00")
    assert err.value.field == "amount"
    rma = rma_offer_partial(user=world.approver, rma_id=rma.pk, amount="8.00", message="Keep it?")
    assert rma.status == RmaStatus.PARTIAL_OFFERED and rma.decision["offer"]["amount"] == "8.00"
    rma = rma_decline_partial(user=world.agent, rma_id=rma.pk, note="Wants the full refund")
    assert rma.status == RmaStatus.UNDER_REVIEW
    rma = rma_offer_partial(user=world.approver, rma_id=rma.pk, percent="25")
    assert rma.decision["offer"]["amount"] == "10.00"
    rma = rma_accept_partial(user=world.agent, rma_id=rma.pk)
    assert rma.status == RmaStatus.RESOLVED and rma.outcome == "kept_partial_refund"
    assert rma.refunds.get().amount == Decimal("10.00")


def test_cancel_and_label_rules(world) -> None:
    order = delivered_order(world)
    rma = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="changed_mind",
    )
    with pytest.raises(Conflict):
        rma_issue_label(user=world.agent, rma_id=rma.pk, source="carrier", carrier="UPS", tracking_number="1Z12345")
    rma_approve(user=world.approver, rma_id=rma.pk)
    with pytest.raises(ValidationFailed) as err:
        rma_issue_label(user=world.agent, rma_id=rma.pk, source="carrier", carrier="UPS")
    assert err.value.field == "tracking_number"
    with pytest.raises(ValidationFailed) as err:
        rma_issue_label(user=world.agent, rma_id=rma.pk, source="platform")  # no marketplace request
    assert err.value.field == "source"
    with pytest.raises(ValidationFailed) as err:
        rma_issue_label(
            user=world.agent, rma_id=rma.pk, source="uploaded", upload=Upload("l.txt", b"<html><body>x</body></html>")
        )
    assert err.value.field == "file"
    assert not RmaEvidence.objects.exists()
    from aftersales.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        rma_cancel(user=world.agent, rma_id=rma.pk, reason="Changed their mind again")  # approved: APPROVE needed
    rma = rma_cancel(user=world.approver, rma_id=rma.pk, reason="Changed their mind again")
    assert rma.status == RmaStatus.CANCELLED
    other = rma_create(
        user=world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
        reason="changed_mind",
    )
    assert rma_cancel(user=world.agent, rma_id=other.pk).status == RmaStatus.CANCELLED  # still requested: PROCESS


def test_no_ticket_is_recorded_on_the_timeline(world, django_capture_on_commit_callbacks) -> None:
    order = delivered_order(world)
    with django_capture_on_commit_callbacks(execute=True):
        rma = rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
            reason="changed_mind",
        )
    with django_capture_on_commit_callbacks(execute=True):
        rma_request_evidence(user=world.agent, rma_id=rma.pk, kinds=["photo"])
    skipped = rma.events.get(type="notification_skipped")
    assert skipped.payload["why"] == "no_ticket" and skipped.payload["step"] == "evidence_requested"
