"""The webhook signing secret as admins manage it (notifications.signing): masked, revealed with the
password again, rotated now or with a switch-over time (one secret signs at a time), audited; the
settings page and the API call the same services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.notifications.outbox import webhook_secret
from aftersales.notifications.signing import (
    signing_key_reveal,
    signing_key_rotate,
    signing_key_status,
)

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_masked_revealed_with_the_password_and_audited(world: Any) -> None:
    secret = webhook_secret(world.org.pk)
    status = signing_key_status(world.admin)
    assert status.masked == f"{secret[:4]}…{secret[-4:]}" and secret not in status.masked
    with pytest.raises(ValidationFailed) as err:
        signing_key_reveal(world.admin, channel="page", password="wrong")
    assert err.value.field == "password"
    assert signing_key_reveal(world.admin, channel="page", password="pw-correct-horse") == (secret, "")
    [entry] = signing_key_status(world.admin).audit
    assert (entry.action, entry.username, entry.channel) == ("revealed", world.admin.get_username(), "page")
    for user in (world.agent, world.viewer):
        with pytest.raises(PermissionDenied):
            signing_key_reveal(user, channel="page", password="pw-correct-horse")


def test_rotation_now_or_after_a_switch_over_time(world: Any, monkeypatch: Any) -> None:
    from aftersales.notifications import outbox

    old = webhook_secret(world.org.pk)
    new, switch_at = signing_key_rotate(world.admin, channel="page", grace_hours=24)
    # pending: the old secret keeps signing, the new one is shown masked as the next
    assert webhook_secret(world.org.pk) == old
    status = signing_key_status(world.admin)
    assert status.pending_masked == f"{new[:4]}…{new[-4:]}" and status.switch_at == switch_at
    assert signing_key_reveal(world.admin, channel="page", password="pw-correct-horse") == (old, new)
    later = switch_at + timedelta(seconds=1)
    monkeypatch.setattr(outbox, "now", lambda: later)
    assert webhook_secret(world.org.pk) == new  # switched over
    assert signing_key_status(world.admin).pending_masked == ""
    newest, _at = signing_key_rotate(world.admin, channel="api", grace_hours=0)
    assert webhook_secret(world.org.pk) == newest
    actions = [(e.action, e.channel) for e in signing_key_status(world.admin).audit]
    assert actions == [("rotated", "api"), ("revealed", "page"), ("rotated", "page")]
    for bad in (-1, 73, "24", True, 2.5):
        with pytest.raises(ValidationFailed) as err:
            signing_key_rotate(world.admin, channel="page", grace_hours=bad)
        assert err.value.field == "grace_hours"
    assert webhook_secret(world.org.pk) == newest


def test_the_settings_page(world: Any) -> None:
    c = client_for(world.admin)
    secret = webhook_secret(world.org.pk)
    page = c.get(reverse("web:settings_webhook_secret")).content.decode()
    assert 'data-secret="masked"' in page and secret not in page and 'data-recipe="python"' in page
    r = c.post(reverse("web:settings_webhook_secret_reveal"), {"password": "nope"})
    assert r.status_code == 422 and 'data-error="password"' in r.content.decode() and secret not in r.content.decode()
    r = c.post(reverse("web:settings_webhook_secret_reveal"), {"password": "pw-correct-horse"})
    assert r.status_code == 200 and secret in r.content.decode() and 'data-audit="revealed"' in r.content.decode()
    r = c.post(reverse("web:settings_webhook_secret_rotate"), {"grace_hours": "100"})
    assert r.status_code == 422 and 'data-error="grace_hours"' in r.content.decode()
    assert webhook_secret(world.org.pk) == secret
    r = c.post(reverse("web:settings_webhook_secret_rotate"), {"grace_hours": "0"})
    body = r.content.decode()
    new = webhook_secret(world.org.pk)
    assert r.status_code == 200 and new != secret and new in body and 'data-rotated="now"' in body
    assert client_for(world.agent).get(reverse("web:settings_webhook_secret")).status_code == 403
    # the API answers from the same services: its reveal is audited too
    from aftersales.api.tests.helpers import ApiClient

    assert ApiClient(user=world.admin).request("GET", "/rules/webhook-secret").json()["secret"] == new
    assert signing_key_status(world.admin).audit[0].channel == "api"


def test_the_api_rotates_with_a_switch_over_time(world: Any) -> None:
    from aftersales.api.tests.helpers import ApiClient, assert_error

    api = ApiClient(user=world.admin)
    old = api.request("GET", "/rules/webhook-secret").json()["secret"]
    pending = api.request("POST", "/rules/webhook-secret/rotate?grace_hours=12").json()["secret"]
    assert pending != old and webhook_secret(world.org.pk) == old
    assert signing_key_status(world.admin).pending_masked == f"{pending[:4]}…{pending[-4:]}"
    assert_error(api.request("POST", "/rules/webhook-secret/rotate?grace_hours=73"), 422, field="grace_hours")
    now_secret = api.request("POST", "/rules/webhook-secret/rotate").json()["secret"]
    assert webhook_secret(world.org.pk) == now_secret and signing_key_status(world.admin).pending_masked == ""
