"""Settings → Reply templates and Stores in a real browser: the preview on sample data comes back
through htmx (an unknown variable is named), saving adds the template, the stores page says which
stores have no connector yet; no Content-Security-Policy violation on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.language.models import ReplyTemplate
from aftersales.testing.connectors import unplugged
from aftersales.testing.factories import StoreFactory
from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_template_preview_and_save_then_stores(live_server, page):
    world = build_world()
    StoreFactory(organization=world.org, name="Wish", platform="wish")
    violations = watch_csp(page)
    base = live_server.url
    open_settings(page, base, "/settings/templates/")
    form = page.locator("#new-template form")
    form.locator("input[name=name]").fill("Parcel shipped")
    body = form.locator("textarea[name=new_body]")
    body.fill("Hi {{ customer.email }}")
    form.locator("button[name=preview]").click()
    expect(page.locator("#preview-new-new [data-preview=error]")).to_contain_text("customer.email")
    body.fill("Hi {{ customer.first_name }}, order {{ order.number }}")
    form.locator("button[name=preview]").click()
    expect(page.locator("#preview-new-new [data-preview=ok]")).to_contain_text("Hi Maria, order 113-4567890-1234567")
    assert page.url.endswith("/settings/templates/")  # htmx: the page stayed
    form.locator("button.btn-primary").click()
    expect(page.locator('[data-template="Parcel shipped"]')).to_be_visible()
    assert ReplyTemplate.objects.filter(organization=world.org, name="Parcel shipped").exists()

    page.goto(base + "/settings/stores/")
    expect(page.locator('[data-store="Wish"] [data-connector=none]')).to_be_visible()  # no Wish connector
    expect(page.locator('[data-store="Amazon US"] [data-connection-link]')).to_be_visible()
    assert violations == []


# Wish is this module's example of a platform without a connector: unplugged for its tests.
_no_wish_connector = unplugged("wish")
