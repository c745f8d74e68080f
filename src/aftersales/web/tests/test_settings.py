from __future__ import annotations

import re

from django.urls import reverse

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
    response = client.post(reverse("web:token_create"), {"name": "ERP sync"})
    assert response.status_code == 200
    raw = re.search(r"<code class=\"token\" data-raw-token>([^<]+)</code>", response.content.decode()).group(1)
    assert user_for_token(raw) == world.agent
    page = client.get(reverse("web:settings")).content.decode()
    assert "ERP sync" in page and raw not in page and raw[:10] in page
    token = ApiToken.objects.get(user=world.agent)
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 302
    assert user_for_token(raw) is None
    assert client.post(reverse("web:token_revoke", args=[token.pk])).status_code == 404


def test_token_errors(world, login):
    client = login(world.agent)
    assert client.post(reverse("web:token_create"), {"name": ""}).status_code == 422
    past = client.post(reverse("web:token_create"), {"name": "old", "expires_on": "2001-01-01"})
    assert past.status_code == 422 and "expiry must be in the future" in past.content.decode()
    assert client.post(reverse("web:token_create"), {"name": "x", "expires_on": "soon"}).status_code == 422
    assert not ApiToken.objects.exists()
    future = client.post(reverse("web:token_create"), {"name": "ci", "expires_on": "2099-01-31"})
    assert future.status_code == 200 and ApiToken.objects.get().expires_at.year == 2099
