from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

from django.urls import reverse

from aftersales.inbox.models import SavedView, Ticket
from aftersales.notifications.models import Notification

from .conftest import htmx_headers

INBOX = "/"


def row_ids(response) -> list[int]:  # type: ignore[no-untyped-def]
    return [int(pk) for pk in re.findall(r'data-ticket-id="(\d+)"', response.content.decode())]


def test_inbox_lists_visible_tickets_with_their_columns(world, login, story):
    t = story.ticket
    t.assignee = world.teammate
    t.save()
    Ticket.objects.filter(pk=t.pk).update(updated_at=datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    de = world.ticket(store=world.store_de, subject="Paket fehlt")
    response = login(world.agent).get(INBOX, {"sort": "-updated_at"})  # "All tickets" (bob's ticket)
    assert response.status_code == 200
    html = response.content.decode()
    assert row_ids(response) == [t.pk]  # the DE ticket is outside alice's scope
    assert de.subject not in html
    for text in ["Powerbank kaputt", "Amazon", "Amazon US", "Hans Müller", "VIP", "German", "Quality issue"]:
        assert text in html
    assert "Medium" in html and "Open" in html and "Bob" in html
    assert 'class="mark mark-priority"' in html and 'class="mark mark-unreplied"' in html
    assert "03-01 10:30" in html  # 02:30 UTC shown in Asia/Shanghai (the organization's time zone)
    assert "Asia/Shanghai" in html


def test_inbox_time_zone_follows_the_organization(world, login, story):
    world.org.timezone = "Europe/Berlin"
    world.org.save()
    Ticket.objects.filter(pk=story.ticket.pk).update(updated_at=datetime(2026, 3, 1, 2, 30, tzinfo=UTC))
    assert "03-01 03:30" in login(world.agent).get(INBOX).content.decode()


def test_filters_platform_language_and_repeated_values(world, login):
    en = world.ticket(language="en")
    de_us = world.ticket(language="de")
    ebay = world.ticket(store=world.store_de, language="de")
    admin = login(world.admin)
    assert set(row_ids(admin.get(INBOX, {"platform": "ebay"}))) == {ebay.pk}
    assert set(row_ids(admin.get(INBOX, {"language": "de"}))) == {de_us.pk, ebay.pk}
    assert set(row_ids(admin.get(INBOX, {"platform": "amazon", "language": "de"}))) == {de_us.pk}
    # a form sends repeated parameters, links use comma lists: both work
    assert set(row_ids(admin.get(INBOX + "?language=de&language=en"))) == {en.pk, de_us.pk, ebay.pk}
    assert set(row_ids(admin.get(INBOX + "?language=de,en&platform=amazon"))) == {en.pk, de_us.pk}
    # blank inputs of the plain GET form are ignored
    assert set(row_ids(admin.get(INBOX, {"q": "", "platform": "", "sort": "-updated_at"}))) == {
        en.pk,
        de_us.pk,
        ebay.pk,
    }


def test_filters_assignee_unreplied_priority_text_and_tags(world, login):
    mine = world.ticket(assignee=world.agent, subject="Cable frayed", is_unreplied=False)
    nobody = world.ticket(subject="Where is my parcel", is_high_priority=True)
    nobody.tags.create(organization=world.org, name="black friday")
    client = login(world.agent)
    assert row_ids(client.get(INBOX, {"assignee": "me"})) == [mine.pk]
    assert row_ids(client.get(INBOX, {"assignee": "none"})) == [nobody.pk]
    assert row_ids(client.get(INBOX, {"unreplied": "false"})) == [mine.pk]
    assert row_ids(client.get(INBOX, {"high_priority": "true"})) == [nobody.pk]
    assert row_ids(client.get(INBOX, {"q": "parcel"})) == [nobody.pk]
    assert row_ids(client.get(INBOX, {"q": f"#{mine.pk}"})) == [mine.pk]
    assert row_ids(client.get(INBOX, {"tag": "black friday"})) == [nobody.pk]
    assert row_ids(client.get(INBOX, {"team": world.team_us.pk})) == []


def test_date_filter_is_midnight_in_the_organization_time_zone(world, login):
    t = world.ticket()
    # 2026-03-01 17:00 UTC is 2026-03-02 01:00 in Shanghai
    Ticket.objects.filter(pk=t.pk).update(created_at=datetime(2026, 3, 1, 17, 0, tzinfo=UTC))
    client = login(world.agent)
    assert row_ids(client.get(INBOX, {"created_after": "2026-03-02"})) == [t.pk]
    assert row_ids(client.get(INBOX, {"created_before": "2026-03-02"})) == []
    response = client.get(INBOX, {"created_after": "2026-03-02"})
    assert 'name="created_after" value="2026-03-02"' in response.content.decode()


def test_invalid_filters_show_a_message_next_to_the_filter_with_400(world, login):
    world.ticket()
    client = login(world.agent)
    response = client.get(INBOX, {"platform": "myspace"})
    assert response.status_code == 400
    html = response.content.decode()
    error = re.search(r'id="err-platform">([^<]*)<', html).group(1)
    assert "myspace" in error and "Invalid filter" in error
    assert row_ids(response) == []
    for params, field in [
        ({"created_after": "2026-13-40"}, "created_after"),
        ({"updated_before": "yesterday"}, "updated_before"),
        ({"store": "abc"}, "store"),
        ({"assignee": "someone"}, "assignee"),
        ({"unreplied": "maybe"}, "unreplied"),
        ({"sort": "subject"}, "sort"),
        ({"cursor": "not-a-cursor"}, "general"),
        ({"colour": "red"}, "general"),
        ({"q": "¿!?"}, "q"),
    ]:
        response = client.get(INBOX, params)
        assert response.status_code == 400, params
        assert re.search(rf'id="err-{field}">[^<]+<', response.content.decode()), params


def test_htmx_filter_returns_the_list_only_and_pushes_a_clean_url(world, login):
    ebay = world.ticket(store=world.store_de)
    world.ticket()
    response = login(world.admin).get(
        INBOX, {"q": "", "platform": "ebay", "sort": "-updated_at"}, **htmx_headers("inbox-list")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="bulk-form"' in html
    assert row_ids(response) == [ebay.pk]
    assert response["HX-Push-Url"] == "/?platform=ebay"
    assert 'id="saved-views" class="panel" hx-swap-oob="true"' in html
    assert 'id="err-platform" hx-swap-oob="true"' in html


def test_htmx_invalid_filter_swaps_the_error_with_400(world, login):
    response = login(world.agent).get(INBOX, {"urgency": "extreme"}, **htmx_headers("inbox-list"))
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="err-urgency" hx-swap-oob="true">[^<]*extreme', html)
    assert "HX-Push-Url" not in response


def test_cursor_pagination(world, login):
    tickets = [world.ticket(subject=f"T{i}") for i in range(5)]
    client = login(world.agent)
    first = client.get(INBOX, {"limit": 2, "sort": "created_at"})
    assert row_ids(first) == [tickets[0].pk, tickets[1].pk]
    link = re.search(r'rel="next" href="([^"]+)"', first.content.decode()).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query["limit"] == ["2"] and query["sort"] == ["created_at"] and query["cursor"]
    second = client.get(link)
    assert row_ids(second) == [tickets[2].pk, tickets[3].pk]
    assert "First page" in second.content.decode()
    third = client.get(re.search(r'rel="next" href="([^"]+)"', second.content.decode()).group(1).replace("&amp;", "&"))
    assert row_ids(third) == [tickets[4].pk]
    assert 'rel="next"' not in third.content.decode()


def test_saved_views_create_pick_and_delete(world, login):
    ebay = world.ticket(store=world.store_de)
    world.ticket()
    client = login(world.admin)
    response = client.post(
        reverse("web:saved_view_create"), {"name": "  eBay  ", "query": "platform=ebay&sort=created_at"}
    )
    view = SavedView.objects.get(user=world.admin)
    assert response.status_code == 302 and response["Location"] == f"/?view={view.pk}"
    assert (view.name, view.filters, view.sort) == ("eBay", {"platform": "ebay"}, "created_at")
    picked = client.get(response["Location"])
    assert row_ids(picked) == [ebay.pk]
    assert re.search(r'<li class="active">\s*<a href="/\?view=\d+">eBay <span[^>]*></span>', picked.content.decode())
    duplicate = client.post(reverse("web:saved_view_create"), {"name": "eBay", "query": ""})
    assert duplicate.status_code == 409 and "already have a view named" in duplicate.content.decode()
    bad = client.post(reverse("web:saved_view_create"), {"name": "Bad", "query": "platform=myspace"})
    assert bad.status_code == 422 and "myspace" in bad.content.decode()
    assert login(world.agent).post(reverse("web:saved_view_delete", args=[view.pk])).status_code == 404
    assert client.post(reverse("web:saved_view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()


def test_unread_badge(world, login):
    Notification.objects.create(user=world.agent, kind="mention", text="x", dedupe_key="a")
    Notification.objects.create(user=world.agent, kind="mention", text="y", dedupe_key="b")
    html = login(world.agent).get(INBOX).content.decode()
    assert re.search(r'<span class="badge" id="unread-badge"[^>]*>2</span>', html)
    assert 'id="unread-badge"' not in login(world.teammate).get(INBOX).content.decode()


def test_viewer_sees_no_bulk_controls(world, login):
    world.ticket()
    html = login(world.viewer).get(INBOX).content.decode()
    assert 'name="ticket_ids"' not in html and 'value="assign"' not in html
    html = login(world.agent).get(INBOX).content.decode()
    assert 'name="ticket_ids"' in html and "data-select-all" in html


def test_customer_filter_from_the_ticket_page(world, login, story):
    other = world.ticket(customer=story.ticket.customer)
    world.ticket()
    client = login(world.agent)
    assert f"?customer={story.ticket.customer_id}" in client.get(f"/tickets/{story.ticket.pk}/").content.decode()
    response = client.get(INBOX, {"customer": story.ticket.customer_id})
    assert set(row_ids(response)) == {story.ticket.pk, other.pk}
    assert f'name="customer" value="{story.ticket.customer_id}" checked' in response.content.decode()
    assert client.get(INBOX, {"customer": "x"}).status_code == 400


def test_unknown_page_uses_the_ui_404_page(world, login):
    response = login(world.agent).get("/no-such-page/")
    assert response.status_code == 404 and "Back to the inbox" in response.content.decode()


def test_list_responses_vary_on_htmx_headers(world, login):
    response = login(world.agent).get(INBOX)
    assert "HX-Request" in response["Vary"]


def test_an_agents_default_view_is_their_open_tickets_and_the_unassigned_ones_of_their_teams(world, login):
    mine = world.ticket(assignee=world.agent)
    unassigned = world.ticket()
    world.ticket(assignee=world.teammate)  # a colleague's
    world.ticket(assignee=world.agent, status="solved")  # not open
    world.ticket(store=world.store_de)  # another team's, unassigned
    client = login(world.agent)
    response = client.get(INBOX)
    assert set(row_ids(response)) == {mine.pk, unassigned.pk}
    html = response.content.decode()
    assert re.search(
        r'<li class="active"><a href="/\?assignee=me%2Cnone&amp;status_category=open">Mine and unassigned', html
    )
    assert '<option value="me,none" selected>' in html  # the form shows what the view is
    everything = client.get(INBOX, {"sort": "-updated_at"})  # "All tickets"
    assert len(row_ids(everything)) == 4
    # a viewer takes no tickets: every open ticket they may see
    assert set(row_ids(login(world.viewer).get(INBOX))) == {
        mine.pk,
        unassigned.pk,
        *[t.pk for t in Ticket.objects.filter(assignee=world.teammate)],
    }


def test_views_show_their_counts_capped_at_99(world, login, monkeypatch):
    from django.core.cache import cache

    from aftersales.inbox import selectors

    cache.clear()
    for _ in range(3):
        world.ticket()
    world.ticket(assignee=world.agent, is_high_priority=True)
    three = SavedView.objects.create(user=world.agent, name="Three", filters={"assignee": "none"})
    stale = SavedView.objects.create(user=world.agent, name="Stale", filters={"created_after": "0001-01-01"})
    client = login(world.agent)
    page = client.get(INBOX).content.decode()
    # the page loads the counts after itself (htmx), so counting never delays the list
    assert f'hx-get="{reverse("web:inbox_counts")}" hx-trigger="load"' in page
    assert re.search(r'>Mine and unassigned <span class="muted small view-count" id="vc-quick-0"></span>', page)
    assert f'id="vc-view-{three.pk}"' in page

    def counts() -> dict[str, str]:
        html = client.get(reverse("web:inbox_counts"), HTTP_HX_REQUEST="true").content.decode()
        return dict(re.findall(r'id="(vc-[a-z]+-\d+)" hx-swap-oob="true"[^>]*>([^<]*)<', html))

    got = counts()
    # Mine and unassigned, Open, Mine, Unassigned, Unreplied, High priority, Waiting, Resolved, All tickets
    assert [got[f"vc-quick-{i}"] for i in range(9)] == ["4", "4", "1", "3", "4", "1", "0", "0", "4"]
    assert got[f"vc-view-{three.pk}"] == "3" and got[f"vc-view-{stale.pk}"] == "!"
    cache.clear()
    monkeypatch.setattr(selectors, "VIEW_COUNT_CAP", 3)
    monkeypatch.setattr("aftersales.web.views.inbox.VIEW_COUNT_CAP", 3)
    assert counts()["vc-quick-0"] == "2+"
    viewer = login(world.viewer).get(reverse("web:inbox_counts")).content.decode()
    assert "vc-quick-6" in viewer and "vc-quick-7" not in viewer  # a viewer has no "mine" views
