"""Settings > SLA (calendars, policies, team calendars, the try-it form) and the clocks on the ticket
page, in English and zh-Hans."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.core.clock import now
from aftersales.inbox.models import Message, MessageDirection
from aftersales.sla import services
from aftersales.sla.models import BusinessCalendar, SlaPolicy, TeamCalendar

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_settings_page_calendar_policy_team_and_preview(world: Any) -> None:
    c = client_for(world.admin)
    assert c.get(reverse("web:settings_sla")).status_code == 200
    r = c.post(
        reverse("web:settings_sla_calendar"),
        {
            "name": "Berlin office",
            "timezone": "Europe/Berlin",
            "day_mon": "09:00-12:00, 13:30-18:30",
            "day_sat": "10:00-14:00",
            "holidays": "2026-12-25\n2026-12-26",
            "special_days": "2026-12-24 09:00-12:00\n2026-12-31",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    cal = BusinessCalendar.objects.get()
    assert cal.weekly_hours == {"mon": [["09:00", "12:00"], ["13:30", "18:30"]], "sat": [["10:00", "14:00"]]}
    assert cal.special_days == {"2026-12-24": [["09:00", "12:00"]], "2026-12-31": []}
    r = c.post(
        reverse("web:settings_sla_policy"),
        {
            "name": "High",
            "urgency": "high",
            "first_response_minutes": "120",
            "resolution_minutes": "720",
            "warning_percent": "80",
            "calendar_id": str(cal.pk),
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    assert SlaPolicy.objects.get().calendar == cal
    assert (
        c.post(reverse("web:settings_sla_team"), {"team_id": world.team_de.pk, "calendar_id": cal.pk}).status_code
        == 302
    )
    assert TeamCalendar.objects.get().team == world.team_de
    page = c.get(reverse("web:settings_sla")).content.decode()
    assert (
        'data-policy="High"' in page
        and 'data-calendar="Berlin office"' in page
        and 'value="09:00-12:00, 13:30-18:30"' in page
    )
    r = c.post(
        reverse("web:settings_sla_preview"),
        {"arrival": "2026-12-07T17:45:00+01:00", "urgency": "high", "platform": "amazon"},
    )
    assert r.status_code == 200
    body = r.content.decode()
    assert 'id="sla-preview-result"' in body and 'data-due="first_response"' in body
    # the organization's time zone renders the instants; the values themselves: Monday 17:45 + 2 h -> Saturday 11:15
    preview = r.context["preview"]
    assert preview.first_response_due.isoformat() == "2026-12-12T10:15:00+00:00"


def test_refusals_show_the_field_and_save_nothing(world: Any) -> None:
    c = client_for(world.admin)
    r = c.post(
        reverse("web:settings_sla_calendar"),
        {"name": "X", "timezone": "Europe/Berlin", "day_mon": "09:00-12:00, 11:00-13:00"},
    )
    assert r.status_code == 422 and "weekly_hours.mon[1]" in r.content.decode()
    r = c.post(reverse("web:settings_sla_calendar"), {"name": "X", "timezone": "Berlin", "day_mon": "09:00-12:00"})
    assert r.status_code == 422 and "timezone" in r.context["errors"]["calendar"]
    r = c.post(reverse("web:settings_sla_calendar"), {"name": "X", "timezone": "UTC", "day_tue": "9 to 5"})
    assert r.status_code == 422 and "weekly_hours.tue[0]" in r.context["errors"]["calendar"]
    assert not BusinessCalendar.objects.exists()
    r = c.post(
        reverse("web:settings_sla_policy"),
        {"name": "P", "first_response_minutes": "0", "resolution_minutes": "5", "warning_percent": "75"},
    )
    assert r.status_code == 422 and r.context["errors"]["policy"].startswith("first_response_minutes")
    r = c.post(reverse("web:settings_sla_preview"), {"arrival": "2026-12-07T09:00:00"})
    assert r.status_code == 422 and r.context["errors"]["preview"].startswith("arrival")
    assert not SlaPolicy.objects.exists()
    assert client_for(world.agent).get(reverse("web:settings_sla")).status_code == 403


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_ticket_page_shows_both_clocks_with_overdue_styling(world: Any, language: str) -> None:
    services.policy_save(
        user=world.admin, data={"name": "Fast", "first_response_minutes": 30, "resolution_minutes": 600}
    )
    ticket = world.ticket()
    Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction=MessageDirection.INBOUND,
        channel="amazon",
        body="x",
        sent_at=now() - timedelta(hours=1),
    )
    services.ticket_sla_recompute(ticket_id=ticket.pk)
    world.agent.language = language
    world.agent.save()
    page = client_for(world.agent).get(reverse("web:ticket", args=[ticket.pk])).content.decode()
    assert 'id="sla-panel"' in page
    assert 'data-clock="first_response" data-state="overdue"' in page
    assert 'data-clock="resolution" data-state="running"' in page
    assert 'data-clock="marketplace" data-state="running"' in page
    assert ("已逾期" if language == "zh-hans" else "Overdue") in page


def test_edit_a_policy_from_the_settings_page(world: Any) -> None:
    policy = services.policy_save(
        user=world.admin, data={"name": "Std", "first_response_minutes": 60, "resolution_minutes": 600}
    )
    c = client_for(world.admin)
    r = c.get(reverse("web:settings_sla") + f"?policy={policy.pk}")
    assert r.status_code == 200 and r.context["policy_form"]["policy_id"] == str(policy.pk)
    assert 'value="60"' in r.content.decode()
    r = c.post(
        reverse("web:settings_sla_policy"),
        {
            "policy_id": policy.pk,
            "name": "Std",
            "first_response_minutes": "45",
            "resolution_minutes": "600",
            "warning_percent": "75",
            "is_active": "on",
        },
    )
    assert r.status_code == 302
    policy.refresh_from_db()
    assert policy.first_response_minutes == 45 and SlaPolicy.objects.count() == 1
    assert client_for(world.foreign_user).get(reverse("web:settings_sla") + f"?policy={policy.pk}").status_code == 404
