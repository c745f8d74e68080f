from __future__ import annotations

import re

from django.urls import reverse

from aftersales.inbox.models import Ticket

from .conftest import htmx_headers

BULK = reverse("web:inbox_bulk")


def test_bulk_status_summary_counts_and_reasons_htmx(world, login):
    ok1, ok2 = world.ticket(), world.ticket()
    closed = world.ticket(status="closed")
    other_team = world.ticket(store=world.store_de)
    response = login(world.agent).post(
        BULK,
        {
            "ticket_ids": [ok1.pk, ok2.pk, closed.pk, other_team.pk],
            "action": "status",
            "status": "solved",
            "return_query": "status_category=open",
        },
        **htmx_headers("inbox-list"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    summary = re.search(r'<div class="alert alert-warning" id="bulk-summary".*?</div>', html, re.S).group(0)
    assert "2 updated, 2 failed" in summary
    assert f"#{closed.pk}</a> a ticket cannot go from closed to solved" in summary
    assert f"#{other_team.pk}</a> ticket not found" in summary
    assert Ticket.objects.get(pk=ok1.pk).status == "solved"
    # the list is refreshed with the filters the agent was looking at (solved tickets left "open")
    assert f'data-ticket-id="{ok1.pk}"' not in html
    assert 'name="return_query" value="status_category=open"' in html


def test_bulk_without_js_redirects_back_with_the_summary(world, login):
    t = world.ticket()
    client = login(world.agent)
    response = client.post(
        BULK, {"ticket_ids": [t.pk], "action": "tag", "tag": "Black Friday", "return_query": "platform=amazon"}
    )
    assert response.status_code == 302 and response["Location"] == "/?platform=amazon"
    assert list(t.tags.values_list("name", flat=True)) == ["black friday"]
    assert "1 updated" in client.get(response["Location"]).content.decode()


def test_bulk_assign_me_nobody_and_colleague(world, login, django_capture_on_commit_callbacks):
    a, b = world.ticket(status="new"), world.ticket()
    client = login(world.agent)
    client.post(BULK, {"ticket_ids": [a.pk, b.pk], "action": "assign", "assignee": "me"})
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {world.agent.pk}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(BULK, {"ticket_ids": [a.pk], "action": "assign", "assignee": str(world.teammate.pk)})
    assert Ticket.objects.get(pk=a.pk).assignee == world.teammate
    assert world.teammate.notifications.filter(kind="assigned", ticket=a).exists()
    client.post(BULK, {"ticket_ids": [a.pk, b.pk], "action": "assign", "assignee": "none"})
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {None}


def test_bulk_errors_are_shown_next_to_the_bulk_controls(world, login):
    t = world.ticket()
    client = login(world.agent)
    nothing = client.post(BULK, {"action": "status", "status": "solved"}, **htmx_headers("inbox-list"))
    assert nothing.status_code == 422
    assert re.search(r'id="bulk-error">select at least one ticket<', nothing.content.decode())
    bad_status = client.post(BULK, {"ticket_ids": [t.pk], "action": "status", "status": "gone"})
    assert bad_status.status_code == 422 and "unknown status" in bad_status.content.decode()
    bad_action = client.post(BULK, {"ticket_ids": [t.pk], "action": "explode"})
    assert bad_action.status_code == 422
    bad_id = client.post(BULK, {"ticket_ids": ["1; drop"], "action": "tag", "tag": "x"})
    assert bad_id.status_code == 422
    foreign_assignee = client.post(
        BULK, {"ticket_ids": [t.pk], "action": "assign", "assignee": str(world.foreign_user.pk)}
    )
    assert foreign_assignee.status_code == 404 and "assignee not found" in foreign_assignee.content.decode()
    assert Ticket.objects.get(pk=t.pk).status == "open"


def test_bulk_is_forbidden_to_viewers(world, login):
    t = world.ticket()
    response = login(world.viewer).post(BULK, {"ticket_ids": [t.pk], "action": "status", "status": "solved"})
    assert response.status_code == 403
    htmx = login(world.viewer).post(
        BULK, {"ticket_ids": [t.pk], "action": "status", "status": "solved"}, **htmx_headers("inbox-list")
    )
    assert htmx.status_code == 403 and htmx["HX-Retarget"] == "#flash"
    assert Ticket.objects.get(pk=t.pk).status == "open"
