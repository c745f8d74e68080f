"""The switches of the customer-notification steps (returns.notify_settings): the same service, the
same permission (ADMINISTER) and the same result in Settings > Customer notifications and through
GET/PUT /api/v1/returns/notification-steps; every change audited; bad input a 422 naming the field,
nothing saved."""

from __future__ import annotations

import pytest

from aftersales.accounts.models import OrgSettingChange
from aftersales.api.tests.helpers import ApiClient
from aftersales.returns.notify_settings import STEPS, step_enabled

pytestmark = pytest.mark.django_db


def _step_changes():  # type: ignore[no-untyped-def]
    """The switches' changes in the organization settings audit (customer_notification.<step>)."""
    return OrgSettingChange.objects.filter(setting__startswith="customer_notification.")


def _enabled(body: dict) -> dict[str, bool]:  # type: ignore[type-arg]
    return {s["code"]: s["enabled"] for s in body["steps"]}


def test_defaults_every_step_on_but_refund_paid(world) -> None:  # type: ignore[no-untyped-def]
    body = ApiClient(user=world.admin).request("GET", "/returns/notification-steps").json()
    assert [s["code"] for s in body["steps"]] == [s.code for s in STEPS]
    assert {code for code, on in _enabled(body).items() if not on} == {"refund_paid"}
    assert all(s["enabled"] == s["default"] for s in body["steps"])


def test_ui_and_api_change_the_same_switches_and_are_audited(world, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    page = client.get("/settings/notifications/").content.decode()
    assert 'value="refund_paid">' in page and 'value="in_transit" checked' in page
    shown = [s.code for s in STEPS]
    enabled = [c for c in shown if c not in ("cancelled", "in_transit")] + ["refund_paid"]
    assert client.post("/settings/notifications/", {"shown": shown, "enabled": enabled}).status_code == 302
    api = ApiClient(user=world.admin)
    state = _enabled(api.request("GET", "/returns/notification-steps").json())
    assert (state["cancelled"], state["in_transit"], state["refund_paid"], state["approved"]) == (
        False,
        False,
        True,
        True,
    )
    changes = [
        (setting.split(".", 1)[1], enabled, via, actor)
        for setting, enabled, via, actor in _step_changes()
        .order_by("id")
        .values_list("setting", "new_value", "via", "actor")
    ]
    assert sorted(changes) == sorted(
        [
            ("cancelled", False, "web", world.admin.pk),
            ("in_transit", False, "web", world.admin.pk),
            ("refund_paid", True, "web", world.admin.pk),
        ]
    )
    answer = api.request("PUT", "/returns/notification-steps", {"steps": {"cancelled": True}})
    assert answer.status_code == 200 and _enabled(answer.json())["cancelled"] is True
    assert _step_changes().latest("id").via == "api"
    page = client.get("/settings/notifications/").content.decode()
    assert 'value="cancelled" checked' in page and 'value="in_transit">' in page
    assert "Recent changes" in page and "(api)" in page
    # setting what is already set writes no audit row
    api.request("PUT", "/returns/notification-steps", {"steps": {"cancelled": True}})
    assert _step_changes().count() == 4


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ({"nope": True}, "steps.nope"),
        ({"in_transit": "yes"}, "steps.in_transit"),
        ({"in_transit": 1}, "steps.in_transit"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(world, steps, field) -> None:  # type: ignore[no-untyped-def]
    api = ApiClient(user=world.admin)
    answer = api.request("PUT", "/returns/notification-steps", {"steps": {"refund_paid": True, **steps}})
    assert answer.status_code == 422, answer.content
    assert field in answer.content.decode()
    assert step_enabled(world.org.pk, "refund_paid") is False and not _step_changes().exists()


def test_agents_are_refused_in_both(world, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.agent)
    assert client.post("/settings/notifications/", {"shown": ["approved"]}).status_code == 403
    answer = ApiClient(user=world.agent).request("PUT", "/returns/notification-steps", {"steps": {"approved": False}})
    assert answer.status_code == 403 and step_enabled(world.org.pk, "approved") is True
