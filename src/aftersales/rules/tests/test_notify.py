"""notify_webhook and notify_email through the outbox: checked on save (nothing saved on refusal),
sent once per rule and event whatever the retries, failures in the execution log."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aftersales.core.errors import DomainError
from aftersales.notifications.models import OutboxMessage, OutboxStatus
from aftersales.notifications.tests.test_webhooks import local_allowed, receiver, url_of  # noqa: F401
from aftersales.rules import engine, selectors, services
from aftersales.rules.models import Rule, RuleExecution

pytestmark = pytest.mark.django_db


def _rule(world: Any, actions: list[dict[str, Any]], name: str = "notify") -> Rule:
    return services.rule_create(
        user=world.admin,
        data={
            "name": name,
            "trigger": "ticket_created",
            "enabled": True,
            "conditions": {"all": []},
            "actions": actions,
        },
    )


def _run(world: Any, ticket: Any, capture: Any, key: str = "ticket_created:1") -> None:
    with capture(execute=True):
        engine.run_rules(organization_id=world.org.pk, trigger="ticket_created", event_key=key, ticket_id=ticket.pk)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",
        "https://127.0.0.1/x",
        "https://10.1.1.1/",
        "https://169.254.169.254/",
        "https://[::1]/",
    ],
)
def test_a_refused_url_saves_nothing(world: Any, url: str) -> None:
    with pytest.raises(DomainError) as info:
        _rule(world, [{"type": "notify_webhook", "params": {"url": url}}])
    assert info.value.field == "actions[0].params.url"
    assert not Rule.objects.filter(organization=world.org).exists()


def test_webhook_sent_once_per_event_and_signed(
    world: Any,
    receiver: Any,  # noqa: F811
    local_allowed: Any,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    rule = _rule(world, [{"type": "notify_webhook", "params": {"url": url_of(receiver), "note": "VIP"}}])
    ticket = world.ticket()
    _run(world, ticket, django_capture_on_commit_callbacks)
    _run(world, ticket, django_capture_on_commit_callbacks)  # a retried task: the same event key
    assert len(receiver.hits) == 1
    body = json.loads(receiver.hits[0]["body"])
    assert body["rule"] == {"id": rule.pk, "name": "notify"} and body["ticket"]["id"] == ticket.pk
    assert body["note"] == "VIP" and body["type"] == "rule.matched"
    assert receiver.hits[0]["headers"]["X-Aftersales-Signature"].startswith("sha256=")
    [execution] = selectors.rule_executions(world.admin, rule.pk)
    assert execution.actions[0]["deliveries"][0]["status"] == OutboxStatus.SENT
    _run(world, ticket, django_capture_on_commit_callbacks, key="ticket_created:2")  # another event: sent
    assert len(receiver.hits) == 2


def test_a_failed_webhook_shows_in_the_execution_log(
    world: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    rule = _rule(world, [{"type": "notify_webhook", "params": {"url": "http://127.0.0.1:9/nothing"}}])
    settings.WEBHOOKS_ALLOWED_NETWORKS = []  # the installation withdrew it after the rule was saved
    ticket = world.ticket()
    _run(world, ticket, django_capture_on_commit_callbacks)
    [execution] = selectors.ticket_rule_executions(world.admin, ticket.pk)
    delivery = execution.actions[0]["deliveries"][0]
    assert delivery["status"] == OutboxStatus.FAILED and "blocked address" in delivery["error"]
    assert RuleExecution.objects.get(rule=rule).outcome == "applied"  # the action queued; delivery is logged apart


def test_email_one_row_per_recipient_and_no_resend(
    world: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    world.teammate.email = "teammate@example.com"
    world.teammate.save(update_fields=["email"])
    world.admin.email = "admin@example.com"
    world.admin.save(update_fields=["email"])
    _rule(
        world,
        [
            {
                "type": "notify_email",
                "params": {"user_ids": [world.teammate.pk, world.admin.pk], "subject": "S", "body": "B"},
            }
        ],
    )
    ticket = world.ticket()
    _run(world, ticket, django_capture_on_commit_callbacks)
    _run(world, ticket, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mailoutbox) == ["admin@example.com", "teammate@example.com"]
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == 2


def test_the_signing_secret_for_admins_through_the_api(world: Any) -> None:
    from aftersales.api.tests.helpers import ApiClient
    from aftersales.notifications.outbox import webhook_secret

    api = ApiClient(user=world.admin)
    first = api.request("GET", "/rules/webhook-secret").json()["secret"]
    assert first == webhook_secret(world.org.pk)
    rotated = api.request("POST", "/rules/webhook-secret/rotate").json()["secret"]
    assert rotated != first and rotated == webhook_secret(world.org.pk)
    assert ApiClient(user=world.agent).request("GET", "/rules/webhook-secret").status_code == 403
    foreign = ApiClient(user=world.foreign_user).request("GET", "/rules/webhook-secret").json()["secret"]
    assert foreign not in (first, rotated)
