"""Both SLA clocks on inbox rows (issue 11 section 2): ours (first response, then resolution) and the
marketplace's, from the stored clock rows in one extra query per page."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.core.clock import now
from aftersales.sla.models import TicketSla
from aftersales.sla.selectors import inbox_row_clocks

H = timedelta(hours=1)


def _clock(ticket, **fields):  # type: ignore[no-untyped-def]
    TicketSla.objects.update_or_create(
        ticket_id=ticket.pk,
        defaults={
            "organization_id": ticket.organization_id,
            "started_at": now() - 3 * H,
            "computed_at": now(),
            **fields,
        },
    )


def test_row_clocks_pick_the_running_ones(world):
    at = now()
    late, answered, quiet = world.ticket(), world.ticket(), world.ticket()
    _clock(late, first_response_due=at - H, marketplace_due=at + 5 * H, marketplace_source="elapsed_hours")
    _clock(answered, first_response_due=at - H, first_response_at=at - 2 * H, resolution_due=at + 2 * H)
    _clock(quiet, first_response_due=at - H, first_response_at=at - 2 * H)
    rows = inbox_row_clocks([late.pk, answered.pk, quiet.pk, 999999], now=at)
    assert rows[late.pk].ours.clock == "first_response" and rows[late.pk].ours.state == "overdue"  # type: ignore[union-attr]
    assert rows[late.pk].marketplace.state == "running"  # type: ignore[union-attr]
    assert rows[answered.pk].ours.clock == "resolution" and rows[answered.pk].marketplace is None  # type: ignore[union-attr]
    assert rows[quiet.pk].ours is None and 999999 not in rows


def test_inbox_rows_show_both_clocks_with_one_more_query(world, client):
    at = now()
    ticket = world.ticket()
    client.force_login(world.agent)
    with CaptureQueriesContext(connection) as before:
        assert client.get("/").status_code == 200
    _clock(ticket, first_response_due=at - H, marketplace_due=at + 5 * H, marketplace_source="elapsed_hours")
    with CaptureQueriesContext(connection) as after:
        page = client.get("/")
    html = page.content.decode()
    assert f'data-ticket-id="{ticket.pk}"' in html
    assert 'data-clock="first_response" data-state="overdue"' in html
    assert 'data-clock="marketplace" data-state="running"' in html
    assert len(after.captured_queries) == len(before.captured_queries)  # the clock lookup runs either way


def test_another_organizations_clock_never_shows(world, client):
    foreign = world.foreign_ticket()
    _clock(foreign, first_response_due=now() - H)
    client.force_login(world.agent)
    assert "data-clocks" not in client.get("/").content.decode()
