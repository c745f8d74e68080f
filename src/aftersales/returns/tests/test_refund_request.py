"""returns.refunds.refund_request / approve / reject / cancel: kinds, bounds, precision, currency,
limits (with the rate table), review reasons, idempotency keys, organization scoping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aftersales.core.clock import now
from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.returns.models import (
    EvidenceKind,
    ExchangeRate,
    Refund,
    RefundEvent,
    RefundReviewSettings,
    RefundStatus,
    Rma,
    RmaEvidence,
    RmaLine,
)
from aftersales.returns.refunds import (
    currency_places,
    order_ledger,
    refund_approve,
    refund_cancel,
    refund_reject,
    refund_request,
)
from aftersales.testing.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world):  # type: ignore[no-untyped-def]
    """Two lines (2 x 20.00 + 1 x 15.00 = 55.00) and 5.00 of shipping: 60.00 paid."""
    o = OrderFactory(store=world.store_us, total_amount=Decimal("60.00"), currency="USD")
    o.l1 = OrderLineFactory(
        order=o, quantity=2, unit_price_amount=Decimal("20.00"), currency="USD", external_line_id="A1"
    )
    o.l2 = OrderLineFactory(
        order=o, quantity=1, unit_price_amount=Decimal("15.00"), currency="USD", external_line_id="A2"
    )
    return o


def make_rma(world, order, lines, **kwargs):  # type: ignore[no-untyped-def]
    rma = Rma.objects.create(
        organization=world.org,
        store=order.store,
        number=f"RMA-{Rma.objects.count() + 1}",
        order=order,
        customer=order.customer,
        reason="defective",
        requested_at=now(),
        **kwargs,
    )
    for line, quantity in lines:
        RmaLine.objects.create(
            rma=rma,
            order_line=line,
            sku=line.sku,
            quantity=quantity,
            unit_price_amount=line.unit_price_amount,
            currency="USD",
        )
    return rma


def test_full_refund_takes_every_line_and_the_shipping(world, order):
    refund = refund_request(user=world.agent, order_id=order.pk, kind="full", currency="USD")
    assert refund.amount == Decimal("60.00") and refund.status == RefundStatus.PENDING_APPROVAL
    assert sorted((line.order_line_id, line.amount) for line in refund.lines.all()) == [
        (order.l1.pk, Decimal("40.00")),
        (order.l2.pk, Decimal("15.00")),
    ]
    assert [e.type for e in RefundEvent.objects.filter(refund=refund)] == ["requested"]
    ledger = order_ledger(order)
    assert ledger.left(order.l1.pk) == 0 and ledger.shipping_left == 0
    with pytest.raises(ValidationFailed) as exc:
        refund_request(user=world.agent, order_id=order.pk, kind="full", currency="USD")
    assert exc.value.field == "amount"


def test_partial_with_lines_within_the_approvers_limit_is_approved(world, order):
    refund = refund_request(
        user=world.approver,
        order_id=order.pk,
        kind="partial",
        currency="USD",
        amount="25.00",
        lines=[
            {"order_line_id": order.l1.pk, "amount": "20.00", "quantity": 1},
            {"order_line_id": order.l2.pk, "amount": "5"},
        ],
    )
    assert refund.status == RefundStatus.APPROVED and refund.approved_by == world.approver
    events = list(RefundEvent.objects.filter(refund=refund).values_list("type", "payload__to", "actor_user_id"))
    assert events == [("requested", None, world.approver.pk), ("status_changed", "approved", world.approver.pk)]


def test_partial_without_lines_is_spread_over_the_rma_lines(world, order):
    rma = make_rma(world, order, [(order.l2, 1)])
    refund = refund_request(
        user=world.agent, order_id=order.pk, rma_id=rma.pk, kind="partial", currency="USD", amount="15.00"
    )
    assert [(line.order_line_id, line.amount) for line in refund.lines.all()] == [(order.l2.pk, Decimal("15.00"))]
    assert refund.idempotency_key == f"rma:{rma.pk}:refund"
    with pytest.raises(ValidationFailed) as exc:  # nothing left on the RMA's line
        refund_request(
            user=world.agent,
            order_id=order.pk,
            rma_id=rma.pk,
            kind="partial",
            currency="USD",
            amount="0.01",
            idempotency_key="again",
        )
    assert exc.value.field == "amount"


def test_the_same_key_answers_the_same_refund(world, order):
    first = refund_request(
        user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00", idempotency_key="k1"
    )
    again = refund_request(
        user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00", idempotency_key="k1"
    )
    assert again.pk == first.pk and Refund.objects.count() == 1
    with pytest.raises(Conflict) as exc:
        refund_request(
            user=world.agent, order_id=order.pk, kind="partial", currency="USD", amount="1.00", idempotency_key="k1"
        )
    assert exc.value.field == "idempotency_key"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "partial", "amount": "-1.00"}, "amount"),
        ({"kind": "partial", "amount": "0"}, "amount"),
        ({"kind": "partial", "amount": "1.005"}, "amount"),
        ({"kind": "partial", "amount": 1.5}, "amount"),
        ({"kind": "partial", "amount": "NaN"}, "amount"),
        ({"kind": "partial", "amount": "56.00"}, "amount"),  # lines hold 55.00
        ({"kind": "partial", "amount": "1.00", "currency": "EUR"}, "currency"),
        ({"kind": "partial", "amount": "1.00", "currency": "ZZZ"}, "currency"),
        ({"kind": "refund_everything", "amount": "1.00"}, "kind"),
        ({"kind": "shipping", "amount": "5.01"}, "amount"),
        ({"kind": "full", "amount": "59.99"}, "amount"),
        (
            {"kind": "partial", "amount": "1.00", "lines": [{"order_line_id": 0, "amount": "1.00"}]},
            "lines[0].order_line_id",
        ),
        ({"kind": "partial", "amount": "41.00", "lines": "L1:41.00"}, "lines"),
        ({"kind": "partial", "idempotency_key": "x" * 121, "amount": "1.00"}, "idempotency_key"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(world, order, kwargs, field):
    kwargs = {"currency": "USD", **kwargs}
    with pytest.raises(ValidationFailed) as exc:
        refund_request(user=world.agent, order_id=order.pk, **kwargs)
    assert exc.value.field == field
    assert Refund.objects.count() == 0 and RefundEvent.objects.count() == 0


def test_line_bounds_name_the_line(world, order):
    with pytest.raises(ValidationFailed) as exc:
        refund_request(
            user=world.agent,
            order_id=order.pk,
            kind="partial",
            currency="USD",
            lines=[
                {"order_line_id": order.l1.pk, "amount": "10.00"},
                {"order_line_id": order.l2.pk, "amount": "15.01"},
            ],
        )
    assert exc.value.field == "lines[1].amount"
    other = OrderLineFactory(unit_price_amount=Decimal("1.00"))
    with pytest.raises(ValidationFailed) as exc:
        refund_request(
            user=world.agent,
            order_id=order.pk,
            kind="partial",
            currency="USD",
            lines=[{"order_line_id": other.pk, "amount": "1.00"}],
        )
    assert exc.value.field == "lines[0].order_line_id"
    assert Refund.objects.count() == 0


def test_jpy_has_no_decimals(world):
    order = OrderFactory(store=world.store_us, total_amount=Decimal("5000"), currency="JPY")
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("5000"), currency="JPY")
    assert currency_places("JPY") == 0 and currency_places("EUR") == 2
    with pytest.raises(ValidationFailed) as exc:
        refund_request(user=world.agent, order_id=order.pk, kind="partial", currency="JPY", amount="100.5")
    assert exc.value.field == "amount"
    refund = refund_request(user=world.agent, order_id=order.pk, kind="partial", currency="JPY", amount="100")
    assert refund.amount == Decimal("100")


def test_another_organizations_order_is_not_found(world, order):
    foreign = OrderFactory(store=world.foreign_store)
    with pytest.raises(NotFound) as exc:
        refund_request(user=world.agent, order_id=foreign.pk, kind="full", currency="USD")
    assert exc.value.field == "order_id"
    refund = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    with pytest.raises(NotFound):
        refund_approve(user=world.foreign_user, refund_id=refund.pk)


def test_viewers_cannot_request_and_agents_cannot_approve(world, order):
    with pytest.raises(PermissionDenied):
        refund_request(user=world.viewer, order_id=order.pk, kind="full", currency="USD")
    refund = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    with pytest.raises(PermissionDenied):
        refund_approve(user=world.agent, refund_id=refund.pk)


def test_above_the_limit_an_approver_whose_limit_covers_it_or_an_admin_approves(world, order):
    big = OrderFactory(store=world.store_us, total_amount=Decimal("150.00"), currency="USD")
    OrderLineFactory(order=big, quantity=1, unit_price_amount=Decimal("150.00"), currency="USD")
    refund = refund_request(user=world.approver, order_id=big.pk, kind="full", currency="USD")
    assert refund.status == RefundStatus.PENDING_APPROVAL  # 150 > the approver's 100
    with pytest.raises(PermissionDenied) as exc:
        refund_approve(user=world.approver, refund_id=refund.pk)
    assert "your own refund" in exc.value.message
    approved = refund_approve(user=world.admin, refund_id=refund.pk, note="ok")
    assert approved.status == RefundStatus.APPROVED and approved.approved_by == world.admin
    assert refund_approve(user=world.admin, refund_id=refund.pk).status == RefundStatus.APPROVED  # double click
    assert RefundEvent.objects.filter(refund=refund, type="status_changed").count() == 1


def test_a_limit_in_another_currency_is_converted_with_the_rate_table(world):
    order = OrderFactory(store=world.store_us, total_amount=Decimal("90.00"), currency="EUR")
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("90.00"), currency="EUR")
    # no EUR rate: the amount cannot be compared, so it waits for approval
    first = refund_request(user=world.approver, order_id=order.pk, kind="partial", currency="EUR", amount="10.00")
    assert first.status == RefundStatus.PENDING_APPROVAL
    ExchangeRate.objects.create(
        organization=world.org, currency="EUR", rate=Decimal("1.2"), as_of=date(2026, 12, 1), updated_at=now()
    )
    second = refund_request(user=world.approver, order_id=order.pk, kind="partial", currency="EUR", amount="80.00")
    assert second.status == RefundStatus.APPROVED  # 80 EUR = 96 USD <= 100 USD
    limit = RefundEvent.objects.get(refund=second, type="requested").payload["limit"]
    assert limit["amount_in_limit_currency"] == "96.00" and limit["rate"]["from_rate"] == "1.20000000"


def test_reject_needs_a_reason(world, order):
    refund = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    with pytest.raises(ValidationFailed) as exc:
        refund_reject(user=world.approver, refund_id=refund.pk, reason=" ")
    assert exc.value.field == "reason"
    rejected = refund_reject(user=world.approver, refund_id=refund.pk, reason="Buyer kept the parcel")
    assert rejected.status == RefundStatus.REJECTED
    with pytest.raises(Conflict):
        refund_approve(user=world.admin, refund_id=refund.pk)
    # a rejected refund no longer holds the money: the shipping can be refunded again
    again = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    assert again.amount == Decimal("5.00")
    cancelled = refund_cancel(user=world.agent, refund_id=again.pk, reason="duplicate")
    assert cancelled.status == RefundStatus.CANCELLED


# --- review reasons ---------------------------------------------------------------------------------


def test_amount_above_what_was_paid_goes_to_review(world):
    order = OrderFactory(store=world.store_us, total_amount=Decimal("30.00"), currency="USD")  # a 10.00 discount
    OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("40.00"), currency="USD")
    refund = refund_request(user=world.admin, order_id=order.pk, kind="partial", currency="USD", amount="35.00")
    assert refund.status == RefundStatus.IN_REVIEW
    assert [r["code"] for r in refund.review_reasons] == ["amount_above_paid"]
    approved = refund_approve(user=world.admin, refund_id=refund.pk, note="discount was ours")
    assert approved.status == RefundStatus.APPROVED
    assert RefundEvent.objects.filter(refund=refund, type="status_changed").last().payload["reason"] == "reviewed"


def test_repeat_returner_per_organization_thresholds(world, order):
    customer = order.customer
    for _ in range(2):
        other = OrderFactory(store=world.store_us, customer=customer, total_amount=Decimal("10.00"))
        make_rma(world, other, [])
    refund = refund_request(user=world.admin, order_id=order.pk, kind="shipping", currency="USD", amount="1.00")
    assert refund.status == RefundStatus.APPROVED  # 2 earlier < 3 (default)
    RefundReviewSettings.objects.create(organization=world.org, repeat_threshold=2, repeat_window_days=30)
    refund = refund_request(user=world.admin, order_id=order.pk, kind="shipping", currency="USD", amount="1.00")
    assert refund.status == RefundStatus.IN_REVIEW
    assert refund.review_reasons[0]["code"] == "repeat_returner" and "30 days" in refund.review_reasons[0]["message"]


def test_imei_not_the_one_the_buyer_gave_goes_to_review(world, order):
    rma = make_rma(world, order, [(order.l2, 1)])
    line = rma.lines.get()
    line.imei = "490154203237518"
    line.save()
    RmaEvidence.objects.create(
        rma=rma, line=line, kind=EvidenceKind.IMEI, value="356938035643809", actor_kind="customer", at=now()
    )
    refund = refund_request(user=world.admin, order_id=order.pk, rma_id=rma.pk, kind="full", currency="USD")
    assert refund.status == RefundStatus.IN_REVIEW
    assert [r["code"] for r in refund.review_reasons] == ["unit_mismatch"]
    assert "490154203237518" in refund.review_reasons[0]["message"]


def test_high_value_without_evidence_goes_to_review(world):
    order = OrderFactory(store=world.store_us, total_amount=Decimal("900.00"), currency="USD")
    line = OrderLineFactory(order=order, quantity=1, unit_price_amount=Decimal("900.00"), currency="USD", sku="PHONE-1")
    refund = refund_request(user=world.admin, order_id=order.pk, kind="partial", currency="USD", amount="100.00")
    assert [r["code"] for r in refund.review_reasons] == ["high_value_without_evidence"]
    rma = make_rma(world, order, [(line, 1)])
    RmaEvidence.objects.create(rma=rma, kind=EvidenceKind.PHOTO, actor_kind="customer", at=now())
    with_photo = refund_request(
        user=world.admin, order_id=order.pk, rma_id=rma.pk, kind="partial", currency="USD", amount="100.00"
    )
    assert with_photo.status == RefundStatus.APPROVED and with_photo.review_reasons == []
    RefundReviewSettings.objects.create(organization=world.org, high_value_requires_evidence=False)
    without = refund_request(user=world.admin, order_id=order.pk, kind="partial", currency="USD", amount="100.00")
    assert without.status == RefundStatus.APPROVED
