"""The actions a rule can take (docs/rules.md "Actions"): small registered classes with a slug, a
label, a parameter check run when the rule is saved, a description of what they would change (the
dry run) and `execute`, which acts as the rule (`Actor.rule(rule.pk, rule.name)`) through the
domain services, never by writing fields itself.

An action in a rule document is `{"type": "<slug>", "params": {...}}`."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Team, User
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError, ValidationFailed
from aftersales.core.validation import MAX_ID
from aftersales.inbox.models import Ticket
from aftersales.inbox.workflow import TicketCategory, Urgency

from .conditions import path_error

MAX_ACTIONS = 20
MAX_NOTE = 2000
EVIDENCE_KINDS = ("photo", "video", "imei", "serial_number")
APPROVABLE_RESOLUTIONS = ("return_and_refund", "returnless_refund", "exchange", "repair")


@dataclass
class ActionContext:
    """What an action acts on, built by the engine for one rule applied to one event."""

    organization_id: int
    rule_id: int
    rule_name: str
    actor: Actor
    event_key: str
    snapshot: Mapping[str, Any]
    ticket_id: int | None = None
    rma_id: int | None = None
    execution_id: int | None = None
    approval_limit: tuple[Decimal, str] | None = None
    claimed: dict[str, str] = field(default_factory=dict)  # ticket field -> rule that set it in this event
    stop: bool = False
    _ticket: Ticket | None = None

    def ticket(self) -> Ticket:
        if self.ticket_id is None:
            raise ValidationFailed(_("this action needs a ticket"), field="ticket_id")
        if self._ticket is None:
            self._ticket = Ticket.objects.select_related("customer", "order", "store").get(
                pk=self.ticket_id, organization_id=self.organization_id
            )
        return self._ticket


class Action:
    slug: ClassVar[str]
    label: ClassVar[Any]
    sets: ClassVar[tuple[str, ...]] = ()  # the ticket fields it sets (first rule in an event wins)

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        """The parameters normalised, or ValidationFailed naming `path.<param>`."""
        _no_params(params, path=path)
        return {}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """What it would change, for the dry run and the conflict check."""
        return {"action": self.slug, **params}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def _no_params(params: Mapping[str, Any], *, path: str, allowed: tuple[str, ...] = ()) -> None:
    for key in params:
        if key not in allowed:
            raise path_error(f"{path}.{key}", _("unknown parameter"))


def _choice(params: Mapping[str, Any], key: str, choices: list[str], *, path: str) -> str:
    value = params.get(key)
    if value not in choices:
        raise path_error(f"{path}.{key}", _("must be one of %(choices)s") % {"choices": ", ".join(choices)})
    return str(value)


def _text(params: Mapping[str, Any], key: str, *, path: str, limit: int, required: bool = True) -> str:
    value = params.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise path_error(f"{path}.{key}", _("text of 1 to %(n)s characters") % {"n": limit})
    return value


def _id(params: Mapping[str, Any], key: str, *, path: str) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise path_error(f"{path}.{key}", _("must be an id"))
    return value


REGISTRY: dict[str, Action] = {}


def register(cls: type[Action]) -> type[Action]:
    REGISTRY[cls.slug] = cls()
    return cls


# --------------------------------------------------------------------------- ticket fields


class _SetTicketField(Action):
    param: ClassVar[str]
    choices: ClassVar[list[str]]

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=(self.param,))
        return {self.param: _choice(params, self.param, self.choices, path=path)}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "field": self.sets[0], "value": params[self.param]}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_update

        ticket_update(ticket=ctx.ticket(), actor=ctx.actor, **{self.sets[0]: params[self.param]})
        return {self.sets[0]: params[self.param]}


@register
class SetCategory(_SetTicketField):
    slug, label, sets, param = "set_category", gettext_lazy("Set the category"), ("category",), "category"
    choices = list(TicketCategory.values)


@register
class SetUrgency(_SetTicketField):
    slug, label, sets, param = "set_urgency", gettext_lazy("Set the urgency"), ("urgency",), "urgency"
    choices = list(Urgency.values)


@register
class SetPriority(Action):
    slug, label, sets = "set_priority", gettext_lazy("Mark as high priority (or not)"), ("is_high_priority",)

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("high",))
        if not isinstance(params.get("high", True), bool):
            raise path_error(f"{path}.high", _("must be true or false"))
        return {"high": params.get("high", True)}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "field": "is_high_priority", "value": params["high"]}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_update

        ticket_update(ticket=ctx.ticket(), actor=ctx.actor, is_high_priority=params["high"])
        return {"is_high_priority": params["high"]}


@register
class AddTags(Action):
    slug, label = "add_tags", gettext_lazy("Add tags")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import check_tag_name

        _no_params(params, path=path, allowed=("tags",))
        tags = params.get("tags")
        if not isinstance(tags, list) or not tags or len(tags) > 20:
            raise path_error(f"{path}.tags", _("a list of 1 to 20 tags"))
        return {"tags": [check_tag_name(t, field=f"{path}.tags[{i}]") for i, t in enumerate(tags)]}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_set_tags

        return {"tags": ticket_set_tags(ticket=ctx.ticket(), actor=ctx.actor, add=list(params["tags"]))}


@register
class AssignTeam(Action):
    slug, label, sets = "assign_team", gettext_lazy("Assign a team"), ("team",)

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("team_id",))
        team_id = _id(params, "team_id", path=path)
        if not Team.objects.filter(pk=team_id, organization_id=organization_id).exists():
            raise path_error(f"{path}.team_id", _("no such team"))
        return {"team_id": team_id}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "field": "team", "value": params["team_id"]}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_update

        team = Team.objects.get(pk=params["team_id"], organization_id=ctx.organization_id)
        ticket_update(ticket=ctx.ticket(), actor=ctx.actor, team=team)
        return {"team_id": team.pk}


@register
class AssignAgent(Action):
    slug, label, sets = "assign_agent", gettext_lazy("Assign an agent"), ("assignee",)

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("user_id",))
        user_id = _id(params, "user_id", path=path)
        if not User.objects.filter(pk=user_id, organization_id=organization_id, is_active=True).exists():
            raise path_error(f"{path}.user_id", _("no such agent"))
        return {"user_id": user_id}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "field": "assignee", "value": params["user_id"]}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_assign

        user = User.objects.get(pk=params["user_id"], organization_id=ctx.organization_id)
        ticket_assign(ticket=ctx.ticket(), actor=ctx.actor, assignee=user)
        return {"assignee_id": user.pk}


@register
class RouteBySkill(Action):
    """Route by skill (triage.routing.ticket_route: language, platform, category, workload, team
    calendars), as the rule: the team, then an agent of it when one is on shift."""

    slug, label, sets = "route_by_skill", gettext_lazy("Route by skill"), ("team", "assignee")
    strategies: ClassVar[list[str]] = ["least_loaded", "round_robin"]

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("strategy",))
        if params.get("strategy") is None:
            return {}
        return {"strategy": _choice(params, "strategy", self.strategies, path=path)}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.triage.routing import ticket_route

        decision = ticket_route(ticket=ctx.ticket(), actor=ctx.actor, strategy=params.get("strategy"))
        return {"team_id": decision.team_id, "assignee_id": decision.assignee_id, "reasons": list(decision.reasons)}


@register
class AddNote(Action):
    slug, label = "add_note", gettext_lazy("Add an internal note")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("body",))
        return {"body": _text(params, "body", path=path, limit=MAX_NOTE)}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_add_note

        note, _mentioned = ticket_add_note(ticket=ctx.ticket(), author=ctx.actor, body=params["body"])
        return {"note_id": note.pk}


@register
class Escalate(Action):
    """High urgency, high priority and a note saying why: for a human to look at now."""

    slug, label, sets = "escalate", gettext_lazy("Escalate"), ("urgency", "is_high_priority")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("note",))
        return {"note": _text(params, "note", path=path, limit=MAX_NOTE, required=False)}

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "field": "urgency", "value": Urgency.HIGH}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_add_note, ticket_update

        ticket = ctx.ticket()
        ticket_update(ticket=ticket, actor=ctx.actor, urgency=Urgency.HIGH, is_high_priority=True)
        text = params["note"] or _("Escalated by the rule %(name)s.") % {"name": ctx.rule_name}
        note, _mentioned = ticket_add_note(ticket=ticket, author=ctx.actor, body=text)
        return {"urgency": Urgency.HIGH, "note_id": note.pk}


@register
class SendTemplate(Action):
    """A reply from a reply template in the customer's language. A variant that was machine-
    translated and awaits review is not sent: it is left as an internal note for an agent."""

    slug, label = "send_template", gettext_lazy("Send a template reply in the customer's language")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        from aftersales.language.models import ReplyTemplate

        _no_params(params, path=path, allowed=("template_id",))
        template_id = _id(params, "template_id", path=path)
        if not ReplyTemplate.objects.filter(pk=template_id, organization_id=organization_id).exists():
            raise path_error(f"{path}.template_id", _("no such reply template"))
        return {"template_id": template_id}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.inbox.services.tickets import ticket_add_note, ticket_reply_idempotent
        from aftersales.language.models import ReplyTemplate
        from aftersales.language.templates import context_for_ticket, render_template

        ticket = ctx.ticket()
        template = ReplyTemplate.objects.get(pk=params["template_id"], organization_id=ctx.organization_id)
        language = ticket.language or ticket.customer.preferred_language or ticket.store.default_language or "en"
        rendered = render_template(template=template, language=language, context=context_for_ticket(ticket))
        if rendered.needs_review:
            body = _("Draft from the rule %(name)s (machine-translated, check it before sending):") % {
                "name": ctx.rule_name
            }
            note, _mentioned = ticket_add_note(ticket=ticket, author=ctx.actor, body=f"{body}\n\n{rendered.text}")
            return {"sent": False, "language": rendered.language, "note_id": note.pk, "reason": "needs_review"}
        message, _created = ticket_reply_idempotent(
            ticket=ticket,
            author=ctx.actor,
            body=rendered.text,
            idempotency_key=f"rule:{ctx.rule_id}:{ctx.event_key}"[:120],
        )
        return {"sent": True, "language": rendered.language, "message_id": message.pk}


def _outbox_key(ctx: ActionContext, kind: str, recipient: str) -> str:
    """One outbox row per rule, event and recipient: a retried task finds it instead of sending again."""
    digest = hashlib.sha256(f"{ctx.event_key}\x00{recipient}".encode()).hexdigest()[:40]
    return f"rule:{ctx.rule_id}:{kind}:{digest}"


def _outbox_source(ctx: ActionContext) -> str:
    return f"rule_execution:{ctx.execution_id}" if ctx.execution_id else f"rule:{ctx.rule_id}"


@register
class NotifyEmail(Action):
    """E-mail colleagues (active users of the organization with an address): one outbox row per
    recipient, written with the rule's execution and sent by the worker after commit
    (notifications.outbox): a retried task never e-mails again someone already e-mailed."""

    slug, label = "notify_email", gettext_lazy("Notify colleagues by e-mail")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("user_ids", "subject", "body"))
        raw = params.get("user_ids")
        if not isinstance(raw, list) or not 1 <= len(raw) <= 20:
            raise path_error(f"{path}.user_ids", _("a list of 1 to 20 user ids"))
        ids = [_id({"id": v}, "id", path=f"{path}.user_ids[{i}]") for i, v in enumerate(raw)]
        known = set(User.objects.filter(pk__in=ids, organization_id=organization_id).values_list("pk", flat=True))
        for i, user_id in enumerate(ids):
            if user_id not in known:
                raise path_error(f"{path}.user_ids[{i}]", _("no such user"))
        return {
            "user_ids": list(dict.fromkeys(ids)),
            "subject": _text(params, "subject", path=path, limit=150),
            "body": _text(params, "body", path=path, limit=MAX_NOTE),
        }

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from django.conf import settings

        from aftersales.notifications.models import OutboxKind
        from aftersales.notifications.outbox import outbox_enqueue

        body = params["body"]
        if ctx.ticket_id is not None:
            body = f"{body}\n\n{settings.SITE_URL.rstrip('/')}/tickets/{ctx.ticket_id}/"
        users = User.objects.filter(
            organization_id=ctx.organization_id, pk__in=params["user_ids"], is_active=True
        ).exclude(email="")
        queued = []
        for user in users.order_by("pk"):
            message = outbox_enqueue(
                organization_id=ctx.organization_id,
                kind=OutboxKind.EMAIL,
                dedupe_key=_outbox_key(ctx, "email", str(user.pk)),
                source=_outbox_source(ctx),
                recipient=user.email,
                payload={"subject": params["subject"], "body": body},
            )
            queued.append({"user_id": user.pk, "outbox_id": message.pk})
        return {"queued_for": [q["user_id"] for q in queued], "outbox": queued}


WEBHOOK_DATA_LIMIT = 4000


@register
class NotifyWebhook(Action):
    """POST a signed JSON body to an https URL (notifications.webhooks: checked on save, every
    resolved address checked at send time, no redirects, short timeouts), through an outbox row:
    sent at most once per rule and event, retried with backoff on 5xx/timeouts. Signed with the
    organization's secret, or with `"signing": "rule"` the rule's own secret for that URL
    (rules.webhook_secrets; the action fails while that secret is not made)."""

    slug, label = "notify_webhook", gettext_lazy("Call a webhook")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        from aftersales.notifications.webhooks import check_webhook_url

        from .webhook_secrets import SIGNING_CHOICES, SIGNING_ORGANIZATION

        _no_params(params, path=path, allowed=("url", "note", "signing"))
        try:
            url = check_webhook_url(params.get("url"), field=f"{path}.url")
        except ValidationFailed as exc:
            raise path_error(f"{path}.url", exc.message) from exc
        out: dict[str, Any] = {"url": url}
        if params.get("note"):
            out["note"] = _text(params, "note", path=path, limit=500)
        if "signing" in params:
            signing = _choice(params, "signing", list(SIGNING_CHOICES), path=path)
            if signing != SIGNING_ORGANIZATION:
                out["signing"] = signing
        return out

    def describe(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {"action": self.slug, "url": params.get("url")}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.notifications.models import OutboxKind
        from aftersales.notifications.outbox import outbox_enqueue

        ticket = ctx.snapshot.get("ticket") or {}
        body = {
            "type": "rule.matched",
            "organization_id": ctx.organization_id,
            "rule": {"id": ctx.rule_id, "name": ctx.rule_name},
            "trigger": (ctx.snapshot.get("event") or {}).get("trigger"),
            "event_key": ctx.event_key,
            "ticket": {k: ticket.get(k) for k in WEBHOOK_TICKET_FIELDS if k in ticket} or None,
            "rma_id": ctx.rma_id,
            "note": params.get("note", ""),
        }
        if params.get("signing") == "rule":
            from .webhook_secrets import signing_key_of

            signing_key = signing_key_of(organization_id=ctx.organization_id, rule_id=ctx.rule_id, url=params["url"])
            if signing_key is None:
                raise ValidationFailed(
                    _("this webhook signs with the rule's own secret, which is not made yet (made on the rule's page)"),
                    field="signing",
                )
            body["signing_key"] = signing_key
        key = _outbox_key(ctx, "webhook", params["url"])
        body["delivery_id"] = key
        message = outbox_enqueue(
            organization_id=ctx.organization_id,
            kind=OutboxKind.WEBHOOK,
            dedupe_key=key,
            source=_outbox_source(ctx),
            recipient=params["url"],
            payload=body,
        )
        return {"queued": True, "outbox_id": message.pk}


WEBHOOK_TICKET_FIELDS = (
    "id",
    "subject",
    "status",
    "status_category",
    "category",
    "urgency",
    "platform",
    "language",
    "is_high_priority",
    "tags",
    "team_id",
    "assignee_id",
    "created_at",
)


@register
class StopFurther(Action):
    slug, label = "stop_further", gettext_lazy("Stop further rules")

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        ctx.stop = True
        return {"stopped": True}


# --------------------------------------------------------------------------- money


def _rma_id(ctx: ActionContext) -> int:
    rma_id = ctx.rma_id or (ctx.snapshot.get("rma") or {}).get("id")
    if not rma_id:
        raise ValidationFailed(_("this action needs a return (RMA)"), field="rma_id")
    return int(rma_id)


class _Refund(Action):
    """A refund of the RMA's lines through returns.refunds, as the rule: approved (and paid) only
    within the rule's approval limit, in the limit's currency; above it, or without a limit, the
    refund waits for an approver (manual review), never paid by the rule. Key rma:<id>:refund, the
    returns app's own: the money moves once whoever asks."""

    kind: ClassVar[str]

    def _percent(self, params: Mapping[str, Any]) -> Decimal:
        return Decimal(100)

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.models import Rma
        from aftersales.returns.refunds import refund_request
        from aftersales.returns.rma import rma_refund_amount

        rma = Rma.objects.get(pk=_rma_id(ctx), organization_id=ctx.organization_id)
        percent = self._percent(params)
        amount, currency, lines = rma_refund_amount(rma, percent=percent)
        full = percent >= 100
        refund = refund_request(
            actor=ctx.actor,
            organization_id=ctx.organization_id,
            order_id=rma.order_id,
            rma_id=rma.pk,
            ticket_id=rma.ticket_id,
            kind="full" if full else "partial",
            amount=None if full else str(amount),
            lines=None if full else lines,
            currency=currency,
            reason=_("Rule %(name)s") % {"name": ctx.rule_name},
            idempotency_key=f"rma:{rma.pk}:refund",
            actor_limit=ctx.approval_limit,
        )
        return {
            "refund_id": refund.pk,
            "amount": str(refund.amount),
            "currency": refund.currency,
            "status": refund.status,
        }


def _automation(ctx: ActionContext) -> Any:
    from aftersales.returns.access import Automation

    return Automation(actor=ctx.actor, organization_id=ctx.organization_id, approval_limit=ctx.approval_limit)


@register
class RefundReturnless(Action):
    """Approve the return as a refund without return: the RMA is approved and its refund requested
    (returns.rma), paid only within the rule's approval limit."""

    slug, label = "refund_returnless", gettext_lazy("Refund without return (within the rule's approval limit)")
    decision = "approve"

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.rma import rma_approve

        rma = rma_approve(user=_automation(ctx), rma_id=_rma_id(ctx), resolution="returnless_refund")
        refund = rma.refunds.order_by("-pk").first()
        return {
            "rma_id": rma.pk,
            "status": rma.status,
            "refund_id": refund.pk if refund else None,
            "refund_status": refund.status if refund else None,
        }


@register
class ApproveReturn(Action):
    slug, label = "approve_return", gettext_lazy("Approve the return")
    decision = "approve"

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("resolution",))
        if "resolution" not in params:
            return {}
        return {"resolution": _choice(params, "resolution", list(APPROVABLE_RESOLUTIONS), path=path)}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.rma import rma_approve

        rma = rma_approve(user=_automation(ctx), rma_id=_rma_id(ctx), resolution=params.get("resolution"))
        return {"rma_id": rma.pk, "status": rma.status, "resolution": rma.resolution}


@register
class RejectReturn(Action):
    slug, label = "reject_return", gettext_lazy("Reject the return")
    decision = "reject"

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("reason",))
        return {"reason": _text(params, "reason", path=path, limit=1000)}

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.rma import rma_reject

        rma = rma_reject(user=_automation(ctx), rma_id=_rma_id(ctx), reason=params["reason"])
        return {"rma_id": rma.pk, "status": rma.status}


@register
class CreateExchange(Action):
    """Exchange the returned items for the same SKUs and quantities (returns.exchanges, stock reserved
    through the inventory ledger); out of stock: nothing reserved, the result says so."""

    slug, label = "create_exchange", gettext_lazy("Create an exchange (same items)")

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.exchanges import exchange_create
        from aftersales.returns.models import RmaLine

        rma_id = _rma_id(ctx)
        lines = [
            {"sku": sku, "quantity": quantity, "replaces_order_line_id": order_line_id}
            for sku, quantity, order_line_id in RmaLine.objects.filter(
                rma_id=rma_id, rma__organization_id=ctx.organization_id
            ).values_list("sku", "quantity", "order_line_id")
        ]
        result = exchange_create(user=_automation(ctx), rma_id=rma_id, lines=lines)
        return {
            "exchange_id": result.exchange.pk,
            "status": result.exchange.status,
            "out_of_stock": result.out_of_stock,
            "message": result.message,
        }


@register
class RequestEvidence(Action):
    slug, label = "request_evidence", gettext_lazy("Ask the buyer for evidence")
    decision = "evidence"

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("kinds", "message"))
        kinds = params.get("kinds")
        if not isinstance(kinds, list) or not kinds or any(k not in EVIDENCE_KINDS for k in kinds):
            raise path_error(f"{path}.kinds", _("a list of %(kinds)s") % {"kinds": ", ".join(EVIDENCE_KINDS)})
        return {
            "kinds": list(dict.fromkeys(kinds)),
            "message": _text(params, "message", path=path, limit=2000, required=False),
        }

    def execute(self, ctx: ActionContext, params: Mapping[str, Any]) -> dict[str, Any]:
        from aftersales.returns.rma import rma_request_evidence

        rma = rma_request_evidence(
            user=_automation(ctx), rma_id=_rma_id(ctx), kinds=list(params["kinds"]), message=params.get("message", "")
        )
        return {"rma_id": rma.pk, "status": rma.status, "kinds": list(params["kinds"])}


@register
class RefundPartial(_Refund):
    slug, label = "refund_partial", gettext_lazy("Partial refund (within the rule's approval limit)")

    def check(self, params: Mapping[str, Any], *, path: str, organization_id: int) -> dict[str, Any]:
        _no_params(params, path=path, allowed=("percent",))
        raw = params.get("percent")
        try:
            percent = Decimal(str(raw)) if not isinstance(raw, bool) and raw is not None else None
        except InvalidOperation:
            percent = None
        if percent is None or not (0 < percent < 100):
            raise path_error(f"{path}.percent", _("a percentage between 0 and 100"))
        return {"percent": str(percent)}

    def _percent(self, params: Mapping[str, Any]) -> Decimal:
        return Decimal(params["percent"])


# --------------------------------------------------------------------------- the document


def check_actions(raw: Any, *, organization_id: int) -> list[dict[str, Any]]:
    """The actions of a rule document, checked and normalised; refusals name `actions[i].params.x`."""
    if not isinstance(raw, list):
        raise path_error("actions", _("must be a list of actions"))
    if not raw or len(raw) > MAX_ACTIONS:
        raise path_error("actions", _("from 1 to %(n)s actions") % {"n": MAX_ACTIONS})
    out = []
    for i, item in enumerate(raw):
        path = f"actions[{i}]"
        if not isinstance(item, dict) or set(item) - {"type", "params"}:
            raise path_error(path, _('must be {"type": ..., "params": {...}}'))
        action = REGISTRY.get(item.get("type"))  # type: ignore[arg-type]
        if action is None:
            raise path_error(f"{path}.type", _("unknown action %(type)s") % {"type": item.get("type")})
        params = item.get("params") or {}
        if not isinstance(params, dict):
            raise path_error(f"{path}.params", _("must be an object"))
        out.append(
            {
                "type": action.slug,
                "params": action.check(params, path=f"{path}.params", organization_id=organization_id),
            }
        )
    return out


def run_action(ctx: ActionContext, item: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one action; a domain refusal is recorded, not raised (the caller's savepoint rolls
    back what the action half did)."""
    action = REGISTRY[item["type"]]
    entry: dict[str, Any] = {"type": action.slug, "params": dict(item.get("params") or {})}
    taken = [f for f in action.sets if f in ctx.claimed]
    if taken:
        entry["status"], entry["reason"] = "skipped", f"{taken[0]} already set by {ctx.claimed[taken[0]]}"
        return entry
    entry["result"] = action.execute(ctx, item.get("params") or {})
    entry["status"] = "ok"
    for name in action.sets:
        ctx.claimed[name] = ctx.rule_name
    return entry


def action_error(item: Mapping[str, Any], error: DomainError) -> dict[str, Any]:
    return {
        "type": item.get("type"),
        "params": dict(item.get("params") or {}),
        "status": "error",
        "error": error.message,
        "field": error.field,
    }
