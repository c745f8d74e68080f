"""API / web UI parity: each business operation has one path (a service or selector both call), so
for every persona an API route and its web UI equivalent must answer the same outcome: found,
not found, refused, invalid, changed (a write that changed something) or unchanged.

Each side runs in its own rolled-back savepoint on the same objects, so neither sees the other's
writes. The permission matrices (api/tests, web/tests) pin the exact statuses; this test pins that
the two delivery layers agree."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.test import Client
from django.urls import reverse

from aftersales.accounts.models import ApiToken, Role, Team, User
from aftersales.accounts.services import api_token_create
from aftersales.catalog.models import Store
from aftersales.channels.models import RawEvent, StoreSync, StreamCursor
from aftersales.core.clock import now
from aftersales.inbox.models import Attachment, Message, SavedView, Ticket, TicketEvent
from aftersales.language.models import GlossaryTerm, ReplyTemplateVariant, TranslationJob
from aftersales.language.templates import reply_template_save
from aftersales.notifications.models import Notification
from aftersales.returns.models import ExchangeRate, ReturnPolicyVersion
from aftersales.tracking.models import TrackingAccount

PERSONAS = ("agent", "teammate", "outsider", "viewer", "approver", "admin", "foreigner")


@dataclass
class Objects:
    world: Any
    ticket: Ticket
    target: Ticket
    inbound: Message
    saved_view: SavedView
    job: TranslationJob
    template_id: int
    token_id: int
    users: dict[str, Any]
    failed_reply: Message | None = None
    attachment_id: int = 0


Call = tuple[str, str, Any]  # method, path, body (JSON for the API, form data for the web UI)


@dataclass(frozen=True)
class Pair:
    api: Callable[[Objects, Any], Call]
    web: Callable[[Objects, Any], Call]
    write: bool = True


RETURN_POLICY = {
    "schema_version": 1,
    "reporting_currency": "USD",
    "reasons": [{"code": "changed_mind"}],
    "windows": [{"code": "D", "days": 30}],
}


def _web(name: str, **kwargs: Callable[[Objects], int]) -> Callable[[Objects], str]:
    return lambda o: reverse(f"web:{name}", kwargs={key: get(o) for key, get in kwargs.items()})


def _ticket(o: Objects) -> int:
    return o.ticket.pk


def _message(o: Objects) -> int:
    return o.inbound.pk


PAIRS: dict[str, Pair] = {
    "ticket detail": Pair(
        lambda o, u: ("GET", f"/tickets/{o.ticket.pk}", None),
        lambda o, u: ("GET", _web("ticket", ticket_id=_ticket)(o), None),
        write=False,
    ),
    "reply": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/replies", {"body": "Hello from parity"}),
        lambda o, u: ("POST", _web("ticket_reply", ticket_id=_ticket)(o), {"body": "Hello from parity"}),
    ),
    "reply with its original": Pair(
        lambda o, u: (
            "POST",
            f"/tickets/{o.ticket.pk}/replies",
            {"body": "Hola", "original_text": "Hello", "original_language": u.language},
        ),
        lambda o, u: (
            "POST",
            _web("ticket_reply", ticket_id=_ticket)(o),
            {"body": "Hello", "draft": "Hola", "draft_source": "Hello"},
        ),
    ),
    "note": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/notes", {"body": "@bob look"}),
        lambda o, u: ("POST", _web("ticket_note", ticket_id=_ticket)(o), {"body": "@bob look"}),
    ),
    "status": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/status", {"status": "on_hold"}),
        lambda o, u: ("POST", _web("ticket_status", ticket_id=_ticket)(o), {"status": "on_hold"}),
    ),
    "status not allowed": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/status", {"status": "new"}),
        lambda o, u: ("POST", _web("ticket_status", ticket_id=_ticket)(o), {"status": "new"}),
    ),
    "assign": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/assign", {"assignee_id": o.users["teammate"].pk}),
        lambda o, u: ("POST", _web("ticket_assign", ticket_id=_ticket)(o), {"assignee": o.users["teammate"].pk}),
    ),
    "assign to another seller's user": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/assign", {"assignee_id": o.users["foreigner"].pk}),
        lambda o, u: ("POST", _web("ticket_assign", ticket_id=_ticket)(o), {"assignee": o.users["foreigner"].pk}),
    ),
    "tags": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/tags", {"add": ["parity"]}),
        lambda o, u: ("POST", _web("ticket_tags", ticket_id=_ticket)(o), {"add": "parity"}),
    ),
    "merge": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/merge", {"target_id": o.target.pk}),
        lambda o, u: ("POST", _web("ticket_merge", ticket_id=_ticket)(o), {"target_id": o.target.pk}),
    ),
    "fields": Pair(
        lambda o, u: (
            "PATCH",
            f"/tickets/{o.ticket.pk}",
            {"category": "refund", "urgency": "high", "is_high_priority": True, "team_id": None},
        ),
        lambda o, u: (
            "POST",
            _web("ticket_fields", ticket_id=_ticket)(o),
            {"category": "refund", "urgency": "high", "is_high_priority": ["0", "1"], "team": ""},
        ),
    ),
    "bulk status": Pair(
        lambda o, u: (
            "POST",
            "/tickets/bulk",
            {"ticket_ids": [o.ticket.pk], "action": "status", "value": "pending_customer"},
        ),
        lambda o, u: (
            "POST",
            reverse("web:inbox_bulk"),
            {"ticket_ids": [o.ticket.pk], "action": "status", "status": "pending_customer"},
        ),
    ),
    "inbox with a saved view": Pair(
        lambda o, u: ("GET", f"/tickets?view={o.saved_view.pk}", None),
        lambda o, u: ("GET", reverse("web:inbox") + f"?view={o.saved_view.pk}", None),
        write=False,
    ),
    "inbox filtered by another seller's store": Pair(
        lambda o, u: ("GET", f"/tickets?store={o.world.foreign_store.pk}", None),
        lambda o, u: ("GET", reverse("web:inbox") + f"?store={o.world.foreign_store.pk}", None),
        write=False,
    ),
    "inbox with a date out of range": Pair(
        lambda o, u: ("GET", "/tickets?created_after=0001-01-01", None),
        lambda o, u: ("GET", reverse("web:inbox") + "?created_after=0001-01-01", None),
        write=False,
    ),
    "saved view create": Pair(
        lambda o, u: ("POST", "/views", {"name": "Parity", "filters": {"platform": "ebay"}}),
        lambda o, u: ("POST", reverse("web:saved_view_create"), {"name": "Parity", "query": "platform=ebay"}),
    ),
    "saved view create with another seller's store": Pair(
        lambda o, u: ("POST", "/views", {"name": "Parity", "filters": {"store": str(o.world.foreign_store.pk)}}),
        lambda o, u: (
            "POST",
            reverse("web:saved_view_create"),
            {"name": "Parity", "query": f"store={o.world.foreign_store.pk}"},
        ),
    ),
    "saved view delete": Pair(
        lambda o, u: ("DELETE", f"/views/{o.saved_view.pk}", None),
        lambda o, u: ("POST", reverse("web:saved_view_delete", args=[o.saved_view.pk]), {}),
    ),
    "notifications read": Pair(
        lambda o, u: ("POST", "/notifications/read", {}),
        lambda o, u: ("POST", reverse("web:notifications_read"), {}),
    ),
    "translation job": Pair(
        lambda o, u: ("GET", f"/translation-jobs/{o.job.pk}", None),
        lambda o, u: ("GET", reverse("web:translation_job", args=[o.job.pk]), None),
        write=False,
    ),
    "translation job create": Pair(
        lambda o, u: ("POST", "/translation-jobs", {"ticket_ids": [o.ticket.pk]}),
        lambda o, u: ("POST", reverse("web:translation_job_create"), {"ticket_ids": [o.ticket.pk]}),
    ),
    "retranslate": Pair(
        lambda o, u: ("POST", f"/messages/{o.inbound.pk}/retranslate", {"target_language": u.language}),
        lambda o, u: ("POST", _web("message_retranslate", ticket_id=_ticket, message_id=_message)(o), {}),
    ),
    "translation correct": Pair(
        lambda o, u: (
            "POST",
            f"/messages/{o.inbound.pk}/translation/correct",
            {"target_language": u.language, "text": "Hello, my package"},
        ),
        lambda o, u: (
            "POST",
            _web("translation_correct", ticket_id=_ticket, message_id=_message)(o),
            {"text": "Hello, my package"},
        ),
    ),
    "reply draft": Pair(
        lambda o, u: ("POST", f"/tickets/{o.ticket.pk}/reply-drafts", {"text": "Hello, thank you."}),
        lambda o, u: ("POST", _web("reply_translate", ticket_id=_ticket)(o), {"body": "Hello, thank you."}),
        write=False,
    ),
    "template render": Pair(
        lambda o, u: ("POST", f"/reply-templates/{o.template_id}/render", {"ticket_id": o.ticket.pk}),
        lambda o, u: ("POST", _web("reply_template", ticket_id=_ticket)(o), {"template_id": o.template_id}),
        write=False,
    ),
    "token create": Pair(
        lambda o, u: ("POST", "/me/tokens", {"name": "ci", "scopes": ["read", "write"]}),
        lambda o, u: ("POST", reverse("web:token_create"), {"name": "ci", "scopes": ["read", "write"]}),
    ),
    "token revoke": Pair(
        lambda o, u: ("DELETE", f"/me/tokens/{o.token_id}", None),
        lambda o, u: ("POST", reverse("web:token_revoke", args=[o.token_id]), {}),
    ),
    "store update": Pair(
        lambda o, u: ("PATCH", f"/stores/{o.world.store_us.pk}", {**_store_form(o), "is_active": True}),
        lambda o, u: ("POST", reverse("web:settings_store", args=[o.world.store_us.pk]), _store_form(o)),
    ),
    "glossary export": Pair(
        lambda o, u: ("GET", "/glossary/export", None),
        lambda o, u: ("GET", reverse("web:glossary_export"), None),
        write=False,
    ),
    "retry delivery": Pair(
        lambda o, u: ("POST", f"/messages/{_failed(o)}/retry", {}),
        lambda o, u: ("POST", _web("message_retry", ticket_id=_ticket, message_id=_failed)(o), {}),
    ),
    "attachment content": Pair(
        lambda o, u: ("GET", f"/attachments/{o.attachment_id}/content", None),
        lambda o, u: ("GET", reverse("web:attachment", args=[o.attachment_id]), None),
        write=False,
    ),
    "tracking account read": Pair(
        lambda o, u: ("GET", "/tracking/accounts/17track", None),
        lambda o, u: ("GET", reverse("web:settings_tracking"), None),
        write=False,
    ),
    "tracking account save": Pair(
        lambda o, u: ("PUT", "/tracking/accounts/17track", {"api_key": "PARITY-KEY", "poll_interval_hours": 5}),
        lambda o, u: (
            "POST",
            reverse("web:settings_tracking"),
            {"api_key": "PARITY-KEY", "poll_interval_hours": "5", "is_active": "on"},
        ),
    ),
    "tracking test connection": Pair(
        lambda o, u: ("POST", "/tracking/accounts/17track/test", None),
        lambda o, u: ("POST", reverse("web:settings_tracking_test"), {}),
    ),
    # The return policy (issue 10 §1-2): admins read and save versions; a document with an unknown
    # key is invalid on both sides (the API takes the document as JSON, the web UI as pasted text).
    "return policy read": Pair(
        lambda o, u: ("GET", "/returns/policy", None),
        lambda o, u: ("GET", reverse("web:settings_returns"), None),
        write=False,
    ),
    "return policy save": Pair(
        lambda o, u: ("PUT", "/returns/policy", {"document": RETURN_POLICY, "comment": "parity"}),
        lambda o, u: (
            "POST",
            reverse("web:settings_returns"),
            {"document": json.dumps(RETURN_POLICY), "comment": "parity"},
        ),
    ),
    "return policy unknown key": Pair(
        lambda o, u: ("PUT", "/returns/policy", {"document": {**RETURN_POLICY, "colour": "red"}}),
        lambda o, u: (
            "POST",
            reverse("web:settings_returns"),
            {"document": json.dumps({**RETURN_POLICY, "colour": "red"})},
        ),
    ),
    "exchange rate save": Pair(
        lambda o, u: ("PUT", "/returns/rates/EUR", {"rate": "1.08"}),
        lambda o, u: ("POST", reverse("web:settings_returns_rate"), {"currency": "EUR", "rate": "1.08"}),
    ),
    "exchange rate invalid": Pair(
        lambda o, u: ("PUT", "/returns/rates/EUR", {"rate": "-1"}),
        lambda o, u: ("POST", reverse("web:settings_returns_rate"), {"currency": "EUR", "rate": "-1"}),
    ),
    # A store's connection (issue 9 §1). Amazon US has no credentials: test / backfill / sync now
    # are refused (409) by both before any platform is called.
    "store sync status": Pair(
        lambda o, u: ("GET", f"/stores/{o.world.store_us.pk}/sync", None),
        lambda o, u: ("GET", _web("settings_store_connection", store_id=_store)(o), None),
        write=False,
    ),
    "store credentials": Pair(
        lambda o, u: ("PATCH", f"/stores/{o.world.store_us.pk}", {"credentials": AMAZON_CREDENTIALS}),
        lambda o, u: ("POST", _web("settings_store_connection", store_id=_store)(o), AMAZON_CREDENTIALS),
    ),
    "store credentials incomplete": Pair(
        lambda o, u: ("PATCH", f"/stores/{o.world.store_us.pk}", {"credentials": {"lwa_client_id": "x"}}),
        lambda o, u: ("POST", _web("settings_store_connection", store_id=_store)(o), {"lwa_client_id": "x"}),
    ),
    "store test connection without credentials": Pair(
        lambda o, u: ("POST", f"/stores/{o.world.store_us.pk}/sync/test", None),
        lambda o, u: ("POST", _web("settings_store_test", store_id=_store)(o), {}),
    ),
    "store pause": Pair(
        lambda o, u: ("POST", f"/stores/{o.world.store_us.pk}/sync/pause", {"reason": "parity"}),
        lambda o, u: ("POST", _web("settings_store_pause", store_id=_store)(o), {"reason": "parity"}),
    ),
    "store resume": Pair(
        lambda o, u: ("POST", f"/stores/{_paused(o)}/sync/resume", None),
        lambda o, u: ("POST", _web("settings_store_resume", store_id=_paused)(o), {}),
    ),
    "store backfill in the future": Pair(
        lambda o, u: ("POST", f"/stores/{o.world.store_us.pk}/sync/backfill", {"since": "2099-01-01"}),
        lambda o, u: ("POST", _web("settings_store_backfill", store_id=_store)(o), {"since": "2099-01-01"}),
    ),
    "store sync now without credentials": Pair(
        lambda o, u: ("POST", f"/stores/{o.world.store_us.pk}/sync/run", {}),
        lambda o, u: ("POST", _web("settings_store_run", store_id=_store)(o), {}),
    ),
    "store quarantine": Pair(
        lambda o, u: ("GET", f"/stores/{o.world.store_us.pk}/quarantine", None),
        lambda o, u: ("GET", _web("settings_store_quarantine", store_id=_store)(o), None),
        write=False,
    ),
    "quarantined record retry": Pair(
        lambda o, u: ("POST", f"/quarantine/{_quarantined(o)}/retry", None),
        lambda o, u: ("POST", _web("settings_quarantined_retry", raw_event_id=_quarantined)(o), {}),
    ),
    "needs a human": Pair(
        lambda o, u: ("GET", "/attention", None),
        lambda o, u: ("GET", reverse("web:settings_attention"), None),
        write=False,
    ),
    "store create": Pair(
        lambda o, u: ("POST", "/stores", {**_store_form(o), "name": "Shopee BR", "is_active": True}),
        lambda o, u: ("POST", reverse("web:settings_stores"), {**_store_form(o), "name": "Shopee BR"}),
    ),
    "user invite": Pair(
        lambda o, u: (
            "POST",
            "/users",
            {"username": "newbie", "role_id": o.world.roles["agent"].pk, "team_ids": [o.world.team_us.pk]},
        ),
        lambda o, u: (
            "POST",
            reverse("web:settings_user_invite"),
            {"username": "newbie", "role_id": o.world.roles["agent"].pk, "team_ids": [o.world.team_us.pk]},
        ),
    ),
    "user update": Pair(
        lambda o, u: ("PATCH", f"/users/{o.users['teammate'].pk}", {"display_name": "Bob B."}),
        lambda o, u: ("POST", reverse("web:settings_user", args=[o.users["teammate"].pk]), _user_form(o)),
    ),
    "team create": Pair(
        lambda o, u: ("POST", "/teams", {"name": "Returns", "member_ids": [o.users["agent"].pk]}),
        lambda o, u: (
            "POST",
            reverse("web:settings_team_create"),
            {"name": "Returns", "member_ids": [o.users["agent"].pk]},
        ),
    ),
    "team update": Pair(
        lambda o, u: ("PATCH", f"/teams/{o.world.team_us.pk}", {"name": "US (renamed)"}),
        lambda o, u: ("POST", reverse("web:settings_team", args=[o.world.team_us.pk]), _team_form(o)),
    ),
    "role create": Pair(
        lambda o, u: ("POST", "/roles", {"name": "Night shift", "permissions": ["view", "reply"]}),
        lambda o, u: (
            "POST",
            reverse("web:settings_role_create"),
            {"name": "Night shift", "permissions": ["view", "reply"]},
        ),
    ),
    "role update": Pair(
        lambda o, u: ("PATCH", f"/roles/{o.world.roles['agent'].pk}", {"name": "Agent (renamed)"}),
        lambda o, u: ("POST", reverse("web:settings_role", args=[o.world.roles["agent"].pk]), _role_form(o)),
    ),
}


def _failed(o: Objects) -> int:
    assert o.failed_reply is not None
    return o.failed_reply.pk


def _user_form(o: Objects) -> dict[str, Any]:
    bob = o.users["teammate"]
    return {
        "display_name": "Bob B.",
        "email": bob.email,
        "role_id": bob.role_id,
        "team_ids": list(bob.teams.values_list("pk", flat=True)),
        "language": bob.language,
        "is_active": "on",
    }


def _team_form(o: Objects) -> dict[str, Any]:
    team = o.world.team_us
    return {
        "name": "US (renamed)",
        "store_ids": list(team.stores.values_list("pk", flat=True)),
        "platforms": list(team.platforms or []),
        "languages": list(team.languages or []),
        "sku_categories": list(team.sku_categories or []),
        "member_ids": list(team.members.values_list("pk", flat=True)),
    }


def _role_form(o: Objects) -> dict[str, Any]:
    role = o.world.roles["agent"]
    return {
        "name": "Agent (renamed)",
        "permissions": list(role.permissions),
        "approval_limit_amount": str(role.approval_limit_amount),
        "approval_limit_currency": role.approval_limit_currency or "",
    }


AMAZON_CREDENTIALS = {"lwa_client_id": "amzn1.application-oa2-client.p", "lwa_client_secret": "s", "refresh_token": "r"}


def _store(o: Objects) -> int:
    return o.world.store_us.pk


def _paused(o: Objects) -> int:
    StoreSync.objects.update_or_create(store=o.world.store_us, defaults={"paused": True, "paused_reason": "revoked"})
    return o.world.store_us.pk


def _quarantined(o: Objects) -> int:
    """A record of a mailbox of the organization that cannot be imported (an empty message)."""
    mailbox, _ = Store.objects.get_or_create(organization=o.world.org, name="Parity mailbox", platform="email")
    row, _ = RawEvent.objects.get_or_create(
        store=mailbox,
        event_id="parity-bad",
        defaults={"stream": "messages", "payload": {}, "status": "quarantined", "received_at": now()},
    )
    return row.pk


def _store_form(o: Objects) -> dict[str, Any]:
    store = o.world.store_us
    return {
        "name": "Amazon US (renamed)",
        "platform": store.platform,
        "site": store.site,
        "default_language": store.default_language,
        "timezone": store.timezone,
        "currency": store.currency,
        "country": "US",
        "is_active": "on",
    }


def _objects(world) -> Objects:  # type: ignore[no-untyped-def]
    ticket = world.ticket(status="open")
    target = world.ticket(status="open", customer=ticket.customer)
    inbound = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body="Hola, mi paquete no ha llegado.",
        language="es",
        external_id="parity-in-1",
    )
    template = reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "It shipped.", "es": "Se envió."}
    )
    Notification.objects.create(user=world.agent, kind="mention", text="Bob mentioned you", dedupe_key="p1")
    failed_reply = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="outbound",
        channel="amazon",
        body="Sorry about that",
        author=world.agent,
        delivery_status="failed",
        delivery_error="connector down",
    )
    attachment = Attachment.objects.create(
        message=inbound,
        file=default_storage.save("attachments/parity/note.txt", ContentFile(b"tracking number LX1")),
        filename="note.txt",
        content_type="text/plain",
        size=19,
        sha256="0" * 64,
    )
    return Objects(
        world=world,
        ticket=ticket,
        target=target,
        inbound=inbound,
        saved_view=SavedView.objects.create(user=world.agent, name="Mine", filters={"assignee": "me"}),
        job=TranslationJob.objects.create(organization=world.org, created_by=world.agent, ticket_ids=[ticket.pk]),
        template_id=template.pk,
        token_id=api_token_create(user=world.agent, name="alice laptop")[0].pk,
        users={
            "agent": world.agent,
            "teammate": world.teammate,
            "outsider": world.outsider,
            "viewer": world.viewer,
            "approver": world.approver,
            "admin": world.admin,
            "foreigner": world.foreign_user,
        },
        failed_reply=failed_reply,
        attachment_id=attachment.pk,
    )


def _snapshot(o: Objects) -> tuple[Any, ...]:
    t = Ticket.objects.get(pk=o.ticket.pk)
    return (
        t.status,
        t.assignee_id,
        t.category,
        t.urgency,
        t.is_high_priority,
        t.team_id,
        t.merged_into_id,
        sorted(t.tags.values_list("name", flat=True)),
        Message.objects.count(),
        TicketEvent.objects.count(),
        Message.objects.get(pk=o.inbound.pk).translations,
        SavedView.objects.count(),
        Notification.objects.filter(read_at__isnull=True).count(),
        TranslationJob.objects.count(),
        GlossaryTerm.objects.count(),
        ReplyTemplateVariant.objects.count(),
        ApiToken.objects.filter(revoked_at__isnull=True).count(),
        Store.objects.get(pk=o.world.store_us.pk).name,
        Store.objects.count(),
        sorted(User.objects.values_list("username", "display_name", "role_id", "is_active")),
        sorted(Team.objects.values_list("name", flat=True)),
        sorted(Team.objects.values_list("members__username", flat=True).exclude(members__isnull=True)),
        sorted(Role.objects.values_list("name", flat=True)),
        list(Message.objects.filter(delivery_status="failed").values_list("pk", flat=True)),
        sorted(TrackingAccount.objects.values_list("organization_id", "is_active", "poll_interval_hours")),
        sorted(Store.objects.get(pk=o.world.store_us.pk).credentials),
        sorted(StoreSync.objects.filter(paused=True).values_list("store_id", "paused_reason")),
        sorted(StreamCursor.objects.values_list("store_id", "stream", "backfill_since")),
        sorted(RawEvent.objects.values_list("event_id", "status", "attempts")),
        sorted(ReturnPolicyVersion.objects.values_list("organization_id", "number", "is_active")),
        sorted(ExchangeRate.objects.values_list("organization_id", "currency", "rate")),
    )


def _outcome(status: int, changed: bool, write: bool) -> str:
    if status in (200, 201, 204, 302):
        if not write:
            return "found"
        return "changed" if changed else "unchanged"
    return {403: "refused", 404: "not found", 400: "invalid", 409: "invalid", 422: "invalid"}.get(
        status, f"status {status}"
    )


def _run(o: Objects, user: Any, call: Call, *, api: bool, write: bool) -> str:
    method, path, body = call
    client = Client()
    client.force_login(user)
    with transaction.atomic():
        before = _snapshot(o)
        if api:
            url = "/api/v1" + path
            if method == "GET":
                response = client.get(url)
            else:
                response = client.generic(method, url, "" if body is None else _json(body), "application/json")
        elif method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, body)
        changed = _snapshot(o) != before
        transaction.set_rollback(True)
    return _outcome(response.status_code, changed, write)


def _json(body: Any) -> str:
    import json

    return json.dumps(body)


CASES = [(pair, persona) for pair in PAIRS for persona in PERSONAS]


@pytest.fixture(scope="module")
def parity_objects(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The world and the objects of the pairs, built once per module (and test worker); each test starts
    from them in a savepoint rolled back after it (aftersales.testing.module_data), with its own copies of
    the Python objects. Before, each test built them itself."""
    from aftersales.testing.module_data import built_once
    from aftersales.testing.personas import build_world

    yield from built_once(django_db_blocker, lambda: _objects(build_world()))


@pytest.mark.parametrize(("pair", "persona"), CASES, ids=[f"{p}-{persona}" for p, persona in CASES])
def test_api_and_web_ui_answer_the_same(parity_objects, db, pair, persona):
    o = copy.deepcopy(parity_objects)
    user = o.users[persona]
    spec = PAIRS[pair]
    api = _run(o, user, spec.api(o, user), api=True, write=spec.write)
    web = _run(o, user, spec.web(o, user), api=False, write=spec.write)
    assert api == web, f"{pair} as {persona}: the API answers {api!r}, the web UI {web!r}"
    assert not api.startswith("status 5"), api


def test_the_table_covers_both_sides_of_every_pair():
    """A pair refused by everyone would prove nothing: each pair has someone it succeeds for."""
    succeeds = {"ticket detail", "reply", "note", "status", "assign", "tags", "merge", "fields", "bulk status"}
    succeeds |= {"retry delivery", "attachment content", "store create", "user invite", "user update"}
    succeeds |= {"team create", "team update", "role create", "role update"}
    succeeds |= {"tracking account read", "tracking account save"}
    succeeds |= {"return policy read", "return policy save", "exchange rate save"}
    succeeds |= {"store sync status", "store credentials", "store pause", "store resume", "store quarantine"}
    succeeds |= {"quarantined record retry", "needs a human"}
    assert succeeds <= set(PAIRS)
