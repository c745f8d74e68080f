"""Settings > Settings history and an RMA the marketplace cancelled, in a real browser (issue 10): the
admin sees threshold, notification-step and signing-secret changes (the secret only as "changed"
and a fingerprint); the RMA page's timeline says the buyer cancelled it on the marketplace; at 1280
and 390 px, without sideways scrolling or a Content-Security-Policy violation. SCREENSHOT_DIR=<dir>
keeps the screenshots."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from aftersales.core.actors import Actor
from aftersales.notifications.signing import signing_key_rotate
from aftersales.returns.notify_settings import notification_steps_update
from aftersales.returns.review import review_settings_set
from aftersales.returns.rma import rma_create_from_return_request
from aftersales.returns.services import ReturnLineData, ReturnRequestData, return_request_upsert
from aftersales.returns.tests.rma_fixtures import delivered_order, first_line
from aftersales.sla.services import policy_save as sla_policy_save
from aftersales.testing.personas import build_world

from .conftest import open_settings
from .test_csp_browser import watch_csp
from .test_routing_settings_browser import _shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POLICY = {"name": "Fast", "urgency": "high", "first_response_minutes": 60, "resolution_minutes": 600}


@pytest.mark.parametrize("width", [1280, 390])
def test_settings_history(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    review_settings_set(user=world.admin, repeat_window_days=30, repeat_threshold=4, high_value_requires_evidence=True)
    notification_steps_update(user=world.admin, changes={"cancelled": False}, via="api")
    secret, _at = signing_key_rotate(world.admin, channel="page", grace_hours=0)
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    open_settings(page, live_server.url, "/settings/history/")
    rows = page.locator("[data-settings-history] tbody tr")
    expect(rows).to_have_count(4)
    expect(page.locator('tr[data-setting="webhook_signing_secret"]')).to_contain_text("changed")
    assert secret not in page.content()
    expect(page.locator('tr[data-setting="refund_review.repeat_window_days"]')).to_contain_text("30")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, f"settings-history-{width}.png")
    # filtered by setting group and by who, then paged (50 a page): the same selector as the API
    policy = sla_policy_save(user=world.admin, data=POLICY)  # one row, then one per change: 52
    for n in range(1, 52):
        sla_policy_save(user=world.admin, data={**POLICY, "first_response_minutes": 60 + n}, policy_id=policy.pk)
    page.goto(live_server.url + "/settings/history/")
    page.select_option("[data-settings-history-filters] select[name=group]", "sla_policy")
    page.select_option("[data-settings-history-filters] select[name=actor]", str(world.admin.pk))
    page.click("[data-settings-history-filters] button[type=submit]")
    expect(rows).to_have_count(50)
    expect(page.locator('tr[data-setting^="refund_review"]')).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    _shot(page, f"settings-history-filtered-{width}.png")
    page.click("[data-settings-history-next]")
    expect(rows).to_have_count(2)
    expect(page.locator("[data-settings-history-filters] select[name=group]")).to_have_value("sla_policy")
    assert violations == []


@pytest.mark.parametrize("width", [1280, 390])
def test_rma_cancelled_on_the_marketplace(live_server, page, width):  # type: ignore[no-untyped-def]
    world = build_world()
    store = world.store_us
    order = delivered_order(world, store=store, lines=(("home", "40.00", 1, "USD"),))
    line = first_line(order)
    actor = Actor.connector(store_id=store.pk, platform=store.platform)
    t0 = timezone.now() - timedelta(days=1)

    def data(status: str, state: str, minutes: int) -> ReturnRequestData:
        return ReturnRequestData(
            external_id="114-RR-1",
            kind="return",
            status=status,
            platform_state=state,
            created_at=t0,
            updated_at=t0 + timedelta(minutes=minutes),
            order_external_id=order.external_id,
            buyer_external_id="buyer-1",
            reason="changed_mind",
            lines=[ReturnLineData(line.sku, 1, line.external_line_id)],
        )

    request = return_request_upsert(store=store, data=data("Pending", "open", 0), actor=actor).return_request
    rma = rma_create_from_return_request(return_request_id=request.pk, actor=actor)
    return_request_upsert(store=store, data=data("Cancelled", "cancelled", 5), actor=actor)
    violations = watch_csp(page)
    page.set_viewport_size({"width": width, "height": 900})
    open_settings(page, live_server.url, f"/returns/{rma.pk}/")
    expect(page.locator("[data-platform-note]")).to_contain_text("the buyer cancelled the return request")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#rma-timeline").scroll_into_view_if_needed()
    _shot(page, f"rma-platform-cancelled-{width}.png")
    assert violations == []
