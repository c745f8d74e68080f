"""The warranty pages without a browser: refusals shown next to the field with the service's status,
the pages in Chinese for a user who reads Chinese."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from aftersales.warranty.models import SoldUnit, WarrantyClaim, WarrantyTerm
from aftersales.warranty.services import UnitInput, claim_open, units_register

from .conftest import VALID_IMEI

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _unit(world, stock, **kwargs) -> SoldUnit:
    return units_register(user=world.agent, rows=[UnitInput(imei=VALID_IMEI, order_line_id=stock.line.pk, **kwargs)])[0]


def test_lookup_shows_the_luhn_failure_and_the_unit(world, stock):
    _unit(world, stock)
    client = _client(world.viewer)
    bad = client.get("/warranty/", {"q": "490154203237519"})
    assert bad.status_code == 422 and "Luhn" in bad.content.decode()
    missing = client.get("/warranty/", {"q": "NOSUCH1"})
    assert missing.status_code == 404 and 'data-error="q"' in missing.content.decode()
    found = client.get("/warranty/", {"q": VALID_IMEI})
    assert found.status_code == 200 and 'data-warranty="in"' in found.content.decode()
    assert 'data-ends-on="2027-03-02"' in found.content.decode()


def test_out_of_warranty_claim_needs_an_approver(world, stock):
    unit = _unit(world, stock, sold_at=datetime(2024, 1, 1, tzinfo=UTC), delivered_at=datetime(2024, 1, 5, tzinfo=UTC))
    response = _client(world.agent).post(
        "/warranty/claims/new/", {"unit_id": unit.pk, "q": VALID_IMEI, "problem": "Dead battery"}
    )
    assert response.status_code == 409 and 'data-error="override_reason"' in response.content.decode()
    assert (
        _client(world.agent)
        .post("/warranty/claims/new/", {"unit_id": unit.pk, "problem": "Dead", "override_reason": "goodwill"})
        .status_code
        == 403
    )
    ok = _client(world.approver).post(
        "/warranty/claims/new/", {"unit_id": unit.pk, "problem": "Dead", "override_reason": "goodwill"}
    )
    claim = WarrantyClaim.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/warranty/claims/{claim.pk}/"
    assert not claim.in_warranty and claim.override_reason == "goodwill"


def test_claim_page_shows_only_allowed_actions(world, stock):
    unit = _unit(world, stock)
    claim = claim_open(
        user=world.agent, unit_id=unit.pk, problem="Flicker", claimed_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    agent_page = _client(world.agent).get(f"/warranty/claims/{claim.pk}/").content.decode()
    assert 'data-action="under_review"' in agent_page and 'data-action="approved"' not in agent_page
    assert "data-action" not in _client(world.viewer).get(f"/warranty/claims/{claim.pk}/").content.decode()
    _client(world.agent).post(f"/warranty/claims/{claim.pk}/status/", {"status": "under_review"})
    approver_page = _client(world.approver).get(f"/warranty/claims/{claim.pk}/").content.decode()
    assert 'data-action="approved"' in approver_page and 'data-action="rejected"' in approver_page
    refused = _client(world.approver).post(f"/warranty/claims/{claim.pk}/status/", {"status": "rejected"})
    assert refused.status_code == 422 and "reason" in refused.content.decode()
    assert _client(world.foreign_user).get(f"/warranty/claims/{claim.pk}/").status_code == 404


def test_pages_in_chinese(world, stock):
    unit = _unit(world, stock)
    claim = claim_open(
        user=world.agent, unit_id=unit.pk, problem="Flicker", claimed_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    world.admin.language = "zh-hans"
    world.admin.save()
    client = _client(world.admin)
    lookup = client.get("/warranty/", {"q": VALID_IMEI}).content.decode()
    assert "在保" in lookup and "提交保修申请" in lookup
    page = client.get(f"/warranty/claims/{claim.pk}/").content.decode()
    assert "保修申请" in page and "已提交" in page and "时间线" in page
    settings_page = client.post("/settings/warranty/", {"region": "XX", "months": "12"})
    assert settings_page.status_code == 422 and "地区" in settings_page.content.decode()
    assert WarrantyTerm.objects.count() == 0
