"""SLA gaps of issue 11 section 2: team leads told of breaches, and the backfill of clocks for tickets
older than the sla app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from aftersales.accounts import people
from aftersales.accounts.models import Membership
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.models import Message, MessageDirection
from aftersales.notifications.models import Notification
from aftersales.sla import services
from aftersales.sla.models import TicketSla

H = timedelta(hours=1)


def _api(user):  # type: ignore[no-untyped-def]
    from aftersales.api.tests.helpers import ApiClient

    return ApiClient(user=user)


MON = datetime(2026, 12, 7, tzinfo=UTC)


def _lead(world, user):  # type: ignore[no-untyped-def]
    members = list(Membership.objects.filter(team=world.team_us).values_list("user_id", flat=True))
    people.team_update(actor=world.admin, team_id=world.team_us.pk, member_ids=members, lead_ids=[user.pk])


def test_a_warning_and_a_breach_are_told_to_the_assignee_and_the_teams_leads(world):
    _lead(world, world.teammate)
    ticket = world.ticket(assignee=world.agent, team=world.team_us)
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=False)
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["alice", "bob"]
    lead_warning = Notification.objects.get(user=world.teammate)
    assert "due at 2026-12-07 00:00 UTC" in lead_warning.text and "overdue" not in lead_warning.text
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=True)
    names = sorted(Notification.objects.values_list("user__username", flat=True))
    assert names == ["alice", "alice", "bob", "bob"]
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=True)
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=False)
    assert Notification.objects.count() == 4  # once per user, clock, kind and due time


def test_the_sweeps_warning_reaches_the_lead_before_the_breach(world, django_capture_on_commit_callbacks):
    services.policy_save(
        user=world.admin,
        data={"name": "Default", "first_response_minutes": 120, "resolution_minutes": 720, "warning_percent": 75},
    )
    _lead(world, world.teammate)
    ticket = world.ticket(assignee=world.agent, team=world.team_us)
    Message.objects.create(
        ticket=ticket, store=ticket.store, direction=MessageDirection.INBOUND, channel="amazon", body="x", sent_at=MON
    )
    services.ticket_sla_recompute(ticket_id=ticket.pk, now=MON)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.sla_sweep(now=MON + 1.6 * H)["warnings"] == 1
    [warning] = Notification.objects.filter(user=world.teammate).values_list("text", flat=True)
    assert f"#{ticket.pk}" in warning and "due at" in warning  # told 24 minutes before the breach


def test_an_inactive_lead_or_another_teams_lead_is_not_told(world):
    _lead(world, world.teammate)
    world.teammate.is_active = False
    world.teammate.save()
    people.team_update(actor=world.admin, team_id=world.team_de.pk, lead_ids=[world.outsider.pk])
    ticket = world.ticket(assignee=world.agent, team=world.team_us)
    services.sla_notify(ticket_id=ticket.pk, clock="resolution", due_at=MON, breached=True)
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["alice"]


def test_a_lead_must_be_a_member_and_nothing_is_half_written(world):
    with pytest.raises(ValidationFailed) as exc:
        people.team_update(actor=world.admin, team_id=world.team_us.pk, name="Renamed", lead_ids=[world.outsider.pk])
    assert exc.value.field == "lead_ids"
    world.team_us.refresh_from_db()
    assert world.team_us.name == "US team" and not Membership.objects.filter(is_lead=True).exists()


def test_api_and_web_set_the_leads(world, client):
    as_user = _api
    response = as_user(world.admin).patch(f"/teams/{world.team_de.pk}", {"lead_ids": [world.outsider.pk]})
    assert response.status_code == 200 and response.json()["lead_ids"] == [world.outsider.pk]
    assert as_user(world.admin).patch(f"/teams/{world.team_de.pk}", {"lead_ids": [world.agent.pk]}).status_code == 422
    client.force_login(world.admin)
    page = client.post(
        f"/settings/teams/{world.team_de.pk}/",
        {"name": "DE team", "member_ids": [world.outsider.pk], "lead_ids": []},
    )
    assert page.status_code == 302
    assert not Membership.objects.filter(team=world.team_de, is_lead=True).exists()


def test_backfill_computes_missing_clocks_once(world):
    services.policy_save(
        user=world.admin, data={"name": "Default", "first_response_minutes": 120, "resolution_minutes": 720}
    )
    old = [world.ticket(), world.ticket(), world.foreign_ticket()]
    for ticket in old:
        Message.objects.create(
            ticket=ticket,
            store=ticket.store,
            direction=MessageDirection.INBOUND,
            channel="amazon",
            body="x",
            sent_at=MON,
        )
    TicketSla.objects.all().delete()  # as before the sla app
    assert services.sla_backfill(organization_id=world.org.pk, batch=1, now=MON + H) == 2
    assert set(TicketSla.objects.values_list("ticket_id", flat=True)) == {old[0].pk, old[1].pk}
    assert TicketSla.objects.get(pk=old[0].pk).first_response_due == MON + 2 * H
    out = StringIO()
    call_command("sla_backfill", stdout=out)
    assert "1 ticket clocks computed" in out.getvalue()
    assert services.sla_backfill() == 0


def test_batched_clocks_equal_the_per_ticket_ones(world, django_assert_max_num_queries):
    """The backfill's batch reader (clocks_for_tickets) gives exactly what clocks_for_ticket gives, for
    tickets with different teams and calendars, pauses, replies, marketplaces, respond-by dates."""
    from aftersales.inbox.models import TicketEvent, TicketEventType
    from aftersales.sla.sources import clocks_for_ticket, clocks_for_tickets

    office = services.calendar_save(
        user=world.admin,
        name="Office",
        timezone="Europe/Berlin",
        weekly_hours={d: [["09:00", "12:00"], ["13:30", "18:30"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    services.team_calendar_set(user=world.admin, team_id=world.team_de.pk, calendar_id=office.pk)
    services.policy_save(
        user=world.admin, data={"name": "Default", "first_response_minutes": 120, "resolution_minutes": 720}
    )
    services.policy_save(
        user=world.admin,
        data={"name": "High", "urgency": "high", "first_response_minutes": 30, "resolution_minutes": 240},
    )
    tickets = [
        world.ticket(),
        world.ticket(team=world.team_de, urgency="high"),
        world.ticket(store=world.store_de, team=world.team_de),
        world.ticket(team=world.team_us),
        world.foreign_ticket(),
    ]
    for n, ticket in enumerate(tickets):
        for k in range(n + 1):
            Message.objects.create(
                ticket=ticket,
                store=ticket.store,
                direction=MessageDirection.INBOUND,
                channel="amazon",
                body="x",
                sent_at=MON + k * H,
            )
        if n % 2:
            reply = Message.objects.create(
                ticket=ticket,
                store=ticket.store,
                direction=MessageDirection.OUTBOUND,
                channel="amazon",
                body="y",
                sent_at=MON + (n + 2) * H,
            )
            TicketEvent.objects.create(
                ticket=ticket, type=TicketEventType.REPLY_SENT, at=MON + (n + 2) * H, payload={"message_id": reply.pk}
            )
        if n >= 2:
            for at, old, new in ((MON + 3 * H, "open", "on_hold"), (MON + 5 * H, "on_hold", "open")):
                TicketEvent.objects.create(
                    ticket=ticket, type=TicketEventType.STATUS_CHANGED, at=at, payload={"old": old, "new": new}
                )
    at = MON + 30 * H
    with django_assert_max_num_queries(6):
        batched = clocks_for_tickets(tickets, now=at)
    for ticket in tickets:
        policy, calendar_name, history, clocks = clocks_for_ticket(ticket, now=at)
        b_policy, b_calendar_name, b_history, b_clocks = batched[ticket.pk]
        assert (policy, calendar_name, history, clocks) == (b_policy, b_calendar_name, b_history, b_clocks), ticket.pk
    assert batched[tickets[1].pk][1] == "Office" and batched[tickets[1].pk][0].name == "High"
    assert batched[tickets[2].pk][3].paused_seconds == 2 * 3600
