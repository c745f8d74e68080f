"""The refunds API: request, read, approve / reject / retry / mark done / cancel, the review queue;
bad input is a 422 naming the field with nothing written; another organization's refund is 404."""

from __future__ import annotations

from decimal import Decimal

import pytest

from aftersales.api.tests.helpers import ApiClient
from aftersales.core.actors import Actor
from aftersales.returns.models import Refund, RefundEvent, RefundStatus
from aftersales.returns.refunds import refund_request, refund_transition
from aftersales.testing.factories import OrderFactory, OrderLineFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(world):  # type: ignore[no-untyped-def]
    o = OrderFactory(store=world.store_us, total_amount=Decimal("60.00"), currency="USD")
    o.line = OrderLineFactory(order=o, quantity=2, unit_price_amount=Decimal("27.50"), currency="USD")
    return o


def post(user, body):  # type: ignore[no-untyped-def]
    return ApiClient(user=user).request("POST", "/refunds", body)


def test_request_read_and_approve(world, order):
    response = post(
        world.agent,
        {
            "order_id": order.pk,
            "kind": "partial",
            "currency": "USD",
            "amount": "30.00",
            "lines": [{"order_line_id": order.line.pk, "amount": "30.00", "quantity": 1}],
            "reason": "Arrived scratched",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_approval" and body["amount"] == {"amount": "30.00", "currency": "USD"}
    assert body["lines"] == [
        {
            "order_line_id": order.line.pk,
            "sku": order.line.sku,
            "quantity": 1,
            "amount": {"amount": "30.00", "currency": "USD"},
        }
    ]
    assert body["requested_by"]["username"] == world.agent.username
    refund_id = body["id"]

    queue = ApiClient(user=world.approver).request("GET", "/refunds/review-queue").json()
    assert [r["id"] for r in queue] == [refund_id]
    assert ApiClient(user=world.agent).request("GET", "/refunds/review-queue").status_code == 403

    approved = ApiClient(user=world.approver).request("POST", f"/refunds/{refund_id}/approve", {"note": "photos ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    events = approved.json()["events"]
    assert [e["type"] for e in events] == ["requested", "status_changed"]
    assert (
        events[1]["actor_user"]["username"] == world.approver.username and events[1]["payload"]["note"] == "photos ok"
    )
    assert ApiClient(user=world.approver).request("GET", "/refunds/review-queue").json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "-5.00"}, "amount"),
        ({"amount": "5.001"}, "amount"),
        ({"amount": 5.5}, "amount"),
        ({"currency": "EUR"}, "currency"),
        ({"amount": "55.01"}, "amount"),
        ({"kind": "everything"}, "kind"),
        ({"lines": [{"order_line_id": 1, "amount": "1.00", "colour": "red"}]}, "lines[0].colour"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(world, order, change, field):
    body = {"order_id": order.pk, "kind": "partial", "currency": "USD", "amount": "5.00", **change}
    response = post(world.agent, body)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["field"] == field
    assert Refund.objects.count() == 0 and RefundEvent.objects.count() == 0


def test_another_organizations_order_and_refund_are_404(world, order):
    foreign_order = OrderFactory(store=world.foreign_store, currency="USD")
    response = post(world.agent, {"order_id": foreign_order.pk, "kind": "full", "currency": "USD"})
    assert response.status_code == 404 and response.json()["error"]["field"] == "order_id"
    refund = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    client = ApiClient(user=world.foreign_user)
    assert client.request("GET", f"/refunds/{refund.pk}").status_code == 404
    assert client.request("POST", f"/refunds/{refund.pk}/approve", {}).status_code == 404
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.PENDING_APPROVAL


def test_reject_cancel_retry_and_mark_done(world, order):
    client = ApiClient(user=world.approver)
    first = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    missing = client.request("POST", f"/refunds/{first.pk}/reject", {})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"
    rejected = client.request("POST", f"/refunds/{first.pk}/reject", {"reason": "Not our carrier's fault"})
    assert rejected.json()["status"] == "rejected"
    assert client.request("POST", f"/refunds/{first.pk}/approve", {}).status_code == 409

    second = refund_request(user=world.agent, order_id=order.pk, kind="shipping", currency="USD", amount="5.00")
    cancelled = ApiClient(user=world.agent).request("POST", f"/refunds/{second.pk}/cancel", {"reason": "dup"})
    assert cancelled.json()["status"] == "cancelled"

    third = refund_request(user=world.agent, order_id=order.pk, kind="partial", currency="USD", amount="5.00")
    system = Actor.system("test")
    for to in (RefundStatus.APPROVED, RefundStatus.EXECUTING, RefundStatus.FAILED):
        refund_transition(third, to, actor=system)
    assert ApiClient(user=world.agent).request("POST", f"/refunds/{third.pk}/retry").status_code == 403
    retried = client.request("POST", f"/refunds/{third.pk}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "executing"
    third.refresh_from_db()
    refund_transition(third, RefundStatus.PENDING_SYNC, actor=system)
    no_id = ApiClient(user=world.agent).request("POST", f"/refunds/{third.pk}/mark-done", {"platform_refund_id": ""})
    assert no_id.status_code == 422 and no_id.json()["error"]["field"] == "platform_refund_id"
    done = ApiClient(user=world.agent).request(
        "POST", f"/refunds/{third.pk}/mark-done", {"platform_refund_id": "RF-1001", "note": "seller central"}
    )
    assert done.status_code == 200 and done.json()["status"] == "succeeded"
    assert done.json()["platform_refund_id"] == "RF-1001"


def test_review_settings_are_the_admins_and_change_the_review(world, order):
    admin = ApiClient(user=world.admin)
    assert admin.request("GET", "/refunds/review-settings").json() == {
        "repeat_window_days": 90,
        "repeat_threshold": 3,
        "high_value_requires_evidence": True,
        "shared_address_window_days": 180,
    }
    bad = admin.request(
        "PUT",
        "/refunds/review-settings",
        {"repeat_window_days": 0, "repeat_threshold": 1, "high_value_requires_evidence": True},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "repeat_window_days"
    assert ApiClient(user=world.approver).request("GET", "/refunds/review-settings").status_code == 403
    saved = admin.request(
        "PUT",
        "/refunds/review-settings",
        {"repeat_window_days": 30, "repeat_threshold": 1, "high_value_requires_evidence": False},
    )
    assert saved.status_code == 200 and saved.json()["repeat_threshold"] == 1
    other = OrderFactory(store=world.store_us, customer=order.customer, total_amount=Decimal("10.00"), currency="USD")
    OrderLineFactory(order=other, quantity=1, unit_price_amount=Decimal("10.00"), currency="USD")
    refund_request(user=world.admin, order_id=other.pk, kind="full", currency="USD")
    second = post(world.admin, {"order_id": order.pk, "kind": "shipping", "currency": "USD", "amount": "5.00"}).json()
    assert second["status"] == "in_review" and second["review_reasons"][0]["code"] == "repeat_returner"
