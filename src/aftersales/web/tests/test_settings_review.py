"""Settings > Refund review (web/views/settings_review.py): the organization's manual-review thresholds,
including the shared-address window, through the same service and permission as
PUT /api/v1/refunds/review-settings; refused values named next to their field, nothing saved; every
change in the audit log."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.returns.models import RefundReviewSettings
from aftersales.returns.review import review_thresholds

pytestmark = pytest.mark.django_db

VALID = {
    "repeat_window_days": "60",
    "repeat_threshold": "2",
    "high_value_requires_evidence": "on",
    "shared_address_window_days": "30",
}


def test_an_admin_sees_the_defaults_and_saves_the_thresholds(world, client, caplog) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_review")).content.decode()
    assert 'name="shared_address_window_days"' in page and 'value="180"' in page and 'value="90"' in page
    with caplog.at_level(logging.INFO, logger="aftersales.audit"):
        saved = client.post(reverse("web:settings_review"), {**VALID, "high_value_requires_evidence": ""})
    assert saved.status_code == 302
    thresholds = review_thresholds(world.org.pk)
    assert (thresholds.repeat_window_days, thresholds.repeat_threshold) == (60, 2)
    assert (thresholds.shared_address_window_days, thresholds.high_value_requires_evidence) == (30, False)
    audit = [r for r in caplog.records if getattr(r, "audit", "") == "refund_review_settings"]
    assert len(audit) == 1 and audit[0].user_id == world.admin.pk  # type: ignore[attr-defined]
    assert audit[0].changes["shared_address_window_days"] == [180, 30]  # type: ignore[attr-defined]
    assert audit[0].changes["high_value_requires_evidence"] == [True, False]  # type: ignore[attr-defined]
    page = client.get(reverse("web:settings_review")).content.decode()
    assert 'value="30"' in page and "Last saved" in page
    # the API reads what the page saved (one service)
    assert (
        ApiClient(user=world.admin).request("GET", "/refunds/review-settings").json()["shared_address_window_days"]
        == 30
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("shared_address_window_days", "3651"),
        ("shared_address_window_days", "-1"),
        ("repeat_window_days", "0"),
        ("repeat_threshold", "many"),
    ],
)
def test_a_value_out_of_range_is_named_and_nothing_is_saved(world, client, field, value) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    refused = client.post(reverse("web:settings_review"), {**VALID, field: value})
    assert refused.status_code == 422
    body = refused.content.decode()
    assert f'data-error="{field}"' in body and f"{field}: must be" in body
    assert f'value="{value}"' in body  # what was typed is kept
    assert not RefundReviewSettings.objects.filter(organization=world.org).exists()


def test_agents_are_refused_and_the_page_is_translated(world, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    assert client.get(reverse("web:settings_review")).status_code == 403
    assert client.post(reverse("web:settings_review"), VALID).status_code == 403
    assert not RefundReviewSettings.objects.filter(organization=world.org).exists()
    client.force_login(world.admin)
    client.post(reverse("web:settings_language"), {"language": "zh-hans"})
    page = client.get(reverse("web:settings_review")).content.decode()
    assert "重复退货者" in page and "一个地址对应多个账户" in page
