"""RMA services: creation with the automatic checks, numbering, approve / reject / request evidence,
every transition on the timeline with its actor; bad input names the field and writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from aftersales.returns.models import Rma, RmaEvent, RmaResolution, RmaStatus
from aftersales.returns.rma import rma_approve, rma_create, rma_reject, rma_request_evidence

from .rma_fixtures import delivered_order, first_line, return_hub, ticket_for

pytestmark = pytest.mark.django_db


def create(world, order, *, user=None, quantity=1, reason="changed_mind", **kwargs):  # type: ignore[no-untyped-def]
    return rma_create(
        user=user or world.agent,
        order_id=order.pk,
        lines=[{"order_line_id": first_line(order).pk, "quantity": quantity}],
        reason=reason,
        **kwargs,
    )


def test_create_runs_the_checks_numbers_and_records_the_decision(world) -> None:
    order = delivered_order(world)
    ticket = ticket_for(world, order)
    rma = create(world, order, ticket_id=ticket.pk, comment="Did not like it")
    rma.refresh_from_db()
    assert rma.status == RmaStatus.REQUESTED
    assert rma.number.startswith("RMA-") and rma.number.endswith("-000001")
    assert rma.ticket_id == ticket.pk and rma.order_id == order.pk
    assert rma.decision["resolution"] == "return_and_refund"
    assert rma.decision["policy_version"] == rma.policy_version
    assert "W-DEFAULT" in rma.decision["clauses"]
    assert rma.decision["lines"][0]["last_day"] == rma.decision["last_day"]
    assert rma.discrepancies == []
    assert rma.resolution == RmaResolution.RETURN_AND_REFUND
    assert rma.return_shipping_paid_by == "buyer"
    line = rma.lines.get()
    assert line.quantity == 1 and line.sku == first_line(order).sku and line.unit_price_amount == Decimal("49.90")
    types = list(rma.events.values_list("type", "actor_kind", "actor_ref"))
    assert types[0] == ("created", "user", str(world.agent.pk))
    assert types[1][0] == "checked"
    second = create(world, order)
    assert second.number.endswith("-000002")


def test_numbers_are_per_organization(world) -> None:
    order = delivered_order(world)
    foreign_order = delivered_order(world, store=world.foreign_store)
    mine = create(world, order)
    theirs = rma_create(
        user=world.foreign_user,
        order_id=foreign_order.pk,
        lines=[{"order_line_id": first_line(foreign_order).pk, "quantity": 1}],
        reason="changed_mind",
    )
    assert mine.number == theirs.number


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": 3}, "lines[0].quantity"),
        ({"quantity": 0}, "lines[0].quantity"),
        ({"order_line_id": 999999}, "lines[0].order_line_id"),
        ({"sku": "NOT-IT"}, "lines[0].sku"),
        ({"reason": "no_such_reason"}, "lines[0].reason"),
    ],
)
def test_bad_lines_name_the_field_and_write_nothing(world, change, field) -> None:
    order = delivered_order(world)
    line = {"order_line_id": first_line(order).pk, "quantity": 1, **change}
    with pytest.raises(ValidationFailed) as err:
        rma_create(user=world.agent, order_id=order.pk, lines=[line], reason="changed_mind")
    assert err.value.field == field
    assert not Rma.objects.exists() and not RmaEvent.objects.exists()


def test_another_orders_line_and_another_orgs_order_are_refused(world) -> None:
    order = delivered_order(world)
    other = delivered_order(world)
    foreign = delivered_order(world, store=world.foreign_store)
    with pytest.raises(ValidationFailed) as err:
        rma_create(
            user=world.agent,
            order_id=order.pk,
            lines=[{"order_line_id": first_line(other).pk, "quantity": 1}],
            reason="changed_mind",
        )
    assert err.value.field == "lines[0].order_line_id"
    with pytest.raises(ValidationFailed) as err:
        rma_create(
            user=world.agent,
            order_id=foreign.pk,
            lines=[{"order_line_id": first_line(foreign).pk, "quantity": 1}],
            reason="changed_mind",
        )
    assert err.value.field == "order_id"
    with pytest.raises(ValidationFailed) as err:
        rma_create(user=world.agent, order_id=order.pk, lines=[], reason="changed_mind")
    assert err.value.field == "lines"
    with pytest.raises(ValidationFailed) as err:
        create(world, order, reason="")
    assert err.value.field == "reason"
    assert not Rma.objects.exists()


def test_quantity_counts_what_is_already_on_other_rmas(world) -> None:
    order = delivered_order(world)  # 2 purchased
    first = create(world, order, quantity=1)
    create(world, order, quantity=1)
    with pytest.raises(ValidationFailed) as err:
        create(world, order, quantity=1)
    assert err.value.field == "lines[0].quantity" and "left to return" in err.value.message
    rma_reject(user=world.approver, rma_id=first.pk, reason="Used")
    assert create(world, order, quantity=1).lines.get().quantity == 1  # a rejected RMA does not count


def test_expired_window_goes_to_review_with_the_discrepancy(world) -> None:
    order = delivered_order(world, days_ago=45)
    rma = create(world, order)
    assert rma.status == RmaStatus.UNDER_REVIEW
    assert rma.decision["resolution"] == "reject" and rma.decision["rejection"] == "window_expired"
    assert [d["code"] for d in rma.discrepancies] == ["policy_window_expired"]
    assert "window:expired" in rma.decision["clauses"]


def test_missing_evidence_asks_for_it(world) -> None:
    order = delivered_order(world)
    rma = create(world, order, reason="defective")
    assert rma.status == RmaStatus.NEEDS_EVIDENCE
    assert rma.decision["missing_evidence"] == ["photos"]


def test_returnless_refund_is_approved_by_the_policy_and_the_refund_requested(world) -> None:
    order = delivered_order(world, lines=(("home", "9.90", 1, "USD"),))
    rma = create(world, order)
    rma.refresh_from_db()
    assert rma.resolution == RmaResolution.RETURNLESS_REFUND
    assert rma.status == RmaStatus.RESOLVED and rma.outcome == "refunded"
    moves = list(rma.events.filter(type="status_changed").values_list("payload__new", "actor_kind", "actor_ref"))
    assert moves[0] == ("approved", "system", "return-policy")
    refund = rma.refunds.get()
    assert refund.amount == Decimal("9.90") and refund.idempotency_key == f"rma:{rma.pk}:refund"


def test_approve_picks_the_return_hub_for_the_buyers_country(world) -> None:
    return_hub(world, code="ANY", countries=())
    us = return_hub(world, code="US", countries=("US", "CA"))
    return_hub(world, code="DE", countries=("DE",))
    order = delivered_order(world)
    rma = create(world, order)
    with pytest.raises(PermissionDenied):
        rma_approve(user=world.agent, rma_id=rma.pk)
    rma = rma_approve(user=world.approver, rma_id=rma.pk)
    rma.refresh_from_db()
    assert rma.status == RmaStatus.APPROVED and rma.return_warehouse_id == us.pk
    last = rma.events.filter(type="status_changed").last()
    assert last is not None and last.actor_user_id == world.approver.pk and last.payload["new"] == "approved"
    with pytest.raises(Conflict):
        rma_approve(user=world.approver, rma_id=rma.pk)


def test_approve_without_a_return_hub_lists_a_discrepancy(world) -> None:
    order = delivered_order(world)
    rma = rma_approve(user=world.approver, rma_id=create(world, order).pk, resolution="exchange")
    rma.refresh_from_db()
    assert rma.resolution == "exchange" and rma.return_warehouse_id is None
    assert [d["code"] for d in rma.discrepancies] == ["no_return_warehouse"]


def test_reject_needs_a_reason(world) -> None:
    rma = create(world, delivered_order(world))
    with pytest.raises(ValidationFailed) as err:
        rma_reject(user=world.approver, rma_id=rma.pk, reason="  ")
    assert err.value.field == "reason"
    rma = rma_reject(user=world.approver, rma_id=rma.pk, reason="Outside the window")
    assert rma.status == RmaStatus.REJECTED and rma.resolved_at is None
    assert rma.events.last().payload["reason"] == "Outside the window"  # type: ignore[union-attr]


def test_request_evidence(world) -> None:
    rma = create(world, delivered_order(world))
    with pytest.raises(ValidationFailed) as err:
        rma_request_evidence(user=world.agent, rma_id=rma.pk, kinds=["photo", "selfie"])
    assert err.value.field == "kinds[1]"
    rma = rma_request_evidence(user=world.agent, rma_id=rma.pk, kinds=["photo", "imei"], message="Please")
    assert rma.status == RmaStatus.NEEDS_EVIDENCE
    asked = rma.events.get(type="evidence_requested")
    assert asked.payload == {"kinds": ["photo", "imei"], "message": "Please"}
    # asking again while waiting records the ask, no second transition
    rma_request_evidence(user=world.agent, rma_id=rma.pk, kinds=["video"])
    assert rma.events.filter(type="status_changed", payload__new="needs_evidence").count() == 1


def test_other_org_and_unseen_rmas_are_not_found(world) -> None:
    order = delivered_order(world, store=world.store_de)
    ticket = ticket_for(world, order)
    rma = create(world, order, user=world.admin, ticket_id=ticket.pk)
    with pytest.raises(NotFound):
        rma_reject(user=world.foreign_user, rma_id=rma.pk, reason="x")
    with pytest.raises(NotFound):  # the agent's team does not see the DE store's ticket
        rma_request_evidence(user=world.agent, rma_id=rma.pk, kinds=["photo"])
    with pytest.raises(NotFound):
        rma_reject(user=world.approver, rma_id="1", reason="x")


def test_the_rma_decision_is_the_eligibility_apis_decision(world) -> None:
    """One function decides: the facts of the RMA's line given to the eligibility service give the
    same resolution, window and clauses."""
    from aftersales.returns.checks import delivered_at_of
    from aftersales.returns.eligibility import check_eligibility

    order = delivered_order(world, days_ago=20, lines=(("phones", "650.00", 1, "USD"),), customer_tier="vip")
    rma = create(world, order, reason="changed_mind")
    line = first_line(order)
    result = check_eligibility(
        user=world.agent,
        delivered_at=delivered_at_of(order),  # type: ignore[arg-type]
        requested_at=rma.requested_at,
        reason="changed_mind",
        unit_price=line.unit_price_amount,
        currency="USD",
        quantity_purchased=1,
        quantity_requested=1,
        store_id=order.store_id,
        delivery_country="US",
        sku=line.sku,
        customer_tier="vip",
    )
    mine = rma.decision["lines"][0]
    assert mine["resolution"] == result.decision.resolution
    assert mine["clauses"] == list(result.decision.clauses)
    assert mine["last_day"] == result.decision.last_day.isoformat()
    assert mine["restocking_fee_percent"] == str(result.decision.restocking_fee_percent)
    assert rma.policy_version == result.policy_version
