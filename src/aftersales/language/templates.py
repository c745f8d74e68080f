"""Reply templates (macros) with variables, authored per language, rendered in a sandbox.

Templates are Jinja2 rendered by an ImmutableSandboxedEnvironment that only lets a template read
the attributes listed in ALLOWED_ATTRIBUTES of the small frozen context objects below: no access
to models, methods, dunder attributes or anything else. A language without an authored variant
is machine-translated from the source variant ({{ ... }} and {% ... %} protected as placeholders),
saved, and flagged for review until an agent approves it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm
from aftersales.core.errors import Conflict, NotFound, ValidationFailed

from .languages import check_language, normalise
from .models import ReplyTemplate, ReplyTemplateVariant
from .protection import mask, restore
from .routing import translate_text
from .services import organization_of

MAX_BODY = 10_000
TAG_RE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class CustomerVars:
    name: str = ""
    first_name: str = ""


@dataclass(frozen=True)
class OrderVars:
    number: str = ""
    platform: str = ""
    total: str = ""


@dataclass(frozen=True)
class TrackingVars:
    number: str = ""
    carrier: str = ""
    link: str = ""


@dataclass(frozen=True)
class TemplateContext:
    customer: CustomerVars = field(default_factory=CustomerVars)
    order: OrderVars = field(default_factory=OrderVars)
    tracking: TrackingVars = field(default_factory=TrackingVars)
    rma_number: str = ""
    return_address: str = ""
    refund_amount: str = ""
    store_name: str = ""
    agent_name: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in VARIABLES}


VARIABLES = (
    "customer",
    "order",
    "tracking",
    "rma_number",
    "return_address",
    "refund_amount",
    "store_name",
    "agent_name",
)
ALLOWED_ATTRIBUTES: dict[type, frozenset[str]] = {
    CustomerVars: frozenset({"name", "first_name"}),
    OrderVars: frozenset({"number", "platform", "total"}),
    TrackingVars: frozenset({"number", "carrier", "link"}),
}


class _Sandbox(ImmutableSandboxedEnvironment):
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        allowed = ALLOWED_ATTRIBUTES.get(type(obj))
        return allowed is not None and attr in allowed and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        return False


_env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def check_body(body: str, *, field_name: str = "body") -> str:
    text = body.strip()
    if not text:
        raise ValidationFailed("the template text must not be empty", field=field_name)
    if len(text) > MAX_BODY:
        raise ValidationFailed(f"the template text is longer than {MAX_BODY} characters", field=field_name)
    try:
        names = meta.find_undeclared_variables(_env.parse(text))
    except TemplateError as exc:
        raise ValidationFailed(f"template syntax error: {exc}", field=field_name) from exc
    unknown = sorted(names - set(VARIABLES))
    if unknown:
        raise ValidationFailed(
            f"unknown variable(s) {', '.join(unknown)}; available: {', '.join(VARIABLES)}", field=field_name
        )
    return text


@dataclass(frozen=True)
class Rendered:
    text: str
    language: str
    needs_review: bool
    machine_translated: bool
    provider: str


def render_body(body: str, context: TemplateContext) -> str:
    try:
        return _env.from_string(body).render(context.as_dict()).strip()
    except SecurityError as exc:
        raise ValidationFailed(f"the template uses something it may not: {exc}", field="body") from exc
    except UndefinedError as exc:
        raise ValidationFailed(f"the template uses a value that is not available: {exc}", field="body") from exc
    except TemplateError as exc:
        raise ValidationFailed(f"the template cannot be rendered: {exc}", field="body") from exc


def reply_template_save(
    *,
    user: User,
    name: str,
    source_language: str,
    bodies: dict[str, str],
    category: str = "",
    is_auto_reply: bool = False,
) -> ReplyTemplate:
    """Create or update a template and its authored variants ({language: body}); admins only.
    An authored variant replaces a machine-translated one and clears its review flag."""
    check_perm(user, Permission.ADMINISTER)
    clean = " ".join(name.split())
    if not clean or len(clean) > 120:
        raise ValidationFailed("name must have 1 to 120 characters", field="name")
    source = check_language(source_language, field="source_language")
    checked = {
        check_language(lang, field="bodies"): check_body(body, field_name=f"bodies[{lang}]")
        for lang, body in bodies.items()
    }
    if (
        source not in checked
        and not ReplyTemplate.objects.filter(organization_id=organization_of(user), name=clean).exists()
    ):
        raise ValidationFailed("the source language needs a variant", field="bodies")
    with transaction.atomic():
        template, _ = ReplyTemplate.objects.update_or_create(
            organization_id=organization_of(user),
            name=clean,
            defaults={"source_language": source, "category": category, "is_auto_reply": is_auto_reply},
        )
        for lang, body in checked.items():
            ReplyTemplateVariant.objects.update_or_create(
                template=template,
                language=lang,
                defaults={"body": body, "is_machine_translated": False, "needs_review": False, "provider": ""},
            )
    return template


def variant_approve(*, user: User, variant: ReplyTemplateVariant, body: str | None = None) -> ReplyTemplateVariant:
    """An agent reviewed a machine-translated variant (optionally editing it)."""
    check_perm(user, Permission.ADMINISTER)
    if variant.template.organization_id != organization_of(user):
        raise NotFound("template not found", field="variant_id")
    if body is not None:
        variant.body = check_body(body)
    variant.needs_review = False
    variant.save()
    return variant


def variant_for(template: ReplyTemplate, language: str) -> ReplyTemplateVariant:
    """The template's variant in `language`; machine-translated (and saved, flagged) when missing."""
    code = check_language(language, field="language")
    existing = template.variants.filter(language=code).first()
    if existing is not None:
        return existing
    source = template.variants.filter(language=template.source_language).first() or template.variants.first()
    if source is None:
        raise Conflict("the template has no variant to translate from", field="template_id")
    masked = mask(source.body, extra=(("template", TAG_RE),))
    result = translate_text(
        organization_id=template.organization_id, text=masked.text, source=source.language, target=code, use_memory=True
    )
    restored = restore(result.text, masked)
    body = restored.text
    try:
        check_body(body)
    except ValidationFailed:
        body = source.body  # never save a broken template: fall back to the source text, flagged
    try:
        with transaction.atomic():
            return ReplyTemplateVariant.objects.create(
                template=template,
                language=code,
                body=body,
                is_machine_translated=True,
                needs_review=True,
                provider=result.provider,
            )
    except IntegrityError:  # created concurrently
        return template.variants.get(language=code)


def render_template(*, template: ReplyTemplate, language: str, context: TemplateContext) -> Rendered:
    variant = variant_for(template, language)
    return Rendered(
        text=render_body(variant.body, context),
        language=variant.language,
        needs_review=variant.needs_review,
        machine_translated=variant.is_machine_translated,
        provider=variant.provider,
    )


def _money(amount: Decimal | None, currency: str) -> str:
    return f"{amount:,.2f} {currency}".strip() if amount is not None else ""


def context_for_ticket(
    ticket: Any,
    *,
    agent: User | None = None,
    rma_number: str = "",
    return_address: str = "",
    refund_amount: Decimal | None = None,
    refund_currency: str = "",
) -> TemplateContext:
    """The variables of a ticket: its customer, order, latest shipment, plus what the caller adds."""
    customer = ticket.customer
    order = ticket.order
    shipment = order.shipments.order_by("-id").first() if order is not None else None
    tracking = TrackingVars()
    if shipment is not None:
        tracking = TrackingVars(
            shipment.tracking_number, shipment.carrier, f"https://t.17track.net/en#nums={shipment.tracking_number}"
        )
    name = customer.name or ""
    return TemplateContext(
        customer=CustomerVars(name, name.split()[0] if name.split() else ""),
        order=OrderVars(order.external_id, ticket.platform, _money(order.total_amount, order.currency))
        if order is not None
        else OrderVars(),
        tracking=tracking,
        rma_number=rma_number,
        return_address=return_address,
        refund_amount=_money(refund_amount, refund_currency or (order.currency if order else "")),
        store_name=ticket.store.name,
        agent_name=str(agent) if agent else "",
    )


def auto_reply_for(ticket: Any, *, language: str | None = None) -> Rendered | None:
    """The auto-reply for a ticket's category, rendered in the customer's language (None if none)."""
    from .services import customer_language

    template = (
        ReplyTemplate.objects.filter(
            organization_id=ticket.organization_id, is_auto_reply=True, category=ticket.category
        )
        .order_by("id")
        .first()
    )
    if template is None:
        return None
    return render_template(
        template=template, language=normalise(language) or customer_language(ticket), context=context_for_ticket(ticket)
    )
