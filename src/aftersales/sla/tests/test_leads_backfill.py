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


def test_a_breach_is_told_to_the_assignee_and_the_teams_leads_a_warning_only_to_the_assignee(world):
    _lead(world, world.teammate)
    ticket = world.ticket(assignee=world.agent, team=world.team_us)
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=False)
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"alice"}
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=True)
    assert sorted(Notification.objects.values_list("user__username", flat=True)) == ["alice", "alice", "bob"]
    services.sla_notify(ticket_id=ticket.pk, clock="first_response", due_at=MON, breached=True)
    assert Notification.objects.count() == 3  # once per user, clock, kind and due time


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
