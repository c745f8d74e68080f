"""The tracking account in the settings (agent UI) and the API: admins only, the key write-only and
encrypted, "test connection" against the local 17TRACK, the same services behind both."""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.tracking.models import TrackingAccount

URL = "/tracking/accounts/17track"


def test_api_save_read_and_test_connection(world, fake, settings):
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    api = ApiClient(user=world.admin)
    fresh = api.request("GET", URL)
    assert fresh.status_code == 200
    assert fresh.json()["configured"] is False and fresh.json()["api_key_set"] is False

    saved = api.request("PUT", URL, {"api_key": "ORG-17-KEY", "poll_interval_hours": 4})
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["api_key_set"] is True and body["poll_interval_hours"] == 4 and body["is_active"] is True
    assert "ORG-17-KEY" not in saved.content.decode()
    account = TrackingAccount.objects.get(organization=world.org)
    assert body["push_path"] == f"/hooks/tracking/17track/{account.push_token}"
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT credentials FROM tracking_trackingaccount WHERE id = %s", [account.pk])
        assert "ORG-17-KEY" not in cursor.fetchone()[0]

    TrackingAccount.objects.filter(pk=account.pk).update(endpoint_url=fake.url)
    check = api.request("POST", f"{URL}/test")
    assert check.status_code == 200 and check.json() == {"ok": True, "detail": "quota 100 of 100 left (0 used)"}
    assert fake.requests_to("/track/v2.2/getquota")[0].headers["17token"] == "ORG-17-KEY"
    assert api.request("GET", URL).json()["last_check_ok"] is True

    # keep the key when it is left out; a wrong key makes the test fail with 17TRACK's words
    assert api.request("PUT", URL, {"is_active": False}).json()["api_key_set"] is True
    api.request("PUT", URL, {"api_key": "WRONG"})
    failed = api.request("POST", f"{URL}/test").json()
    assert failed["ok"] is False and "Invalid security key" in failed["detail"]
    assert api.request("PUT", URL, {"clear_api_key": True}).json()["api_key_set"] is False


def test_api_refuses_bad_input_precisely(world):
    api = ApiClient(user=world.admin)
    cases = [
        ({"api_key": "has space"}, "api_key"),
        ({"api_key": ""}, "api_key"),
        ({"poll_interval_hours": 0}, "poll_interval_hours"),
        ({"poll_interval_hours": "x"}, "poll_interval_hours"),
        ({"colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = api.request("PUT", URL, body)
        assert response.status_code == 422, (body, response.content)
        assert field in (response.json()["error"]["field"] or ""), (body, response.json())
    assert api.request("GET", "/tracking/accounts/aftership").status_code == 422
    assert not TrackingAccount.objects.exists()
    missing = api.request("POST", f"{URL}/test")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "provider"
    api.request("PUT", URL, {"is_active": True})
    no_key = api.request("POST", f"{URL}/test")
    assert no_key.status_code == 422 and no_key.json()["error"]["field"] == "api_key"


def test_only_admins(world):
    for user in (world.agent, world.viewer, world.approver):
        assert ApiClient(user=user).request("GET", URL).status_code == 403
        assert ApiClient(user=user).request("PUT", URL, {"api_key": "K"}).status_code == 403
    assert not TrackingAccount.objects.exists()
    ApiClient(user=world.foreign_user).request("PUT", URL, {"api_key": "FOREIGN"})
    assert ApiClient(user=world.admin).request("GET", URL).json()["api_key_set"] is False


def test_settings_page_save_and_test(world, fake, settings):
    settings.CHANNELS_ALLOW_ENDPOINT_OVERRIDE = True
    client = Client()
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_tracking"))
    assert page.status_code == 200 and b'data-api-key="not-set"' in page.content
    bad = client.post(
        reverse("web:settings_tracking"), {"api_key": "two words", "poll_interval_hours": "6", "is_active": "on"}
    )
    assert bad.status_code == 422 and b"field-error" in bad.content
    assert not TrackingAccount.objects.exists()
    saved = client.post(
        reverse("web:settings_tracking"), {"api_key": "ORG-17-KEY", "poll_interval_hours": "6", "is_active": "on"}
    )
    assert saved.status_code == 302
    account = TrackingAccount.objects.get()
    assert account.credentials == {"api_key": "ORG-17-KEY"} and account.is_active
    TrackingAccount.objects.filter(pk=account.pk).update(endpoint_url=fake.url)
    page = client.get(reverse("web:settings_tracking"))
    assert b'data-api-key="set"' in page.content and b"ORG-17-KEY" not in page.content
    assert f"/hooks/tracking/17track/{account.push_token}".encode() in page.content
    tested = client.post(reverse("web:settings_tracking_test"), follow=True)
    assert tested.status_code == 200 and b'data-check="ok"' in tested.content
    # an empty key keeps the stored one
    client.post(reverse("web:settings_tracking"), {"api_key": "", "poll_interval_hours": "12"})
    account.refresh_from_db()
    assert (
        account.credentials == {"api_key": "ORG-17-KEY"} and account.poll_interval_hours == 12 and not account.is_active
    )


def test_settings_page_is_for_admins(world):
    client = Client()
    client.force_login(world.agent)
    assert client.get(reverse("web:settings_tracking")).status_code == 403
    assert client.post(reverse("web:settings_tracking"), {"api_key": "K"}).status_code == 403
    assert not TrackingAccount.objects.exists()


def test_refusals_and_unreadable_pushes_are_shown_to_admins(world, account, fake, clock):
    from aftersales.channels.connectors.seventeentrack.mapping import push_signature
    from aftersales.testing.factories import OrderFactory, ShipmentFactory
    from aftersales.tracking.services import shipments_register

    fake.undetectable.add("AB123456785GB")
    order = OrderFactory(store=world.store_us, external_id="113-0000001-0000001")
    ShipmentFactory(order=order, tracking_number="AB123456785GB")
    shipments_register(account_id=account.pk)
    body = b'{"event": "TRACKING_UPDATED", "data": {"number": "ZZ0000000001"}}'
    Client().post(
        f"/hooks/tracking/17track/{account.push_token}",
        body,
        content_type="application/json",
        headers={"sign": push_signature(body, "ORG-17-KEY")},
    )
    problems = ApiClient(user=world.admin).request("GET", URL).json()["problems"]
    assert [(p["kind"], p["tracking_number"], p["order_number"]) for p in problems] == [
        ("shipment", "AB123456785GB", "113-0000001-0000001"),
        ("push", "ZZ0000000001", ""),
    ]
    assert problems[0]["detail"].startswith("-18019903 Carrier cannot be detected")
    assert problems[1]["detail"] == "no shipment has this tracking number"
    client = Client()
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_tracking")).content.decode()
    assert 'data-problem="shipment"' in page and "Carrier cannot be detected" in page and 'data-problem="push"' in page
