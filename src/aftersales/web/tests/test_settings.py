from __future__ import annotations

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from aftersales.accounts.models import ApiToken
from aftersales.accounts.selectors import user_for_token


def test_language_switch(world, login):
    client = login(world.agent)
    response = client.post(reverse("web:settings_language"), {"language": "zh-hans"})
    assert response.status_code == 302
    world.agent.refresh_from_db()
    assert world.agent.language == "zh-hans"
    html = client.get(response["Location"]).content.decode()
    assert "语言已保存" in html and 'lang="zh-hans"' in html
    bad = client.post(reverse("web:settings_language"), {"language": "klingon"})
    assert bad.status_code == 422 and "klingon" in bad.content.decode()


def test_token_is_shown_once_and_can_be_revoked(world, login):
    client = login(world.agent)
    response = client.post(reverse("web:token_create"), {"name": "ERP sync", "scopes": ["read", "write"]})
    assert response.status_code == 200
    raw = re.search(r"<code class=\"token\" data-raw-token>([^<]+)</code>", response.content.decode()).group(1)
    assert user_for_token(raw) == world.agent
    page = client.get(reverse("web:settings")).content.decode()
    assert "ERP sync" in page and raw not in page and raw[:10] in page
    token = ApiToken.objects.get(user=world.agent)
    assert token.scopes == ["read", "write"]
    assert (token.expires_at - timezone.now()).days in (89, 90)  # blank expiry: the default lifetime
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 302
    assert user_for_token(raw) is None
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 404


def test_token_errors(world, login):
    client = login(world.agent)
    read = {"scopes": ["read"]}
    assert client.post(reverse("web:token_create"), {"name": "", **read}).status_code == 422
    past = client.post(reverse("web:token_create"), {"name": "old", "expires_on": "2001-01-01", **read})
    assert past.status_code == 422 and "expiry must be in the future" in past.content.decode()
    far = client.post(reverse("web:token_create"), {"name": "far", "expires_on": "9999-12-31", **read})
    assert far.status_code == 422 and "within 365 days" in far.content.decode()
    assert client.post(reverse("web:token_create"), {"name": "x", "expires_on": "soon", **read}).status_code == 422
    # the agent's role does not administer: no admin scope (and no admin checkbox offered)
    assert 'value="admin"' not in client.get(reverse("web:settings")).content.decode()
    admin_scope = client.post(reverse("web:token_create"), {"name": "x", "scopes": ["read", "admin"]})
    assert admin_scope.status_code == 422 and "admin" in admin_scope.content.decode()
    assert not ApiToken.objects.exists()
    next_month = (timezone.localdate() + timedelta(days=31)).isoformat()
    ok = client.post(reverse("web:token_create"), {"name": "ci", "expires_on": next_month, **read})
    assert ok.status_code == 200 and ApiToken.objects.get().expires_at.date().isoformat() <= next_month
    # nothing checked: the default scopes, as when the API's `scopes` is omitted
    assert client.post(reverse("web:token_create"), {"name": "bare"}).status_code == 200
    assert ApiToken.objects.get(name="bare").scopes == ["read"]


def test_token_form_shows_scopes_and_the_default_expiry(world, login):
    page = login(world.admin).get(reverse("web:settings")).content.decode()
    for scope in ("read", "write", "admin", "tokens"):
        assert f'name="scopes" value="{scope}"' in page
    assert 'name="scopes" value="read" checked' in page and 'value="write" checked' not in page
    # 90 days from today in the organization's time zone (Asia/Shanghai), which may be tomorrow in UTC
    days = {(timezone.localdate() + timedelta(days=90 + extra)).isoformat() for extra in (0, 1)}
    assert 'name="expires_on" min="' in page and any(f'value="{day}"' in page for day in days)
