"""Customer notifications of an RMA (issue 10, section 7), the one sending path the warranty's
notifications share (warranty.notify), and the warehouse's reminder on arrival.

At each step (approved with the instructions and the return address, evidence requested, label issued,
the parcel on its way (first carrier scan), delivered to the warehouse by tracking, received, inspected
(passed / failed with the checks the unit failed and the next step), resolved, rejected with the reason,
a partial refund offered, cancelled (by the seller, the buyer or the marketplace, with the reason), the
refund paid) the buyer gets a reply on the RMA's ticket, through the inbox's reply service
(inbox.services.ticket_reply: queued, then delivered by the store's connector or e-mail, with the
ticket's delivery states and retries). The text is the organization's reply template for the step
(language app, `ReplyTemplate` named in TEMPLATE_NAMES; seeded by returns.notify_templates) in the
buyer's language: its variant in that language, else one the language engine machine-translates from
the source variant (language.templates.variant_for: saved, flagged for review, like any reply
template), else (no provider can) the source variant; without a template, the built-in text below
through gettext in the buyer's language. Rejection and cancellation reasons, the
evidence asked for, the failed checks and the offered amount are added below the template's text;
amounts are formatted for the buyer's locale (py-moneyed / babel).

Each step can be switched off per organization (returns.notify_settings): a step switched off is not
sent and the timeline says so (`notification_skipped`, why `disabled_by_setting`).

The reply is written as the user who acted (their reply permission on the ticket is checked), else as
the ticket's assignee; an automatic step (no user acted: tracking, a connector, a returnless refund the
policy granted) with no assignee to write it is sent by the system (`Actor.system("rma-notifications")`
through the inbox's actor-based reply service: no author user, the actor's label shown, the ticket not
taken). A step a user took who may not reply, with no assignee who may, is not sent and the timeline
says why. No ticket: nothing is sent and the timeline says so. Every outcome is one event on the RMA's
(or the warranty claim's) timeline (`customer_notified` / `notification_skipped`, with the step and the
event it answers); running it again for the same step and event answers what happened the first time
and sends nothing (and the reply's idempotency key, `rma-<id>-<step>-<event id>`, holds as well)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import can_view_ticket, has_perm
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError
from aftersales.language.languages import is_rtl, normalise
from aftersales.language.models import ReplyTemplate
from aftersales.language.templates import TrackingVars, context_for_ticket, render_body, variant_for

from .models import RefundStatus, Rma, RmaResolution
from .notify_settings import step_enabled

logger = logging.getLogger(__name__)
NOTIFY_ACTOR = Actor.system("rma-notifications")

STEPS = (
    "approved",
    "evidence_requested",
    "label_issued",
    "in_transit",
    "delivered",
    "received",
    "inspected",
    "resolved",
    "rejected",
    "partial_offered",
    "cancelled",
    "refund_paid",
)
# Steps of the RMA's status machine (RmaStatusChanged.new_status) that notify; the others come from
# RmaParcelArrived (delivered), RmaEvidenceRequested and RefundStatusChanged (refund_paid).
STATUS_STEPS = frozenset(
    {
        "approved",
        "label_issued",
        "in_transit",
        "received",
        "inspected",
        "resolved",
        "rejected",
        "partial_offered",
        "cancelled",
    }
)
# The reply template of each message, by name (returns.notify_templates: written in en, es, de, fr, pt,
# it, zh, ja, ar; seeded by the data migrations returns 0006, 0008 and language 0003 and for every new
# organization). The inspection has one template per result.
TEMPLATE_NAMES: dict[str, str] = {
    "approved": "RMA: return approved",
    "evidence_requested": "RMA: evidence needed",
    "label_issued": "RMA: return label",
    "received": "RMA: return received",
    "resolved": "RMA: return resolved",
    "rejected": "RMA: return rejected",
    "partial_offered": "RMA: partial refund offer",
    "in_transit": "RMA: return parcel on its way",
    "delivered": "RMA: return parcel delivered",
    "inspected_passed": "RMA: inspection passed",
    "inspected_failed": "RMA: inspection failed",
    "cancelled": "RMA: return cancelled",
    "refund_paid": "RMA: refund paid",
    "order_refund_paid": "Order: refund paid",
    "replacement_shipped": "Warranty: replacement shipped",
    "repair_received": "Warranty: unit for repair received",
    "repair_shipped_back": "Warranty: repaired unit shipped back",
}
# Built-in texts (gettext, in the buyer's language: returns/locale has de, es, fr, pt, it, ja, ar) when the
# organization has no template.
BUILT_IN = {
    "approved": gettext_lazy(
        "Your return {{ rma_number }} is approved. Please pack the item with the RMA slip and send it to:\n"
        "{{ return_address }}"
    ),
    "evidence_requested": gettext_lazy("To process your return {{ rma_number }}, we need a little more from you."),
    "label_issued": gettext_lazy(
        "The return label for {{ rma_number }} is ready. Tracking: {{ tracking.carrier }} {{ tracking.number }}"
    ),
    "received": gettext_lazy("We have received your return {{ rma_number }} and will inspect it shortly."),
    "resolved": gettext_lazy("Your return {{ rma_number }} is complete. {{ refund_amount }}"),
    "rejected": gettext_lazy("We are sorry: your return {{ rma_number }} could not be accepted."),
    "partial_offered": gettext_lazy(
        "About your return {{ rma_number }}: you may keep the item and receive a partial refund of {{ refund_amount }}."
    ),
    "in_transit": gettext_lazy(
        "Your return parcel {{ rma_number }} is on its way to us. "
        "Tracking: {{ tracking.carrier }} {{ tracking.number }}"
    ),
    "delivered": gettext_lazy(
        "Your return parcel {{ rma_number }} has been delivered to our warehouse. We will check it in shortly."
    ),
    "inspected_passed": gettext_lazy(
        "Your return {{ rma_number }} passed our inspection. We are now completing your return."
    ),
    "inspected_failed": gettext_lazy(
        "Your return {{ rma_number }} did not pass our inspection. We will contact you about the next step."
    ),
    "cancelled": gettext_lazy("Your return {{ rma_number }} has been cancelled."),
    "refund_paid": gettext_lazy("The refund of {{ refund_amount }} for your return {{ rma_number }} has been paid."),
    "order_refund_paid": gettext_lazy(
        "The refund of {{ refund_amount }} for your order {{ order.number }} has been paid."
    ),
    "replacement_shipped": gettext_lazy(
        "Your replacement is on its way. Tracking: {{ tracking.carrier }} {{ tracking.number }} {{ tracking.link }}"
    ),
    "repair_received": gettext_lazy("We have received your unit for repair and will look at it shortly."),
    "repair_shipped_back": gettext_lazy(
        "Your unit is on its way back to you. "
        "Tracking: {{ tracking.carrier }} {{ tracking.number }} {{ tracking.link }}"
    ),
}
EVIDENCE_LABELS = {
    "photo": gettext_lazy("photos of the item"),
    "video": gettext_lazy("a video showing the problem"),
    "imei": gettext_lazy("the IMEI (dial *#06#)"),
    "serial_number": gettext_lazy("the serial number"),
}
DJANGO_LANGUAGE = {"zh": "zh-hans"}
BABEL_LOCALE = {"zh": "zh_Hans", "pt": "pt_BR"}


def step_for_status(new_status: str, reason: str) -> str | None:
    if new_status == "needs_evidence":
        return None if reason == "evidence_requested" else "evidence_requested"
    return new_status if new_status in STATUS_STEPS else None


def return_address(rma: Rma, *, language: str = "") -> str:
    """The RMA's return address, one line per part. In a right-to-left notice each line is a first-strong
    isolate (U+2068 ... U+2069): a Latin street or "Reno 89501" next to Arabic text keeps its own order."""
    warehouse = rma.return_warehouse
    if warehouse is None:
        return ""
    parts = [
        warehouse.contact_name or warehouse.name,
        warehouse.address_line1,
        warehouse.address_line2,
        " ".join(p for p in (warehouse.postal_code, warehouse.city) if p),
        warehouse.region,
        warehouse.country,
    ]
    lines = [p for p in parts if p]
    if language and is_rtl(language):
        lines = [f"\u2068{line}\u2069" for line in lines]
    return "\n".join(lines)


def format_amount(amount: Decimal, currency: str, language: str) -> str:
    """`amount` in `currency` as the buyer's locale writes it (e.g. de: 1.234,50 €, ja: ￥1,235,
    ar: ‏1,234.50 US$); an unknown locale or currency: 1,234.50 EUR."""
    from babel.core import UnknownLocaleError
    from moneyed import Money
    from moneyed.l10n import format_money

    try:
        return str(format_money(Money(amount, currency), locale=BABEL_LOCALE.get(language, language)))
    except (UnknownLocaleError, ValueError, LookupError):
        return f"{amount:,.2f} {currency}".strip()


def tracking_link(number: str) -> str:
    return f"https://t.17track.net/en#nums={number}" if number else ""


@dataclass(frozen=True)
class Notice:
    """One message to a buyer: the step (its switch), the template (TEMPLATE_NAMES key), where it goes
    and as whom, its idempotency key, the variables beyond the ticket's, and the text added below the
    template's (`extra`, called with the buyer's language active)."""

    organization_id: int
    ticket: Any  # inbox.Ticket | None
    step: str
    template: str
    language: str
    actor_user_id: int | None
    idempotency_key: str
    for_event_id: int
    rma_number: str = ""
    return_address: str = ""
    amount: Decimal | None = None
    currency: str = ""
    tracking: tuple[str, str] | None = None  # (carrier, number)
    extra: Callable[[], str] | None = None


def _author(ticket: Any, actor_user_id: int | None) -> User | None:
    candidates = []
    if actor_user_id is not None:
        candidates.append(User.objects.filter(pk=actor_user_id, is_active=True).first())
    if ticket.assignee_id is not None:
        candidates.append(User.objects.filter(pk=ticket.assignee_id, is_active=True).first())
    for user in candidates:
        if user is not None and has_perm(user, Permission.REPLY) and can_view_ticket(user, ticket):
            return user
    return None


def _template_body(organization_id: int, key: str, language: str) -> tuple[str, str]:
    """(body, where it came from) in `language`: the organization's template variant, else built-in."""
    template = ReplyTemplate.objects.filter(organization_id=organization_id, name=TEMPLATE_NAMES[key]).first()
    if template is not None:
        variant = template.variants.filter(language=language).first()
        if variant is None:
            try:  # machine-translated by the language engine, saved and flagged for review
                variant = variant_for(template, language)
            except Exception:  # no provider, provider down, a language it cannot do: the source variant
                logger.info("no %s variant of template %s", language, template.pk, exc_info=True)
                variant = template.variants.filter(language=template.source_language).first() or (
                    template.variants.first()
                )
        if variant is not None:
            machine = ":machine" if variant.is_machine_translated else ""
            return variant.body, f"template:{template.pk}:{variant.language}{machine}"
    with translation.override(DJANGO_LANGUAGE.get(language, language)):
        return str(BUILT_IN[key]), "built-in"


def notice_send(
    notice: Notice, *, timeline: QuerySet[Any], record: Callable[..., Any], actor: Actor = NOTIFY_ACTOR
) -> str:
    """Send `notice` (see the module docstring) and record the outcome with `record(type, actor,
    **payload)` on the timeline `timeline` (RmaEvent or WarrantyClaimEvent rows). Returns `sent`,
    `disabled_by_setting`, `no_ticket`, `no_author` or `refused: <why>`; for a step and event already answered,
    the first answer, nothing sent or recorded again."""
    from aftersales.inbox.services import ticket_reply

    step, for_event = notice.step, notice.for_event_id
    earlier = (
        timeline.filter(
            type__in=("customer_notified", "notification_skipped"), payload__step=step, payload__for_event_id=for_event
        )
        .order_by("id")
        .first()
    )
    if earlier is not None:
        return "sent" if earlier.type == "customer_notified" else str(earlier.payload.get("why", "skipped"))

    def skipped(why: str) -> str:
        record("notification_skipped", actor, step=step, why=why[:200], for_event_id=for_event)
        return why

    if not step_enabled(notice.organization_id, step):
        return skipped("disabled_by_setting")
    ticket = notice.ticket
    if ticket is None:
        return skipped("no_ticket")
    author: User | Actor | None = _author(ticket, notice.actor_user_id)
    if author is None and notice.actor_user_id is None:
        author = actor  # an automatic step nobody can write: the system sends it
    if author is None:
        return skipped("no_author")
    language = notice.language
    body, source = _template_body(notice.organization_id, notice.template, language)
    context = context_for_ticket(
        ticket,
        agent=author if isinstance(author, User) else None,
        rma_number=notice.rma_number,
        return_address=notice.return_address,
    )
    if notice.amount is not None:
        context = replace(context, refund_amount=format_amount(notice.amount, notice.currency, language))
    if notice.tracking is not None and notice.tracking[1]:
        carrier, number = notice.tracking
        context = replace(context, tracking=TrackingVars(number, carrier, tracking_link(number)))
    try:
        text = render_body(body, context)
    except DomainError:
        with translation.override(DJANGO_LANGUAGE.get(language, language)):
            body, source = str(BUILT_IN[notice.template]), "built-in"
        text = render_body(body, context)
    extra = ""
    if notice.extra is not None:
        with translation.override(DJANGO_LANGUAGE.get(language, language)):
            extra = notice.extra()
    text = "\n\n".join(p for p in (text.strip(), extra) if p)
    try:
        message = ticket_reply(ticket=ticket, author=author, body=text, idempotency_key=notice.idempotency_key)
    except DomainError as exc:
        return skipped(f"refused: {exc.message}")
    record(
        "customer_notified",
        Actor.user(author) if isinstance(author, User) else author,
        step=step,
        message_id=message.pk,
        language=language,
        source=source,
        for_event_id=for_event,
    )
    return "sent"


# --- the RMA's steps -----------------------------------------------------------------------------------

CANCELLED_BY = {
    "user": gettext_lazy("The return was cancelled by the seller."),
    "rule": gettext_lazy("The return was cancelled by the seller."),
    "customer": gettext_lazy("The return was cancelled at your request."),
    "connector": gettext_lazy("The return was cancelled on the marketplace."),
}


def _failed_checks(rma: Rma) -> list[str]:
    """The checks of the inspection the units failed, as the buyer may read them (the checklist's
    labels in the active language; the inspector's notes stay internal)."""
    from .qc import checklist_for

    failed: list[str] = []
    for line in rma.lines.select_related("order_line__product"):
        product = line.order_line.product
        labels = {item.code: item.label for item in checklist_for(product.category if product else "other")}
        for item in line.qc_checklist or []:
            if not item.get("passed", True) and item.get("code") in labels:
                label = str(labels[item["code"]])
                if label not in failed:
                    failed.append(label)
    return failed


def _extra(rma: Rma, step: str, payload: dict[str, Any]) -> str:
    """The text below the template's (runs with the buyer's language active)."""
    if step == "rejected" and payload.get("reason"):
        return _("Reason: %(reason)s") % {"reason": payload["reason"]}
    if step == "evidence_requested":
        kinds = payload.get("kinds") or [
            {"photos": "photo"}.get(k, k) for k in (rma.decision or {}).get("missing_evidence", [])
        ]
        wanted = ", ".join(str(EVIDENCE_LABELS.get(k, k)) for k in kinds)
        text = _("Please send us: %(wanted)s.") % {"wanted": wanted} if wanted else ""
        message = payload.get("message") or ""
        return "\n".join(p for p in (text, message) if p)
    if step == "label_issued" and rma.label_source == "uploaded":
        return _("The label is attached to your RMA; print it and stick it on the parcel.")
    if step == "partial_offered" and payload.get("message"):
        return str(payload["message"])
    if step == "inspected" and payload.get("result") == "failed":
        checks = _failed_checks(rma)
        return _("Not passed: %(checks)s.") % {"checks": "; ".join(checks)} if checks else ""
    if step == "cancelled":
        by = str(CANCELLED_BY.get(payload.get("actor_kind", ""), ""))
        reason = _("Reason: %(reason)s") % {"reason": payload["reason"]} if payload.get("reason") else ""
        return "\n".join(p for p in (by, reason) if p)
    return ""


def rma_notify_customer(
    *, rma_id: int, step: str, rma_event_id: int, actor_user_id: int | None, payload: dict[str, Any]
) -> str:
    """Send the buyer the message of `step` (see the module docstring). `rma_event_id` is the event the
    message answers (the RMA's event; for `refund_paid` the refund's). Returns what happened: `sent`
    (queued on the ticket), `disabled_by_setting`, `no_ticket`, `no_author` or `refused: <why>`."""
    from .rma import record_event

    rma = Rma.objects.select_related("ticket", "return_warehouse", "order", "store").filter(pk=rma_id).first()
    if rma is None or step not in STEPS:
        return "unknown"
    if step == "approved" and rma.resolution == RmaResolution.RETURNLESS_REFUND:
        return "folded"  # the resolution's message says it all
    if step == "cancelled" and "actor_kind" not in payload:
        kind = rma.events.filter(pk=rma_event_id).values_list("actor_kind", flat=True).first()
        payload = {**payload, "actor_kind": kind or ""}
    language = normalise(rma.buyer_language or (rma.ticket.language if rma.ticket else "")) or "en"
    amount: Decimal | None = None
    currency = ""
    if step == "refund_paid":
        refund = rma.refunds.filter(pk=int(payload.get("refund_id") or 0), status=RefundStatus.SUCCEEDED).first()
        if refund is None:
            return "not_paid"  # only a refund the platform confirmed (or marked done) is announced
        amount, currency = refund.amount, refund.currency
    elif step == "partial_offered" and payload.get("amount"):
        amount, currency = Decimal(payload["amount"]), payload.get("currency", "")
    else:
        refund = rma.refunds.order_by("-id").first()
        if refund is not None:
            amount, currency = refund.amount, refund.currency
    tracking = None
    if step in ("label_issued", "in_transit") and rma.label_tracking_number:
        tracking = (rma.label_carrier, rma.label_tracking_number)
    template = step
    if step == "inspected":
        template = "inspected_failed" if payload.get("result") == "failed" else "inspected_passed"
    notice = Notice(
        organization_id=rma.organization_id,
        ticket=rma.ticket,
        step=step,
        template=template,
        language=language,
        actor_user_id=actor_user_id,
        idempotency_key=f"rma-{rma.pk}-{step}-{rma_event_id}",
        for_event_id=rma_event_id,
        rma_number=rma.number,
        return_address=return_address(rma, language=language),
        amount=amount,
        currency=currency,
        tracking=tracking,
        extra=lambda: _extra(rma, step, payload),
    )
    return notice_send(
        notice,
        timeline=rma.events.all(),
        record=lambda type_, actor, **data: record_event(rma, type_, actor, **data),
    )


def refund_notify_customer(*, refund_id: int, refund_event_id: int, actor_user_id: int | None) -> str:
    """A paid refund without an RMA (asked for from the ticket's order panel or the API): the buyer is
    told on the refund's ticket (step `refund_paid`, template "Order: refund paid"), recorded on the
    refund's timeline (RefundEvent). A refund of an RMA is told through rma_notify_customer."""

    from .models import Refund, RefundEvent

    refund = (
        Refund.objects.select_related("ticket")
        .filter(pk=refund_id, status=RefundStatus.SUCCEEDED, rma__isnull=True)
        .first()
    )
    if refund is None:
        return "not_paid"
    ticket = refund.ticket
    notice = Notice(
        organization_id=refund.organization_id,
        ticket=ticket,
        step="refund_paid",
        template="order_refund_paid",
        language=normalise(ticket.language if ticket is not None else "") or "en",
        actor_user_id=actor_user_id,
        idempotency_key=f"refund-{refund.pk}-refund_paid-{refund_event_id}",
        for_event_id=refund_event_id,
        amount=refund.amount,
        currency=refund.currency,
    )

    from .refunds import refund_event_record

    def record(type_: str, actor: Actor, **payload: Any) -> RefundEvent:
        return refund_event_record(refund, type_, actor, payload)

    return notice_send(notice, timeline=refund.events.all(), record=record)


def rma_warehouse_reminder(*, rma_id: int, source: str) -> int:
    """An in-app notification (notifications app) to the warehouse team: the organization's users with
    the process permission who see the RMA (its ticket's scope). One per user and RMA (dedupe key)."""
    from aftersales.notifications.models import NotificationKind
    from aftersales.notifications.services import notification_create

    from .access import can_view_rma

    rma = Rma.objects.select_related("return_warehouse", "ticket").filter(pk=rma_id).first()
    if rma is None:
        return 0
    created = 0
    users = User.objects.filter(organization_id=rma.organization_id, is_active=True).select_related("role")[:500]
    for user in users:
        if not has_perm(user, Permission.PROCESS) or not can_view_rma(user, rma):
            continue
        with translation.override(user.language):
            where = str(rma.return_warehouse) if rma.return_warehouse else _("the warehouse")
            if source == "tracking":
                text = _("Return parcel %(number)s was delivered to %(where)s: receive and inspect it.")
            else:
                text = _("Return %(number)s was received at %(where)s: inspect it.")
            text = text % {"number": rma.number, "where": where}
        if notification_create(
            user=user,
            kind=NotificationKind.REMINDER,
            text=text,
            dedupe_key=f"rma-arrived:{rma.pk}",
            ticket_id=rma.ticket_id,
        ):
            created += 1
    return created
