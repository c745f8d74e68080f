"""The buyer notifications added to the RMA's steps (issue 10, section 7): the return parcel on its way
(first carrier scan, once), delivered to the warehouse by tracking, the inspection result (passed, or
failed with the checks the buyer may read), the cancellation (who, and why), the refund paid (amount in
the buyer's locale; a failed refund sends nothing). Each through the organization's templates in the
buyer's language, once per step and event (a replay sends and records nothing more), and only when the
organization's switch for the step is on."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from aftersales.core.actors import Actor
from aftersales.inbox.models import Message
from aftersales.inventory.models import Warehouse
from aftersales.returns.models import Refund, RefundStatus, Rma
from aftersales.returns.notify import format_amount, refund_notify_customer, rma_notify_customer
from aftersales.returns.notify_settings import notification_steps_update, step_enabled
from aftersales.returns.notify_templates import rma_templates_seed
from aftersales.returns.refunds import refund_transition
from aftersales.returns.rma import rma_approve, rma_create, rma_transition
from aftersales.returns.rma_actions import (
    rma_cancel,
    rma_inspect,
    rma_issue_label,
    rma_receive,
    rma_tracking_update,
)

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def outbound(ticket) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        Message.objects.filter(ticket=ticket, direction="outbound").order_by("id").values_list("body", flat=True)
    )


def approved_rma(world, capture, *, language: str, category: str = "electronic_accessories", price: str = "59.00"):  # type: ignore[no-untyped-def]
    rma_templates_seed(organization_id=world.org.pk)
    if not Warehouse.objects.filter(organization=world.org, code="US-RET").exists():
        return_hub(world)
    order = delivered_order(world, lines=((category, price, 1, "USD"),))
    ticket = ticket_for(world, order, language=language, assignee=world.agent)
    with capture(execute=True):
        rma = rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(order).pk, "quantity": 1}],
            reason="changed_mind",
            ticket_id=ticket.pk,
        )
        rma_approve(user=world.approver, rma_id=rma.pk)
    return Rma.objects.get(pk=rma.pk), ticket


def notified(rma: Rma, step: str) -> list[int]:
    return list(rma.events.filter(type="customer_notified", payload__step=step).values_list("pk", flat=True))


def test_parcel_on_its_way_once_then_delivered_once_in_german(world, django_capture_on_commit_callbacks) -> None:
    capture = django_capture_on_commit_callbacks
    rma, ticket = approved_rma(world, capture, language="de")
    with capture(execute=True):
        rma_issue_label(user=world.agent, rma_id=rma.pk, source="carrier", carrier="DHL", tracking_number="JD0146001")
    before = len(outbound(ticket))
    for scan in ("picked_up", "in_transit", "arrived", "out_for_delivery"):  # every carrier scan
        with capture(execute=True):
            rma_tracking_update(
                order_id=rma.order_id, tracking_number="JD0146001", new_status=scan, actor=Actor.system("tracking")
            )
    for _again in range(2):
        with capture(execute=True):
            rma_tracking_update(
                order_id=rma.order_id,
                tracking_number="JD0146001",
                new_status="delivered",
                actor=Actor.system("tracking"),
            )
    sent = outbound(ticket)[before:]
    assert len(sent) == 2, sent
    assert "Rücksendepaket" in sent[0] and "auf dem Weg zu uns" in sent[0] and "DHL JD0146001" in sent[0]
    assert "in unserem Lager zugestellt" in sent[1]
    assert len(notified(rma, "in_transit")) == 1 and len(notified(rma, "delivered")) == 1
    # the warehouse's receipt is its own step, distinct from the carrier's delivery
    with capture(execute=True):
        rma_receive(user=world.agent, rma_id=rma.pk)
    assert "Ihre Rücksendung" in outbound(ticket)[-1] and len(outbound(ticket)) == before + 3

    # a replayed task answers as the first time: no second message, no second timeline row
    event = rma.events.get(type="status_changed", payload__new="in_transit")
    assert (
        rma_notify_customer(
            rma_id=rma.pk, step="in_transit", rma_event_id=event.pk, actor_user_id=None, payload=event.payload
        )
        == "sent"
    )
    assert len(outbound(ticket)) == before + 3 and len(notified(rma, "in_transit")) == 1
    row = rma.events.get(type="customer_notified", payload__step="in_transit")
    assert (row.actor_kind, row.actor_user_id) == ("user", world.agent.pk)  # the assignee: tracking is automatic


def _inspect(world, capture, rma: Rma, *, passed: bool) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        rma_receive(user=world.agent, rma_id=rma.pk)
        line = rma.lines.get()
        rma_inspect(
            user=world.agent,
            rma_id=rma.pk,
            lines=[
                {
                    "line_id": line.pk,
                    "checklist": {"complete_undamaged": passed},
                    "disposition": "restock" if passed else "write_off",
                    "note": "internal: scratched by the courier?",
                }
            ],
        )


def test_inspection_passed_in_german_and_failed_in_chinese_with_the_failed_check(
    world, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    rma, ticket = approved_rma(world, capture, language="de")
    _inspect(world, capture, rma, passed=True)
    assert "hat unsere Prüfung bestanden" in outbound(ticket)[-1]
    failed, zh_ticket = approved_rma(world, capture, language="zh")
    _inspect(world, capture, failed, passed=False)
    text = outbound(zh_ticket)[-1]
    assert "未通过检验" in text and "完整无损" in text  # the template, then the failed check in Chinese
    assert "internal" not in text  # the inspector's note stays internal
    assert len(notified(failed, "inspected")) == 1


def test_cancelled_by_the_seller_and_on_the_marketplace_with_the_reason(
    world, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    rma, ticket = approved_rma(world, capture, language="ko")  # no Korean variant seeded
    with capture(execute=True):
        rma_cancel(user=world.approver, rma_id=rma.pk, reason="Out of the return window")
    text = outbound(ticket)[-1]
    assert "has been cancelled" in text and "cancelled by the seller" in text
    assert "Reason: Out of the return window" in text
    sent = rma.events.get(type="customer_notified", payload__step="cancelled").payload
    # no translation provider here: the source variant (with one, a machine-translated variant, flagged)
    assert sent["language"] == "ko" and sent["source"].endswith(":en")

    other, other_ticket = approved_rma(world, capture, language="de")
    with capture(execute=True), transaction.atomic():
        locked = Rma.objects.select_for_update().get(pk=other.pk)
        rma_transition(
            locked,
            "cancelled",
            actor=Actor.connector(store_id=locked.store_id, platform="ebay"),
            reason="buyer_cancelled",
        )
    text = outbound(other_ticket)[-1]
    assert "wurde storniert" in text and "auf dem Marktplatz storniert" in text and "Grund: buyer_cancelled" in text

    ja, ja_ticket = approved_rma(world, capture, language="ja")  # written in Japanese (test_notify_languages)
    with capture(execute=True):
        rma_cancel(user=world.approver, rma_id=ja.pk, reason="Out of the return window")
    text = outbound(ja_ticket)[-1]
    assert "キャンセルされました" in text and "販売者によりキャンセル" in text
    assert "理由：Out of the return window" in text


def _refund(rma: Rma, amount: str, currency: str) -> Refund:
    return Refund.objects.create(
        organization_id=rma.organization_id,
        store_id=rma.store_id,
        order_id=rma.order_id,
        rma=rma,
        ticket_id=rma.ticket_id,
        kind="full",
        status=RefundStatus.EXECUTING,
        amount=Decimal(amount),
        currency=currency,
        idempotency_key=f"test-{rma.pk}-{amount}",
    )


def _settle(refund: Refund, to: str, capture) -> None:  # type: ignore[no-untyped-def]
    with capture(execute=True), transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund.pk)
        refund_transition(
            locked, to, actor=Actor.connector(store_id=locked.store_id, platform="refundtest"), reason="platform"
        )


def test_refund_paid_is_off_by_default_on_when_switched_and_never_for_a_failed_refund(
    world, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    rma, ticket = approved_rma(world, capture, language="de")
    before = len(outbound(ticket))
    assert step_enabled(world.org.pk, "refund_paid") is False  # marketplaces tell buyers themselves
    _settle(_refund(rma, "1234.50", "EUR"), "succeeded", capture)
    assert len(outbound(ticket)) == before
    skipped = rma.events.get(type="notification_skipped", payload__step="refund_paid")
    assert skipped.payload["why"] == "disabled_by_setting"

    notification_steps_update(user=world.admin, changes={"refund_paid": True}, via="api")
    failed = _refund(rma, "20.00", "EUR")
    _settle(failed, "failed", capture)
    assert len(outbound(ticket)) == before  # a failed refund says nothing
    paid = _refund(rma, "99.90", "EUR")
    _settle(paid, "succeeded", capture)
    sent = outbound(ticket)[before:]
    assert len(sent) == 1 and "Erstattung von 99,90\xa0€" in sent[0] and rma.number in sent[0]
    event = paid.events.get(payload__to="succeeded")
    assert (
        rma_notify_customer(
            rma_id=rma.pk, step="refund_paid", rma_event_id=event.pk, actor_user_id=None, payload={"refund_id": paid.pk}
        )
        == "sent"
    )
    assert len(outbound(ticket)) == before + 1


def test_a_step_switched_off_is_recorded_and_not_sent(world, django_capture_on_commit_callbacks) -> None:
    capture = django_capture_on_commit_callbacks
    notification_steps_update(user=world.admin, changes={"cancelled": False}, via="web")
    rma, ticket = approved_rma(world, capture, language="de")
    before = len(outbound(ticket))
    with capture(execute=True):
        rma_cancel(user=world.approver, rma_id=rma.pk, reason="x")
    assert len(outbound(ticket)) == before
    assert (
        rma.events.get(type="notification_skipped", payload__step="cancelled").payload["why"] == "disabled_by_setting"
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "1.234,50\xa0€"), ("ja", "€1,234.50"), ("en", "€1,234.50"), ("xx", "1,234.50 EUR")],
)
def test_amounts_in_the_buyers_locale(language: str, expected: str) -> None:
    assert format_amount(Decimal("1234.50"), "EUR", language) == expected


def test_arabic_amount_uses_arabic_locale() -> None:
    text = format_amount(Decimal("1234.50"), "USD", "ar")
    assert "1,234.50" in text or "١٬٢٣٤٫٥٠" in text
    assert text != "1,234.50 USD"


def test_a_refund_without_an_rma_is_told_on_its_ticket_and_recorded_on_the_refund(
    world, django_capture_on_commit_callbacks
) -> None:
    capture = django_capture_on_commit_callbacks
    rma_templates_seed(organization_id=world.org.pk)
    order = delivered_order(world, lines=(("home", "40.00", 1, "EUR"),))
    ticket = ticket_for(world, order, language="de", assignee=world.agent)
    refund = Refund.objects.create(
        organization_id=order.organization_id,
        store_id=order.store_id,
        order=order,
        ticket=ticket,
        kind="full",
        status=RefundStatus.EXECUTING,
        amount=Decimal("40.00"),
        currency="EUR",
        idempotency_key="test-order-refund",
    )
    notification_steps_update(user=world.admin, changes={"refund_paid": True}, via="api")
    _settle(refund, "succeeded", capture)
    (text,) = outbound(ticket)
    assert "Erstattung von 40,00\xa0€" in text and "Bestellung" in text and order.external_id in text
    sent = refund.events.get(type="customer_notified")
    assert (sent.payload["step"], sent.actor_user_id) == ("refund_paid", world.agent.pk)
    assert (
        refund_notify_customer(refund_id=refund.pk, refund_event_id=sent.payload["for_event_id"], actor_user_id=None)
        == "sent"
    )
    assert len(outbound(ticket)) == 1 and refund.events.filter(type="customer_notified").count() == 1
