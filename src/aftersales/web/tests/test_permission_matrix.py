"""The UI permission matrix: every persona x every URL pattern of the `web` namespace x each method
it accepts, with the expected status. A new pattern without a row here fails the suite.

Personas: anonymous; in "Shenzhen Gadgets" the agent alice and teammate bob (US team), the outsider
carol (DE team, cannot see US tickets), the viewer victor, the approver peter, the admin ada; the
foreigner (admin of another seller); and an orphan account with no organization or role.

Refusals (4xx) must also leave everything untouched: the test compares a snapshot of the objects
before and after each refused request."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse

from aftersales.accounts.models import Role, Team, User
from aftersales.accounts.services import api_token_create
from aftersales.catalog.models import Store
from aftersales.channels.models import MarketplaceApp, RawEvent, StoreSync, StreamCursor
from aftersales.core.clock import now
from aftersales.inbox.models import Attachment, CategoryLabel, DeliveryStatus, Message, SavedView, Ticket
from aftersales.inventory.models import InventoryMovement, Warehouse
from aftersales.language.models import GlossaryTerm, ReplyTemplateVariant, TranslationJob
from aftersales.language.templates import reply_template_save
from aftersales.notifications.models import Notification
from aftersales.returns.models import ExchangeRate, Refund, ReturnPolicyVersion, Rma, RmaBulkJob
from aftersales.testing.factories import UserFactory
from aftersales.tracking.models import TrackingAccount

PERSONAS = ("anonymous", "agent", "teammate", "outsider", "viewer", "approver", "admin", "foreigner", "orphan")
LOGIN = "login-redirect"  # a 302 to the login page


@dataclass
class Objects:
    world: Any
    ticket: Ticket
    target: Ticket
    failed: Message
    saved_view: SavedView
    token_id: int
    notification: Notification
    users: dict[str, Any]
    inbound: Message
    variant: ReplyTemplateVariant
    job: TranslationJob


@dataclass(frozen=True)
class Row:
    kwargs: Callable[[Objects], dict[str, int]]
    data: Callable[[Objects], dict[str, Any]]
    expect: dict[str, int | str]


def _none(o: Objects) -> dict[str, Any]:
    return {}


def _ticket(o: Objects) -> dict[str, int]:
    return {"ticket_id": o.ticket.pk}


def _attachment(o: Objects) -> dict[str, int]:
    """A photo the buyer attached to the inbound message of the US ticket."""
    attachment = Attachment(
        message=o.inbound, filename="photo.png", content_type="image/png", size=len(PNG), sha256="0" * 64
    )
    attachment.file.save("matrix.png", ContentFile(PNG), save=True)
    return {"attachment_id": attachment.pk}


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da6364f8cf500f"
    "00038601805a347d6b0000000049454e44ae426082"
)


def _people_user(o: Objects) -> dict[str, int]:
    return {"user_id": o.users["agent"].pk}


def _people_team(o: Objects) -> dict[str, int]:
    return {"team_id": o.world.team_us.pk}


def _people_role(o: Objects) -> dict[str, int]:
    return {"role_id": o.world.roles["viewer"].pk}


def _unused_role(o: Objects) -> dict[str, int]:
    role = Role.objects.create(organization=o.world.org, kind="viewer", name="Unused", permissions=["view"])
    return {"role_id": role.pk}


def _keyless_tracking_account(o: Objects) -> dict[str, int]:
    TrackingAccount.objects.get_or_create(organization=o.world.org, provider="17track")
    return {}


def _marketplace_app(o: Objects) -> dict[str, str]:
    """The organization's Wish app (no store connects through it)."""
    MarketplaceApp.objects.get_or_create(
        organization=o.world.org, platform="wish", defaults={"credentials": {"client_id": "a", "client_secret": "b"}}
    )
    return {"platform": "wish"}


def _llm_connection_test(o: Objects) -> dict[str, int]:
    """A connection test of the organization the worker has not run yet."""
    from aftersales.triage.models import LLMConnectionTest

    test = LLMConnectionTest.objects.create(
        organization=o.world.org, base_url="https://llm.example/v1", model="m", timeout_seconds=5
    )
    return {"test_id": test.pk}


def _bad_link(o: Objects) -> dict[str, str]:
    return {"uidb64": "MQ", "token": "c0ffee-0123456789abcdef"}


def _message(o: Objects) -> dict[str, int]:
    return {"ticket_id": o.ticket.pk, "message_id": o.inbound.pk}


def _store(o: Objects) -> dict[str, int]:
    return {"store_id": o.world.store_us.pk}


def _quarantined(o: Objects) -> dict[str, int]:
    """A record of a mailbox of the organization that cannot be imported (an empty message)."""
    mailbox = Store.objects.create(organization=o.world.org, name="Matrix mailbox", platform="email")
    row = RawEvent.objects.create(
        store=mailbox, stream="messages", event_id="matrix-bad", payload={}, status="quarantined", received_at=now()
    )
    return {"raw_event_id": row.pk}


def _warranty_unit(o: Objects) -> dict[str, int]:
    """A sold phone of the organization (kept on `o` for the form's data); no URL kwargs."""
    from datetime import timedelta

    from stdnum import luhn

    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory
    from aftersales.warranty.models import SoldUnit
    from aftersales.warranty.services import UnitInput, units_register

    world = o.world
    n = SoldUnit.objects.count() + 1  # several rows build units on one world (test_post_only_patterns_refuse_get)
    imei = f"35209900{n:06d}"
    phone = ProductFactory(organization=world.org, sku=f"MX-PHONE-{n}", category="phones", is_serialised=True)
    order = OrderFactory(store=world.store_us, placed_at=now() - timedelta(days=30), ship_country="US")
    line = OrderLineFactory(order=order, product=phone, sku=phone.sku, quantity=1)
    rows = [UnitInput(imei=imei + luhn.calc_check_digit(imei), order_line_id=line.pk)]
    unit = units_register(user=world.admin, rows=rows)[0]
    o.warranty_unit_id = unit.pk  # type: ignore[attr-defined]
    return {}


def _warranty_claim(status: str = "submitted") -> Callable[[Objects], dict[str, int]]:
    def build(o: Objects) -> dict[str, int]:
        from aftersales.warranty.models import RepairOrder
        from aftersales.warranty.services import claim_change_status, claim_open, claim_resolve

        admin = o.world.admin
        _warranty_unit(o)
        claim = claim_open(user=admin, unit_id=o.warranty_unit_id, problem="Screen flickers")  # type: ignore[attr-defined]
        if status in ("under_review", "approved", "repair"):
            claim_change_status(user=admin, claim_id=claim.pk, status="under_review")
        if status in ("approved", "repair"):
            claim_change_status(user=admin, claim_id=claim.pk, status="approved")
        if status == "repair":
            claim_resolve(user=admin, claim_id=claim.pk, resolution="repair")
            return {"claim_id": claim.pk, "repair_id": RepairOrder.objects.get(claim=claim).pk}
        return {"claim_id": claim.pk}

    return build


def _warranty_replacement(*, reserved: bool) -> Callable[[Objects], dict[str, int]]:
    """A claim resolved by a replacement: out of stock (no warehouse), or reserved in one."""

    def build(o: Objects) -> dict[str, int]:
        from aftersales.core.actors import Actor
        from aftersales.inventory.models import Warehouse
        from aftersales.inventory.services import stock_move
        from aftersales.warranty.models import ReplacementRequest
        from aftersales.warranty.replacements import replacement_reserve
        from aftersales.warranty.services import claim_resolve

        ids = _warranty_claim("approved")(o)
        claim_resolve(user=o.world.admin, claim_id=ids["claim_id"], resolution="replacement")
        if reserved:
            replacement = ReplacementRequest.objects.select_related("product").get(claim_id=ids["claim_id"])
            warehouse = Warehouse.objects.create(organization=o.world.org, code="MX-WH", name="Matrix")
            stock_move(
                organization_id=o.world.org.pk,
                warehouse_id=warehouse.pk,
                sku=replacement.product.sku,
                kind="receive",
                quantity=1,
                reference="matrix",
                idempotency_key="matrix:receive",
                actor=Actor.system("test"),
            )
            replacement_reserve(replacement_id=replacement.pk)
        return ids

    return build


def _units_csv(o: Objects) -> Any:
    """A fresh one-row shipped-units CSV upload for the order line of `_order_line`."""
    line = o.order_line  # type: ignore[attr-defined]
    text = f"order,line_id,identifier\n{line.order.external_id},{line.pk},490154203237518\n"
    return SimpleUploadedFile("units.csv", text.encode(), content_type="text/csv")


def _order_line(o: Objects) -> dict[str, int]:
    """An order line of the organization (kept on `o` for the form's data); no URL kwargs."""
    from aftersales.testing.factories import OrderFactory, OrderLineFactory, ProductFactory

    phone = ProductFactory(organization=o.world.org, sku="MX-UNITS", category="phones", is_serialised=True)
    line = OrderLineFactory(order=OrderFactory(store=o.world.store_us), product=phone, sku=phone.sku, quantity=1)
    o.order_line = line  # type: ignore[attr-defined]
    return {}


def _warranty_term(o: Objects) -> dict[str, int]:
    from aftersales.warranty.models import WarrantyTerm
    from aftersales.warranty.services import term_save

    existing = WarrantyTerm.objects.filter(organization=o.world.org, category="phones", region="EU").first()
    term = existing or term_save(user=o.world.admin, category="phones", region="EU", months=24)
    return {"term_id": term.pk}


def admins(status: int) -> dict[str, int]:
    """Translation settings: the organization's admin, and the foreign admin (for their own seller)."""
    return {**everyone(403), "admin": status, "foreigner": status}


def _sla_calendar(o: Objects) -> dict[str, int]:
    """A business calendar of the organization (the foreign admin must not find it)."""
    from aftersales.sla.models import BusinessCalendar

    return {"calendar_id": BusinessCalendar.objects.create(organization=o.world.org, name="Matrix", timezone="UTC").pk}


RULE_FORM = {
    "name": "Matrix web rule",
    "trigger": "ticket_created",
    "priority": "100",
    "n:r:mode": "all",
    "a:0:type": "set_urgency",
    "a:0:params": '{"urgency": "high"}',
    "days": "1",
}


def _web_rule(o: Objects) -> dict[str, int]:
    """A new rule of the organization (the foreign admin must not find it)."""
    from aftersales.rules.models import Rule
    from aftersales.rules.services import rule_create

    document = {
        "name": f"Matrix {Rule.objects.filter(organization=o.world.org).count()}",
        "trigger": "ticket_created",
        "conditions": {"all": []},
        "actions": [{"type": "set_urgency", "params": {"urgency": "high"}}],
    }
    return {"rule_id": rule_create(user=o.world.admin, data=document).pk}


WEB_SIGNED_WEBHOOK = "https://hooks.example.com/matrix"


def _web_signed_rule(o: Objects) -> dict[str, int]:
    """A new rule of the organization whose webhook signs with the rule's own secret."""
    from aftersales.rules.models import Rule
    from aftersales.rules.services import rule_create

    document = {
        "name": f"Matrix signed {Rule.objects.filter(organization=o.world.org).count()}",
        "trigger": "ticket_created",
        "conditions": {"all": []},
        "actions": [{"type": "notify_webhook", "params": {"url": WEB_SIGNED_WEBHOOK, "signing": "rule"}}],
    }
    return {"rule_id": rule_create(user=o.world.admin, data=document).pk}


def _web_simulation_run(o: Objects) -> dict[str, int]:
    """A background dry run of the organization (the foreign admin must not find it)."""
    from django.utils import timezone

    from aftersales.rules.simulation_run_models import RuleSimulationRun

    at = timezone.now()
    run = RuleSimulationRun.objects.create(
        organization=o.world.org, trigger="ticket_created", document={}, days=1, since=at, until=at
    )
    return {"run_id": run.pk}


def _web_rule_experiment(o: Objects) -> dict[str, int]:
    from aftersales.rules.experiments import experiment_start

    rule_id = _web_rule(o)["rule_id"]
    return {"experiment_id": experiment_start(user=o.world.admin, rule_id=rule_id, treatment_percent=50).pk}


def _sla_policy(o: Objects) -> dict[str, int]:
    from aftersales.sla.models import SlaPolicy

    row = SlaPolicy.objects.create(
        organization=o.world.org, name="Matrix", first_response_minutes=60, resolution_minutes=600
    )
    return {"policy_id": row.pk}


RETURN_POLICY_YAML = (
    "schema_version: 1\nreporting_currency: USD\nreasons: [{code: changed_mind}]\nwindows: [{code: D, days: 30}]\n"
)
RETURN_CHECK = {
    "site": "amazon.de",
    "delivery_country": "DE",
    "delivered_at": "2026-03-20T10:00:00+01:00",
    "requested_at": "2026-04-03T21:59:59+00:00",
    "category": "home",
    "unit_price": "49.90",
    "currency": "USD",
    "reason": "changed_mind",
    "quantity_purchased": "1",
    "quantity_already_returned": "0",
    "quantity_requested": "1",
}
GLOSSARY_CSV = b"source_language,target_language,term,translation\nen,es,charger,cargador\n"
STORE_FORM = {"default_language": "en", "timezone": "UTC", "currency": "USD", "is_active": "on"}


def expect(anonymous: int | str, org: dict[str, int], orphan: int) -> dict[str, int | str]:
    table: dict[str, int | str] = {"anonymous": anonymous, "orphan": orphan}
    table.update(org)
    assert set(table) == set(PERSONAS), sorted(set(PERSONAS) - set(table))
    return table


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(("agent", "teammate", "outsider", "viewer", "approver", "admin", "foreigner"), status)


def only_agent(status: int) -> dict[str, int]:
    """Objects that belong to alice (her saved view, token, notification): others get 404."""
    return {**everyone(404), "agent": status}


def ticket_sight(status: int, viewer: int | None = None) -> dict[str, int]:
    """The US ticket: seen by the US team, the approver and the admin; not by carol nor the foreigner."""
    return {
        "agent": status,
        "teammate": status,
        "approver": status,
        "admin": status,
        "viewer": status if viewer is None else viewer,
        "outsider": 404,
        "foreigner": 404,
    }


def _rma_order(o: Objects) -> Any:
    """An order with one line on the US ticket (created once per test)."""
    from aftersales.testing.factories import OrderFactory, OrderLineFactory

    ticket = Ticket.objects.get(pk=o.ticket.pk)
    if ticket.order_id is None:
        order = OrderFactory(store=o.world.store_us, customer=ticket.customer, currency="USD")
        OrderLineFactory(order=order, quantity=2, unit_price_amount="49.00", currency="USD")
        Ticket.objects.filter(pk=ticket.pk).update(order=order)
        ticket.refresh_from_db()
    return ticket.order


def _matrix_rma(o: Objects) -> int:
    """A requested RMA on the US ticket (seen by whoever sees the ticket)."""
    from aftersales.returns.models import Rma, RmaLine

    existing = Rma.objects.filter(ticket_id=o.ticket.pk).first()
    if existing is not None:
        return existing.pk
    order = _rma_order(o)
    line = order.lines.get()
    rma = Rma.objects.create(
        organization=o.world.org,
        store=o.world.store_us,
        number="RMA-2026-800001",
        order=order,
        customer=order.customer,
        ticket_id=o.ticket.pk,
        reason="defective",
        requested_at=now(),
    )
    RmaLine.objects.create(
        rma=rma, order_line=line, sku=line.sku, quantity=1, unit_price_amount=line.unit_price_amount, currency="USD"
    )
    return rma.pk


def _rma(o: Objects) -> dict[str, int]:
    return {"rma_id": _matrix_rma(o)}


def _rma_evidence_file(o: Objects) -> dict[str, int]:
    """A QC photo of the US ticket's RMA, stored under a random name (as rma_inspect stores it)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from aftersales.returns.models import RmaEvidence

    rma_id = _matrix_rma(o)
    name = default_storage.save(f"rma/{o.world.org.pk}/qc/matrix.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    evidence = RmaEvidence.objects.create(rma_id=rma_id, kind="qc_photo", file_name=name, actor_kind="user", at=now())
    return {"rma_id": rma_id, "evidence_id": evidence.pk}


def _bulk_rma(o: Objects) -> dict[str, int]:
    """The RMA is made before the snapshot; the form data names it."""
    o.bulk_rma_id = _matrix_rma(o)  # type: ignore[attr-defined]
    return {}


def _rma_bulk_job(o: Objects) -> dict[str, int]:
    from aftersales.returns.models import RmaBulkItem, RmaBulkJob

    job = RmaBulkJob.objects.create(organization=o.world.org, created_by=o.world.agent, action="approve", total=1)
    RmaBulkItem.objects.create(job=job, rma_id=_matrix_rma(o), position=0)
    return {"job_id": job.pk}


def _refund(o: Objects) -> dict[str, int]:
    """A 10 USD refund of the RMA waiting for approval, asked by alice."""
    from aftersales.returns.models import Refund

    rma_id = _matrix_rma(o)
    order = _rma_order(o)
    refund = Refund.objects.create(
        organization=o.world.org,
        store=o.world.store_us,
        order=order,
        rma_id=rma_id,
        ticket_id=o.ticket.pk,
        kind="partial",
        status="pending_approval",
        amount="10.00",
        currency="USD",
        idempotency_key=f"matrix-refund-{uuid.uuid4().hex}",  # one per call (several rows build one)
        requested_by=o.world.agent,
    )
    return {"refund_id": refund.pk}


def _ticket_with_order(o: Objects) -> dict[str, int]:
    _rma_order(o)
    return {"ticket_id": o.ticket.pk}


def _return_request(o: Objects) -> dict[str, int]:
    """A marketplace return (open there) of the US ticket's order, on that ticket."""
    from aftersales.returns.models import ReturnRequest, ReturnRequestLine

    order = _rma_order(o)
    line = order.lines.get()
    request = ReturnRequest.objects.create(
        organization=o.world.org,
        store=o.world.store_us,
        external_id=f"matrix-{uuid.uuid4().hex}",
        kind="return",
        platform_status="Pending",
        platform_state="open",
        order=order,
        ticket_id=o.ticket.pk,
        reason="defective",
        created_on_platform=now(),
    )
    ReturnRequestLine.objects.create(return_request=request, sku=line.sku, quantity=1, order_line=line)
    return {"return_request_id": request.pk}


def _return_form(o: Objects) -> dict[str, Any]:
    line = _rma_order(o).lines.get()
    return {f"qty-{line.pk}": "1", "reason": "defective"}


def rma_deciders(status: int) -> dict[str, int]:
    """Approving or rejecting a return of the US ticket: approvers and admins; agents may not (403);
    carol and the foreigner do not see it (404)."""
    return {**ticket_sight(403), "approver": status, "admin": status}


def _warehouse(o: Objects) -> dict[str, int]:
    """A warehouse of the organization (the foreign admin must not find it)."""
    from aftersales.inventory.models import Warehouse

    warehouse = Warehouse.objects.create(organization=o.world.org, code=f"SZ-{uuid.uuid4().hex[:8]}", name="Shenzhen")
    o.warehouse_id = warehouse.pk  # type: ignore[attr-defined]
    return {"warehouse_id": warehouse.pk}


def _stock_product(o: Objects) -> dict[str, int]:
    """A product and a warehouse of the organization, for goods received from the Stock page."""
    from aftersales.catalog.models import Product
    from aftersales.testing.factories import ProductFactory

    if not Product.objects.filter(organization=o.world.org, sku="MX-STOCK").exists():  # several rows build it
        ProductFactory(organization=o.world.org, sku="MX-STOCK")
    _warehouse(o)
    return {}


MATRIX: dict[tuple[str, str], Row] = {
    ("login", "GET"): Row(_none, _none, expect(200, everyone(302), 302)),
    ("login", "POST"): Row(
        _none, lambda o: {"username": "alice", "password": "wrong"}, expect(200, everyone(302), 302)
    ),
    ("logout", "POST"): Row(_none, _none, expect(302, everyone(302), 302)),
    ("inbox", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("inbox_bulk", "POST"): Row(
        _none,
        lambda o: {"ticket_ids": [o.ticket.pk], "action": "status", "status": "pending_customer"},
        expect(LOGIN, {**everyone(302), "viewer": 403}, 403),
    ),
    ("inbox_counts", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("saved_view_create", "POST"): Row(
        _none, lambda o: {"name": "Matrix view", "query": "platform=ebay"}, expect(LOGIN, everyone(302), 403)
    ),
    ("saved_view_delete", "POST"): Row(
        lambda o: {"view_id": o.saved_view.pk}, _none, expect(LOGIN, only_agent(302), 403)
    ),
    ("ticket", "GET"): Row(_ticket, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("ticket_next", "GET"): Row(_ticket, _none, expect(LOGIN, ticket_sight(302), 403)),
    ("ticket_presence", "GET"): Row(_ticket, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("ticket_reply", "POST"): Row(
        _ticket, lambda o: {"body": "Hello"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    # The ticket's store has no templates: the refusal comes back on the page (302) for those who may reply.
    ("ticket_template_message", "POST"): Row(
        _ticket, lambda o: {"name": "x", "language": "en"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("ticket_note", "POST"): Row(
        _ticket, lambda o: {"body": "@bob look"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("ticket_status", "POST"): Row(
        _ticket, lambda o: {"status": "on_hold"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("ticket_assign", "POST"): Row(
        _ticket, lambda o: {"assignee": o.users["teammate"].pk}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    # the same permission as POST /api/v1/tickets/{id}/route (PROCESS on a ticket one may see)
    ("ticket_route", "POST"): Row(_ticket, _none, expect(LOGIN, ticket_sight(302, viewer=403), 403)),
    ("ticket_fields", "POST"): Row(
        _ticket,
        lambda o: {"category": "refund", "urgency": "high", "is_high_priority": ["0", "1"], "team": ""},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("ticket_tags", "POST"): Row(
        _ticket, lambda o: {"add": "matrix"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("ticket_merge", "POST"): Row(
        _ticket, lambda o: {"target_id": o.target.pk}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("message_retry", "POST"): Row(
        lambda o: {"ticket_id": o.ticket.pk, "message_id": o.failed.pk},
        _none,
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("message_retranslate", "POST"): Row(_message, _none, expect(LOGIN, ticket_sight(302, viewer=403), 403)),
    # Buyers' files and the "load images" view of a message: whoever may see the ticket.
    ("attachment", "GET"): Row(_attachment, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("message_images", "GET"): Row(_message, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("translation_correct", "POST"): Row(
        _message, lambda o: {"text": "Hello, my package"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("reply_translate", "POST"): Row(
        _ticket, lambda o: {"body": "Hello"}, expect(LOGIN, ticket_sight(200, viewer=403), 403)
    ),
    ("reply_template", "POST"): Row(
        _ticket,
        lambda o: {"template_id": o.variant.template_id},
        expect(LOGIN, ticket_sight(200, viewer=403), 403),
    ),
    ("template_variant_approve", "POST"): Row(
        lambda o: {"ticket_id": o.ticket.pk, "variant_id": o.variant.pk},
        _none,
        expect(LOGIN, {**ticket_sight(403), "admin": 302}, 403),  # organization templates: admins
    ),
    ("translation_job_create", "POST"): Row(
        _none,
        lambda o: {"ticket_ids": [o.ticket.pk]},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("translation_job", "GET"): Row(
        lambda o: {"job_id": o.job.pk},
        _none,
        expect(LOGIN, ticket_sight(200), 403),  # as the API: 404 out of scope
    ),
    # Returns (issue 10 §8): the RMA list, its bulk decisions, the RMA page and its actions, the
    # refund review queue, the exceptions list; "Create return" and "Refund" from a ticket.
    ("rmas", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("rma_bulk", "POST"): Row(
        _bulk_rma,
        lambda o: {"rma_ids": [o.bulk_rma_id], "action": "request_evidence", "kinds": ["photo"]},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("rma_bulk_job", "GET"): Row(
        _rma_bulk_job, _none, expect(LOGIN, {**everyone(404), "agent": 200, "admin": 200}, 403)
    ),
    ("refund_review", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("rma_exceptions", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("rma", "GET"): Row(_rma, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("rma_approve", "POST"): Row(_rma, _none, expect(LOGIN, rma_deciders(302), 403)),
    ("rma_reject", "POST"): Row(
        _rma, lambda o: {"reason": "Outside the window"}, expect(LOGIN, rma_deciders(302), 403)
    ),
    ("rma_request_evidence", "POST"): Row(
        _rma, lambda o: {"kinds": ["photo"]}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("rma_refund", "POST"): Row(
        _rma,
        lambda o: {"kind": "partial", "amount": "10.00", "reason": "scratch"},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    # A requested RMA: evidence may be added and it may be cancelled; no label, receipt or resolution yet (409).
    ("rma_evidence", "POST"): Row(
        _rma,
        lambda o: {"kind": "serial_number", "value": "SN-MATRIX-1"},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("rma_label", "POST"): Row(
        _rma,
        lambda o: {"carrier": "UPS", "tracking_number": "1ZMATRIX"},
        expect(LOGIN, ticket_sight(409, viewer=403), 403),
    ),
    ("rma_label_fetch", "POST"): Row(_rma, _none, expect(LOGIN, ticket_sight(422, viewer=403), 403)),
    ("rma_receive", "POST"): Row(_rma, _none, expect(LOGIN, ticket_sight(409, viewer=403), 403)),
    ("rma_resolve", "POST"): Row(_rma, lambda o: {"outcome": "refunded"}, expect(LOGIN, rma_deciders(409), 403)),
    ("rma_cancel", "POST"): Row(
        _rma, lambda o: {"reason": "Buyer withdrew"}, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("rma_slip", "GET"): Row(_rma, _none, expect(LOGIN, ticket_sight(200), 403)),
    # A requested RMA: a partial refund may be offered (APPROVE); nothing is on offer to accept or
    # decline yet, and it is not received, so not inspected (409 once the role and the sight pass).
    ("rma_offer_partial", "POST"): Row(_rma, lambda o: {"amount": "5.00"}, expect(LOGIN, rma_deciders(302), 403)),
    ("rma_accept_partial", "POST"): Row(_rma, _none, expect(LOGIN, ticket_sight(409, viewer=403), 403)),
    ("rma_decline_partial", "POST"): Row(_rma, _none, expect(LOGIN, ticket_sight(409, viewer=403), 403)),
    ("rma_inspect", "POST"): Row(
        _rma, lambda o: {"line_ids": ["1"]}, expect(LOGIN, ticket_sight(409, viewer=403), 403)
    ),
    ("rma_evidence_file", "GET"): Row(_rma_evidence_file, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("rma_evidence_platform_upload", "POST"): Row(
        _rma_evidence_file, _none, expect(LOGIN, ticket_sight(422, viewer=403), 403)
    ),
    # The role is checked before the refund is looked up: carol (an agent) is refused, not "not found".
    ("refund_approve", "POST"): Row(_refund, _none, expect(LOGIN, {**rma_deciders(302), "outsider": 403}, 403)),
    ("refund_reject", "POST"): Row(
        _refund, lambda o: {"reason": "No"}, expect(LOGIN, {**rma_deciders(302), "outsider": 403}, 403)
    ),
    ("ticket_return_create", "GET"): Row(_ticket_with_order, _none, expect(LOGIN, ticket_sight(200, viewer=403), 403)),
    ("ticket_return_create", "POST"): Row(
        _ticket_with_order, _return_form, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("return_request_rma_create", "POST"): Row(
        _return_request, _none, expect(LOGIN, ticket_sight(302, viewer=403), 403)
    ),
    ("ticket_refund_create", "GET"): Row(_ticket_with_order, _none, expect(LOGIN, ticket_sight(200, viewer=403), 403)),
    ("ticket_refund_create", "POST"): Row(
        _ticket_with_order,
        lambda o: {"kind": "partial", "amount": "5.00", "reason": "late"},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    ("ticket_mark_shipped", "GET"): Row(_ticket_with_order, _none, expect(LOGIN, ticket_sight(200, viewer=403), 403)),
    ("ticket_mark_shipped", "POST"): Row(
        _ticket_with_order,
        lambda o: {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"},
        expect(LOGIN, ticket_sight(302, viewer=403), 403),
    ),
    # An Amazon store's ticket (no close_ticket): 422 for those who may process it.
    ("ticket_platform_close", "POST"): Row(
        _ticket_with_order, _none, expect(LOGIN, ticket_sight(422, viewer=403), 403)
    ),
    ("ticket_platform_escalate", "POST"): Row(
        _ticket_with_order, _none, expect(LOGIN, ticket_sight(422, viewer=403), 403)
    ),
    ("notifications", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("notifications_badge", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("notifications_read", "POST"): Row(_none, _none, expect(LOGIN, everyone(302), 403)),
    ("notification_open", "GET"): Row(
        lambda o: {"notification_id": o.notification.pk}, _none, expect(LOGIN, only_agent(302), 403)
    ),
    ("settings", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("settings_language", "POST"): Row(_none, lambda o: {"language": "en"}, expect(LOGIN, everyone(302), 403)),
    ("token_create", "POST"): Row(
        _none, lambda o: {"name": "ci", "scopes": ["read"]}, expect(LOGIN, everyone(200), 403)
    ),
    # Sign-in lockouts of the organization's users: its admins; another seller's user is not found.
    ("settings_security", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_security_unlock", "POST"): Row(
        lambda o: {"user_id": o.users["agent"].pk}, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("token_revoke", "POST"): Row(lambda o: {"token_id": o.token_id}, _none, expect(LOGIN, only_agent(302), 403)),
    ("glossary_import", "POST"): Row(
        _none,
        lambda o: {"file": SimpleUploadedFile("glossary.csv", GLOSSARY_CSV, "text/csv")},
        expect(LOGIN, admins(302), 403),
    ),
    ("glossary_export", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("translation_providers", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("translation_provider_save", "POST"): Row(
        _none,
        lambda o: {"name": "local-llm", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"},
        expect(LOGIN, admins(302), 403),
    ),
    ("translation_route_save", "POST"): Row(
        _none, lambda o: {"source_language": "de", "target_language": "zh"}, expect(LOGIN, admins(302), 403)
    ),
    # Stores, category labels, reply templates (issue 7): the organization's admins; another
    # seller's admin reaches their own pages but none of our ids (404).
    ("settings_stores", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_stores", "POST"): Row(
        _none, lambda o: {"name": "Matrix store", "platform": "ebay", **STORE_FORM}, expect(LOGIN, admins(302), 403)
    ),
    ("settings_store", "POST"): Row(
        lambda o: {"store_id": o.world.store_us.pk},
        lambda o: {"name": "Amazon US", "platform": "amazon", **STORE_FORM, "site": "amazon.ca"},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    # A store's connection (issue 9 §1): the organization's admins; another seller's admin gets 404
    # for our ids and sees their own (empty) "needs a human" list. Amazon US has no credentials:
    # test / backfill / sync now are refused with 409 before any platform is called.
    ("settings_store_connection", "GET"): Row(_store, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_store_connection", "POST"): Row(
        _store,
        lambda o: {"lwa_client_id": "amzn1.application-oa2-client.m", "lwa_client_secret": "s", "refresh_token": "r"},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_store_test", "POST"): Row(_store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)),
    # Amazon US's connector lists no message templates: 409 for our admins.
    ("settings_store_templates_sync", "POST"): Row(
        _store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)
    ),
    ("settings_store_webhooks", "POST"): Row(_store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)),
    # an Amazon store is no mailbox: 409 for its admin
    ("settings_mailbox_oauth_connect", "POST"): Row(
        _store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)
    ),
    # no connection was started in the session: 422 whoever asks (nothing to finish, nothing shown)
    ("mailbox_oauth_callback", "GET"): Row(_none, _none, expect(LOGIN, everyone(422), 403)),
    # Connect through the platform's consent page (issues 9/12): Amazon US has no app keys (409 for our
    # admins); the callback without a state is a 400 for any admin, 403 for the others.
    ("settings_store_authorize", "POST"): Row(_store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)),
    ("store_authorization_callback", "GET"): Row(_none, _none, expect(LOGIN, admins(400), 403)),
    ("settings_store_pause", "POST"): Row(
        _store, lambda o: {"reason": "matrix"}, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_store_resume", "POST"): Row(_store, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)),
    ("settings_store_backfill", "POST"): Row(
        _store, lambda o: {"since": "2026-01-01"}, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)
    ),
    ("settings_store_run", "POST"): Row(_store, _none, expect(LOGIN, {**admins(409), "foreigner": 404}, 403)),
    ("settings_store_quarantine", "GET"): Row(_store, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_quarantined_retry", "POST"): Row(
        _quarantined, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_attention", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    # Parcel tracking (issue 9 §6): the organization's admins. "Test connection" with an account
    # without a key: 422 naming api_key; the foreign admin's organization has no account (404).
    ("settings_tracking", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_tracking", "POST"): Row(
        _none,
        lambda o: {"api_key": "MATRIX-KEY", "poll_interval_hours": "6", "is_active": "on"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_tracking_test", "POST"): Row(
        _keyless_tracking_account, _none, expect(LOGIN, {**admins(422), "foreigner": 404}, 403)
    ),
    # Marketplace apps (one developer app per platform): the organization's admins. Removing the
    # organization's app: the foreign admin's organization has none (404 on the page, naming it).
    ("settings_marketplace_apps", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_marketplace_app", "POST"): Row(
        lambda o: {"platform": "wish"},
        lambda o: {"client_id": "matrix", "client_secret": "matrix-secret"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_marketplace_app_delete", "POST"): Row(
        _marketplace_app, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    # Warehouses (Settings, admins) and the Stock page (issue 10 s5): stock is read by everyone of
    # the organization; goods received / count adjustments need PROCESS (the foreign admin names a
    # warehouse of ours: 422 on the form).
    ("settings_warehouses", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_warehouses", "POST"): Row(
        _none, lambda o: {"code": "LAX", "name": "LA hub", "is_active": "on"}, expect(LOGIN, admins(302), 403)
    ),
    ("settings_warehouse", "POST"): Row(
        _warehouse,
        lambda o: {"code": "SZ", "name": "Shenzhen main", "is_active": "on"},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("stock", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("stock_record", "POST"): Row(
        _stock_product,
        lambda o: {"sku": "MX-STOCK", "warehouse_id": str(o.warehouse_id), "kind": "receive", "quantity": "2"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 422}, 403),
    ),
    # Warranty and repair (issue 10 §6): units and claims are the organization's (not a team's);
    # deciding a claim needs the approve permission; terms and reminders are organization settings.
    ("warranty", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("warranty_claim_create", "POST"): Row(
        _warranty_unit,
        lambda o: {"unit_id": o.warranty_unit_id, "problem": "No sound"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    ("warranty_claim", "GET"): Row(_warranty_claim(), _none, expect(LOGIN, {**everyone(200), "foreigner": 404}, 403)),
    ("warranty_claim_status", "POST"): Row(
        _warranty_claim("under_review"),
        lambda o: {"status": "approved"},
        expect(LOGIN, {**everyone(403), "approver": 302, "admin": 302, "foreigner": 404}, 403),
    ),
    ("warranty_claim_resolve", "POST"): Row(
        _warranty_claim("approved"),
        lambda o: {"resolution": "replacement"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    ("warranty_order_units", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("warranty_order_units", "POST"): Row(
        _order_line,
        lambda o: {"order_id": o.order_line.order_id, f"line_{o.order_line.pk}": "490154203237518"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    # Shipped units from a CSV file: PROCESS, like the one-order form (the foreign admin's
    # organization has no such order: the row is refused, 422 naming row 2, column order).
    ("warranty_units_import", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("warranty_units_import", "POST"): Row(
        _order_line,
        lambda o: {"action": "preview", "file": _units_csv(o)},
        expect(LOGIN, {**everyone(200), "viewer": 403, "foreigner": 422}, 403),
    ),
    ("warranty_units_import_example", "GET"): Row(_none, _none, expect(LOGIN, everyone(200), 403)),
    ("warranty_replacement_reserve", "POST"): Row(
        _warranty_replacement(reserved=False),
        _none,
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    ("warranty_replacement_ship", "POST"): Row(
        _warranty_replacement(reserved=True),
        lambda o: {"carrier": "DHL", "tracking_number": "JD01"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    ("warranty_repair_status", "POST"): Row(
        _warranty_claim("repair"),
        lambda o: {"status": "received"},
        expect(LOGIN, {**everyone(302), "viewer": 403, "foreigner": 404}, 403),
    ),
    ("settings_warranty", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_warranty", "POST"): Row(
        _none,
        lambda o: {"category": "phones", "region": "EU", "customer_tier": "", "months": "24"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_warranty_term_delete", "POST"): Row(
        _warranty_term, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_warranty_reminders", "POST"): Row(
        _none,
        lambda o: {"reminders_enabled": "on", "reminder_days_before": "30"},
        expect(LOGIN, admins(302), 403),
    ),
    # Return policy (issue 10 §1-2): the organization's admins; a saved document is a new version,
    # the try-it form writes nothing (a refused document is a 422 naming its path).
    ("settings_returns", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_returns", "POST"): Row(
        _none,
        lambda o: {"document": RETURN_POLICY_YAML, "comment": "matrix"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_returns_check", "POST"): Row(_none, lambda o: RETURN_CHECK, expect(LOGIN, admins(200), 403)),
    ("settings_returns_rate", "POST"): Row(
        _none, lambda o: {"currency": "EUR", "rate": "1.08"}, expect(LOGIN, admins(302), 403)
    ),
    # Refund review thresholds (issue 10 §4): the same service and permission as PUT
    # /api/v1/refunds/review-settings, the organization's admins.
    ("settings_review", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_history", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_review", "POST"): Row(
        _none,
        lambda o: {"repeat_window_days": "60", "repeat_threshold": "2", "shared_address_window_days": "90"},
        expect(LOGIN, admins(302), 403),
    ),
    # SLA (issue 11 §2): calendars, policies and team calendars are organization settings; the
    # try-it form writes nothing; another organization's calendar, policy or team is not found.
    ("settings_sla", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    # Follow-ups (issue 11 §5): organization settings and the coupon pool, admins only.
    ("settings_followups", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_followups", "POST"): Row(
        _none,
        lambda o: {
            "csat_enabled": "on",
            "stall_days": "7",
            "csat_delay_hours": "24",
            "csat_sample_percent": "100",
            "csat_link_days": "14",
            "thanks_categories": "complaint",
        },
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_followups_coupons", "POST"): Row(
        _none, lambda o: {"csv": "code\nSORRY-1\n"}, expect(LOGIN, admins(302), 403)
    ),
    # Which steps notify the buyer (issue 10 §7): organization settings, admins only.
    ("settings_notifications", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_notifications", "POST"): Row(
        _none, lambda o: {"shown": "refund_paid", "enabled": "refund_paid"}, expect(LOGIN, admins(302), 403)
    ),
    # Triage and routing switches (issue 11): organization settings, admins only.
    ("settings_triage", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_triage", "POST"): Row(_none, lambda o: {"auto_route": "on"}, expect(LOGIN, admins(302), 403)),
    ("settings_triage_llm", "POST"): Row(_none, lambda o: {"max_per_minute": "10"}, expect(LOGIN, admins(302), 403)),
    # Test connection (nothing configured: the page again naming base_url) and calibration (refused
    # with a message: nothing saved yet): admins only.
    ("settings_triage_llm_test", "POST"): Row(_none, lambda o: {"model": "m"}, expect(LOGIN, admins(422), 403)),
    ("settings_triage_llm_test_result", "GET"): Row(
        _llm_connection_test, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_triage_llm_calibrate", "POST"): Row(_none, _none, expect(LOGIN, admins(302), 403)),
    # Rules (issue 11 §1): organization settings, admins only (another organization's rule or
    # experiment: 404); a ticket's rule log as seeing the ticket.
    ("settings_rules", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_rule_new", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_rule_save", "POST"): Row(_none, lambda o: RULE_FORM, expect(LOGIN, admins(302), 403)),
    ("settings_rule_simulate", "POST"): Row(_none, lambda o: RULE_FORM, expect(LOGIN, admins(200), 403)),
    ("settings_rule_simulate_page", "POST"): Row(_none, lambda o: RULE_FORM, expect(LOGIN, admins(200), 403)),
    # The webhook signing secret (issue 11): the same services and permission as GET/POST
    # /api/v1/rules/webhook-secret[/rotate]: admins, each for their own organization's secret.
    ("settings_webhook_secret", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_webhook_secret_reveal", "POST"): Row(
        _none, lambda o: {"password": "pw-correct-horse"}, expect(LOGIN, admins(200), 403)
    ),
    ("settings_webhook_secret_rotate", "POST"): Row(
        _none, lambda o: {"grace_hours": "0"}, expect(LOGIN, admins(200), 403)
    ),
    ("settings_rule_conflicts", "POST"): Row(_none, lambda o: RULE_FORM, expect(LOGIN, admins(200), 403)),
    ("settings_rules_enabled", "POST"): Row(
        _none,
        lambda o: {"rule_ids": [_web_rule(o)["rule_id"]], "enabled": "on"},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_rule", "GET"): Row(_web_rule, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_rule_webhook_secret_rotate", "POST"): Row(
        _web_signed_rule, lambda o: {"url": WEB_SIGNED_WEBHOOK}, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_rule_simulation", "GET"): Row(
        _web_simulation_run, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_rule_simulation_status", "GET"): Row(
        _web_simulation_run, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_rule_simulation_cancel", "POST"): Row(
        _web_simulation_run, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_rule_experiment_start", "POST"): Row(
        _web_rule, lambda o: {"treatment_percent": "50"}, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_rule_experiment", "GET"): Row(
        _web_rule_experiment, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_rule_experiment_stop", "POST"): Row(
        _web_rule_experiment, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("ticket_rules", "GET"): Row(_ticket, _none, expect(LOGIN, ticket_sight(200), 403)),
    ("settings_sla_calendar", "POST"): Row(
        _none,
        lambda o: {"name": "Office", "timezone": "Europe/Berlin", "day_mon": "09:00-12:00, 13:30-18:30"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_sla_calendar_delete", "POST"): Row(
        _sla_calendar, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_sla_team", "POST"): Row(
        _none,
        lambda o: {"team_id": str(o.world.team_us.pk), "calendar_id": ""},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_sla_policy", "POST"): Row(
        _none,
        lambda o: {"name": "P", "first_response_minutes": "60", "resolution_minutes": "600", "warning_percent": "75"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_sla_policy_delete", "POST"): Row(
        _sla_policy, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    ("settings_sla_preview", "POST"): Row(
        _none, lambda o: {"arrival": "2026-12-07T09:00:00+01:00", "platform": "amazon"}, expect(LOGIN, admins(200), 403)
    ),
    ("settings_categories", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_categories", "POST"): Row(
        _none, lambda o: {"labels.refund.label_en": "Money back"}, expect(LOGIN, admins(302), 403)
    ),
    ("settings_templates", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_templates", "POST"): Row(
        _none,
        lambda o: {"name": "Matrix template", "source_language": "en", "new_body": "Hi"},
        expect(LOGIN, admins(302), 403),
    ),
    ("settings_template_preview", "POST"): Row(
        _none,
        lambda o: {"template_key": "new", "preview": "new", "source_language": "en", "new_body": "Hi"},
        expect(LOGIN, admins(200), 403),
    ),
    ("settings_template", "POST"): Row(
        lambda o: {"template_id": o.variant.template_id},
        lambda o: {"name": "Shipped", "source_language": "en", "body_en": "It has shipped."},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_template_delete", "POST"): Row(
        lambda o: {"template_id": o.variant.template_id}, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)
    ),
    # Users, teams and roles (issue 7): the organization's admins, inside their organization only;
    # another seller's admin reaches their own lists but none of our ids (404). The set-password
    # page needs no sign-in (the link is the proof; this one is invalid).
    ("settings_users", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_user_invite", "POST"): Row(
        _none,
        lambda o: {"username": "matrixnew", "role_id": o.world.roles["agent"].pk, "language": "en"},
        expect(LOGIN, {**admins(200), "foreigner": 404}, 403),
    ),
    ("settings_user", "GET"): Row(_people_user, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_user", "POST"): Row(
        _people_user,
        lambda o: {
            "display_name": "Alice M",
            "role_id": o.world.roles["agent"].pk,
            "team_ids": [o.world.team_us.pk],
            "language": "en",
            "is_active": ["0", "1"],
        },
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_user_password_reset", "POST"): Row(
        _people_user, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)
    ),
    ("settings_teams", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_team_create", "POST"): Row(_none, lambda o: {"name": "Matrix team"}, expect(LOGIN, admins(302), 403)),
    ("settings_team", "GET"): Row(_people_team, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_team", "POST"): Row(
        _people_team,
        lambda o: {"name": "US team 2", "store_ids": [o.world.store_us.pk], "platforms": ["amazon"]},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_team_delete", "POST"): Row(_people_team, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)),
    ("settings_roles", "GET"): Row(_none, _none, expect(LOGIN, admins(200), 403)),
    ("settings_role_create", "POST"): Row(
        _none, lambda o: {"name": "Matrix role", "permissions": ["view"]}, expect(LOGIN, admins(302), 403)
    ),
    ("settings_role", "GET"): Row(_people_role, _none, expect(LOGIN, {**admins(200), "foreigner": 404}, 403)),
    ("settings_role", "POST"): Row(
        _people_role,
        lambda o: {"name": "Readers", "permissions": ["view"], "approval_limit_amount": "0"},
        expect(LOGIN, {**admins(302), "foreigner": 404}, 403),
    ),
    ("settings_role_delete", "POST"): Row(_unused_role, _none, expect(LOGIN, {**admins(302), "foreigner": 404}, 403)),
    ("password_set", "GET"): Row(_bad_link, _none, expect(200, everyone(200), 200)),
    ("password_set", "POST"): Row(
        _bad_link,
        lambda o: {"password": "Matrix-Pass-2026", "password_confirm": "Matrix-Pass-2026"},
        expect(200, everyone(200), 200),
    ),
}


def web_patterns() -> dict[str, Any]:
    _prefix, resolver = get_resolver().namespace_dict["web"]
    return {p.name: p for p in resolver.url_patterns}


def test_every_web_url_pattern_is_in_the_matrix():
    names = set(web_patterns())
    covered = {name for name, _method in MATRIX}
    assert names - covered == set(), f"URL patterns missing from the permission matrix: {sorted(names - covered)}"
    assert covered - names == set(), f"matrix rows for unknown patterns: {sorted(covered - names)}"
    for row in MATRIX.values():
        assert set(row.expect) == set(PERSONAS)


def test_post_only_patterns_refuse_get(objects):
    o = objects
    client = Client()
    client.force_login(o.world.agent)
    get_routes = {name for name, method in MATRIX if method == "GET"}
    for (name, method), row in MATRIX.items():
        if method == "POST" and name not in get_routes:
            response = client.get(reverse(f"web:{name}", kwargs=row.kwargs(o)))
            assert response.status_code == 405, name


def _objects(world) -> Objects:  # type: ignore[no-untyped-def]
    ticket = world.ticket(status="open")
    target = world.ticket(status="open", customer=ticket.customer)
    failed = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="outbound",
        channel="amazon",
        author=world.agent,
        body="Sorry",
        delivery_status=DeliveryStatus.FAILED,
        delivery_error="no connector",
    )
    saved_view = SavedView.objects.create(user=world.agent, name="Mine", filters={"assignee": "me"})
    token, _raw = api_token_create(user=world.agent, name="alice laptop")
    notification = Notification.objects.create(
        user=world.agent, kind="mention", text="Bob mentioned you", dedupe_key="m1", ticket=ticket
    )
    inbound = Message.objects.create(
        ticket=ticket,
        store=ticket.store,
        direction="inbound",
        channel="amazon",
        body="Hola, mi paquete no ha llegado.",
        language="es",
        external_id="matrix-in-1",
    )
    template = reply_template_save(
        user=world.admin, name="Shipped", source_language="en", bodies={"en": "It shipped.", "es": "Se envió."}
    )
    variant = template.variants.get(language="es")
    ReplyTemplateVariant.objects.filter(pk=variant.pk).update(is_machine_translated=True, needs_review=True)
    job = TranslationJob.objects.create(organization=world.org, created_by=world.agent, ticket_ids=[ticket.pk])
    orphan = UserFactory(username="orphan", organization=None, role=None)
    users = {
        "agent": world.agent,
        "teammate": world.teammate,
        "outsider": world.outsider,
        "viewer": world.viewer,
        "approver": world.approver,
        "admin": world.admin,
        "foreigner": world.foreign_user,
        "orphan": orphan,
    }
    return Objects(world, ticket, target, failed, saved_view, token.pk, notification, users, inbound, variant, job)


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
        Message.objects.get(pk=o.failed.pk).delivery_status,
        SavedView.objects.count(),
        sorted(o.users["agent"].api_tokens.filter(revoked_at__isnull=True).values_list("pk", flat=True)),
        Notification.objects.filter(read_at__isnull=True).count(),
        Message.objects.get(pk=o.inbound.pk).translations,
        ReplyTemplateVariant.objects.get(pk=o.variant.pk).needs_review,
        TranslationJob.objects.count(),
        GlossaryTerm.objects.count(),
        # stores, category labels, reply templates (settings_catalog)
        sorted(Store.objects.values_list("name", "site", "is_active")),
        sorted(CategoryLabel.objects.values_list("organization_id", "category", "label_en")),
        sorted(ReplyTemplateVariant.objects.values_list("template__name", "language", "body")),
        # users, teams and roles (settings_people)
        sorted(User.objects.values_list("username", "display_name", "is_active", "role_id", "password")),
        sorted(o.users["agent"].teams.values_list("pk", flat=True)),
        sorted(Team.objects.values_list("name", "platforms")),
        sorted((r.name, r.permissions) for r in Role.objects.all()),
        # a store's sync state and quarantined records (settings_sync)
        # (a store's sync row itself is created on first sight of its page: it holds the webhook token)
        sorted(StoreSync.objects.filter(paused=True).values_list("store_id", "paused_reason")),
        sorted(StreamCursor.objects.values_list("store_id", "stream", "backfill_since")),
        sorted(RawEvent.objects.values_list("event_id", "status", "attempts")),
        # the return-policy versions (settings_returns)
        sorted(ReturnPolicyVersion.objects.values_list("organization_id", "number", "is_active")),
        sorted(ExchangeRate.objects.values_list("organization_id", "currency", "rate")),
        # warranty units, claims, repair orders, replacements, terms, reminder settings
        *_warranty_snapshot(),
        # returns: RMAs, refunds, bulk jobs (web/views/rmas.py)
        sorted(Rma.objects.values_list("number", "status")),
        sorted(Refund.objects.values_list("idempotency_key", "status")),
        RmaBulkJob.objects.count(),
        # warehouses and the stock ledger (web/views/inventory.py)
        sorted(Warehouse.objects.values_list("organization_id", "code", "name", "is_active")),
        InventoryMovement.objects.count(),
        # the organizations' marketplace apps (settings_marketplace_apps)
        sorted(MarketplaceApp.objects.values_list("organization_id", "platform", "environment", "credentials")),
        # the tracking account (settings_tracking)
        sorted(
            TrackingAccount.objects.values_list("organization_id", "is_active", "poll_interval_hours", "credentials")
        ),
    )


def _warranty_snapshot() -> tuple[Any, ...]:
    from aftersales.warranty.models import (
        RepairOrder,
        ReplacementRequest,
        SoldUnit,
        WarrantyClaim,
        WarrantySettings,
        WarrantyTerm,
    )

    return (
        SoldUnit.objects.count(),
        sorted(WarrantyClaim.objects.values_list("pk", "status")),
        sorted(RepairOrder.objects.values_list("pk", "status")),
        ReplacementRequest.objects.count(),
        sorted(WarrantyTerm.objects.values_list("organization_id", "category", "region", "customer_tier", "months")),
        sorted(WarrantySettings.objects.values_list("organization_id", "reminders_enabled", "reminder_days_before")),
    )


CASES = [(name, method, persona) for (name, method) in MATRIX for persona in PERSONAS]


@pytest.fixture(scope="module")
def matrix_objects(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """The world and the objects of the matrix, built once per module (and test worker); each test starts
    from them in a savepoint rolled back after it (aftersales.testing.module_data), with its own copies of
    the Python objects. Before, each of the ~1,000 tests built them itself."""
    from aftersales.testing.module_data import built_once
    from aftersales.testing.personas import build_world

    yield from built_once(django_db_blocker, lambda: _objects(build_world()))


@pytest.fixture
def objects(matrix_objects, db) -> Objects:  # type: ignore[no-untyped-def]
    return copy.deepcopy(matrix_objects)


@pytest.mark.parametrize(("name", "method", "persona"), CASES, ids=[f"{n}-{m}-{p}" for n, m, p in CASES])
def test_permission_matrix(objects, name, method, persona):
    o = objects
    row = MATRIX[(name, method)]
    client = Client()
    if persona != "anonymous":
        client.force_login(o.users[persona])
    url = reverse(f"web:{name}", kwargs=row.kwargs(o))
    before = _snapshot(o)
    response = client.get(url) if method == "GET" else client.post(url, row.data(o))
    expected = row.expect[persona]
    if expected == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith(reverse("web:login") + "?next="), response["Location"]
    else:
        assert response.status_code == expected, (response.status_code, response.content[:500])
    if response.status_code >= 400 or expected == LOGIN:
        assert _snapshot(o) == before, "a refused request changed something"
