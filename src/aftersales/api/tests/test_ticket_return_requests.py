"""A ticket opened by a marketplace return or case shows it (kind, status, amount, the marketplace's
deadline) in the API's ticket detail and on the ticket page: the same selector for both."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import Client

from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.testing.factories import TicketFactory


def _case(world, *, respond_in: timedelta):  # type: ignore[no-untyped-def]
    store = world.store_us
    result = return_request_upsert(
        store=store,
        data=ReturnRequestData(
            external_id="5012345678",
            kind="case",
            status="OPEN",
            created_at=now() - timedelta(days=1),
            updated_at=now() - timedelta(days=1),
            buyer_external_id="buyer-panel",
            reason="ITEM_NOT_RECEIVED",
            requested_amount=Decimal("42.50"),
            currency="USD",
            respond_by=now() + respond_in,
            lines=[ReturnLineData(sku="SKU-PANEL", quantity=2)],
        ),
        actor=Actor.connector(store_id=store.pk, platform=store.platform),
    )
    return result.return_request


def test_ticket_detail_lists_its_return_requests(world, as_user) -> None:
    request = _case(world, respond_in=timedelta(days=2))
    body = as_user(world.admin).get(f"/tickets/{request.ticket_id}").json()
    [shown] = body["return_requests"]
    assert (shown["kind"], shown["external_id"], shown["platform_status"]) == ("case", "5012345678", "OPEN")
    assert shown["requested"] == {"amount": "42.50", "currency": "USD"}
    assert shown["respond_by"] is not None and shown["lines"] == [{"sku": "SKU-PANEL", "quantity": 2, "reason": ""}]
    # a ticket without one: an empty list
    plain = TicketFactory(organization=world.org, store=world.store_us)
    assert as_user(world.admin).get(f"/tickets/{plain.pk}").json()["return_requests"] == []


def test_ticket_page_shows_the_deadline_and_overdue(world) -> None:
    client = Client()
    client.force_login(world.admin)
    due = _case(world, respond_in=timedelta(days=2))

    def panel() -> str:
        # the marketplace-case panel only (the SLA panel has its own "Overdue" for our clocks)
        page = client.get(f"/tickets/{due.ticket_id}/").content.decode()
        start = page.index('id="return-requests-panel"')
        return page[start : page.index("</section>", start)]

    shown = panel()
    assert "5012345678" in shown and "SKU-PANEL" in shown
    assert "Overdue" not in shown
    type(due).objects.filter(pk=due.pk).update(respond_by=now() - timedelta(hours=1))
    assert "Overdue" in panel()
