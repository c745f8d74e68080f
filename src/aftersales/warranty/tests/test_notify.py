"""Buyer notifications of a warranty claim (warranty.notify, through returns.notify's one path): the
replacement shipped with carrier, tracking number and link; the unit for repair received and shipped
back; in the buyer's language, once per step and event, recorded on the claim's timeline, and not at
all when the organization switched the step off."""

from __future__ import annotations

import pytest

from aftersales.inbox.models import Message
from aftersales.inventory.models import Warehouse
from aftersales.returns.notify_settings import notification_steps_update
from aftersales.returns.notify_templates import rma_templates_seed
from aftersales.warranty.models import WarrantyClaimEvent
from aftersales.warranty.notify import warranty_notify_customer
from aftersales.warranty.replacements import replacement_ship
from aftersales.warranty.services import claim_change_status, claim_open, claim_resolve, repair_advance

from .test_replacement_stock import _receive
from .test_services import IN_TIME, register

pytestmark = pytest.mark.django_db


def _claim(world, stock, *, language: str):  # type: ignore[no-untyped-def]
    rma_templates_seed(organization_id=world.org.pk)
    ticket = world.ticket(language=language, assignee=world.agent)
    unit = register(world, stock)
    claim = claim_open(
        user=world.agent, unit_id=unit.pk, problem="Dead on arrival", claimed_at=IN_TIME, ticket_id=ticket.pk
    )
    claim_change_status(user=world.agent, claim_id=claim.pk, status="under_review")
    claim_change_status(user=world.approver, claim_id=claim.pk, status="approved")
    return claim, ticket


def outbound(ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Message.objects.filter(ticket=ticket, direction="outbound").order_by("id").values_list("body", flat=True)
    )


def test_replacement_shipped_in_german_with_the_tracking_link_once(  # type: ignore[no-untyped-def]
    world, stock, django_capture_on_commit_callbacks
) -> None:
    warehouse = Warehouse.objects.create(organization=world.org, code="SZ-1", name="Shenzhen")
    _receive(world, warehouse, stock.phone.sku, 1)
    claim, ticket = _claim(world, stock, language="de")
    with django_capture_on_commit_callbacks(execute=True):
        claim_resolve(user=world.agent, claim_id=claim.pk, resolution="replacement")
    for _twice in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            replacement_ship(user=world.agent, claim_id=claim.pk, carrier="DHL", tracking_number="JD0146000031")
    (text,) = outbound(ticket)
    assert "Ihr Ersatzgerät ist unterwegs" in text and "DHL JD0146000031" in text
    assert "https://t.17track.net/en#nums=JD0146000031" in text
    shipped = WarrantyClaimEvent.objects.get(claim=claim, type="replacement_shipped")
    sent = WarrantyClaimEvent.objects.get(claim=claim, type="customer_notified")
    assert sent.payload["for_event_id"] == shipped.pk and sent.payload["language"] == "de"
    assert sent.actor_id == world.agent.pk
    again = warranty_notify_customer(
        claim_id=claim.pk, step="replacement_shipped", event_id=shipped.pk, actor_user_id=world.agent.pk
    )
    assert again == "sent" and len(outbound(ticket)) == 1
    assert WarrantyClaimEvent.objects.filter(claim=claim, type="customer_notified").count() == 1


def test_repair_received_and_shipped_back_in_chinese_and_a_step_switched_off(  # type: ignore[no-untyped-def]
    world, stock, django_capture_on_commit_callbacks
) -> None:
    notification_steps_update(user=world.admin, changes={"repair_received": False}, via="api")
    claim, ticket = _claim(world, stock, language="zh")
    with django_capture_on_commit_callbacks(execute=True):
        repair = claim_resolve(user=world.agent, claim_id=claim.pk, resolution="repair").repair_order
        assert repair is not None
        for status in ("received", "diagnosing", "repairing"):
            repair_advance(user=world.agent, repair_id=repair.pk, status=status)
        repair_advance(
            user=world.agent, repair_id=repair.pk, status="shipped_back", carrier="SF", tracking_number="SF123"
        )
    (text,) = outbound(ticket)  # received is switched off
    assert "您的设备已寄回" in text and "SF SF123" in text
    skipped = WarrantyClaimEvent.objects.get(claim=claim, type="notification_skipped")
    assert skipped.payload == {
        "step": "repair_received",
        "why": "disabled_by_setting",
        "for_event_id": skipped.payload["for_event_id"],
    }
