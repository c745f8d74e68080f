"""The batch recomputation (tickets_sla_recompute: the worker's fan-out jobs of many tickets, sla_refresh) writes
exactly the rows the one-ticket recomputation writes, for new rows and for rows with warning and breach claims,
across policies, calendars and a team calendar; running it again changes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from aftersales.inbox.models import Message, MessageDirection, TicketEvent, TicketEventType
from aftersales.sla import services
from aftersales.sla.models import TicketSla

from .test_services import make_calendar, make_policy

H = timedelta(hours=1)
MON = datetime(2026, 12, 7, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def _tickets(world: Any) -> list[Any]:
    office = make_calendar(world)
    nights = make_calendar(
        world, name="Nights", weekly_hours={"mon": [["22:00", "06:00"]], "tue": [["22:00", "06:00"]]}
    )
    make_policy(world, calendar_id=office.pk)
    make_policy(world, name="High", urgency="high", first_response_minutes=30)
    services.team_calendar_set(user=world.admin, team_id=world.team_us.pk, calendar_id=nights.pk)
    tickets = [
        world.ticket(),
        world.ticket(urgency="high"),
        world.ticket(team=world.team_us),
        world.ticket(store=world.store_de),
        world.foreign_ticket(),
    ]
    for i, ticket in enumerate(tickets):
        Message.objects.create(
            ticket=ticket,
            store=ticket.store,
            direction=MessageDirection.INBOUND,
            channel="amazon",
            body="x",
            sent_at=MON + i * H,
        )
    TicketEvent.objects.create(
        ticket=tickets[0], type=TicketEventType.REPLY_SENT, at=MON + 5 * H, payload={}, actor_kind="connector"
    )
    return tickets


def _rows(tickets: list[Any]) -> list[dict[str, Any]]:
    return [
        dict(row) for row in TicketSla.objects.filter(ticket_id__in=[t.pk for t in tickets]).order_by("pk").values()
    ]


@pytest.mark.parametrize("existing", [False, True])
def test_batch_writes_what_one_by_one_writes(world, existing: bool) -> None:  # type: ignore[no-untyped-def]
    tickets = _tickets(world)
    TicketSla.objects.all().delete()
    if existing:  # rows with claims: kept when the due time is unchanged, cleared when it moved later
        for ticket in tickets[:3]:
            services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON)
        TicketSla.objects.filter(ticket_id=tickets[0].pk).update(
            first_response_warned_at=MON + H, first_response_breached_at=MON + 2 * H
        )
        TicketSla.objects.filter(ticket_id=tickets[1].pk).update(first_response_due=MON, first_response_breached_at=MON)
    at = MON + 30 * H
    with transaction.atomic():
        for ticket in tickets:
            services.ticket_sla_recompute(ticket_id=ticket.pk, now=at)
        alone = _rows(tickets)
        transaction.set_rollback(True)
    ids = [t.pk for t in tickets] + [tickets[0].pk, 10**9]  # a duplicate and a deleted ticket
    written = services.tickets_sla_recompute(ticket_ids=ids, now=at)
    assert sorted(written) == sorted(t.pk for t in tickets)
    assert _rows(tickets) == alone
    assert len(alone) == len(tickets)
    services.tickets_sla_recompute(ticket_ids=ids, now=at)  # again (a redelivered job)
    assert _rows(tickets) == alone


def test_refresh_recomputes_in_batches(world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tickets = _tickets(world)
    TicketSla.objects.all().delete()
    monkeypatch.setattr(services, "RECOMPUTE_BATCH", 2)
    calls: list[int] = []
    real = services.tickets_sla_recompute

    def spy(*, ticket_ids: list[int], now: datetime | None = None) -> Any:
        calls.append(len(ticket_ids))
        return real(ticket_ids=ticket_ids, now=now)

    monkeypatch.setattr(services, "tickets_sla_recompute", spy)
    assert services.sla_refresh(now=timezone.now()) == len(tickets)  # (tickets changed in the last two hours)
    assert calls == [2, 2, 1]
    assert TicketSla.objects.filter(ticket_id__in=[t.pk for t in tickets]).count() == len(tickets)
