"""Settings > Return policy: paste / edit the document (errors shown with the path, nothing saved),
versions, and the try-it form (the API's eligibility function; writes nothing)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from aftersales.returns.models import ReturnPolicyVersion

pytestmark = pytest.mark.django_db

YAML = (
    "schema_version: 1\nreporting_currency: USD\nsite_timezones: {amazon.de: Europe/Berlin}\n"
    "reasons: [{code: changed_mind}]\nwindows: [{code: D, days: 14}]\n"
)
CHECK = {
    "store_id": "",
    "site": "amazon.de",
    "delivery_country": "DE",
    "delivered_at": "2026-03-20T10:00:00+01:00",
    "requested_at": "2026-04-03T22:00:00+00:00",
    "category": "home",
    "unit_price": "49.90",
    "currency": "USD",
    "reason": "changed_mind",
    "quantity_purchased": "1",
    "quantity_already_returned": "0",
    "quantity_requested": "1",
}


def admin_client(world) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.admin)
    return client


def test_page_shows_the_default_and_saves_versions(world) -> None:
    client = admin_client(world)
    page = client.get(reverse("web:settings_returns"))
    assert page.status_code == 200
    assert b'data-active-version="0"' in page.content and b"W-DEFAULT" in page.content
    response = client.post(reverse("web:settings_returns"), {"document": YAML, "comment": "two weeks"})
    assert response.status_code == 302
    page = client.get(reverse("web:settings_returns"))
    assert b'data-active-version="1"' in page.content and b'data-version="1"' in page.content
    version = ReturnPolicyVersion.objects.get()
    assert version.is_active and version.document["windows"] == [{"code": "D", "days": 14}]


def test_a_bad_document_is_shown_with_its_path_and_not_saved(world) -> None:
    bad = YAML.replace("{code: D, days: 14}", "{code: D, days: 14, scope: {sku: A, colour: red}}")
    response = admin_client(world).post(reverse("web:settings_returns"), {"document": bad})
    assert response.status_code == 422
    assert b"document.windows[0].scope.colour" in response.content
    assert b"colour: red" in response.content  # the pasted text is kept for fixing
    assert not ReturnPolicyVersion.objects.exists()


def test_try_it_form_uses_the_eligibility_function(world) -> None:
    client = admin_client(world)
    client.post(reverse("web:settings_returns"), {"document": YAML})
    response = client.post(reverse("web:settings_returns_check"), CHECK)
    assert response.status_code == 200
    assert b'data-resolution="reject"' in response.content and b"window:expired" in response.content
    assert b"2026-04-03" in response.content
    response = client.post(reverse("web:settings_returns_check"), {**CHECK, "requested_at": "2026-04-03T21:59:59Z"})
    assert b'data-resolution="return_and_refund"' in response.content
    naive = client.post(reverse("web:settings_returns_check"), {**CHECK, "delivered_at": "2026-03-20T10:00:00"})
    assert naive.status_code == 422 and b'data-error="check"' in naive.content
    too_many = client.post(reverse("web:settings_returns_check"), {**CHECK, "quantity_requested": "2"})
    assert too_many.status_code == 422
    assert ReturnPolicyVersion.objects.count() == 1


def test_rate_table_section(world) -> None:
    from aftersales.returns.models import ExchangeRate

    client = admin_client(world)
    bad = client.post(reverse("web:settings_returns_rate"), {"currency": "EUR", "rate": "-2"})
    assert bad.status_code == 422 and b'data-error="rate"' in bad.content
    assert client.post(reverse("web:settings_returns_rate"), {"currency": "ZZZ", "rate": "1"}).status_code == 422
    assert not ExchangeRate.objects.exists()
    assert client.post(reverse("web:settings_returns_rate"), {"currency": "eur", "rate": "1.08"}).status_code == 302
    page = client.get(reverse("web:settings_returns"))
    assert b'data-rate="EUR"' in page.content and b"1.08" in page.content
    response = client.post(reverse("web:settings_returns_check"), {**CHECK, "currency": "EUR", "unit_price": "463.00"})
    assert b"500.04 USD" in response.content  # 463.00 x 1.08, the rate shown with the decision
