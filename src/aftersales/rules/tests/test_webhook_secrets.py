"""Per-rule webhook signing secrets (rules.webhook_secrets, docs/rules.md "Per-rule signing secrets"):
a notify_webhook action with "signing": "rule" signs with its rule's own secret (encrypted at rest,
shown once, rotatable), checked here against a local HTTP receiver; the organization's secret stays
the default; no secret made yet -> the action fails in the log, nothing sent."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from aftersales.api.tests.helpers import ApiClient
from aftersales.core.errors import DomainError
from aftersales.notifications.models import OutboxMessage, OutboxStatus
from aftersales.notifications.outbox import outbox_deliver, webhook_secret
from aftersales.notifications.tests.test_webhooks import local_allowed, receiver, url_of  # noqa: F401
from aftersales.rules import engine, selectors, services
from aftersales.rules.models import Rule, RuleWebhookSecret
from aftersales.rules.webhook_secrets import rule_webhook_secret_rotate, rule_webhook_secrets

pytestmark = pytest.mark.django_db


def _rule(world: Any, url: str, *, signing: str | None = "rule", name: str = "signed") -> Rule:
    params: dict[str, Any] = {"url": url}
    if signing is not None:
        params["signing"] = signing
    return services.rule_create(
        user=world.admin,
        data={
            "name": name,
            "trigger": "ticket_created",
            "enabled": True,
            "conditions": {"all": []},
            "actions": [{"type": "notify_webhook", "params": params}],
        },
    )


def _run(world: Any, ticket: Any, capture: Any, key: str) -> None:
    with capture(execute=True):
        engine.run_rules(organization_id=world.org.pk, trigger="ticket_created", event_key=key, ticket_id=ticket.pk)


def _verify(hit: dict[str, Any], secret: str) -> bool:
    timestamp = hit["headers"]["X-Aftersales-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + hit["body"], hashlib.sha256).hexdigest()
    return bool(hit["headers"]["X-Aftersales-Signature"] == f"sha256={expected}")


def test_signing_is_checked_on_save(world: Any) -> None:
    with pytest.raises(DomainError) as info:
        _rule(world, "https://hooks.example.com/x", signing="mine")
    assert info.value.field == "actions[0].params.signing"
    rule = _rule(world, "https://hooks.example.com/x", signing="organization", name="org")
    assert rule.current_version is not None
    assert rule.current_version.actions[0]["params"] == {"url": "https://hooks.example.com/x"}  # the default


def test_a_rule_secret_signs_its_deliveries_and_rotates(
    world: Any,
    receiver: Any,  # noqa: F811
    local_allowed: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    url = url_of(receiver)
    rule = _rule(world, url)
    plain = _rule(world, url_of(receiver, "/plain"), signing=None, name="plain")
    ticket = world.ticket()
    assert rule_webhook_secrets(world.admin, rule.pk)[0].is_set is False

    # not made yet: the action fails in the log, nothing is sent; the organization-signed one goes
    _run(world, ticket, django_capture_on_commit_callbacks, "ticket_created:1")
    [execution] = selectors.rule_executions(world.admin, rule.pk)
    assert execution.actions[0]["status"] == "error" and "not made yet" in json.dumps(execution.actions[0])
    [hit] = receiver.hits
    assert hit["path"] == "/plain" and hit["headers"]["X-Aftersales-Signing-Key"] == "organization"
    assert _verify(hit, webhook_secret(world.org.pk))
    assert json.loads(hit["body"]).get("signing_key") is None
    assert plain.pk

    made = rule_webhook_secret_rotate(user=world.admin, rule_id=rule.pk, url=url)
    stored = RuleWebhookSecret.objects.get(rule=rule, url=url)
    with connection.cursor() as cursor:  # encrypted at rest
        cursor.execute("SELECT secret FROM rules_rulewebhooksecret WHERE id = %s", [stored.pk])
        raw = cursor.fetchone()[0]
    assert made.secret not in raw and raw.startswith("gAAAA")
    assert [(s.url, s.is_set) for s in rule_webhook_secrets(world.admin, rule.pk)] == [(url, True)]

    receiver.hits.clear()
    _run(world, ticket, django_capture_on_commit_callbacks, "ticket_created:2")
    hit = next(h for h in receiver.hits if h["path"] == "/hook")
    assert hit["headers"]["X-Aftersales-Signing-Key"] == f"rule:{rule.pk}"
    assert json.loads(hit["body"])["signing_key"] == f"rule:{rule.pk}"
    assert _verify(hit, made.secret) and not _verify(hit, webhook_secret(world.org.pk))

    # rotated: a delivery queued before the rotation is signed with the new secret when sent
    receiver.plan.append((503, {}, b"", 0))
    receiver.hits.clear()
    _run(world, ticket, django_capture_on_commit_callbacks, "ticket_created:3")
    queued = OutboxMessage.objects.get(recipient=url, status=OutboxStatus.PENDING)
    rotated = rule_webhook_secret_rotate(user=world.admin, rule_id=rule.pk, url=url)
    assert rotated.secret != made.secret
    OutboxMessage.objects.filter(pk=queued.pk).update(next_attempt_at=queued.created_at)
    assert outbox_deliver(queued.pk) == OutboxStatus.SENT
    last = [h for h in receiver.hits if h["path"] == "/hook"][-1]
    assert _verify(last, rotated.secret) and not _verify(last, made.secret)

    # the rule's secret gone (rule deleted): a queued delivery fails without sending
    receiver.plan.append((503, {}, b"", 0))
    _run(world, ticket, django_capture_on_commit_callbacks, "ticket_created:4")
    queued = OutboxMessage.objects.get(recipient=url, status=OutboxStatus.PENDING)
    RuleWebhookSecret.objects.filter(rule=rule).delete()
    count = len(receiver.hits)
    OutboxMessage.objects.filter(pk=queued.pk).update(next_attempt_at=queued.created_at)
    assert outbox_deliver(queued.pk) == OutboxStatus.FAILED
    assert len(receiver.hits) == count


def test_rotation_refused_for_a_url_the_rule_does_not_sign(world: Any) -> None:
    rule = _rule(world, "https://hooks.example.com/x", signing=None)
    with pytest.raises(DomainError) as info:
        rule_webhook_secret_rotate(user=world.admin, rule_id=rule.pk, url="https://hooks.example.com/x")
    assert info.value.field == "url"
    with pytest.raises(DomainError) as info:
        rule_webhook_secret_rotate(user=world.agent, rule_id=rule.pk, url="https://hooks.example.com/x")
    assert info.value.status_code == 403
    assert not RuleWebhookSecret.objects.exists()


def test_api_lists_and_rotates_shown_once(world: Any) -> None:
    rule = _rule(world, "https://hooks.example.com/x")
    api = ApiClient(user=world.admin)
    listed = api.request("GET", f"/rules/{rule.pk}/webhook-secrets").json()
    assert listed == [{"url": "https://hooks.example.com/x", "is_set": False, "rotated_at": None}]
    r = api.request("POST", f"/rules/{rule.pk}/webhook-secrets/rotate", {"url": "https://hooks.example.com/y"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "url"
    r = api.request("POST", f"/rules/{rule.pk}/webhook-secrets/rotate", {"url": "https://hooks.example.com/x"})
    body = r.json()
    assert r.status_code == 200 and body["signing_key"] == f"rule:{rule.pk}" and len(body["secret"]) > 30
    listed = api.request("GET", f"/rules/{rule.pk}/webhook-secrets").json()
    assert listed[0]["is_set"] is True and "secret" not in listed[0]
    foreign = ApiClient(user=world.foreign_user)
    assert foreign.request("GET", f"/rules/{rule.pk}/webhook-secrets").status_code in (403, 404)


def test_the_rule_page_makes_and_shows_the_secret_once(world: Any) -> None:
    rule = _rule(world, "https://hooks.example.com/x")
    c = Client()
    c.force_login(world.admin)
    page = c.get(reverse("web:settings_rule", args=[rule.pk])).content.decode()
    assert 'id="rule-webhook-secrets"' in page and "not made yet" in page
    r = c.post(
        reverse("web:settings_rule_webhook_secret_rotate", args=[rule.pk]), {"url": "https://hooks.example.com/x"}
    )
    shown = r.content.decode()
    secret = RuleWebhookSecret.objects.get(rule=rule).secret["secret"]
    assert r.status_code == 200 and secret in shown and 'data-secret="revealed"' in shown
    again = c.get(reverse("web:settings_rule", args=[rule.pk])).content.decode()
    assert secret not in again and "last rotated" in again
    r = c.post(reverse("web:settings_rule_webhook_secret_rotate", args=[rule.pk]), {"url": "https://other.example/"})
    assert r.status_code == 302
    assert "no webhook action" in c.get(r["Location"]).content.decode()
