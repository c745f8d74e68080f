"""The LLM provider's "Test connection" and calibration notice in a real browser (issue 11 §3): an
admin tests typed (unsaved) values against a local fake server, sees the model and latency, then an
authentication failure, and the page says the provider is not calibrated; at 1280 and 390 px,
without sideways scrolling or a Content-Security-Policy violation. SCREENSHOT_DIR=<dir> keeps the
screenshots."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from aftersales.language.tests.conftest import protocol_server  # noqa: F401
from aftersales.testing.personas import build_world
from aftersales.triage.models import LLMProviderSettings

from .conftest import sign_in
from .test_csp_browser import watch_csp
from .test_routing_settings_browser import _no_sideways_scroll, _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _answer(request: Any) -> tuple[int, Any]:
    if request.headers.get("Authorization") != "Bearer sk-good":
        return 401, {"error": {"message": "Incorrect API key provided: sk-wr***"}}
    content = {"intent": "item_not_received", "confidence": 0.9, "urgency": "medium", "sentiment": "neutral"}
    return 200, {
        "model": "qwen2.5:7b-instruct-q4_K_M",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(content)}}],
    }


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_tests_the_connection(live_server, page, settings, width, protocol_server):  # type: ignore[no-untyped-def]  # noqa: F811
    settings.TRIAGE_LLM_ALLOW_HTTP = True
    settings.TRIAGE_LLM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    server = protocol_server(_answer)
    world = build_world()
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    base = live_server.url
    sign_in(page, base)

    page.goto(base + "/settings/triage/")
    expect(page.locator("#llm-uncalibrated")).to_be_visible()
    expect(page.locator("#llm-calibrate")).to_be_disabled()  # nothing saved yet
    form = page.locator("#triage-llm")
    form.locator("input[name=base_url]").fill(server.url + "/v1")
    form.locator("input[name=model]").fill("qwen2.5:7b-instruct")
    form.locator("input[name=api_key]").fill("sk-good")
    page.locator("#llm-test").click()  # the worker sends it; the fragment polls until it is done
    result = page.locator("#llm-test-result [data-ok]")
    expect(page.locator("#llm-test-result")).to_have_attribute("data-status", "done")
    expect(result).to_have_attribute("data-ok", "true")
    expect(result).to_contain_text("qwen2.5:7b-instruct-q4_K_M")
    expect(form.locator("input[name=model]")).to_have_value("qwen2.5:7b-instruct")  # the form is still there
    _no_sideways_scroll(page)
    _shot(page, f"triage-llm-test-ok-{width}.png")

    form.locator("input[name=api_key]").fill("sk-wrong")
    page.locator("#llm-test").click()
    expect(page.locator("#llm-test-result [data-ok]")).to_have_attribute("data-error-kind", "auth")
    _no_sideways_scroll(page)
    _shot(page, f"triage-llm-test-auth-{width}.png")
    assert not LLMProviderSettings.objects.exists()  # a test changes no setting

    # after a calibration (its result put in place here: tests/test_llm_batch.py runs one)
    LLMProviderSettings.objects.create(
        organization=world.org,
        base_url=server.url + "/v1",
        model="qwen2.5:7b-instruct",
        calibration={
            "points": [[0.8, 0.2], [0.99, 0.6]],
            "model": "qwen2.5:7b-instruct",
            "base_url": server.url + "/v1",
            "split": "dev",
            "examples": 92,
            "answered": 92,
            "accuracy": 0.4,
            "mean_reported": 0.895,
            "ece_before": 0.495,
            "ece_after": 0.0,
            "languages": {"de": {"points": [[0.8, 0.3], [0.99, 0.7]], "answered": 23}},
            "heldout": {
                "examples": 184,
                "answered": 184,
                "accuracy": 0.41,
                "ece_before": 0.49,
                "ece_after": 0.04,
                "languages": {},
            },
        },
    )
    page.goto(base + "/settings/triage/")
    expect(page.locator("#llm-calibrated")).to_contain_text("40%")
    expect(page.locator("#llm-calibration-languages")).to_contain_text("de (23)")
    expect(page.locator("#llm-calibration-heldout")).to_contain_text("184")
    expect(page.locator("#llm-test-result [data-ok]")).to_have_attribute("data-error-kind", "auth")  # the last test
    expect(page.locator("#llm-calibrate")).to_be_enabled()
    _no_sideways_scroll(page)
    _shot(page, f"triage-llm-calibrated-{width}.png")
    assert violations == []
