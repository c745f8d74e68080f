from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aftersales.inbox.models import Message, Ticket
from aftersales.inbox.selectors import SORTS, TicketFilters, parse_ticket_filters, ticket_page
from aftersales.inbox.services import ticket_search_refresh
from aftersales.testing.factories import OrderFactory, ShipmentFactory


@pytest.mark.parametrize("sort", list(SORTS))
def test_keyset_pages_cover_every_ticket_once_in_order(world, sort):
    now = timezone.now()
    for i in range(23):
        t = world.ticket()
        # equal timestamps in pairs (ties broken by id) and some tickets the customer never wrote on
        at = now - timedelta(minutes=i // 2)
        Ticket.objects.filter(pk=t.pk).update(
            updated_at=at, created_at=at, last_customer_message_at=None if i % 5 == 0 else at
        )
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = ticket_page(world.admin, TicketFilters(), limit=5, sort=sort, cursor=cursor)
        seen += [t.pk for t in page.tickets]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23
    key = SORTS[sort][0].lstrip("-")
    rows = {t.pk: getattr(t, key) for t in Ticket.objects.all()}
    values = [rows[pk] for pk in seen]
    present = [v for v in values if v is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))
    if key == "last_customer_message_at":
        assert all(v is None for v in values[len(present) :])  # NULLs last


def test_free_text_search_branches(world):
    order = OrderFactory(store=world.store_us, external_id="205-1234567-7654321")
    ShipmentFactory(order=order, tracking_number="YT2412345678901234")
    by_order = world.ticket(order=order)
    by_subject = world.ticket(subject="Écouteurs cassés")
    by_body = world.ticket()
    Message.objects.create(
        ticket=by_body, store=world.store_us, direction="inbound", channel="amazon", body="the hinge snapped"
    )
    by_email = world.ticket()
    by_email.customer.email = "klaus.weber@example.de"
    by_email.customer.save()
    world.ticket()  # noise
    ticket_search_refresh(ticket_ids=[by_body.pk])  # what the services do after writing a message

    def search(text: str) -> set[int]:
        return {t.pk for t in ticket_page(world.admin, parse_ticket_filters({"q": text}), limit=50).tickets}

    assert search("205-1234567-7654321") == {by_order.pk}
    assert search("YT2412345678901234") == {by_order.pk}
    assert search("CASSÉS") == search("casses") == {by_subject.pk}  # case and accents folded on both databases
    assert search("HINGE") == {by_body.pk}
    assert search("Klaus.Weber@example.de") == {by_email.pk}
    assert by_body.pk in search(f"#{by_body.pk}")
    assert search("205-1234567-7654321") & {t.pk for t in Ticket.objects.filter(store=world.store_de)} == set()


def test_search_respects_scope(world):
    hidden = world.ticket(store=world.store_de, subject="secret german ticket")
    assert ticket_page(world.agent, parse_ticket_filters({"q": "secret german"})).tickets == []
    assert [t.pk for t in ticket_page(world.outsider, parse_ticket_filters({"q": "secret german"})).tickets] == [
        hidden.pk
    ]
