"""Every persona against every API endpoint, with the status each must get.

The routes are read from the NinjaAPI object: an endpoint added without a row here fails
`test_matrix_covers_every_route`, so nothing ships without its permission test."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import transaction

from aftersales.accounts.models import Role
from aftersales.accounts.services import api_token_create
from aftersales.inbox.models import Attachment, Message
from aftersales.inbox.services import saved_view_create
from aftersales.language.models import ReplyTemplateVariant, TranslationJob
from aftersales.language.services import provider_config_save
from aftersales.language.templates import reply_template_save
from aftersales.returns.policy import DEFAULT_POLICY
from aftersales.returns.policy_store import policy_save

from .fixtures import PNG, PNG_B64, Scene, build_scene
from .helpers import ApiClient, RawBody, api_routes

PERSONAS = ("anonymous", "agent", "teammate", "outsider", "viewer", "approver", "admin", "foreign_user")


def expect(**statuses: int) -> dict[str, int]:
    assert set(statuses) == set(PERSONAS), set(PERSONAS) ^ set(statuses)
    return statuses


def ticket_read() -> dict[str, int]:
    """Reading a US ticket: the US team and the admin see it; carol (DE) and other sellers do not."""
    return expect(
        anonymous=401, agent=200, teammate=200, outsider=404, viewer=200, approver=200, admin=200, foreign_user=404
    )


def ticket_write(ok: int = 200) -> dict[str, int]:
    """Acting on a US ticket: as reading, and the viewer may look but not act."""
    return {**ticket_read(), "viewer": 403, **dict.fromkeys(("agent", "teammate", "approver", "admin"), ok)}


def everyone(ok: int = 200) -> dict[str, int]:
    """Anyone signed in (reads of one's own organization, one's own profile and settings)."""
    return {p: (401 if p == "anonymous" else ok) for p in PERSONAS}


def _simulation_run(w: Any) -> int:
    """A queued background dry run of the organization."""
    from django.utils import timezone

    from aftersales.rules.simulation_run_models import RuleSimulationRun

    at = timezone.now()
    return RuleSimulationRun.objects.create(
        organization=w.org, trigger="ticket_created", document={}, days=1, since=at, until=at
    ).pk


def _llm_connection_test(w: Any) -> int:
    """A connection test of the organization the worker has not run yet."""
    from aftersales.triage.models import LLMConnectionTest

    return LLMConnectionTest.objects.create(
        organization=w.org, base_url="https://llm.example/v1", model="m", timeout_seconds=5
    ).pk


def admins(ok: int = 200) -> dict[str, int]:
    """Organization settings: admins only. The foreign admin acts on their own organization."""
    return {**everyone(403), "admin": ok, "foreign_user": ok}


def ours(ok: int = 200) -> dict[str, int]:
    """An object of our organization's people settings: our admin; the foreign admin gets 404."""
    return {**admins(ok), "foreign_user": 404}


def _unused_role(world: Any) -> int:
    return Role.objects.create(organization=world.org, kind="viewer", name="Unused", permissions=["view"]).pk


Request = tuple[str, str, Any]  # method, path, JSON body


@dataclass
class Row:
    build: Callable[[Scene, Any, Any], Request]  # (scene, world, acting user or None) -> request
    statuses: dict[str, int]


def _keyless_tracking_account(world: Any) -> str:
    from aftersales.tracking.models import TrackingAccount

    TrackingAccount.objects.get_or_create(organization=world.org, provider="17track")
    return "17track"


def _quarantined(world: Any) -> int:
    """A record of a mailbox of the organization that cannot be imported (an empty message)."""
    from aftersales.catalog.models import Store
    from aftersales.channels.models import RawEvent
    from aftersales.core.clock import now

    mailbox = Store.objects.create(organization=world.org, name="Matrix mailbox", platform="email")
    return RawEvent.objects.create(
        store=mailbox, stream="messages", event_id="matrix-bad", payload={}, status="quarantined", received_at=now()
    ).pk


def _marketplace_app(world: Any) -> str:
    """The organization's Wish app (no store connects through it)."""
    from aftersales.channels.models import MarketplaceApp

    MarketplaceApp.objects.get_or_create(
        organization=world.org, platform="wish", defaults={"credentials": {"client_id": "a", "client_secret": "b"}}
    )
    return "wish"


def _own_view(user: Any, world: Any) -> int:
    view = saved_view_create(user=user or world.agent, name="Mine", filters={"status": "open"})
    return view.pk


def _own_token(user: Any, world: Any) -> int:
    token, _ = api_token_create(user=user or world.agent, name="ci")
    return token.pk


def _attachment(scene: Scene) -> int:
    """A photo the buyer attached to the scene's inbound message."""
    attachment = Attachment(
        message=scene.inbound, filename="photo.png", content_type="image/png", size=len(PNG), sha256="0" * 64
    )
    attachment.file.save("matrix.png", ContentFile(PNG), save=True)
    return attachment.pk


def _english_message(scene: Scene) -> int:
    """The scene's inbound message, in English (Apertium translates it to Spanish offline)."""
    Message.objects.filter(pk=scene.inbound.pk).update(language="en")
    return scene.inbound.pk


def _template(world: Any) -> int:
    """A template of the organization with an English variant and a Spanish one to review."""
    template = reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "Hi {{ customer.first_name }}"}
    )
    ReplyTemplateVariant.objects.create(
        template=template,
        language="es",
        body="Hola {{ customer.first_name }}",
        is_machine_translated=True,
        needs_review=True,
    )
    return template.pk


def _job(scene: Scene, world: Any) -> int:
    job = TranslationJob.objects.create(organization=world.org, created_by=world.agent, ticket_ids=[scene.ticket.pk])
    return job.pk


def _own_provider(user: Any, world: Any) -> str:
    """A provider of the acting user's organization (created by an admin of it)."""
    admin = world.foreign_user if user is not None and user.pk == world.foreign_user.pk else world.admin
    provider_config_save(user=admin, name="local", kind="apertium")
    return "local"


ELIGIBILITY = {
    "platform": "amazon",
    "site": "amazon.de",
    "delivery_country": "DE",
    "delivered_at": "2026-03-20T10:00:00+01:00",
    "requested_at": "2026-04-03T12:00:00+02:00",
    "category": "phones",
    "unit_price": "299.00",
    "currency": "USD",
    "reason": "changed_mind",
    "quantity_purchased": 1,
    "quantity_requested": 1,
}


SLA_CALENDAR = {"name": "Office", "timezone": "Europe/Berlin", "weekly_hours": {"mon": [["09:00", "12:00"]]}}
SLA_POLICY = {"name": "Matrix policy", "first_response_minutes": 120, "resolution_minutes": 720}


def _sla_calendar(world: Any) -> int:
    """A calendar of our organization (the foreign admin must not find it)."""
    from aftersales.sla.models import BusinessCalendar

    return BusinessCalendar.objects.create(organization=world.org, name="Matrix", timezone="UTC").pk


def _sla_policy(world: Any) -> int:
    from aftersales.sla.models import SlaPolicy

    return SlaPolicy.objects.create(
        organization=world.org, name="Matrix", first_response_minutes=60, resolution_minutes=600
    ).pk


_RULES_MADE = [0]


def _rule_body() -> dict[str, Any]:
    """A rule document with a fresh name (the matrix builds a request per persona)."""
    _RULES_MADE[0] += 1
    return {
        "name": f"Matrix rule {_RULES_MADE[0]}",
        "trigger": "ticket_created",
        "conditions": {"all": []},
        "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
    }


def _rule(world: Any) -> int:
    """A rule of our organization (the foreign admin must not find it)."""
    from aftersales.rules.services import rule_create

    return rule_create(user=world.admin, data=_rule_body()).pk


SIGNED_WEBHOOK = "https://hooks.example.com/matrix"


def _signed_rule(world: Any) -> int:
    """A rule of our organization whose webhook signs with the rule's own secret."""
    from aftersales.rules.services import rule_create

    body = {
        **_rule_body(),
        "actions": [{"type": "notify_webhook", "params": {"url": SIGNED_WEBHOOK, "signing": "rule"}}],
    }
    return rule_create(user=world.admin, data=body).pk


def _rule_experiment(world: Any) -> int:
    """A running A/B experiment on a new rule of our organization."""
    from aftersales.rules.experiments import experiment_start

    return experiment_start(user=world.admin, rule_id=_rule(world), treatment_percent=50).pk


def _policy_version(world: Any) -> int:
    """Version 1 in both organizations (each admin reads their own)."""
    policy_save(user=world.admin, document=DEFAULT_POLICY)
    policy_save(user=world.foreign_user, document=DEFAULT_POLICY)
    return 1


FOLLOWUP_SETTINGS = {
    "stall_enabled": True,
    "stall_days": 7,
    "csat_enabled": True,
    "csat_delay_hours": 24,
    "csat_sample_percent": 50,
    "csat_link_days": 14,
    "thanks_enabled": False,
    "thanks_categories": ["complaint"],
}
GLOSSARY_CSV = "source_language,target_language,term,translation\nen,es,refund,reembolso\n"

INBOUND = {
    "external_id": "m-1",
    "body": "Where is my parcel?",
    "customer_external_id": "buyer-1",
    "attachments": [{"filename": "p.png", "content_base64": PNG_B64}],
}


def _warehouse(world: Any) -> int:
    from aftersales.inventory.models import Warehouse

    return Warehouse.objects.get_or_create(organization=world.org, code="SZ", defaults={"name": "Shenzhen"})[0].pk


def _exchange_rma(world: Any) -> tuple[int, int, str]:
    """An RMA of the organization (no ticket) approved for an exchange, its returned order line, and
    stock of the replacement SKU: (rma id, order line id, SKU)."""
    from aftersales.core.actors import Actor
    from aftersales.core.clock import now
    from aftersales.inventory.services import stock_move
    from aftersales.returns.models import Rma, RmaLine
    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory

    product = ProductFactory(organization=world.org, sku="MX-CASE")
    order = OrderFactory(store=world.store_us)
    line = OrderLineFactory(order=order, product=product, sku="MX-CASE", quantity=1)
    rma = Rma.objects.create(
        organization=world.org,
        store=world.store_us,
        number="MX-RMA-1",
        order=order,
        status="approved",
        resolution="exchange",
        reason="defective",
        requested_at=now(),
    )
    RmaLine.objects.create(rma=rma, order_line=line, sku="MX-CASE", quantity=1, unit_price_amount=1, currency="USD")
    stock_move(
        organization_id=world.org.pk,
        warehouse_id=_warehouse(world),
        sku="MX-CASE",
        kind="receive",
        quantity=3,
        reference="matrix",
        idempotency_key="matrix-stock",
        actor=Actor.system("matrix"),
    )
    return rma.pk, line.pk, "MX-CASE"


def _exchange_body(world: Any) -> tuple[str, str, Any]:
    rma_id, line_id, sku = _exchange_rma(world)
    body = {"lines": [{"sku": sku, "quantity": 1, "replaces_order_line_id": line_id}]}
    return ("POST", f"/rmas/{rma_id}/exchange", body)


def _exchange(world: Any) -> int:
    from aftersales.returns.exchanges import exchange_create

    rma_id, line_id, sku = _exchange_rma(world)
    lines = [{"sku": sku, "quantity": 1, "replaces_order_line_id": line_id}]
    return exchange_create(user=world.admin, rma_id=rma_id, lines=lines).exchange.pk


def _list_rma(scene: Scene) -> int:
    """A requested RMA on the scene's US ticket (seen by whoever sees the ticket)."""
    from aftersales.core.clock import now
    from aftersales.returns.models import Rma, RmaLine

    order = scene.ticket.order
    line = order.lines.first()
    rma = Rma.objects.create(
        organization=scene.ticket.organization,
        store=scene.ticket.store,
        number="RMA-2026-900001",
        order=order,
        customer=order.customer,
        ticket=scene.ticket,
        reason="defective",
        requested_at=now(),
    )
    RmaLine.objects.create(
        rma=rma, order_line=line, sku=line.sku, quantity=1, unit_price_amount=line.unit_price_amount, currency="USD"
    )
    return rma.pk


def _rma_bulk_job(scene: Scene, world: Any) -> int:
    """A bulk job alice started (its progress is hers and the admins')."""
    from aftersales.returns.models import RmaBulkItem, RmaBulkJob

    rma_id = _list_rma(scene)
    job = RmaBulkJob.objects.create(organization=world.org, created_by=world.agent, action="approve", total=1)
    RmaBulkItem.objects.create(job=job, rma_id=rma_id, position=0)
    return job.pk


# Warranty (issue 10 s6). These rows were lost from the working tree at ~12:48 UTC (see
# /work/notes/ATTENTION-permission-matrix.md) and rebuilt from the warranty services' permission checks.
WARRANTY_IMEI = "490154203237518"


def _warranty_line(world: Any) -> int:
    """An order line of the organization for one serialised phone, delivered recently."""
    from datetime import timedelta

    from aftersales.core.clock import now
    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory

    phone = ProductFactory(organization=world.org, sku="MX-PHONE", category="phones", is_serialised=True)
    order = OrderFactory(store=world.store_us, placed_at=now() - timedelta(days=30), ship_country="US")
    return OrderLineFactory(order=order, product=phone, sku="MX-PHONE", quantity=1).pk


def _warranty_unit(world: Any) -> int:
    from aftersales.warranty.services import UnitInput, units_register

    line_id = _warranty_line(world)
    return units_register(user=world.admin, rows=[UnitInput(imei=WARRANTY_IMEI, order_line_id=line_id)])[0].pk


def _warranty_claim(world: Any, status: str = "submitted") -> int:
    from aftersales.warranty.services import claim_change_status, claim_open, claim_resolve

    claim = claim_open(user=world.admin, unit_id=_warranty_unit(world), problem="Screen flickers")
    if status in ("under_review", "approved", "repair"):
        claim_change_status(user=world.admin, claim_id=claim.pk, status="under_review")
    if status in ("approved", "repair"):
        claim_change_status(user=world.admin, claim_id=claim.pk, status="approved")
    if status == "repair":
        claim_resolve(user=world.admin, claim_id=claim.pk, resolution="repair")
    return claim.pk


def _warranty_replacement_claim(world: Any, *, reserved: bool) -> int:
    """A claim resolved by a replacement: out of stock (no warehouse), or reserved in one."""
    from aftersales.core.actors import Actor
    from aftersales.inventory.models import Warehouse
    from aftersales.inventory.services import stock_move
    from aftersales.warranty.models import ReplacementRequest
    from aftersales.warranty.replacements import replacement_reserve
    from aftersales.warranty.services import claim_resolve

    claim_id = _warranty_claim(world, "approved")
    claim_resolve(user=world.admin, claim_id=claim_id, resolution="replacement")
    if reserved:
        warehouse = Warehouse.objects.create(organization=world.org, code="MX-WH", name="Matrix")
        stock_move(
            organization_id=world.org.pk,
            warehouse_id=warehouse.pk,
            sku="MX-PHONE",
            kind="receive",
            quantity=1,
            reference="matrix",
            idempotency_key="matrix:receive",
            actor=Actor.system("test"),
        )
        replacement_reserve(replacement_id=ReplacementRequest.objects.get(claim_id=claim_id).pk)
    return claim_id


def _order_units_request(world: Any) -> tuple[str, str, dict[str, Any]]:
    from aftersales.catalog.models import OrderLine

    line = OrderLine.objects.get(pk=_warranty_line(world))
    body = {"lines": [{"order_line_id": line.pk, "identifiers": [WARRANTY_IMEI]}]}
    return ("POST", f"/warranty/orders/{line.order_id}/units", body)


def _units_csv_request(world: Any) -> tuple[str, str, RawBody]:
    from aftersales.catalog.models import OrderLine

    line = OrderLine.objects.select_related("order").get(pk=_warranty_line(world))
    text = f"order,line_id,identifier\n{line.order.external_id},{line.pk},{WARRANTY_IMEI}\n"
    return ("POST", "/warranty/units/import-csv", RawBody(text, "text/csv"))


def _warranty_repair(world: Any) -> int:
    from aftersales.warranty.models import RepairOrder

    return RepairOrder.objects.get(claim_id=_warranty_claim(world, "repair")).pk


def _warranty_term(world: Any) -> int:
    from aftersales.warranty.services import term_save

    return term_save(user=world.admin, category="phones", region="EU", months=24).pk


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/tickets"): Row(lambda s, w, u: ("GET", "/tickets", None), everyone()),
    ("GET", "/tickets/{ticket_id}"): Row(lambda s, w, u: ("GET", f"/tickets/{s.ticket.pk}", None), ticket_read()),
    ("PATCH", "/tickets/{ticket_id}"): Row(
        lambda s, w, u: ("PATCH", f"/tickets/{s.ticket.pk}", {"urgency": "high"}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/replies"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/replies", {"body": "On its way"}), ticket_write(201)
    ),
    # The ticket's store has no synced templates: 422 field=name for those who may reply.
    ("POST", "/tickets/{ticket_id}/template-messages"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/template-messages", {"name": "x", "language": "en"}),
        ticket_write(422),
    ),
    # The ticket's order is on the Amazon store (mark_shipped): recorded, the marketplace told on commit.
    ("POST", "/tickets/{ticket_id}/shipments"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/shipments", {"carrier": "UPS", "tracking_number": "1Z9"}),
        ticket_write(201),
    ),
    # The ticket's store is Amazon (no close_ticket): 422 field=ticket for those who may process.
    ("POST", "/tickets/{ticket_id}/platform-close"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/platform-close", None), ticket_write(422)
    ),
    # Likewise no escalate_ticket on Amazon: 422 field=ticket for those who may process.
    ("POST", "/tickets/{ticket_id}/platform-escalate"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/platform-escalate", None), ticket_write(422)
    ),
    ("POST", "/tickets/{ticket_id}/notes"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/notes", {"body": "@bob look"}), ticket_write(201)
    ),
    ("POST", "/tickets/{ticket_id}/status"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/status", {"status": "on_hold"}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/assign"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/assign", {"assignee_id": w.teammate.pk}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/tags"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/tags", {"add": ["defect"]}), ticket_write()
    ),
    ("POST", "/tickets/{ticket_id}/merge"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/merge", {"target_id": s.other.pk}), ticket_write()
    ),
    # Bulk answers per ticket: tickets out of sight are reported as failures, not refused outright.
    ("POST", "/tickets/bulk"): Row(
        lambda s, w, u: ("POST", "/tickets/bulk", {"ticket_ids": [s.ticket.pk], "action": "tag", "value": "x"}),
        {**everyone(), "viewer": 403},
    ),
    ("GET", "/attachments/{attachment_id}/content"): Row(
        lambda s, w, u: ("GET", f"/attachments/{_attachment(s)}/content", None), ticket_read()
    ),
    ("POST", "/messages/{message_id}/retry"): Row(
        lambda s, w, u: ("POST", f"/messages/{s.failed_reply.pk}/retry", None), ticket_write()
    ),
    ("GET", "/views"): Row(lambda s, w, u: ("GET", "/views", None), everyone()),
    ("POST", "/views"): Row(
        lambda s, w, u: ("POST", "/views", {"name": "Open Amazon", "filters": {"platform": "amazon"}}), everyone(201)
    ),
    ("DELETE", "/views/{view_id}"): Row(lambda s, w, u: ("DELETE", f"/views/{_own_view(u, w)}", None), everyone(204)),
    ("GET", "/notifications"): Row(lambda s, w, u: ("GET", "/notifications", None), everyone()),
    ("POST", "/notifications/read"): Row(lambda s, w, u: ("POST", "/notifications/read", {}), everyone()),
    ("GET", "/customers/{customer_id}"): Row(
        lambda s, w, u: ("GET", f"/customers/{s.ticket.customer_id}", None), ticket_read()
    ),
    ("GET", "/stores"): Row(lambda s, w, u: ("GET", "/stores", None), everyone()),
    # Organization settings (stores, category labels): read by everyone of it, changed by its admins;
    # another organization's store is not found.
    ("POST", "/stores"): Row(
        lambda s, w, u: ("POST", "/stores", {"name": "Shopee BR", "platform": "shopee", "country": "BR"}),
        admins(201),
    ),
    ("PATCH", "/stores/{store_id}"): Row(
        lambda s, w, u: ("PATCH", f"/stores/{w.store_us.pk}", {"site": "amazon.co.uk"}),
        {**admins(), "foreign_user": 404},
    ),
    # A store's connection (issue 9 §1): its organization's admins (token scope admin); another
    # organization's store or record is 404; /attention shows each admin their own organization.
    # Amazon US has no credentials: test / backfill / run are 409 before any platform is called.
    ("GET", "/stores/{store_id}/sync"): Row(lambda s, w, u: ("GET", f"/stores/{w.store_us.pk}/sync", None), ours()),
    ("POST", "/stores/{store_id}/sync/webhooks"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/webhooks", None), ours(409)
    ),
    ("POST", "/stores/{store_id}/sync/test"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/test", None), ours(409)
    ),
    # Amazon US's connector has no message templates (WhatsApp's has): 409 for our admin.
    ("POST", "/stores/{store_id}/sync/templates"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/templates", None), ours(409)
    ),
    # Connect through the platform's consent page: Amazon US has no app keys (409); a callback without a
    # state is a 400 for any admin (the foreign one included), 403 for the others.
    ("POST", "/stores/{store_id}/authorization"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/authorization", {}), ours(409)
    ),
    ("POST", "/stores/authorization/callback"): Row(
        lambda s, w, u: ("POST", "/stores/authorization/callback", {"params": {}}), admins(400)
    ),
    ("POST", "/stores/{store_id}/sync/pause"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/pause", {"reason": "matrix"}), ours()
    ),
    ("POST", "/stores/{store_id}/sync/resume"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/resume", None), ours()
    ),
    ("POST", "/stores/{store_id}/sync/backfill"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/backfill", {"since": "2026-01-01"}), ours(409)
    ),
    ("POST", "/stores/{store_id}/sync/run"): Row(
        lambda s, w, u: ("POST", f"/stores/{w.store_us.pk}/sync/run", {}), ours(409)
    ),
    ("GET", "/stores/{store_id}/quarantine"): Row(
        lambda s, w, u: ("GET", f"/stores/{w.store_us.pk}/quarantine", None), ours()
    ),
    ("POST", "/quarantine/{raw_event_id}/retry"): Row(
        lambda s, w, u: ("POST", f"/quarantine/{_quarantined(w)}/retry", None), ours()
    ),
    ("GET", "/attention"): Row(lambda s, w, u: ("GET", "/attention", None), admins()),
    # Parcel tracking account (issue 9 §6): admins only; "test" on an account without a key is a
    # 422 naming api_key, and the foreign admin's organization has no account (404).
    ("GET", "/tracking/accounts/{provider}"): Row(
        lambda s, w, u: ("GET", "/tracking/accounts/17track", None), admins()
    ),
    ("PUT", "/tracking/accounts/{provider}"): Row(
        lambda s, w, u: ("PUT", "/tracking/accounts/17track", {"poll_interval_hours": 8}), admins()
    ),
    ("POST", "/tracking/accounts/{provider}/test"): Row(
        lambda s, w, u: ("POST", f"/tracking/accounts/{_keyless_tracking_account(w)}/test", None),
        {**admins(422), "foreign_user": 404},
    ),
    ("GET", "/category-labels"): Row(lambda s, w, u: ("GET", "/category-labels", None), everyone()),
    ("PUT", "/category-labels"): Row(
        lambda s, w, u: ("PUT", "/category-labels", {"labels": {"refund": {"label_en": "Money back"}}}), admins()
    ),
    ("GET", "/teams"): Row(lambda s, w, u: ("GET", "/teams", None), everyone()),
    ("GET", "/users"): Row(lambda s, w, u: ("GET", "/users", None), everyone()),
    # Users, teams and roles (issue 7): admins, inside their organization; the foreign admin gets
    # their own lists and a 404 for our ids (or for our role/team ids in a body).
    ("POST", "/users"): Row(
        lambda s, w, u: ("POST", "/users", {"username": "matrixnew", "role_id": w.roles["agent"].pk}),
        {**admins(201), "foreign_user": 404},
    ),
    ("GET", "/organization/users"): Row(lambda s, w, u: ("GET", "/organization/users", None), admins()),
    ("GET", "/users/{user_id}"): Row(lambda s, w, u: ("GET", f"/users/{w.agent.pk}", None), ours()),
    ("PATCH", "/users/{user_id}"): Row(
        lambda s, w, u: ("PATCH", f"/users/{w.agent.pk}", {"display_name": "Alice M"}), ours()
    ),
    ("POST", "/users/{user_id}/password-reset"): Row(
        lambda s, w, u: ("POST", f"/users/{w.agent.pk}/password-reset", None), ours()
    ),
    ("POST", "/teams"): Row(lambda s, w, u: ("POST", "/teams", {"name": "Matrix team"}), admins(201)),
    ("GET", "/teams/{team_id}"): Row(lambda s, w, u: ("GET", f"/teams/{w.team_us.pk}", None), ours()),
    ("PATCH", "/teams/{team_id}"): Row(
        lambda s, w, u: ("PATCH", f"/teams/{w.team_us.pk}", {"name": "US team 2", "platforms": ["amazon"]}), ours()
    ),
    ("DELETE", "/teams/{team_id}"): Row(lambda s, w, u: ("DELETE", f"/teams/{w.team_de.pk}", None), ours(204)),
    ("GET", "/roles"): Row(lambda s, w, u: ("GET", "/roles", None), admins()),
    ("POST", "/roles"): Row(
        lambda s, w, u: ("POST", "/roles", {"name": "Matrix role", "permissions": ["view"]}), admins(201)
    ),
    ("GET", "/roles/{role_id}"): Row(lambda s, w, u: ("GET", f"/roles/{w.roles['viewer'].pk}", None), ours()),
    ("PATCH", "/roles/{role_id}"): Row(
        lambda s, w, u: ("PATCH", f"/roles/{w.roles['viewer'].pk}", {"name": "Readers"}), ours()
    ),
    ("DELETE", "/roles/{role_id}"): Row(lambda s, w, u: ("DELETE", f"/roles/{_unused_role(w)}", None), ours(204)),
    ("GET", "/me"): Row(lambda s, w, u: ("GET", "/me", None), everyone()),
    ("PATCH", "/me"): Row(lambda s, w, u: ("PATCH", "/me", {"language": "zh-hans"}), everyone()),
    ("GET", "/me/tokens"): Row(lambda s, w, u: ("GET", "/me/tokens", None), everyone()),
    ("POST", "/me/tokens"): Row(lambda s, w, u: ("POST", "/me/tokens", {"name": "laptop"}), everyone(201)),
    ("DELETE", "/me/tokens/{token_id}"): Row(
        lambda s, w, u: ("DELETE", f"/me/tokens/{_own_token(u, w)}", None), everyone(204)
    ),
    # Sign-in lockouts: the organization's admins; another seller's user is not found.
    ("GET", "/security/lockouts"): Row(lambda s, w, u: ("GET", "/security/lockouts", None), admins()),
    ("DELETE", "/security/lockouts/{user_id}"): Row(
        lambda s, w, u: ("DELETE", f"/security/lockouts/{w.agent.pk}", None), {**admins(204), "foreign_user": 404}
    ),
    # The language engine: reads of a message as reading its ticket; translating, correcting and
    # drafting as acting on it; organization settings for admins; shared resources for everyone.
    ("GET", "/messages/{message_id}/translation"): Row(
        lambda s, w, u: ("GET", f"/messages/{s.inbound.pk}/translation", None), ticket_read()
    ),
    ("POST", "/messages/{message_id}/retranslate"): Row(
        lambda s, w, u: ("POST", f"/messages/{_english_message(s)}/retranslate", {"target_language": "es"}),
        ticket_write(),
    ),
    ("POST", "/messages/{message_id}/translation/correct"): Row(
        lambda s, w, u: (
            "POST",
            f"/messages/{_english_message(s)}/translation/correct",
            {"target_language": "es", "text": "El auricular izquierdo cruje"},
        ),
        ticket_write(),
    ),
    ("POST", "/tickets/{ticket_id}/reply-drafts"): Row(
        lambda s, w, u: (
            "POST",
            f"/tickets/{s.ticket.pk}/reply-drafts",
            {"text": "Your parcel is on its way", "source_language": "en", "target_language": "es"},
        ),
        ticket_write(),
    ),
    ("GET", "/reply-templates"): Row(lambda s, w, u: ("GET", "/reply-templates", None), everyone()),
    ("POST", "/reply-templates"): Row(
        lambda s, w, u: ("POST", "/reply-templates", {"name": "Hi", "source_language": "en", "bodies": {"en": "Hi"}}),
        admins(201),
    ),
    # Rendering fills in the ticket's data to reply with: the template is the organization's.
    ("POST", "/reply-templates/{template_id}/render"): Row(
        lambda s, w, u: ("POST", f"/reply-templates/{_template(w)}/render", {"ticket_id": s.ticket.pk}),
        ticket_write(),
    ),
    ("POST", "/reply-templates/preview"): Row(
        lambda s, w, u: ("POST", "/reply-templates/preview", {"body": "Hi {{ customer.first_name }}"}), everyone()
    ),
    ("PATCH", "/reply-templates/{template_id}"): Row(
        lambda s, w, u: ("PATCH", f"/reply-templates/{_template(w)}", {"name": "Parcel shipped"}),
        {**admins(), "foreign_user": 404},
    ),
    ("DELETE", "/reply-templates/{template_id}"): Row(
        lambda s, w, u: ("DELETE", f"/reply-templates/{_template(w)}", None),
        {**admins(204), "foreign_user": 404},
    ),
    ("POST", "/reply-templates/{template_id}/variants/{language}/approve"): Row(
        lambda s, w, u: ("POST", f"/reply-templates/{_template(w)}/variants/es/approve", {}),
        {**admins(), "foreign_user": 404},
    ),
    ("POST", "/translation-jobs"): Row(
        lambda s, w, u: ("POST", "/translation-jobs", {"ticket_ids": [s.ticket.pk], "target_languages": ["es"]}),
        ticket_write(201),
    ),
    # A job is shown to those who see every ticket in it.
    ("GET", "/translation-jobs/{job_id}"): Row(
        lambda s, w, u: ("GET", f"/translation-jobs/{_job(s, w)}", None), ticket_read()
    ),
    ("GET", "/language/pairs"): Row(lambda s, w, u: ("GET", "/language/pairs", None), everyone()),
    ("GET", "/language/providers"): Row(lambda s, w, u: ("GET", "/language/providers", None), admins()),
    ("PUT", "/language/providers/{name}"): Row(
        lambda s, w, u: ("PUT", "/language/providers/deepl", {"kind": "deepl", "credentials": {"api_key": "k"}}),
        admins(),
    ),
    ("PUT", "/language/routes"): Row(
        lambda s, w, u: (
            "PUT",
            "/language/routes",
            {"source_language": "en", "target_language": "es", "provider_names": [_own_provider(u, w)]},
        ),
        admins(),
    ),
    # Testing a provider writes nothing; an unreachable one answers 200 with ok false.
    ("POST", "/language/providers/{name}/test"): Row(
        lambda s, w, u: (
            "POST",
            "/language/providers/local/test",
            {"kind": "libretranslate", "base_url": "http://127.0.0.1:9", "timeout_seconds": 1},
        ),
        admins(),
    ),
    ("GET", "/language/routes"): Row(lambda s, w, u: ("GET", "/language/routes", None), admins()),
    ("GET", "/glossary"): Row(lambda s, w, u: ("GET", "/glossary", None), everyone()),
    ("GET", "/glossary/export"): Row(lambda s, w, u: ("GET", "/glossary/export", None), admins()),
    ("POST", "/glossary/import"): Row(
        lambda s, w, u: ("POST", "/glossary/import", RawBody(GLOSSARY_CSV, "text/csv")), admins()
    ),
    ("GET", "/translation-memory"): Row(lambda s, w, u: ("GET", "/translation-memory", None), everyone()),
    # Return policies (issue 10 §1-2): eligibility is a read for anyone signed in (no store id:
    # platform + site, so the foreign admin judges against their own policy); the policy set and the
    # rate table are organization settings.
    ("POST", "/returns/eligibility"): Row(lambda s, w, u: ("POST", "/returns/eligibility", ELIGIBILITY), everyone()),
    ("GET", "/returns/policy"): Row(lambda s, w, u: ("GET", "/returns/policy", None), admins()),
    ("PUT", "/returns/policy"): Row(
        lambda s, w, u: ("PUT", "/returns/policy", {"document": DEFAULT_POLICY, "comment": "matrix"}), admins()
    ),
    ("GET", "/returns/policy/versions"): Row(lambda s, w, u: ("GET", "/returns/policy/versions", None), admins()),
    ("GET", "/returns/policy/versions/{number}"): Row(
        lambda s, w, u: ("GET", f"/returns/policy/versions/{_policy_version(w)}", None), admins()
    ),
    ("GET", "/returns/rates"): Row(lambda s, w, u: ("GET", "/returns/rates", None), admins()),
    ("PUT", "/returns/rates/{currency}"): Row(
        lambda s, w, u: ("PUT", "/returns/rates/EUR", {"rate": "1.08"}), admins()
    ),
    # Warehouses: read by everyone of the organization, changed by its admins. Stock and the ledger:
    # read with VIEW; receipts and count adjustments need PROCESS (a foreign user's body names a
    # warehouse they do not have: 422). Exchanges: PROCESS on an RMA the user sees (no ticket: all).
    ("GET", "/warehouses"): Row(lambda s, w, u: ("GET", "/warehouses", None), everyone()),
    ("POST", "/warehouses"): Row(
        lambda s, w, u: ("POST", "/warehouses", {"code": "LAX", "name": "LA hub"}), admins(201)
    ),
    ("GET", "/warehouses/{warehouse_id}"): Row(
        lambda s, w, u: ("GET", f"/warehouses/{_warehouse(w)}", None), {**everyone(), "foreign_user": 404}
    ),
    ("PATCH", "/warehouses/{warehouse_id}"): Row(
        lambda s, w, u: ("PATCH", f"/warehouses/{_warehouse(w)}", {"name": "Shenzhen main"}), ours()
    ),
    ("GET", "/inventory/stock"): Row(lambda s, w, u: ("GET", "/inventory/stock?sku=MX-CASE", None), everyone()),
    ("GET", "/inventory/movements"): Row(lambda s, w, u: ("GET", "/inventory/movements?sku=MX-CASE", None), everyone()),
    ("POST", "/inventory/movements"): Row(
        lambda s, w, u: (
            "POST",
            "/inventory/movements",
            {
                "warehouse_id": _warehouse(w),
                "sku": _exchange_rma(w)[2],
                "kind": "receive",
                "quantity": 2,
                "idempotency_key": "matrix-receive",
            },
        ),
        {**ticket_write(201), "outsider": 201, "foreign_user": 422},
    ),
    ("POST", "/rmas/{rma_id}/exchange"): Row(
        lambda s, w, u: _exchange_body(w), {**ticket_write(201), "outsider": 201, "foreign_user": 404}
    ),
    ("POST", "/exchanges/{exchange_id}/ship"): Row(
        lambda s, w, u: ("POST", f"/exchanges/{_exchange(w)}/ship", {"tracking_number": "1Z1"}),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    ("POST", "/exchanges/{exchange_id}/cancel"): Row(
        lambda s, w, u: ("POST", f"/exchanges/{_exchange(w)}/cancel", {}),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    # SLA (issue 11 §2): the preview is open to every member and writes nothing; calendars, policies
    # and team calendars are organization settings; a ticket's clocks are read like the ticket.
    ("POST", "/sla/preview"): Row(
        lambda s, w, u: ("POST", "/sla/preview", {"arrival": "2026-12-07T09:00:00+01:00", "platform": "amazon"}),
        everyone(),
    ),
    # Triage (issue 11 §3): anyone with the view permission; the worker (Huey, immediate in tests) answers.
    ("POST", "/triage/classify"): Row(
        lambda s, w, u: ("POST", "/triage/classify", {"text": "Where is my parcel? Order 302-1234567-1234567"}),
        everyone(),
    ),
    # Which steps notify the buyer (issue 10 §7): organization settings, admins only.
    ("GET", "/returns/notification-steps"): Row(lambda s, w, u: ("GET", "/returns/notification-steps", None), admins()),
    ("PUT", "/returns/notification-steps"): Row(
        lambda s, w, u: ("PUT", "/returns/notification-steps", {"steps": {"refund_paid": True}}), admins()
    ),
    # Triage and routing switches (organization settings) and routing a ticket by skill (processing it).
    ("GET", "/triage/settings"): Row(lambda s, w, u: ("GET", "/triage/settings", None), admins()),
    ("PUT", "/triage/settings"): Row(lambda s, w, u: ("PUT", "/triage/settings", {"auto_route": True}), admins()),
    # The optional LLM classification provider (organization settings, its key encrypted): admins only.
    ("GET", "/triage/llm-provider"): Row(lambda s, w, u: ("GET", "/triage/llm-provider", None), admins()),
    ("PUT", "/triage/llm-provider"): Row(
        lambda s, w, u: ("PUT", "/triage/llm-provider", {"max_per_minute": 10}), admins()
    ),
    # Test connection and calibration: admins only (nothing configured here: the admin's call is a 422
    # naming base_url, after the permission check).
    ("POST", "/triage/llm-provider/test"): Row(lambda s, w, u: ("POST", "/triage/llm-provider/test", {}), admins(422)),
    ("GET", "/triage/llm-provider/test/{test_id}"): Row(
        lambda s, w, u: ("GET", f"/triage/llm-provider/test/{_llm_connection_test(w)}", None), ours()
    ),
    ("POST", "/triage/llm-provider/calibrate"): Row(
        lambda s, w, u: ("POST", "/triage/llm-provider/calibrate", {}), admins(422)
    ),
    ("POST", "/tickets/{ticket_id}/route"): Row(
        lambda s, w, u: ("POST", f"/tickets/{s.ticket.pk}/route", {}), ticket_write()
    ),
    ("GET", "/sla/calendars"): Row(lambda s, w, u: ("GET", "/sla/calendars", None), admins()),
    ("POST", "/sla/calendars"): Row(lambda s, w, u: ("POST", "/sla/calendars", SLA_CALENDAR), admins(201)),
    ("GET", "/sla/calendars/{calendar_id}"): Row(
        lambda s, w, u: ("GET", f"/sla/calendars/{_sla_calendar(w)}", None), ours()
    ),
    ("PUT", "/sla/calendars/{calendar_id}"): Row(
        lambda s, w, u: ("PUT", f"/sla/calendars/{_sla_calendar(w)}", SLA_CALENDAR), ours()
    ),
    ("DELETE", "/sla/calendars/{calendar_id}"): Row(
        lambda s, w, u: ("DELETE", f"/sla/calendars/{_sla_calendar(w)}", None), ours(204)
    ),
    ("GET", "/sla/team-calendars"): Row(lambda s, w, u: ("GET", "/sla/team-calendars", None), admins()),
    ("PUT", "/sla/team-calendars/{team_id}"): Row(
        lambda s, w, u: ("PUT", f"/sla/team-calendars/{w.team_us.pk}", {"calendar_id": _sla_calendar(w)}), ours()
    ),
    ("GET", "/sla/policies"): Row(lambda s, w, u: ("GET", "/sla/policies", None), admins()),
    ("POST", "/sla/policies"): Row(lambda s, w, u: ("POST", "/sla/policies", SLA_POLICY), admins(201)),
    ("GET", "/sla/policies/{policy_id}"): Row(lambda s, w, u: ("GET", f"/sla/policies/{_sla_policy(w)}", None), ours()),
    ("PUT", "/sla/policies/{policy_id}"): Row(
        lambda s, w, u: ("PUT", f"/sla/policies/{_sla_policy(w)}", SLA_POLICY), ours()
    ),
    ("DELETE", "/sla/policies/{policy_id}"): Row(
        lambda s, w, u: ("DELETE", f"/sla/policies/{_sla_policy(w)}", None), ours(204)
    ),
    # Rules (issue 11 §1): organization settings (admins; another organization's rule answers 404);
    # the field registry for anyone signed in; a ticket's rule log as reading the ticket.
    ("GET", "/rules"): Row(lambda s, w, u: ("GET", "/rules", None), admins()),
    ("POST", "/rules"): Row(lambda s, w, u: ("POST", "/rules", _rule_body()), admins(201)),
    ("GET", "/rules/fields"): Row(lambda s, w, u: ("GET", "/rules/fields", None), everyone()),
    ("POST", "/rules/enabled"): Row(
        lambda s, w, u: ("POST", "/rules/enabled", {"rule_ids": [_rule(w)], "enabled": True}), ours()
    ),
    ("GET", "/rules/{rule_id}"): Row(lambda s, w, u: ("GET", f"/rules/{_rule(w)}", None), ours()),
    ("PUT", "/rules/{rule_id}"): Row(lambda s, w, u: ("PUT", f"/rules/{_rule(w)}", _rule_body()), ours()),
    ("DELETE", "/rules/{rule_id}"): Row(lambda s, w, u: ("DELETE", f"/rules/{_rule(w)}", None), ours(204)),
    ("POST", "/rules/{rule_id}/enable"): Row(lambda s, w, u: ("POST", f"/rules/{_rule(w)}/enable", None), ours()),
    ("POST", "/rules/{rule_id}/disable"): Row(lambda s, w, u: ("POST", f"/rules/{_rule(w)}/disable", None), ours()),
    ("GET", "/rules/{rule_id}/versions"): Row(lambda s, w, u: ("GET", f"/rules/{_rule(w)}/versions", None), ours()),
    ("GET", "/rules/{rule_id}/executions"): Row(lambda s, w, u: ("GET", f"/rules/{_rule(w)}/executions", None), ours()),
    ("GET", "/tickets/{ticket_id}/rule-executions"): Row(
        lambda s, w, u: ("GET", f"/tickets/{s.ticket.pk}/rule-executions", None), ticket_read()
    ),
    # Rules tooling (issue 11 §1): the dry run, conflicts and A/B experiments are organization
    # settings (admins; another organization's rule or experiment answers 404).
    ("POST", "/rules/simulate"): Row(
        lambda s, w, u: ("POST", "/rules/simulate", {"document": _rule_body(), "days": 1}), admins()
    ),
    ("POST", "/rules/conflicts"): Row(
        lambda s, w, u: ("POST", "/rules/conflicts", {"document": _rule_body()}), admins()
    ),
    ("GET", "/rules/{rule_id}/conflicts"): Row(lambda s, w, u: ("GET", f"/rules/{_rule(w)}/conflicts", None), ours()),
    ("POST", "/rules/{rule_id}/experiments"): Row(
        lambda s, w, u: ("POST", f"/rules/{_rule(w)}/experiments", {"treatment_percent": 20}), ours(201)
    ),
    ("GET", "/rules/experiments"): Row(lambda s, w, u: ("GET", "/rules/experiments", None), admins()),
    ("GET", "/rules/webhook-secret"): Row(lambda s, w, u: ("GET", "/rules/webhook-secret", None), admins()),
    # Background dry runs (rules.simulation_runs): admins; another organization's run answers 404.
    ("GET", "/rules/simulation-runs"): Row(lambda s, w, u: ("GET", "/rules/simulation-runs", None), admins()),
    ("GET", "/rules/simulation-runs/{run_id}"): Row(
        lambda s, w, u: ("GET", f"/rules/simulation-runs/{_simulation_run(w)}", None), ours()
    ),
    ("POST", "/rules/simulation-runs/{run_id}/cancel"): Row(
        lambda s, w, u: ("POST", f"/rules/simulation-runs/{_simulation_run(w)}/cancel", None), ours()
    ),
    # Marketplace apps (one developer app per platform, channels/marketplace_apps.py): admins of the
    # organization; removing: ours (the foreign admin's organization has none: 404).
    ("GET", "/marketplace-apps"): Row(lambda s, w, u: ("GET", "/marketplace-apps", None), admins()),
    ("PUT", "/marketplace-apps/{platform}"): Row(
        lambda s, w, u: ("PUT", "/marketplace-apps/wish", {"credentials": {"client_id": "a", "client_secret": "b"}}),
        admins(),
    ),
    ("DELETE", "/marketplace-apps/{platform}"): Row(
        lambda s, w, u: ("DELETE", f"/marketplace-apps/{_marketplace_app(w)}", None), ours(204)
    ),
    ("POST", "/rules/webhook-secret/rotate"): Row(
        lambda s, w, u: ("POST", "/rules/webhook-secret/rotate", None), admins()
    ),
    # Per-rule webhook signing secrets: admins, for their own organization's rules (404 otherwise).
    ("GET", "/rules/{rule_id}/webhook-secrets"): Row(
        lambda s, w, u: ("GET", f"/rules/{_signed_rule(w)}/webhook-secrets", None), ours()
    ),
    ("POST", "/rules/{rule_id}/webhook-secrets/rotate"): Row(
        lambda s, w, u: ("POST", f"/rules/{_signed_rule(w)}/webhook-secrets/rotate", {"url": SIGNED_WEBHOOK}), ours()
    ),
    ("GET", "/rules/experiments/{experiment_id}"): Row(
        lambda s, w, u: ("GET", f"/rules/experiments/{_rule_experiment(w)}", None), ours()
    ),
    ("POST", "/rules/experiments/{experiment_id}/stop"): Row(
        lambda s, w, u: ("POST", f"/rules/experiments/{_rule_experiment(w)}/stop", None), ours()
    ),
    ("GET", "/tickets/{ticket_id}/sla"): Row(
        lambda s, w, u: ("GET", f"/tickets/{s.ticket.pk}/sla", None), ticket_read()
    ),
    # Follow-ups (issue 11 §5): settings and the coupon pool are organization settings; a ticket's
    # follow-up log as reading the ticket; CSAT per agent / team for approvers and admins.
    ("GET", "/followups/settings"): Row(lambda s, w, u: ("GET", "/followups/settings", None), admins()),
    ("PUT", "/followups/settings"): Row(
        lambda s, w, u: ("PUT", "/followups/settings", FOLLOWUP_SETTINGS),
        admins(),
    ),
    ("POST", "/followups/coupons/import"): Row(
        lambda s, w, u: ("POST", "/followups/coupons/import", {"csv": "code\nSORRY-1\n"}), admins(201)
    ),
    ("GET", "/tickets/{ticket_id}/follow-ups"): Row(
        lambda s, w, u: ("GET", f"/tickets/{s.ticket.pk}/follow-ups", None), ticket_read()
    ),
    ("GET", "/followups/csat"): Row(
        lambda s, w, u: ("GET", "/followups/csat", None),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 200},
    ),
    # Refunds (issue 10 §4) on the scene's US ticket's order: PROCESS requests, APPROVE decides (the
    # approver's limit covers 1.00), the foreign admin's organization has no such order / refund.
    ("POST", "/refunds"): Row(
        lambda s, w, u: (
            "POST",
            "/refunds",
            {
                "order_id": s.ticket.order_id,
                "ticket_id": s.ticket.pk,
                "kind": "partial",
                "currency": "USD",
                "amount": "1.00",
            },
        ),
        {**ticket_write(201), "outsider": 404},
    ),
    ("GET", "/refunds/review-queue"): Row(
        lambda s, w, u: ("GET", "/refunds/review-queue", None),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 200},
    ),
    ("GET", "/refunds/{refund_id}"): Row(lambda s, w, u: ("GET", f"/refunds/{_refund(s, w)}", None), ticket_read()),
    ("POST", "/refunds/{refund_id}/approve"): Row(
        lambda s, w, u: ("POST", f"/refunds/{_refund(s, w)}/approve", {"note": "ok"}),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 404},
    ),
    ("POST", "/refunds/{refund_id}/reject"): Row(
        lambda s, w, u: ("POST", f"/refunds/{_refund(s, w)}/reject", {"reason": "no"}),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 404},
    ),
    ("POST", "/refunds/{refund_id}/retry"): Row(
        lambda s, w, u: ("POST", f"/refunds/{_refund(s, w, 'failed')}/retry", None),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 404},
    ),
    ("POST", "/refunds/{refund_id}/mark-done"): Row(
        lambda s, w, u: ("POST", f"/refunds/{_refund(s, w, 'pending_sync')}/mark-done", {"platform_refund_id": "R-1"}),
        {**ticket_write(), "outsider": 404},
    ),
    ("POST", "/refunds/{refund_id}/cancel"): Row(
        lambda s, w, u: ("POST", f"/refunds/{_refund(s, w)}/cancel", {}), {**ticket_write(), "outsider": 404}
    ),
    ("GET", "/refunds/review-settings"): Row(lambda s, w, u: ("GET", "/refunds/review-settings", None), admins()),
    ("GET", "/settings/history"): Row(lambda s, w, u: ("GET", "/settings/history", None), admins()),
    ("PUT", "/refunds/review-settings"): Row(
        lambda s, w, u: (
            "PUT",
            "/refunds/review-settings",
            {"repeat_window_days": 30, "repeat_threshold": 2, "high_value_requires_evidence": False},
        ),
        admins(),
    ),
    # The RMA list, the exceptions list and bulk decisions (issue 10 §8): reads of one's own
    # organization (scoped by ticket); a bulk job's progress is its creator's and the admins'.
    ("GET", "/rmas"): Row(lambda s, w, u: ("GET", "/rmas", None), everyone()),
    ("GET", "/rmas/exceptions"): Row(lambda s, w, u: ("GET", "/rmas/exceptions", None), everyone()),
    ("POST", "/rmas/bulk"): Row(
        lambda s, w, u: (
            "POST",
            "/rmas/bulk",
            {"action": "request_evidence", "rma_ids": [_list_rma(s)], "params": {"kinds": ["photo"]}},
        ),
        ticket_write(202),
    ),
    ("GET", "/rmas/bulk/{job_id}"): Row(
        lambda s, w, u: ("GET", f"/rmas/bulk/{_rma_bulk_job(s, w)}", None),
        {**everyone(404), "agent": 200, "admin": 200},
    ),
    # RMAs (issue 10 §3, §8; api/routers/rmas.py): PROCESS opens and handles, APPROVE decides; an RMA
    # on a US ticket is unseen (404) by the DE team and other sellers; each request acts on a fresh RMA.
    ("POST", "/rmas"): Row(
        lambda s, w, u: ("POST", "/rmas", _rma_create_body(w)),
        {**ticket_write(201), "outsider": 422, "foreign_user": 422},
    ),
    # An agent opens the RMA of a marketplace return request (the ticket page's "Open RMA" button).
    ("POST", "/return-requests/{return_request_id}/rma"): Row(
        lambda s, w, u: ("POST", f"/return-requests/{_return_request(w)}/rma", {}), ticket_write(201)
    ),
    ("GET", "/rmas/{rma_id}"): Row(lambda s, w, u: ("GET", f"/rmas/{_rma(w)}", None), ticket_read()),
    ("GET", "/rmas/{rma_id}/slip.pdf"): Row(lambda s, w, u: ("GET", f"/rmas/{_rma(w)}/slip.pdf", None), ticket_read()),
    ("POST", "/rmas/{rma_id}/approve"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w)}/approve", {}), {**ticket_write(403), "approver": 200, "admin": 200}
    ),
    ("POST", "/rmas/{rma_id}/reject"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w)}/reject", {"reason": "Used"}),
        {**ticket_write(403), "approver": 200, "admin": 200},
    ),
    ("POST", "/rmas/{rma_id}/request-evidence"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w)}/request-evidence", {"kinds": ["photo"]}), ticket_write()
    ),
    ("POST", "/rmas/{rma_id}/add-evidence"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w)}/add-evidence", {"kind": "serial_number", "value": "SN-1234"}),
        ticket_write(201),
    ),
    ("POST", "/rmas/{rma_id}/offer-partial"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w)}/offer-partial", {"amount": "5.00"}),
        {**ticket_write(403), "approver": 200, "admin": 200},
    ),
    ("POST", "/rmas/{rma_id}/accept-partial"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'partial_offered')}/accept-partial", None), ticket_write()
    ),
    ("POST", "/rmas/{rma_id}/decline-partial"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'partial_offered')}/decline-partial", {}), ticket_write()
    ),
    ("POST", "/rmas/{rma_id}/issue-label"): Row(
        lambda s, w, u: (
            "POST",
            f"/rmas/{_rma(w, 'approved')}/issue-label",
            {"source": "carrier", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        ),
        ticket_write(),
    ),
    ("POST", "/rmas/{rma_id}/fetch-label"): Row(
        # not from a marketplace return: 422 naming rma_id for whoever may act (returns/tests covers eBay)
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'approved')}/fetch-label", None),
        ticket_write(422),
    ),
    ("POST", "/rmas/{rma_id}/mark-in-transit"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'approved')}/mark-in-transit", {}), ticket_write()
    ),
    ("POST", "/rmas/{rma_id}/receive"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'in_transit')}/receive", {}), ticket_write()
    ),
    ("POST", "/rmas/{rma_id}/inspect"): Row(lambda s, w, u: _rma_inspect_body(w), ticket_write()),
    ("GET", "/rmas/{rma_id}/evidence/{evidence_id}/file"): Row(
        lambda s, w, u: ("GET", _rma_evidence_file_url(w), None), ticket_read()
    ),
    # The RMA is not from a marketplace dispute that takes evidence: 422 field=rma_id for those who may process.
    ("POST", "/rmas/{rma_id}/evidence/{evidence_id}/platform-upload"): Row(
        lambda s, w, u: ("POST", _rma_evidence_file_url(w).removesuffix("/file") + "/platform-upload", None),
        ticket_write(422),
    ),
    ("POST", "/rmas/{rma_id}/resolve"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'inspected')}/resolve", {"outcome": "refunded"}),
        {**ticket_write(403), "approver": 200, "admin": 200},
    ),
    ("POST", "/rmas/{rma_id}/cancel"): Row(
        lambda s, w, u: ("POST", f"/rmas/{_rma(w, 'approved')}/cancel", {"reason": "x"}),
        {**ticket_write(403), "approver": 200, "admin": 200},
    ),
    # Warranty (issue 10 s6): units and claims are the organization's (PROCESS registers and opens,
    # APPROVE decides a claim), terms and reminder settings are organization settings (admins).
    ("POST", "/warranty/units"): Row(
        lambda s, w, u: ("POST", "/warranty/units", {"imei": WARRANTY_IMEI, "order_line_id": _warranty_line(w)}),
        {**ticket_write(201), "outsider": 201, "foreign_user": 404},
    ),
    ("POST", "/warranty/units/import"): Row(
        lambda s, w, u: (
            "POST",
            "/warranty/units/import",
            {"units": [{"serial_number": "SN-1", "order_line_id": _warranty_line(w)}]},
        ),
        {**ticket_write(201), "outsider": 201, "foreign_user": 404},
    ),
    ("GET", "/warranty/units/lookup"): Row(
        lambda s, w, u: ("GET", f"/warranty/units/lookup?q={_warranty_unit(w) and WARRANTY_IMEI}", None),
        {**everyone(), "foreign_user": 404},
    ),
    ("GET", "/warranty/units/{unit_id}"): Row(
        lambda s, w, u: ("GET", f"/warranty/units/{_warranty_unit(w)}", None), {**everyone(), "foreign_user": 404}
    ),
    ("GET", "/warranty/terms"): Row(lambda s, w, u: ("GET", "/warranty/terms", None), admins()),
    ("POST", "/warranty/terms"): Row(
        lambda s, w, u: ("POST", "/warranty/terms", {"category": "phones", "region": "EU", "months": 24}), admins(201)
    ),
    ("GET", "/warranty/terms/{term_id}"): Row(
        lambda s, w, u: ("GET", f"/warranty/terms/{_warranty_term(w)}", None), ours()
    ),
    ("PUT", "/warranty/terms/{term_id}"): Row(
        lambda s, w, u: ("PUT", f"/warranty/terms/{_warranty_term(w)}", {"region": "EU", "months": 30}), ours()
    ),
    ("DELETE", "/warranty/terms/{term_id}"): Row(
        lambda s, w, u: ("DELETE", f"/warranty/terms/{_warranty_term(w)}", None), ours(204)
    ),
    ("GET", "/warranty/settings"): Row(lambda s, w, u: ("GET", "/warranty/settings", None), admins()),
    ("PUT", "/warranty/settings"): Row(
        lambda s, w, u: ("PUT", "/warranty/settings", {"reminders_enabled": True, "reminder_days_before": 30}),
        admins(),
    ),
    ("GET", "/warranty/claims"): Row(lambda s, w, u: ("GET", "/warranty/claims", None), everyone()),
    ("POST", "/warranty/claims"): Row(
        lambda s, w, u: ("POST", "/warranty/claims", {"unit_id": _warranty_unit(w), "problem": "No sound"}),
        {**ticket_write(201), "outsider": 201, "foreign_user": 404},
    ),
    ("GET", "/warranty/claims/{claim_id}"): Row(
        lambda s, w, u: ("GET", f"/warranty/claims/{_warranty_claim(w)}", None), {**everyone(), "foreign_user": 404}
    ),
    ("POST", "/warranty/claims/{claim_id}/status"): Row(
        lambda s, w, u: (
            "POST",
            f"/warranty/claims/{_warranty_claim(w, 'under_review')}/status",
            {"status": "approved"},
        ),
        {**everyone(403), "approver": 200, "admin": 200, "foreign_user": 404},
    ),
    ("POST", "/warranty/claims/{claim_id}/resolve"): Row(
        lambda s, w, u: (
            "POST",
            f"/warranty/claims/{_warranty_claim(w, 'approved')}/resolve",
            {"resolution": "replacement"},
        ),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    # Shipped units from a CSV file: PROCESS, like the one-order form (another organization has
    # no such order: 422 naming row 2, column order).
    ("POST", "/warranty/units/import-csv"): Row(
        lambda s, w, u: _units_csv_request(w), {**ticket_write(201), "outsider": 201, "foreign_user": 422}
    ),
    ("GET", "/warranty/units/import-csv/example"): Row(
        lambda s, w, u: ("GET", "/warranty/units/import-csv/example", None), everyone()
    ),
    ("POST", "/warranty/orders/{order_id}/units"): Row(
        lambda s, w, u: _order_units_request(w), {**ticket_write(201), "outsider": 201, "foreign_user": 404}
    ),
    ("POST", "/warranty/claims/{claim_id}/replacement/reserve"): Row(
        lambda s, w, u: (
            "POST",
            f"/warranty/claims/{_warranty_replacement_claim(w, reserved=False)}/replacement/reserve",
            None,
        ),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    ("POST", "/warranty/claims/{claim_id}/replacement/ship"): Row(
        lambda s, w, u: (
            "POST",
            f"/warranty/claims/{_warranty_replacement_claim(w, reserved=True)}/replacement/ship",
            {"carrier": "DHL", "tracking_number": "JD01"},
        ),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    ("GET", "/warranty/repairs"): Row(lambda s, w, u: ("GET", "/warranty/repairs", None), everyone()),
    ("GET", "/warranty/repairs/{repair_id}"): Row(
        lambda s, w, u: ("GET", f"/warranty/repairs/{_warranty_repair(w)}", None), {**everyone(), "foreign_user": 404}
    ),
    ("POST", "/warranty/repairs/{repair_id}/status"): Row(
        lambda s, w, u: ("POST", f"/warranty/repairs/{_warranty_repair(w)}/status", {"status": "received"}),
        {**ticket_write(), "outsider": 200, "foreign_user": 404},
    ),
    # Ingestion needs the administer permission; the foreign admin may not post into our store.
    ("POST", "/inbound/messages"): Row(
        lambda s, w, u: ("POST", "/inbound/messages", {**INBOUND, "store_id": w.store_us.pk}),
        expect(
            anonymous=401, agent=403, teammate=403, outsider=403, viewer=403, approver=403, admin=201, foreign_user=404
        ),
    ),
}


def _refund(scene: Scene, world: Any, status: str = "pending_approval") -> int:
    """A refund of 1.00 on the scene's US ticket (requested by alice), moved to `status`."""
    from aftersales.core.actors import Actor
    from aftersales.returns.refunds import refund_request, refund_transition

    refund = refund_request(
        user=world.agent,
        order_id=scene.ticket.order_id,
        ticket_id=scene.ticket.pk,
        kind="partial",
        currency="USD",
        amount="1.00",
    )
    path = {"failed": ["approved", "executing", "failed"], "pending_sync": ["approved", "pending_sync"]}
    for step in path.get(status, []):
        refund_transition(refund, step, actor=Actor.system("test"))
    return refund.pk


def test_matrix_covers_every_route() -> None:
    routes = api_routes()
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, f"API routes without a permission-matrix row: {missing}"
    assert not stale, f"permission-matrix rows for routes that no longer exist: {stale}"


@pytest.fixture(scope="module")
def matrix_scene(django_db_setup: None, django_db_blocker: Any) -> Iterator[tuple[Scene, Any]]:
    """The world and its scene, built once per module (and test worker); each test starts from them in a
    savepoint rolled back after it (aftersales.testing.module_data), with its own copies of the Python
    objects. Before, each of the ~250 tests built them itself."""
    from aftersales.testing.module_data import built_once
    from aftersales.testing.personas import build_world

    def build() -> tuple[Scene, Any]:
        world = build_world()
        return build_scene(world), world

    yield from built_once(django_db_blocker, build)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_permission_matrix(route: tuple[str, str], matrix_scene: tuple[Scene, Any], db: None) -> None:
    scene, world = copy.deepcopy(matrix_scene)
    row = MATRIX[route]
    got: dict[str, int] = {}
    for persona in PERSONAS:
        user = None if persona == "anonymous" else getattr(world, persona)
        with transaction.atomic():
            method, path, body = row.build(scene, world, user)
            response = ApiClient(user=user).request(method, path, body)
            got[persona] = response.status_code
            if response.status_code >= 400:
                assert response.json()["error"]["code"], response.content
            transaction.set_rollback(True)
    assert got == row.statuses


# URLs of the API that are not operations: the schema and the docs are public, and say nothing
# about any organization's data.
PUBLIC_URLS = ("/openapi.json", "/docs", "/docs/assets/swagger-ui-bundle.js")


@pytest.mark.parametrize("path", PUBLIC_URLS)
def test_docs_and_schema_are_public(path: str, matrix_scene: tuple[Scene, Any], db: None) -> None:
    _scene, world = copy.deepcopy(matrix_scene)
    for persona in PERSONAS:
        user = None if persona == "anonymous" else getattr(world, persona)
        assert ApiClient(user=user).get(path).status_code == 200, persona


def test_every_api_url_is_covered() -> None:
    """Every URL pattern under /api/v1 is an operation (in MATRIX) or one of PUBLIC_URLS."""
    from django.urls import get_resolver

    from .helpers import PREFIX

    resolver = get_resolver()
    api_include = next(p for p in resolver.url_patterns if str(p.pattern) == "api/v1/")
    patterns: set[str] = set()
    for entry in api_include.url_patterns:
        for sub in getattr(entry, "url_patterns", [entry]):
            patterns.add(str(sub.pattern))
    operations = {path.lstrip("/").replace("{", "<").replace("}", ">") for _, path in MATRIX}
    public = {u.lstrip("/") for u in PUBLIC_URLS} - {"docs/assets/swagger-ui-bundle.js"} | {"docs/assets/<str:name>"}
    catch_all = {"", "^.*$"}  # the API root and unknown routes: JSON 404s, tested in test_errors
    assert patterns - operations - public - catch_all == set(), PREFIX


# --- RMAs (issue 10 §3): fresh objects per request, on a US order with a US ticket ---------------------


def _rma_order(world: Any) -> Any:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory, ShipmentFactory

    order = OrderFactory(store=world.store_us, ship_country="US")
    product = ProductFactory(organization=world.org, category="home")
    OrderLineFactory(order=order, product=product, sku=product.sku, quantity=1, unit_price_amount=Decimal("49.90"))
    ShipmentFactory(order=order, delivered_at=timezone.now() - timedelta(days=2))
    world.ticket(order=order, customer=order.customer)
    return order


def _rma_create_body(world: Any) -> dict[str, Any]:
    order = _rma_order(world)
    return {
        "order_id": order.pk,
        "lines": [{"order_line_id": order.lines.get().pk, "quantity": 1}],
        "reason": "changed_mind",
    }


def _return_request(world: Any) -> int:
    """A marketplace return (open there) of a fresh US order, on a US-team ticket of that order."""
    import uuid

    from aftersales.core.clock import now
    from aftersales.returns.models import ReturnRequest, ReturnRequestLine

    order = _rma_order(world)
    line = order.lines.get()
    request = ReturnRequest.objects.create(
        organization=world.org,
        store=world.store_us,
        external_id=f"matrix-{uuid.uuid4().hex}",
        kind="return",
        platform_status="Pending",
        platform_state="open",
        order=order,
        ticket=order.tickets.get(),
        reason="changed_mind",
        created_on_platform=now(),
    )
    ReturnRequestLine.objects.create(return_request=request, sku=line.sku, quantity=1, order_line=line)
    return request.pk


def _rma(world: Any, status: str = "requested") -> int:
    """An RMA of a fresh US order (its ticket in the US team's scope), moved to `status` by the admin."""
    from aftersales.inventory.models import Warehouse
    from aftersales.returns import rma_actions
    from aftersales.returns.rma import rma_approve, rma_create

    Warehouse.objects.get_or_create(
        organization=world.org, code="MX-RET", defaults={"name": "Returns", "is_return_hub": True}
    )
    body = _rma_create_body(world)
    rma = rma_create(user=world.admin, order_id=body["order_id"], lines=body["lines"], reason=body["reason"])
    a = world.admin
    if status == "partial_offered":
        rma_actions.rma_offer_partial(user=a, rma_id=rma.pk, amount="5.00")
    if status in ("approved", "in_transit", "received", "inspected"):
        rma_approve(user=a, rma_id=rma.pk)
    if status in ("in_transit", "received", "inspected"):
        rma_actions.rma_mark_in_transit(user=a, rma_id=rma.pk)
    if status in ("received", "inspected"):
        rma_actions.rma_receive(user=a, rma_id=rma.pk)
    if status == "inspected":
        line = rma.lines.get()
        rma_actions.rma_inspect(
            user=a, rma_id=rma.pk, lines=[{"line_id": line.pk, "checklist": {"complete_undamaged": True}}]
        )
    return rma.pk


def _rma_evidence_file_url(world: Any) -> str:
    """A QC photo of an RMA of the US ticket, stored under a random name (as rma_inspect stores it)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from aftersales.returns.models import Rma, RmaEvidence

    rma = Rma.objects.get(pk=_rma(world))
    name = default_storage.save(f"rma/{world.org.pk}/qc/matrix.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    evidence = RmaEvidence.objects.create(
        rma=rma, kind="qc_photo", file_name=name, actor_kind="user", at=rma.requested_at
    )
    return f"/rmas/{rma.pk}/evidence/{evidence.pk}/file"


def _rma_inspect_body(world: Any) -> tuple[str, str, Any]:
    from aftersales.returns.models import Rma

    rma = Rma.objects.get(pk=_rma(world, "received"))
    line = rma.lines.get()
    return (
        "POST",
        f"/rmas/{rma.pk}/inspect",
        {"lines": [{"line_id": line.pk, "checklist": {"complete_undamaged": True}}]},
    )
