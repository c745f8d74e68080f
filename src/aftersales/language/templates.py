"""Reply templates (macros) with variables, authored per language, rendered in a sandbox.

Templates are Jinja2 rendered by an ImmutableSandboxedEnvironment that only lets a template read
the attributes listed in ALLOWED_ATTRIBUTES of the small frozen context objects below: no access
to models, methods, dunder attributes or anything else. A language without an authored variant
is machine-translated from the source variant ({{ ... }} and {% ... %} protected as placeholders),
saved, and flagged for review until an agent approves it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.errors import Conflict, NotFound, ValidationFailed
from aftersales.core.validation import check_text

from .languages import check_language, normalise
from .models import ReplyTemplate, ReplyTemplateVariant
from .protection import mask, restore
from .routing import translate_text

if TYPE_CHECKING:
    from jinja2 import nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

# Jinja2 (~8 MiB) is imported where a template is parsed or rendered, not with this module, which every
# web process loads (issue 13, web process memory): the node tables below name jinja2.nodes classes.

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
class ProductVars:
    name: str = ""
    sku: str = ""


@dataclass(frozen=True)
class WarrantyVars:
    """A sold unit's warranty, as a reminder tells it (warranty.notify.reminder_context): the IMEI and
    serial number masked to their last digits, the last covered day written in the buyer's locale (the
    day in the store's time zone), the days left on that day."""

    imei: str = ""
    serial_number: str = ""
    ends_on: str = ""
    days_left: int = 0


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
    product: ProductVars = field(default_factory=ProductVars)
    warranty: WarrantyVars = field(default_factory=WarrantyVars)

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
    "product",
    "warranty",
)
ALLOWED_ATTRIBUTES: dict[type, frozenset[str]] = {
    CustomerVars: frozenset({"name", "first_name"}),
    OrderVars: frozenset({"number", "platform", "total"}),
    TrackingVars: frozenset({"number", "carrier", "link"}),
    ProductVars: frozenset({"name", "sku"}),
    WarrantyVars: frozenset({"imei", "serial_number", "ends_on", "days_left"}),
}
# The variables that are groups of attributes ({{ customer.first_name }}), not values themselves.
VARIABLE_GROUPS = {
    "customer": CustomerVars,
    "order": OrderVars,
    "tracking": TrackingVars,
    "product": ProductVars,
    "warranty": WarrantyVars,
}


# What a reply template may contain. Reply templates fill in a few short texts: they need
# variables, {% if %} and a handful of filters, nothing that can repeat or grow text (loops,
# assignments, arithmetic, padding filters, calls), so a template's output stays proportional to
# its text and its variables. The output is capped as well (MAX_RENDERED).
SAFE_FILTERS = frozenset(
    {
        "capitalize",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "last",
        "length",
        "lower",
        "striptags",
        "title",
        "trim",
        "truncate",
        "upper",
        "wordcount",
    }
)
SAFE_TESTS = frozenset(
    {"defined", "undefined", "none", "string", "eq", "ne", "equalto", "in", "lower", "upper", "true", "false"}
)
_ALLOWED_NODES = (
    "Template",
    "Output",
    "TemplateData",
    "Const",
    "Name",
    "Getattr",
    "Getitem",
    "If",
    "CondExpr",
    "Filter",
    "Test",
    "Compare",
    "Operand",
    "And",
    "Or",
    "Not",
    "Concat",
    "Keyword",
    "Tuple",
    "List",
)
_CONSTRUCTS: dict[str, str] = {
    "For": "{% for %}",
    "Macro": "{% macro %}",
    "CallBlock": "{% call %}",
    "FilterBlock": "{% filter %}",
    "With": "{% with %}",
    "Assign": "{% set %}",
    "AssignBlock": "{% set %}",
    "Include": "{% include %}",
    "Import": "{% import %}",
    "FromImport": "{% from %}",
    "Extends": "{% extends %}",
    "Block": "{% block %}",
    "Call": "( )",
    "Mul": "*",
    "Pow": "**",
    "Mod": "%",
    "Div": "/",
    "FloorDiv": "//",
    "Add": "+",
    "Sub": "-",
    "Slice": "[ : ]",
}
# The variables with their attributes, as written in a template: "customer", "customer.name", ...
VARIABLE_PATHS = frozenset(VARIABLES) | frozenset(
    f"{name}.{attr}" for name, cls in VARIABLE_GROUPS.items() for attr in ALLOWED_ATTRIBUTES[cls]
)
MAX_RENDERED = 20_000


@cache
def _environment() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Sandbox(ImmutableSandboxedEnvironment):
        def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
            allowed = ALLOWED_ATTRIBUTES.get(type(obj))
            return allowed is not None and attr in allowed and super().is_safe_attribute(obj, attr, value)

        def is_safe_callable(self, obj: Any) -> bool:
            return False

    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.globals.clear()  # no range(), lipsum(), namespace(), dict(), cycler or joiner
    return env


@cache
def _node_classes() -> tuple[tuple[type[nodes.Node], ...], dict[type[nodes.Node], str]]:
    """_ALLOWED_NODES and _CONSTRUCTS as jinja2.nodes classes."""
    from jinja2 import nodes

    allowed = tuple(getattr(nodes, name) for name in _ALLOWED_NODES)
    return allowed, {getattr(nodes, name): label for name, label in _CONSTRUCTS.items()}


def _parse(text: str, *, field_name: str) -> nodes.Template:
    from jinja2 import TemplateError

    try:
        return _environment().parse(text)
    except TemplateError as exc:
        raise ValidationFailed(_("template syntax error: %(error)s") % {"error": exc}, field=field_name) from exc


def _refuse(what: str, *, field_name: str) -> ValidationFailed:
    return ValidationFailed(
        _("reply templates cannot use %(what)s; they can use variables, {%% if %%} and the filters %(filters)s")
        % {"what": what, "filters": ", ".join(sorted(SAFE_FILTERS))},
        field=field_name,
    )


def check_constructs(tree: nodes.Template, *, field_name: str) -> None:
    """Refuse anything a reply template does not need and that could make it run long or grow
    its output (loops, assignments, calls, arithmetic, padding filters)."""
    from jinja2 import nodes

    allowed_nodes, constructs = _node_classes()
    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
            raise _refuse(_("the filter %(name)s") % {"name": node.name}, field_name=field_name)
        if isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
            raise _refuse(_("the test %(name)s") % {"name": node.name}, field_name=field_name)
        if isinstance(node, nodes.Name) and node.ctx != "load":
            raise _refuse("{% set %}", field_name=field_name)
        if not isinstance(node, allowed_nodes):
            label = next((v for k, v in constructs.items() if isinstance(node, k)), type(node).__name__)
            raise _refuse(label, field_name=field_name)


def _path(node: nodes.Node) -> str | None:
    """ "customer.name" for {{ customer.name }} / {{ customer['name'] }}; None for other expressions."""
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        parent = _path(node.node)
        return f"{parent}.{node.attr}" if parent is not None else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        parent = _path(node.node)
        return f"{parent}.{node.arg.value}" if parent is not None else None
    return None


def unknown_variables(tree: nodes.Template) -> list[str]:
    """The variables (with their attributes) a template uses that do not exist, e.g. customer.email."""
    from jinja2 import meta, nodes

    unknown = set(meta.find_undeclared_variables(tree)) - set(VARIABLES)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        path = _path(node)
        if path is not None and path not in VARIABLE_PATHS and path.split(".", 1)[0] in VARIABLES:
            unknown.add(path)
    return sorted(unknown)


def check_body(body: str, *, field_name: str = "body") -> str:
    """A template text as saved: not empty, at most MAX_BODY characters, valid syntax, only the
    allowed constructs, and only known variables (the unknown ones are named in the error)."""
    if not isinstance(body, str):
        raise ValidationFailed(_("the template text must be text"), field=field_name)
    text = check_text(body, field=field_name).strip()
    if not text:
        raise ValidationFailed(_("the template text must not be empty"), field=field_name)
    if len(text) > MAX_BODY:
        raise ValidationFailed(
            _("the template text is longer than %(max)d characters") % {"max": MAX_BODY}, field=field_name
        )
    tree = _parse(text, field_name=field_name)
    check_constructs(tree, field_name=field_name)
    unknown = unknown_variables(tree)
    if unknown:
        raise ValidationFailed(
            _("unknown variable(s) %(unknown)s; available: %(available)s")
            % {
                "unknown": ", ".join(unknown),
                "available": ", ".join(sorted(VARIABLE_PATHS - {"customer", "order", "tracking"})),
            },
            field=field_name,
        )
    return text


@dataclass(frozen=True)
class Macro:
    """What sending a reply built from a template also does (all optional): the reply's status
    (applied when it is delivered, as any reply's chosen status), tags added, and the assignment
    ("self": the agent sending, "none": nobody, "user": `assign_user_id`)."""

    set_status: str = ""
    add_tags: tuple[str, ...] = ()
    assign_to: str = ""
    assign_user_id: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.set_status or self.add_tags or self.assign_to)

    @classmethod
    def of(cls, template: ReplyTemplate) -> Macro:
        return cls(
            set_status=template.set_status,
            add_tags=tuple(template.add_tags or ()),
            assign_to=template.assign_to if template.assign_to != "user" or template.assign_user_id else "",
            assign_user_id=template.assign_user_id if template.assign_to == "user" else None,
        )


@dataclass(frozen=True)
class Rendered:
    text: str
    language: str
    needs_review: bool
    machine_translated: bool
    provider: str
    macro: Macro = field(default_factory=Macro)


def render_body(body: str, context: TemplateContext, *, field_name: str = "body") -> str:
    """Fill a template in. Templates saved before the construct checks existed are checked again;
    the output is streamed and refused past MAX_RENDERED characters, so nothing huge is built."""
    from jinja2 import TemplateError
    from jinja2.exceptions import SecurityError, UndefinedError

    tree = _parse(body, field_name=field_name)
    check_constructs(tree, field_name=field_name)
    parts: list[str] = []
    size = 0
    try:
        for chunk in _environment().from_string(tree).generate(context.as_dict()):
            size += len(chunk)
            if size > MAX_RENDERED:
                raise ValidationFailed(
                    _("the filled-in template is longer than %(max)d characters") % {"max": MAX_RENDERED},
                    field=field_name,
                )
            parts.append(chunk)
    except SecurityError as exc:
        raise ValidationFailed(
            _("the template uses something it may not: %(error)s") % {"error": exc}, field=field_name
        ) from exc
    except UndefinedError as exc:
        raise ValidationFailed(
            _("the template uses a value that is not available: %(error)s") % {"error": exc}, field=field_name
        ) from exc
    except TemplateError as exc:
        raise ValidationFailed(
            _("the template cannot be rendered: %(error)s") % {"error": exc}, field=field_name
        ) from exc
    return "".join(parts).strip()


MAX_TEMPLATE_NAME = 120
MAX_VARIANTS = 20


def _clean_name(name: str) -> str:
    clean = " ".join(check_text(name, field="name", one_line=True).split())
    if not clean or len(clean) > MAX_TEMPLATE_NAME:
        raise ValidationFailed(
            _("the name must have 1 to %(max)d characters") % {"max": MAX_TEMPLATE_NAME}, field="name"
        )
    return clean


def _clean_category(category: str) -> str:
    from aftersales.inbox.workflow import TicketCategory

    if category and category not in TicketCategory.values:
        raise ValidationFailed(
            _("unknown category %(value)r; expected one of %(choices)s")
            % {"value": str(category)[:40], "choices": ", ".join(TicketCategory.values)},
            field="category",
        )
    return category or ""


MAX_MACRO_TAGS = 10
ASSIGN_CHOICES = ("", "self", "none", "user")


def check_macro(
    organization_id: int,
    *,
    set_status: str = "",
    add_tags: Iterable[str] = (),
    assign_to: str = "",
    assign_user_id: int | None = None,
) -> Macro:
    """A template's macro as stored, or ValidationFailed naming the field: a status of the workflow,
    tags by the tag rules (at most MAX_MACRO_TAGS, each once), and an assignee who is an active
    user of the organization able to process tickets."""
    from aftersales.accounts.permissions import has_perm
    from aftersales.inbox.services import check_tag_name
    from aftersales.inbox.workflow import TicketStatus

    status = str(set_status or "")
    if status and status not in TicketStatus.values:
        raise ValidationFailed(
            _("unknown status %(value)r; expected one of %(choices)s")
            % {"value": status[:40], "choices": ", ".join(TicketStatus.values)},
            field="set_status",
        )
    tags_in = list(add_tags)
    if len(tags_in) > MAX_MACRO_TAGS:
        raise ValidationFailed(_("at most %(count)d tags") % {"count": MAX_MACRO_TAGS}, field="add_tags")
    tags: list[str] = []
    for index, raw in enumerate(tags_in):
        name = check_tag_name(raw, field=f"add_tags[{index}]")
        if name not in tags:
            tags.append(name)
    mode = str(assign_to or "")
    if mode not in ASSIGN_CHOICES:
        raise ValidationFailed(
            _("assign_to is one of: self, none, user (with assign_user_id), or empty"), field="assign_to"
        )
    if mode == "user":
        if assign_user_id is None:
            raise ValidationFailed(_("choose the user to assign to"), field="assign_user_id")
        assignee = User.objects.filter(pk=assign_user_id, organization_id=organization_id, is_active=True).first()
        if assignee is None:
            raise ValidationFailed(_("no such user in your organization"), field="assign_user_id")
        if not has_perm(assignee, Permission.PROCESS):
            raise ValidationFailed(_("%(user)s cannot process tickets") % {"user": assignee}, field="assign_user_id")
    return Macro(
        set_status=status,
        add_tags=tuple(tags),
        assign_to=mode,
        assign_user_id=assign_user_id if mode == "user" else None,
    )


def _macro_fields(macro: Macro) -> dict[str, Any]:
    return {
        "set_status": macro.set_status,
        "add_tags": list(macro.add_tags),
        "assign_to": macro.assign_to,
        "assign_user_id": macro.assign_user_id,
    }


def _clean_bodies(bodies: dict[str, str], *, allow_empty: bool = False) -> dict[str, str]:
    """{language: body} with supported languages (normalised, each once) and valid bodies; the
    field of an error is `bodies[<language as sent>]`. With allow_empty, "" means "remove"."""
    if len(bodies) > MAX_VARIANTS:
        raise ValidationFailed(_("a template has at most %(max)d languages") % {"max": MAX_VARIANTS}, field="bodies")
    checked: dict[str, str] = {}
    for lang, body in bodies.items():
        field_name = f"bodies[{str(lang)[:20]}]"
        code = check_language(lang, field=field_name)
        if code in checked:
            raise ValidationFailed(_("this language is given twice"), field=field_name)
        if allow_empty and isinstance(body, str) and not body.strip():
            checked[code] = ""
            continue
        checked[code] = check_body(body, field_name=field_name)
    return checked


def reply_template_save(
    *,
    user: User,
    name: str,
    source_language: str,
    bodies: dict[str, str],
    category: str = "",
    is_auto_reply: bool = False,
    macro: Macro | None = None,
) -> ReplyTemplate:
    """Create or update (by name) a template and its authored variants ({language: body}); admins
    only. `macro` (checked with check_macro) replaces the template's macro; None keeps it. An
    authored variant replaces a machine-translated one and clears its review flag. Every
    body is checked before anything is written (syntax, constructs, unknown variables named)."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    clean = _clean_name(name)
    source = check_language(source_language, field="source_language")
    category = _clean_category(category)
    checked = _clean_bodies(bodies)
    macro_fields = _macro_fields(check_macro(organization_id, **_macro_fields(macro))) if macro else {}
    existing = ReplyTemplate.objects.filter(organization_id=organization_id, name=clean).first()
    if source not in checked and (existing is None or not existing.variants.filter(language=source).exists()):
        raise ValidationFailed(_("the source language needs a variant"), field="bodies")
    with transaction.atomic():
        template, _created = ReplyTemplate.objects.update_or_create(
            organization_id=organization_id,
            name=clean,
            defaults={"source_language": source, "category": category, "is_auto_reply": is_auto_reply, **macro_fields},
        )
        for lang, body in checked.items():
            ReplyTemplateVariant.objects.update_or_create(
                template=template,
                language=lang,
                defaults={"body": body, "is_machine_translated": False, "needs_review": False, "provider": ""},
            )
    return template


@dataclass(frozen=True)
class _TemplateChanges:
    name: str | None
    source_language: str | None
    category: str | None
    is_auto_reply: bool | None
    bodies: dict[str, str]
    approve: frozenset[str]
    macro: Macro | None = None


def reply_template_update(
    *,
    user: User,
    template_id: int,
    name: str | None = None,
    source_language: str | None = None,
    category: str | None = None,
    is_auto_reply: bool | None = None,
    bodies: dict[str, str] | None = None,
    approve: Iterable[str] = (),
    macro: Macro | None = None,
) -> ReplyTemplate:
    """Change a template of the organization (the arguments given; None keeps the value). In
    `bodies`, a changed text replaces that language's variant (as authored, reviewed), an unchanged
    one keeps its review flag, and "" removes it; the source language keeps a variant. `approve`:
    languages whose machine-translated variant was reviewed as it is. Admins only. Locks the
    template row."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    changes = _TemplateChanges(
        name=_clean_name(name) if name is not None else None,
        source_language=check_language(source_language, field="source_language") if source_language else None,
        category=_clean_category(category) if category is not None else None,
        is_auto_reply=is_auto_reply,
        bodies=_clean_bodies(bodies, allow_empty=True) if bodies is not None else {},
        approve=frozenset(check_language(lang, field="approve") for lang in approve),
        macro=check_macro(organization_id, **_macro_fields(macro)) if macro is not None else None,
    )
    try:
        return _update(template_id, organization_id, changes)
    except IntegrityError:  # renamed concurrently to the same name
        raise Conflict(_("another template is already named %(name)r") % {"name": changes.name}, field="name") from None


def _update(template_id: int, organization_id: int, changes: _TemplateChanges) -> ReplyTemplate:
    with transaction.atomic():
        template = (
            ReplyTemplate.objects.select_for_update().filter(pk=template_id, organization_id=organization_id).first()
        )
        if template is None:
            raise NotFound(_("template not found"), field="template_id")
        if (
            changes.name is not None
            and ReplyTemplate.objects.filter(organization_id=organization_id, name=changes.name)
            .exclude(pk=template.pk)
            .exists()
        ):
            raise Conflict(_("another template is already named %(name)r") % {"name": changes.name}, field="name")
        existing = {variant.language: variant for variant in template.variants.all()}
        languages = (set(existing) | {lang for lang, body in changes.bodies.items() if body}) - {
            lang for lang, body in changes.bodies.items() if not body
        }
        if (changes.source_language or template.source_language) not in languages:
            raise ValidationFailed(
                _("the source language needs a variant"), field="bodies" if changes.bodies else "source_language"
            )
        for attr in ("name", "source_language", "category", "is_auto_reply"):
            value = getattr(changes, attr)
            if value is not None:
                setattr(template, attr, value)
        if changes.macro is not None:
            for attr, value in _macro_fields(changes.macro).items():
                setattr(template, attr, value)
        template.save()
        for lang, body in changes.bodies.items():
            variant = existing.get(lang)
            if not body:
                if variant is not None:
                    variant.delete()
            elif variant is None or variant.body != body:
                ReplyTemplateVariant.objects.update_or_create(
                    template=template,
                    language=lang,
                    defaults={"body": body, "is_machine_translated": False, "needs_review": False, "provider": ""},
                )
        for lang in changes.approve & languages:
            variant = existing.get(lang)
            if variant is not None and variant.needs_review and changes.bodies.get(lang, variant.body) == variant.body:
                variant.needs_review = False
                variant.save(update_fields=["needs_review", "updated_at"])
    return template


def reply_template_delete(*, user: User, template_id: int) -> None:
    """Delete a template of the organization with its variants. Admins only."""
    check_perm(user, Permission.ADMINISTER)
    deleted, _rows = ReplyTemplate.objects.filter(pk=template_id, organization_id=organization_of(user)).delete()
    if not deleted:
        raise NotFound(_("template not found"), field="template_id")


def sample_context(*, store_name: str = "", agent_name: str = "") -> TemplateContext:
    """Made-up data to preview a template with: every variable has a plausible value."""
    return TemplateContext(
        customer=CustomerVars("Maria Garcia", "Maria"),
        order=OrderVars("113-4567890-1234567", "amazon", "59.90 EUR"),
        tracking=TrackingVars("LX123456789CN", "DHL", "https://t.17track.net/en#nums=LX123456789CN"),
        rma_number="RMA-1042",
        return_address="Returns Dept., Musterstraße 12, 10115 Berlin, Germany",
        refund_amount="59.90 EUR",
        store_name=store_name or "Example Store",
        agent_name=agent_name or "Alex",
        product=ProductVars("Pixel 8 Pro 128 GB", "PX8P-128-BLK"),
        warranty=WarrantyVars(imei="••••237518", serial_number="••••7Q2K", ends_on="2 March 2027", days_left=30),
    )


@dataclass(frozen=True)
class Preview:
    text: str
    language: str


def reply_template_preview(*, user: User, body: str, language: str = "") -> Preview:
    """A template text filled in with sample data (the organization's first store), checked as
    when it is saved; nothing is stored. Anyone of the organization may preview."""
    from aftersales.catalog.models import Store

    check_perm(user, Permission.VIEW)
    organization_id = organization_of(user)
    code = check_language(language, field="language") if language else ""
    text = check_body(body, field_name="body")
    store_name = (
        Store.objects.filter(organization_id=organization_id, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
        .first()
    )
    context = sample_context(store_name=store_name or "", agent_name=str(user))
    return Preview(text=render_body(text, context, field_name="body"), language=code)


def variant_approve(*, user: User, variant: ReplyTemplateVariant, body: str | None = None) -> ReplyTemplateVariant:
    """An agent reviewed a machine-translated variant (optionally editing it)."""
    check_perm(user, Permission.ADMINISTER)
    if variant.template.organization_id != organization_of(user):
        raise NotFound(_("template not found"), field="variant_id")
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
        raise Conflict(_("the template has no variant to translate from"), field="template_id")
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
        macro=Macro.of(template),
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
