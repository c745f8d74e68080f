"""Escalate a Wish ticket to Wish support from the agent UI or the API (issue 12): the ticket page
offers "Escalate to Wish" only for Wish tickets; the click sends exactly `PUT /api/v3/tickets/{id}`
`{"state": "AWAITING_WISH"}` with the bearer token, once (write-back ledger kind `escalate`, key
`ticket:<conversation>:escalate`); Wish's refusal is shown with its words and not resent; other stores
get 422 naming `ticket`, other organizations 404. Real HTTP to the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.connectors.wish.fake import WishFake
from aftersales.channels.models import WriteBack, WriteBackKind
from aftersales.inbox.models import Ticket
from aftersales.testing.acceptance import store_admin
from aftersales.testing.factories import StoreFactory, TicketFactory

from .test_acceptance import store as store  # a fixture
from .test_close_ticket import CLOSE as TICKET_URL
from .test_close_ticket import TICKET_ID
from .test_close_ticket import ticket as ticket  # a fixture


def _client(store: Store) -> Client:
    client = Client()
    client.force_login(store_admin(store))
    return client


def test_the_ticket_page_escalates_it_to_wish_once(ticket: Ticket, fake: WishFake, waits: list[float]) -> None:
    client = _client(ticket.store)
    assert b'data-action="platform-escalate"' in client.get(f"/tickets/{ticket.pk}/").content

    assert client.post(f"/tickets/{ticket.pk}/platform-escalate/").status_code == 302
    [put] = fake.requests_to(TICKET_URL, "PUT")
    assert put.body == b'{"state":"AWAITING_WISH"}' and put.headers["authorization"].startswith("Bearer ")
    assert fake.tickets[TICKET_ID]["state"] == "AWAITING_WISH"
    row = WriteBack.objects.get(store=ticket.store, kind=WriteBackKind.ESCALATE)
    assert (row.idempotency_key, row.status, row.external_id) == (
        f"ticket:wish:{TICKET_ID}:escalate",
        "succeeded",
        TICKET_ID,
    )
    api = client.post(f"/api/v1/tickets/{ticket.pk}/platform-escalate")
    assert api.status_code == 200 and api.json() == {
        "ticket_id": ticket.pk,
        "conversation_id": f"wish:{TICKET_ID}",
        "status": "succeeded",
        "detail": "appealed to Wish support",
    }
    assert len(fake.requests_to(TICKET_URL, "PUT")) == 1  # the ledger answered
    page = client.get(f"/tickets/{ticket.pk}/").content
    assert b'data-platform-escalate="succeeded"' in page and b'data-action="platform-escalate"' not in page


def test_wish_refusal_is_shown_and_not_resent(ticket: Ticket, fake: WishFake, waits: list[float]) -> None:
    del fake.tickets[TICKET_ID]
    client = _client(ticket.store)
    refused = client.post(f"/api/v1/tickets/{ticket.pk}/platform-escalate")
    assert refused.status_code == 200 and refused.json()["status"] == "failed", refused.content
    assert b'data-platform-escalate="failed"' in client.get(f"/tickets/{ticket.pk}/").content
    client.post(f"/api/v1/tickets/{ticket.pk}/platform-escalate")
    assert len(fake.requests_to(TICKET_URL)) == 1


def test_other_stores_and_other_organizations_are_refused(ticket: Ticket, fake: WishFake) -> None:
    other = TicketFactory(
        store=StoreFactory(organization=ticket.store.organization, platform="shopify"), conversation_id="gid://1"
    )
    client = _client(ticket.store)
    refused = client.post(f"/api/v1/tickets/{other.pk}/platform-escalate")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "ticket"
    assert b'data-action="platform-escalate"' not in client.get(f"/tickets/{other.pk}/").content
    foreign = TicketFactory()
    assert client.post(f"/api/v1/tickets/{foreign.pk}/platform-escalate").status_code == 404
    assert client.post(f"/tickets/{foreign.pk}/platform-escalate/").status_code == 404
    assert fake.requests_to(TICKET_URL) == []
