"""The LLM classification provider's settings in a real browser (issue 11 §3): an admin configures a
local Ollama (allowed by the installation), the key is stored but never shown, a metadata address is
refused naming the field; at 1280 and 390 px, without sideways scrolling or a Content-Security-Policy
violation. SCREENSHOT_DIR=<dir> keeps the screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aftersales.testing.personas import build_world
from aftersales.triage.models import LLMProviderSettings

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_routing_settings_browser import _no_sideways_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_configures_the_llm_provider(live_server, page, settings, width):  # type: ignore[no-untyped-def]
    settings.TRIAGE_LLM_ALLOW_HTTP = True
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    world = build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    sign_in(page, base)

    page.goto(base + "/settings/triage/")
    form = page.locator("#triage-llm")
    expect(form.locator("input[name=is_enabled]")).not_to_be_checked()
    form.locator("input[name=is_enabled]").check()
    form.locator("input[name=base_url]").fill("http://127.0.0.1:11434/v1")
    form.locator("input[name=model]").fill("qwen2.5:7b-instruct")
    form.locator("input[name=api_key]").fill("sk-local-secret")
    form.locator("input[name=fields][value=sentiment]").uncheck()
    form.locator("input[name=max_per_minute]").fill("20")
    _no_sideways_scroll(page)
    _shot(page, f"triage-llm-settings-{width}.png")
    form.locator("button[type=submit]:not([formaction])").click()
    expect(page).to_have_url(base + "/settings/triage/")
    row = LLMProviderSettings.objects.get(organization=world.org)
    assert row.is_enabled and row.model == "qwen2.5:7b-instruct" and row.max_per_minute == 20
    assert row.fields == ["intent", "urgency"] and row.credentials == {"api_key": "sk-local-secret"}
    key = page.locator("#triage-llm input[name=api_key]")
    expect(key).to_have_value("")
    assert "sk-local-secret" not in page.content()
    expect(page.locator("#triage-llm input[name=fields][value=sentiment]")).not_to_be_checked()

    page.locator("#triage-llm input[name=base_url]").fill("https://169.254.169.254/v1")
    page.locator("#triage-llm button[type=submit]:not([formaction])").click()
    error = page.locator("#triage-llm [role=alert]")
    expect(error).to_have_attribute("data-field", "base_url")
    expect(page.locator("#triage-llm input[name=base_url]")).to_have_value("https://169.254.169.254/v1")
    _no_sideways_scroll(page)
    _shot(page, f"triage-llm-error-{width}.png")
    assert LLMProviderSettings.objects.get(organization=world.org).base_url == "http://127.0.0.1:11434/v1"
    assert violations == []
