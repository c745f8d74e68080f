"""Settings > Follow-ups and the API: admins only, every refusal names its field and writes nothing;
the coupon pool's CSV import (all or nothing, duplicates counted once)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aftersales.api.tests.helpers import ApiClient, assert_error
from aftersales.followups.models import Coupon, FollowUpSettings

pytestmark = pytest.mark.django_db

GOOD: dict[str, Any] = {
    "stall_enabled": True,
    "stall_days": 5,
    "csat_enabled": True,
    "csat_delay_hours": 48,
    "csat_sample_percent": 30,
    "csat_link_days": 10,
    "thanks_enabled": True,
    "thanks_categories": ["complaint", "quality_issue"],
    "coupon_pattern": "SORRY-{code}",
    "warranty_delivery_enabled": False,
}


def test_settings_round_trip_through_the_api(world):
    api = ApiClient(user=world.admin)
    assert api.request("GET", "/followups/settings").json()["csat_enabled"] is False
    saved = api.request("PUT", "/followups/settings", GOOD)
    assert saved.status_code == 200, saved.content
    assert api.request("GET", "/followups/settings").json() == {
        **GOOD,
        "thanks_categories": ["complaint", "quality_issue"],
        "stall_template_id": None,
        "csat_template_id": None,
        "thanks_template_id": None,
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stall_days": 0}, "stall_days"),
        ({"csat_sample_percent": 101}, "csat_sample_percent"),
        ({"csat_link_days": 91}, "csat_link_days"),
        ({"csat_delay_hours": -1}, "csat_delay_hours"),
        ({"thanks_categories": ["complaint", "nope"]}, "thanks_categories[1]"),
        ({"coupon_pattern": "NO-PLACEHOLDER"}, "coupon_pattern"),
        ({"csat_template_id": 999999}, "csat_template_id"),
    ],
)
def test_bad_settings_name_the_field_and_write_nothing(world, change, field):
    response = ApiClient(user=world.admin).request("PUT", "/followups/settings", {**GOOD, **change})
    assert_error(response, 422, field=field)
    assert not FollowUpSettings.objects.exists()


def test_settings_are_for_admins(world):
    for user in (world.agent, world.approver):
        api = ApiClient(user=user)
        assert_error(api.request("GET", "/followups/settings"), 403)
        assert_error(api.request("PUT", "/followups/settings", GOOD), 403)


def test_coupon_import_all_or_nothing(world):
    api = ApiClient(user=world.admin)
    first = api.request("POST", "/followups/coupons/import", {"csv": "code\nA-1\nA-2\nA-2\n"})
    assert first.status_code == 201 and first.json() == {"imported": 2, "already_there": 1}
    again = api.request("POST", "/followups/coupons/import", {"csv": "A-1\nA-3"})
    assert again.json() == {"imported": 1, "already_there": 1}
    assert_error(api.request("POST", "/followups/coupons/import", {"csv": "B-1\nhas space\n"}), 422, field="csv[2]")
    assert sorted(Coupon.objects.values_list("code", flat=True)) == ["A-1", "A-2", "A-3"]
    assert_error(ApiClient(user=world.agent).request("POST", "/followups/coupons/import", {"csv": "Z"}), 403)


def test_the_settings_page_saves_and_shows_refusals(world):
    client = Client()
    client.force_login(world.admin)
    page = client.get("/settings/followups/")
    assert page.status_code == 200 and 'id="followup-settings"' in page.content.decode()
    form = {k: ("on" if v is True else v) for k, v in GOOD.items() if v is not False}
    saved = client.post("/settings/followups/", form)
    assert saved.status_code == 302
    row = FollowUpSettings.objects.get(organization=world.org)
    assert (row.csat_sample_percent, row.thanks_categories, row.warranty_delivery_enabled) == (
        30,
        ["complaint", "quality_issue"],
        False,
    )
    refused = client.post("/settings/followups/", {**form, "stall_days": "abc"})
    assert refused.status_code == 422 and 'data-error="stall_days"' in refused.content.decode()
    imported = client.post("/settings/followups/coupons/", {"csv": "C-1\nC-2"})
    assert imported.status_code == 302 and Coupon.objects.count() == 2
    agent = Client()
    agent.force_login(world.agent)
    assert agent.get("/settings/followups/").status_code == 403
