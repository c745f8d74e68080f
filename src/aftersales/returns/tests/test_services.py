"""return_request_upsert: the marketplace's view of a return, idempotent, with its ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from aftersales.core.actors import Actor
from aftersales.inbox.models import Ticket
from aftersales.returns.models import ReturnRequest, ReturnRequestEvent
from aftersales.returns.selectors import return_requests_due, return_requests_of_ticket
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.testing.factories import CustomerFactory, OrderFactory, OrderLineFactory, StoreFactory, make_identity

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


def data(**overrides: object) -> ReturnRequestData:
    values: dict = {
        "external_id": "R-1",
        "kind": "case",
        "status": "OPEN",
        "created_at": T0,
        "updated_at": T0,
        "buyer_external_id": "buyer-1",
        "reason": "NOT_AS_DESCRIBED",
        "requested_amount": Decimal("30.00"),
        "currency": "EUR",
        "respond_by": T0 + timedelta(days=3),
    }
    values.update(overrides)
    return ReturnRequestData(**values)  # type: ignore[arg-type]


@pytest.fixture
def store():  # type: ignore[no-untyped-def]
    return StoreFactory(platform="ebay")


def actor(store) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.connector(store_id=store.pk, platform=store.platform)


def test_a_case_opens_a_complaint_ticket_and_is_found_by_its_ticket_and_deadline(store):
    result = return_request_upsert(store=store, data=data(), actor=actor(store))
    assert result.action == "created" and result.ticket_created
    ticket = Ticket.objects.get(pk=result.ticket_id)
    assert ticket.category == "complaint" and ticket.subject == "Case R-1"
    assert "NOT_AS_DESCRIBED" in ticket.messages.get().body
    assert list(return_requests_of_ticket(ticket_id=ticket.pk)) == [result.return_request]
    due = return_requests_due(organization_id=store.organization_id, before=T0 + timedelta(days=4))
    assert list(due) == [result.return_request]
    event = ReturnRequestEvent.objects.get()
    assert (event.type, event.actor_kind, event.actor_ref) == ("received", "connector", str(store.pk))


def test_without_a_buyer_the_orders_customer_is_used(store):
    customer = CustomerFactory(organization=store.organization)
    make_identity(customer, store, "ebay-user-9")
    order = OrderFactory(store=store, organization=store.organization, customer=customer, external_id="O-9")
    line = OrderLineFactory(order=order, sku="SKU-9", external_line_id="LINE-9")
    result = return_request_upsert(
        store=store,
        data=data(
            buyer_external_id="", order_external_id="O-9", lines=[ReturnLineData("SKU-9", 1, "LINE-9", "DAMAGED")]
        ),
        actor=actor(store),
    )
    request = result.return_request
    assert request.customer_id == customer.pk and request.order_id == order.pk
    assert request.lines.get().order_line_id == line.pk


def test_updates_record_what_changed_and_older_versions_change_nothing(store):
    return_request_upsert(store=store, data=data(), actor=actor(store))
    later = T0 + timedelta(hours=5)
    result = return_request_upsert(
        store=store, data=data(status="ESCALATED", updated_at=later, buyer_comment="still waiting"), actor=actor(store)
    )
    assert result.action == "updated"
    types = list(ReturnRequestEvent.objects.order_by("pk").values_list("type", "payload"))
    assert types[1] == ("status_changed", {"old": "OPEN", "new": "ESCALATED"})
    assert types[2] == ("updated", {"fields": ["buyer_comment"]})
    older = return_request_upsert(store=store, data=data(status="OPEN", updated_at=T0), actor=actor(store))
    assert older.action == "unchanged"
    assert ReturnRequest.objects.get().platform_status == "ESCALATED"
    same = return_request_upsert(
        store=store, data=data(status="ESCALATED", updated_at=later, buyer_comment="still waiting"), actor=actor(store)
    )
    assert same.action == "unchanged" and Ticket.objects.count() == 1


def test_an_unknown_kind_is_refused(store):
    with pytest.raises(ValueError, match="unknown return kind"):
        return_request_upsert(store=store, data=data(kind="swap"), actor=actor(store))
