"""Every setting a seller changes is audited by the one service that changes it (accounts.audit): one
table of services, each checked for its row (setting, actor, via), for its transaction (a save that
fails leaves no audit row) and for its secrets (never stored: "changed" and a fingerprint)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import models

from aftersales.accounts import people
from aftersales.accounts.models import Membership, OrgSettingChange, Role, Team
from aftersales.catalog.models import Store
from aftersales.catalog.services import store_update
from aftersales.channels.marketplace_apps import marketplace_app_delete, marketplace_app_save
from aftersales.channels.models import MarketplaceApp
from aftersales.followups.models import FollowUpSettings
from aftersales.followups.services import SettingsInput, followup_settings_save
from aftersales.inbox.models import CategoryLabel
from aftersales.inbox.services import category_labels_set
from aftersales.language.models import ProviderConfig, TranslationRoute
from aftersales.language.services import provider_config_save, translation_route_set
from aftersales.returns.models import ExchangeRate, ReturnPolicyVersion
from aftersales.returns.policy.defaults import DEFAULT_POLICY
from aftersales.returns.policy_store import policy_save as return_policy_save
from aftersales.returns.rates import rate_set
from aftersales.sla import services as sla
from aftersales.sla.models import BusinessCalendar, SlaPolicy, TeamCalendar
from aftersales.tracking.models import TrackingAccount
from aftersales.tracking.services import tracking_account_save
from aftersales.triage.models import LLMProviderSettings, TriageSettings
from aftersales.triage.services import llm_provider_update, triage_settings_update
from aftersales.warranty.models import WarrantySettings, WarrantyTerm
from aftersales.warranty.services import settings_save as warranty_settings_save
from aftersales.warranty.services import term_delete, term_save

pytestmark = pytest.mark.django_db

SECRET = "s3cr3t-value-never-stored"
HOURS = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def _calendar(world: Any, timezone: str = "Europe/Berlin", calendar_id: int | None = None) -> BusinessCalendar:
    return sla.calendar_save(
        user=world.admin, name="Office", timezone=timezone, weekly_hours=HOURS, calendar_id=calendar_id
    )


def _sla_policy(world: Any, policy_id: int | None = None, **extra: Any) -> SlaPolicy:
    data = {"name": "Fast", "urgency": "high", "first_response_minutes": 120, "resolution_minutes": 600, **extra}
    return sla.policy_save(user=world.admin, data=data, policy_id=policy_id)


def _followups(world: Any) -> None:
    values = SettingsInput(
        stall_enabled=True,
        stall_days=5,
        csat_enabled=True,
        csat_delay_hours=24,
        csat_sample_percent=30,
        csat_link_days=14,
        thanks_enabled=False,
        thanks_categories=[],
        coupon_pattern="",
        warranty_delivery_enabled=True,
    )
    followup_settings_save(user=world.admin, values=values)


@dataclass(frozen=True)
class Case:
    """`change` changes a setting as the admin; `setting` is a key the audit must then hold; `breaks`
    the model (and method) whose failure must leave no audit row; `prepare` runs before, unaudited."""

    change: Callable[[Any], Any]
    setting: str
    breaks: tuple[type[models.Model], str]
    secret: bool = False
    prepare: Callable[[Any], Any] | None = None


CASES: dict[str, Case] = {
    "sla calendar created": Case(_calendar, "sla_calendar.Office", (BusinessCalendar, "save")),
    "sla calendar changed": Case(
        lambda w: _calendar(w, "Asia/Shanghai", BusinessCalendar.objects.get().pk),
        "sla_calendar.Office.timezone",
        (BusinessCalendar, "save"),
        prepare=_calendar,
    ),
    "sla calendar deleted": Case(
        lambda w: sla.calendar_delete(user=w.admin, calendar_id=BusinessCalendar.objects.get().pk),
        "sla_calendar.Office",
        (BusinessCalendar, "delete"),
        prepare=_calendar,
    ),
    "sla policy changed": Case(
        lambda w: _sla_policy(w, SlaPolicy.objects.get().pk, first_response_minutes=60),
        "sla_policy.Fast.first_response_minutes",
        (SlaPolicy, "save"),
        prepare=_sla_policy,
    ),
    "sla policy deleted": Case(
        lambda w: sla.policy_delete(user=w.admin, policy_id=SlaPolicy.objects.get().pk),
        "sla_policy.Fast",
        (SlaPolicy, "delete"),
        prepare=_sla_policy,
    ),
    "team calendar": Case(
        lambda w: sla.team_calendar_set(
            user=w.admin, team_id=w.team_us.pk, calendar_id=BusinessCalendar.objects.get().pk
        ),
        "team_calendar.",
        (TeamCalendar, "save"),
        prepare=_calendar,
    ),
    "team routing and members": Case(
        lambda w: people.team_update(
            actor=w.admin, team_id=w.team_us.pk, routing_strategy="round_robin", member_ids=[w.agent.pk]
        ),
        "team.",
        (Team, "save"),
    ),
    "team membership of a user": Case(
        lambda w: people.user_update(actor=w.admin, user_id=w.agent.pk, team_ids=[w.team_de.pk]),
        "user.",
        (Membership, "bulk_create"),
    ),
    "role created": Case(
        lambda w: people.role_create(actor=w.admin, name="Refunds desk", permissions=["view", "process", "approve"]),
        "role.Refunds desk",
        (Role, "save"),
    ),
    "role permissions changed": Case(
        lambda w: people.role_update(actor=w.admin, role_id=w.roles["agent"].pk, permissions=["view"]),
        "role.",
        (Role, "save"),
    ),
    "warranty term": Case(
        lambda w: term_save(user=w.admin, category="phones", months=24),
        "warranty_term.",
        (WarrantyTerm, "save"),
    ),
    "warranty term deleted": Case(
        lambda w: term_delete(user=w.admin, term_id=WarrantyTerm.objects.get().pk),
        "warranty_term.",
        (WarrantyTerm, "delete"),
        prepare=lambda w: term_save(user=w.admin, category="phones", months=24),
    ),
    "warranty reminders": Case(
        lambda w: warranty_settings_save(user=w.admin, reminders_enabled=True, reminder_days_before=10),
        "warranty_settings.",
        (WarrantySettings, "save"),
    ),
    "currency rate": Case(
        lambda w: rate_set(user=w.admin, currency="EUR", rate="1.08"), "exchange_rate.EUR", (ExchangeRate, "save")
    ),
    "return policy version": Case(
        lambda w: return_policy_save(user=w.admin, document=DEFAULT_POLICY),
        "return_policy.version",
        (ReturnPolicyVersion, "save"),
    ),
    "store settings": Case(
        lambda w: store_update(user=w.admin, store_id=w.store_us.pk, changes={"timezone": "America/New_York"}),
        "store.Amazon US.timezone",
        (Store, "save"),
    ),
    "store credentials": Case(
        lambda w: store_update(
            user=w.admin,
            store_id=w.store_us.pk,
            changes={
                "credentials": {
                    "lwa_client_id": "amzn1.application-oa2-client.1",
                    "lwa_client_secret": SECRET,
                    "refresh_token": "r1",
                }
            },
        ),
        "store.Amazon US.credentials",
        (Store, "save"),
        secret=True,
    ),
    "marketplace app": Case(
        lambda w: marketplace_app_save(
            user=w.admin, platform="shopee", credentials={"partner_id": "2001", "partner_key": SECRET}
        ),
        "marketplace_app.shopee.credentials",
        (MarketplaceApp, "save"),
        secret=True,
    ),
    "marketplace app deleted": Case(
        lambda w: marketplace_app_delete(user=w.admin, platform="shopee"),
        "marketplace_app.shopee",
        (MarketplaceApp, "delete"),
        prepare=lambda w: marketplace_app_save(
            user=w.admin, platform="shopee", credentials={"partner_id": "2001", "partner_key": SECRET}
        ),
    ),
    "follow-ups (CSAT sampling)": Case(_followups, "followup.csat_sample_percent", (FollowUpSettings, "save")),
    "translation provider": Case(
        lambda w: provider_config_save(user=w.admin, name="deepl", kind="deepl", credentials={"api_key": SECRET}),
        "translation_provider.deepl.credentials",
        (ProviderConfig, "save"),
        secret=True,
    ),
    "translation route": Case(
        lambda w: translation_route_set(user=w.admin, source_language="*", target_language="*", provider_names=["mt"]),
        "translation_route.*-*.providers",
        (TranslationRoute, "save"),
        prepare=lambda w: provider_config_save(user=w.admin, name="mt", kind="apertium"),
    ),
    "llm provider key": Case(
        lambda w: llm_provider_update(user=w.admin, api_key=SECRET, is_enabled=False),
        "llm_provider.credentials",
        (LLMProviderSettings, "save"),
        secret=True,
        prepare=lambda w: llm_provider_update(user=w.admin, is_enabled=False),
    ),
    "triage switches": Case(
        lambda w: triage_settings_update(user=w.admin, auto_route=True),
        "triage.auto_route",
        (TriageSettings, "save"),
        prepare=lambda w: triage_settings_update(user=w.admin, auto_route=False),
    ),
    "tracking account key": Case(
        lambda w: tracking_account_save(user=w.admin, api_key=SECRET),
        "tracking_account.17track.credentials",
        (TrackingAccount, "save"),
        secret=True,
        prepare=lambda w: tracking_account_save(user=w.admin, poll_interval_hours=8),
    ),
    "category labels": Case(
        lambda w: category_labels_set(user=w.admin, labels={"refund": {"label_en": "Money back"}}),
        "category_labels.refund",
        (CategoryLabel, "bulk_create"),
    ),
}


def _rows() -> list[OrgSettingChange]:
    return list(OrgSettingChange.objects.order_by("id"))


@pytest.mark.parametrize("name", list(CASES))
def test_the_service_audits_its_change(world: Any, name: str) -> None:
    case = CASES[name]
    if case.prepare is not None:
        case.prepare(world)
    before = OrgSettingChange.objects.count()
    case.change(world)
    rows = _rows()[before:]
    assert any(r.setting.startswith(case.setting) for r in rows), [r.setting for r in rows]
    assert {(r.organization_id, r.actor_id, r.via) for r in rows} == {(world.org.pk, world.admin.pk, "command")}
    stored = json.dumps([[r.old_value, r.new_value] for r in _rows()])
    assert SECRET not in stored
    if case.secret:
        row = next(r for r in rows if r.setting.startswith(case.setting))
        assert (row.secret, row.old_value, row.new_value) == (True, None, "changed") and len(row.fingerprint) == 12


@pytest.mark.parametrize("name", list(CASES))
def test_a_failing_save_writes_no_audit_row(world: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    if case.prepare is not None:
        case.prepare(world)
    before = OrgSettingChange.objects.count()
    model, method = case.breaks

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database refused")

    if method == "bulk_create":
        monkeypatch.setattr(model.objects, method, boom)
    else:
        monkeypatch.setattr(model, method, boom)
    with pytest.raises(RuntimeError):
        case.change(world)
    assert OrgSettingChange.objects.count() == before


def test_via_the_api_and_the_web(world: Any, client: Any) -> None:
    from aftersales.api.tests.helpers import ApiClient

    answer = ApiClient(user=world.admin).request("PUT", "/tracking/accounts/17track", {"poll_interval_hours": 8})
    assert answer.status_code == 200, answer.content
    client.force_login(world.admin)
    client.post("/settings/notifications/", {"shown": ["approved"]})
    vias = dict(OrgSettingChange.objects.values_list("setting", "via"))
    assert vias["tracking_account.17track"] == "api" and vias["customer_notification.approved"] == "web"


def test_refused_changes_write_nothing(world: Any) -> None:
    from aftersales.core.errors import PermissionDenied, ValidationFailed

    with pytest.raises(PermissionDenied):
        rate_set(user=world.agent, currency="EUR", rate="1.1")
    with pytest.raises(ValidationFailed):
        store_update(user=world.admin, store_id=world.store_us.pk, changes={"timezone": "Mars/Olympus"})
    assert not OrgSettingChange.objects.exists()


def test_a_value_object_in_a_setting_is_recorded_as_its_text() -> None:
    """A store's settings may hold django-countries' Country (Wish's origin_country): the audit writes
    its code instead of failing the change it records (was a 500 on POST /api/v1/stores)."""
    from django_countries.fields import Country

    from aftersales.accounts.audit import _plain

    assert _plain({"origin_country": Country("CN"), "n": 1}) == {"origin_country": "CN", "n": 1}
