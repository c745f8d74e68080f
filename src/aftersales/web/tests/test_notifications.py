from __future__ import annotations

from django.urls import reverse

from aftersales.notifications.models import Notification

from .conftest import htmx_headers


def make(user, ticket=None, key="k"):  # type: ignore[no-untyped-def]
    return Notification.objects.create(
        user=user, kind="mention", text="Bob mentioned you on a ticket", dedupe_key=key, ticket=ticket
    )


def test_list_marks_unread_and_links_to_the_ticket(world, login):
    t = world.ticket(subject="Broken charger")
    n = make(world.agent, t)
    make(world.teammate, t, key="other")
    html = login(world.agent).get(reverse("web:notifications")).content.decode()
    assert "Mentioned in a note" in html and "Broken charger" in html and "is-unread" in html
    assert reverse("web:notification_open", args=[n.pk]) in html
    assert html.count("data-notification-id=") == 1  # only her own


def test_open_marks_read_and_goes_to_the_ticket(world, login):
    t = world.ticket()
    n = make(world.agent, t)
    response = login(world.agent).get(reverse("web:notification_open", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("web:ticket", args=[t.pk])
    n.refresh_from_db()
    assert n.read_at is not None
    no_ticket = make(world.agent, None, key="reminder")
    response = login(world.agent).get(reverse("web:notification_open", args=[no_ticket.pk]))
    assert response["Location"] == reverse("web:notifications")


def test_mark_read_one_or_all(world, login):
    a, b, c = make(world.agent, key="a"), make(world.agent, key="b"), make(world.agent, key="c")
    client = login(world.agent)
    response = client.post(reverse("web:notifications_read"), {"ids": [a.pk]}, **htmx_headers())
    assert response.status_code == 200 and response.content.decode().startswith('<section id="notification-list">')
    assert set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True)) == {b.pk, c.pk}
    assert client.post(reverse("web:notifications_read")).status_code == 302
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert client.post(reverse("web:notifications_read"), {"ids": ["x"]}).status_code == 422


def test_badge_partial(world, login):
    make(world.agent)
    html = login(world.agent).get(reverse("web:notifications_badge"), **htmx_headers()).content.decode()
    assert ">1</span>" in html and "<html" not in html
    assert login(world.teammate).get(reverse("web:notifications_badge")).content.decode().strip() == ""
