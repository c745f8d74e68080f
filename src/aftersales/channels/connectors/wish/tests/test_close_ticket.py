"""Close a Wish ticket / escalation from the agent UI or the API (issue 12): the ticket page offers
"Close on Wish" only for Wish tickets whose store's connector can close; the click sends exactly
`PUT /api/v3/tickets/{id}` `{"state": "CLOSED"}` with the bearer token, once (the write-back ledger answers a
replay); a transient failure leaves it pending and the next click closes; Wish's refusal is shown with
its words and not resent; other stores get 422 naming `ticket`. Real HTTP to the fake, SQLite and PG."""

from __future__ import annotations

import pytest
from django.test import Client

from aftersales.catalog.models import Store
from aftersales.channels.base import Stream
from aftersales.channels.connectors.wish.fake import WishFake, iso_ago
from aftersales.channels.models import WriteBack, WriteBackKind
from aftersales.channels.sync import sync_stream
from aftersales.inbox.models import Ticket
from aftersales.testing.acceptance import store_admin
from aftersales.testing.factories import StoreFactory, TicketFactory

from .conftest import load
from .test_acceptance import store as store  # a fixture

TICKET_ID = "6402aa11bb22cc33dd44ee55"
CLOSE = f"/api/v3/tickets/{TICKET_ID}"


@pytest.fixture
def ticket(store: Store, fake: WishFake) -> Ticket:
    record = load("ticket.json")
    record.update(opened_at=iso_ago(40), updated_at=iso_ago(40))
    record["replies"][0]["replied_at"] = iso_ago(40)
    fake.add_ticket(record)
    sync_stream(store_id=store.pk, stream=Stream.MESSAGES)
    return Ticket.objects.get(store=store, conversation_id=f"wish:{TICKET_ID}")


def _client(store: Store) -> Client:
    client = Client()
    client.force_login(store_admin(store))
    return client


def test_the_ticket_page_closes_it_on_wish_once(ticket: Ticket, fake: WishFake, waits: list[float]) -> None:
    client = _client(ticket.store)
    page = client.get(f"/tickets/{ticket.pk}/")
    assert page.status_code == 200
    assert b'data-action="platform-close"' in page.content

    done = client.post(f"/tickets/{ticket.pk}/platform-close/")
    assert done.status_code == 302
    [close] = fake.requests_to(CLOSE)
    assert close.method == "PUT" and close.body == b'{"state":"CLOSED"}'
    assert close.headers["authorization"].startswith("Bearer ")
    assert fake.tickets[TICKET_ID]["state"] == "CLOSED"
    row = WriteBack.objects.get(store=ticket.store, kind=WriteBackKind.CLOSE_TICKET)
    assert (row.idempotency_key, row.status, row.external_id) == (
        f"ticket:wish:{TICKET_ID}:close",
        "succeeded",
        TICKET_ID,
    )

    again = client.post(f"/tickets/{ticket.pk}/platform-close/")
    assert again.status_code == 302 and len(fake.requests_to(CLOSE)) == 1
    page = client.get(f"/tickets/{ticket.pk}/")
    assert b'data-platform-close="succeeded"' in page.content
    assert b'data-action="platform-close"' not in page.content
    status = ticket.status
    ticket.refresh_from_db()
    assert ticket.status == status  # our own ticket is not changed by the platform close


def test_the_api_closes_once_and_retries_after_a_transient_error(
    ticket: Ticket, fake: WishFake, waits: list[float]
) -> None:
    client = _client(ticket.store)
    url = f"/api/v1/tickets/{ticket.pk}/platform-close"
    fake.fail_next(CLOSE, status=503, times=20)  # more than the client's own retries
    first = client.post(url)
    with fake.lock:
        fake._faults.clear()
    failed_calls = len(fake.requests_to(CLOSE))
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "pending" and first.json()["detail"]
    assert fake.tickets[TICKET_ID]["state"] != "CLOSED"

    second = client.post(url)
    assert second.json() == {
        "ticket_id": ticket.pk,
        "conversation_id": f"wish:{TICKET_ID}",
        "status": "succeeded",
        "detail": "closed",
    }
    assert fake.tickets[TICKET_ID]["state"] == "CLOSED"
    assert client.post(url).json()["status"] == "succeeded"
    assert len(fake.requests_to(CLOSE)) == failed_calls + 1  # the close once, no resend after it


def test_wish_refusal_is_shown_and_not_resent(ticket: Ticket, fake: WishFake, waits: list[float]) -> None:
    del fake.tickets[TICKET_ID]  # Wish answers 404 "Ticket not found"
    client = _client(ticket.store)
    refused = client.post(f"/api/v1/tickets/{ticket.pk}/platform-close")
    assert refused.status_code == 200 and refused.json()["status"] == "failed", refused.content
    assert "not found" in refused.json()["detail"].lower()
    page = client.get(f"/tickets/{ticket.pk}/")
    assert b'data-platform-close="failed"' in page.content
    client.post(f"/api/v1/tickets/{ticket.pk}/platform-close")
    assert len(fake.requests_to(CLOSE)) == 1


def test_other_stores_and_other_organizations_are_refused(ticket: Ticket, fake: WishFake) -> None:
    other = TicketFactory(
        store=StoreFactory(organization=ticket.store.organization, platform="shopify"), conversation_id="gid://1"
    )
    client = _client(ticket.store)
    refused = client.post(f"/api/v1/tickets/{other.pk}/platform-close")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "ticket"
    assert b'data-action="platform-close"' not in client.get(f"/tickets/{other.pk}/").content
    foreign = TicketFactory()
    assert client.post(f"/api/v1/tickets/{foreign.pk}/platform-close").status_code == 404
    assert client.post(f"/tickets/{foreign.pk}/platform-close/").status_code == 404
    assert fake.requests_to(CLOSE) == []
