"""Escalate a Wish ticket to Wish support from the agent UI or the API (issue 12): the ticket page
offers "Escalate to Wish" only for Wish tickets; the click sends exactly `PUT /api/v3/tickets/{id}`
`{"state": "AWAITING_WISH"}` with the bearer token, once (write-back ledger kind `escalate`, key
`ticket:<conversation>:escalate`); Wish's refusal is shown with its words and not resent; other stores
get 422 naming `ticket`, other organizations 404; once the ticket is closed (here or on Wish) the
button is gone and the API answers 409 naming the state. Real HTTP to the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.base import Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.models import WriteBack, WriteBackKind
from aftersales.channels.sync import sync_stream
from aftersales.channels.ticket_close import can_escalate_platform_ticket
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


def test_not_offered_once_the_ticket_is_closed(ticket: Ticket, fake: WishFake, waits: list[float]) -> None:
    """Closed here (the ledger's close) or on Wish (the state last pulled): no button, and the API
    answers 409 naming the state before any call to Wish."""
    client = _client(ticket.store)
    assert client.post(f"/api/v1/tickets/{ticket.pk}/platform-close").json()["status"] == "succeeded"
    assert can_escalate_platform_ticket(ticket) is False
    page = client.get(f"/tickets/{ticket.pk}/").content
    assert b'data-action="platform-escalate"' not in page and b'data-platform-close="succeeded"' in page
    refused = client.post(f"/api/v1/tickets/{ticket.pk}/platform-escalate")
    assert refused.status_code == 409, refused.content
    assert refused.json()["error"]["field"] == "ticket" and "CLOSED" in refused.json()["error"]["message"]
    assert client.post(f"/tickets/{ticket.pk}/platform-escalate/").status_code == 409
    assert fake.requests_to(TICKET_URL, "PUT") == [fake.requests_to(TICKET_URL, "PUT")[0]]  # the close alone
    assert not WriteBack.objects.filter(store=ticket.store, kind=WriteBackKind.ESCALATE).exists()
    # re-opened on Wish since (AWAITING_MERCHANT, pulled after our close): offered again
    fake.tickets[TICKET_ID].update(state="AWAITING_MERCHANT", updated_at=iso_ago(1))
    sync_stream(store_id=ticket.store_id, stream=Stream.MESSAGES)
    assert can_escalate_platform_ticket(ticket) is True
    # permanently closed by Wish, as pulled: not offered, 409 naming that state
    fake.tickets[TICKET_ID].update(state="PERMANENTLY_CLOSED", updated_at=iso_ago(0))
    sync_stream(store_id=ticket.store_id, stream=Stream.MESSAGES)
    assert b'data-action="platform-escalate"' not in client.get(f"/tickets/{ticket.pk}/").content
    refused = client.post(f"/api/v1/tickets/{ticket.pk}/platform-escalate")
    assert refused.status_code == 409 and "PERMANENTLY_CLOSED" in refused.json()["error"]["message"]
