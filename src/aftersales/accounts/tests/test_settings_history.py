"""One append-only audit of organization settings (accounts.OrgSettingChange): written by the
services that change refund-review thresholds, customer notification steps and webhook signing
secrets, in their transaction; secrets never stored; read on Settings > Settings history by the
organization's admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from aftersales.accounts.models import OrgSettingChange
from aftersales.accounts.selectors import org_setting_changes, org_setting_changes_page
from aftersales.api.tests.helpers import ApiClient
from aftersales.core.errors import PermissionDenied, ValidationFailed
from aftersales.notifications.signing import signing_key_rotate
from aftersales.returns.notify_settings import notification_steps_update
from aftersales.returns.review import review_settings_set

pytestmark = pytest.mark.django_db


def _rows(org) -> list[tuple[str, object, object, str, bool]]:  # type: ignore[no-untyped-def]
    return [
        (r.setting, r.old_value, r.new_value, r.via, r.secret)
        for r in OrgSettingChange.objects.filter(organization=org).order_by("id")
    ]


def test_threshold_and_step_changes_are_audited_with_who_and_from_where(world) -> None:  # type: ignore[no-untyped-def]
    review_settings_set(user=world.admin, repeat_window_days=30, repeat_threshold=3, high_value_requires_evidence=True)
    assert _rows(world.org) == [("refund_review.repeat_window_days", 90, 30, "web", False)]
    # saved again unchanged: nothing; over the API: via api
    review_settings_set(user=world.admin, repeat_window_days=30, repeat_threshold=3, high_value_requires_evidence=True)
    api = ApiClient(user=world.admin)
    response = api.request(
        "PUT",
        "/refunds/review-settings",
        {"repeat_window_days": 30, "repeat_threshold": 5, "high_value_requires_evidence": False},
    )
    assert response.status_code == 200, response.content
    notification_steps_update(user=world.admin, changes={"approved": False}, via="web")
    assert _rows(world.org)[1:] == [
        ("refund_review.repeat_threshold", 3, 5, "api", False),
        ("refund_review.high_value_requires_evidence", True, False, "api", False),
        ("customer_notification.approved", True, False, "web", False),
    ]
    assert set(OrgSettingChange.objects.values_list("actor", flat=True)) == {world.admin.pk}


def test_refused_changes_write_no_audit_row(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        review_settings_set(
            user=world.admin, repeat_window_days=0, repeat_threshold=3, high_value_requires_evidence=True
        )
    with pytest.raises(PermissionDenied):
        review_settings_set(
            user=world.agent, repeat_window_days=9, repeat_threshold=3, high_value_requires_evidence=True
        )
    with pytest.raises(ValidationFailed):
        notification_steps_update(user=world.admin, changes={"approved": False, "nope": True}, via="api")
    assert not OrgSettingChange.objects.exists()


def test_a_secret_is_never_stored_only_that_it_changed(world) -> None:  # type: ignore[no-untyped-def]
    new, _at = signing_key_rotate(world.admin, channel="api", grace_hours=0)
    row = OrgSettingChange.objects.get()
    assert (row.setting, row.old_value, row.new_value, row.secret, row.via) == (
        "webhook_signing_secret",
        None,
        "changed",
        True,
        "api",
    )
    assert row.fingerprint and new not in str(row.__dict__)
    signing_key_rotate(world.admin, channel="page", grace_hours=24)
    assert [r.setting for r in org_setting_changes(world.admin)] == [
        "webhook_signing_secret.pending",
        "webhook_signing_secret",
    ]


def test_rows_are_append_only(world) -> None:  # type: ignore[no-untyped-def]
    notification_steps_update(user=world.admin, changes={"approved": False}, via="web")
    row = OrgSettingChange.objects.get()
    row.new_value = True
    with pytest.raises(ValueError, match="append-only"):
        row.save()


def test_the_history_page_is_for_the_organizations_admins_only(world, client) -> None:  # type: ignore[no-untyped-def]
    notification_steps_update(user=world.admin, changes={"approved": False}, via="web")
    signing_key_rotate(world.admin, channel="page", grace_hours=0)
    OrgSettingChange.objects.create(
        organization=world.foreign_org,
        setting="refund_review.repeat_threshold",
        old_value=1,
        new_value=2,
        at=timezone.now(),
    )
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_history"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-setting="customer_notification.approved"' in html and 'data-setting="webhook_signing_secret"' in html
    assert "refund_review.repeat_threshold" not in html  # another organization's
    assert "settings_history" not in html or reverse("web:settings_history") in html  # the nav links it
    for user in (world.agent, world.approver, world.viewer):
        client.force_login(user)
        assert client.get(reverse("web:settings_history")).status_code == 403
    with pytest.raises(PermissionDenied):
        org_setting_changes(world.approver)


def test_the_api_gives_the_same_history_to_admins_only(world) -> None:  # type: ignore[no-untyped-def]
    secret, _at = signing_key_rotate(world.admin, channel="api", grace_hours=0)
    notification_steps_update(user=world.admin, changes={"approved": False}, via="api")
    response = ApiClient(user=world.admin).request("GET", "/settings/history")
    assert response.status_code == 200, response.content
    changes = response.json()["changes"]
    assert [(c["setting"], c["old_value"], c["new_value"], c["via"]) for c in changes] == [
        ("customer_notification.approved", True, False, "api"),
        ("webhook_signing_secret", None, "changed", "api"),
    ]
    assert changes[0]["actor_id"] == world.admin.pk and secret not in response.content.decode()
    assert ApiClient(user=world.approver).request("GET", "/settings/history").status_code == 403


def _many_changes(world) -> None:  # type: ignore[no-untyped-def]
    """Five changes by the admin (two groups), one by another admin, stamped at one instant so that
    the cursor has to order by id as well."""
    at = timezone.now()
    for n in range(5):
        OrgSettingChange.objects.create(
            organization=world.org, actor=world.admin, setting=f"sla_policy.P{n}.name", new_value=n, at=at
        )
    other = OrgSettingChange.objects.create(
        organization=world.org, actor=world.approver, setting="store.Amazon US.timezone", new_value="UTC", at=at
    )
    assert other.pk


def test_filters_and_cursor_are_the_same_in_the_api_and_the_page(world, client) -> None:  # type: ignore[no-untyped-def]
    _many_changes(world)
    api = ApiClient(user=world.admin)
    seen, cursor = [], ""
    while True:
        answer = api.request("GET", f"/settings/history?group=sla_policy&limit=2&cursor={cursor}")
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [c["setting"] for c in body["changes"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"sla_policy.P{n}.name" for n in (4, 3, 2, 1, 0)]
    by_actor = api.request("GET", f"/settings/history?actor={world.approver.pk}").json()["changes"]
    assert [c["setting"] for c in by_actor] == ["store.Amazon US.timezone"]
    for query, field in (
        ("group=nope", "group"),
        ("cursor=99999999", "cursor"),
        ("cursor=abc", "cursor"),
        (f"actor={world.foreign_user.pk}", "actor"),
    ):
        refused = api.request("GET", f"/settings/history?{query}")
        assert refused.status_code == 422 and refused.json()["error"]["field"] == field, (query, refused.content)
    client.force_login(world.admin)
    page = client.get(reverse("web:settings_history"), {"group": "sla_policy", "actor": world.admin.pk})
    html = page.content.decode()
    assert html.count('data-setting="sla_policy.') == 5 and "store.Amazon US" not in html
    first = org_setting_changes_page(world.admin, limit=4)
    assert first.next_cursor is not None
    html = client.get(reverse("web:settings_history"), {"cursor": first.next_cursor}).content.decode()
    assert html.count("data-setting=") == 2  # the two oldest
    assert client.get(reverse("web:settings_history"), {"group": "nope"}).status_code == 422


@pytest.mark.django_db(transaction=True)
def test_the_notification_steps_own_audit_is_folded_in() -> None:
    """returns 0010: CustomerNotificationStepChange rows become customer_notification.<step> rows of the
    settings audit (a row the settings audit holds already is not copied twice); the model is gone."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("returns", "0009_return_request_platform_state"), ("accounts", "0007_org_setting_changes")]
    after = [("returns", "0010_notification_step_changes_folded")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    org = old.get_model("accounts", "Organization").objects.create(name="Old seller", slug="old-seller")
    user = old.get_model("accounts", "User").objects.create(username="old-admin", organization=org)
    at = timezone.now()
    steps = old.get_model("returns", "CustomerNotificationStepChange")
    steps.objects.create(organization=org, step="approved", enabled=False, actor=user, via="web", at=at)
    steps.objects.create(organization=org, step="refund_paid", enabled=True, actor=user, via="api", at=at)
    old.get_model("accounts", "OrgSettingChange").objects.create(
        organization=org,
        actor=user,
        setting="customer_notification.refund_paid",
        old_value=False,
        new_value=True,
        via="api",
        at=at,
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(after)
    new = executor.loader.project_state(after).apps
    rows = new.get_model("accounts", "OrgSettingChange").objects.filter(organization_id=org.pk).order_by("setting")
    assert [(r.setting, r.old_value, r.new_value, r.via, r.actor_id) for r in rows] == [
        ("customer_notification.approved", True, False, "web", user.pk),
        ("customer_notification.refund_paid", False, True, "api", user.pk),
    ]
    assert "returns_customernotificationstepchange" not in connection.introspection.table_names()
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
