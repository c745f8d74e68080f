from __future__ import annotations

from django.test import Client
from django.urls import reverse

from aftersales.testing.factories import UserFactory


def test_login_page_and_sign_in(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("web:login"))
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in page.content.decode()
    token = page.cookies["csrftoken"].value
    wrong = client.post(reverse("web:login"), {"username": "alice", "password": "nope", "csrfmiddlewaretoken": token})
    assert wrong.status_code == 200 and "alert-error" in wrong.content.decode()
    ok = client.post(
        reverse("web:login") + "?next=/settings/",
        {"username": "alice", "password": "pw-correct-horse", "csrfmiddlewaretoken": token, "next": "/settings/"},
    )
    assert ok.status_code == 302 and ok["Location"] == "/settings/"


def test_csrf_is_enforced(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.agent)
    t = world.ticket()
    response = client.post(reverse("web:ticket_reply", args=[t.pk]), {"body": "hi"})
    assert response.status_code == 403


def test_pages_need_sign_in(world):
    response = Client().get("/tickets/1/")
    assert response.status_code == 302 and response["Location"] == "/login/?next=/tickets/1/"
    htmx = Client().get("/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/login/?next=/"


def test_users_without_organization_get_403(db):
    orphan = UserFactory(username="orphan", organization=None, role=None)
    client = Client()
    client.force_login(orphan)
    response = client.get("/")
    assert response.status_code == 403 and "not a member of an organization" in response.content.decode()


def test_logout_is_post_only(world):
    client = Client()
    client.force_login(world.agent)
    assert client.get(reverse("web:logout")).status_code == 405
    response = client.post(reverse("web:logout"))
    assert response.status_code == 302 and response["Location"] == reverse("web:login")
    assert client.get("/").status_code == 302
