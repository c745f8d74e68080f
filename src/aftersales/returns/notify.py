"""Customer notifications of an RMA (issue 10, section 7) and the warehouse's reminder on arrival.

At each step (approved with the instructions and the return address, evidence requested, label issued,
received, resolved, rejected with the reason, a partial refund offered) the buyer gets a reply on the
RMA's ticket, through the inbox's reply service (inbox.services.ticket_reply: queued, then delivered by
the store's connector or e-mail, with the ticket's delivery states and retries). The text is the
organization's reply template for the step (language app, `ReplyTemplate` named in TEMPLATE_NAMES) in
the buyer's language: its variant in that language, else its source variant; without a template, the
built-in text below through gettext in the buyer's language. Rejection reasons, the evidence asked for
and the offered amount are added below the template's text.

The reply is written as the user who acted (their reply permission on the ticket is checked), else as
the ticket's assignee; an automatic step (no user acted: a returnless refund the policy granted, e.g. on
an unassigned ticket) with no assignee to write it is sent by the system (`Actor.system("rma-
notifications")` through the inbox's actor-based reply service: no author user, the actor's label shown,
the ticket not taken). A step a user took who may not reply, with no assignee who may, is not sent and
the timeline says why. No ticket: nothing is sent and the timeline
says so. Every outcome is an RmaEvent (`customer_notified` / `notification_skipped`). Safe to run
twice: the reply's idempotency key is `rma-<id>-<step>-<rma event id>`."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import can_view_ticket, has_perm
from aftersales.core.actors import Actor
from aftersales.core.errors import DomainError
from aftersales.language.languages import normalise
from aftersales.language.models import ReplyTemplate
from aftersales.language.templates import context_for_ticket, render_body

from .models import Rma, RmaResolution

logger = logging.getLogger(__name__)
NOTIFY_ACTOR = Actor.system("rma-notifications")

STEPS = ("approved", "evidence_requested", "label_issued", "received", "resolved", "rejected", "partial_offered")
# The reply template of each step, by name (seeded by the returns data migration 0006 in en, zh, de, es, fr).
TEMPLATE_NAMES: dict[str, str] = {
    "approved": "RMA: return approved",
    "evidence_requested": "RMA: evidence needed",
    "label_issued": "RMA: return label",
    "received": "RMA: return received",
    "resolved": "RMA: return resolved",
    "rejected": "RMA: return rejected",
    "partial_offered": "RMA: partial refund offer",
}
# Built-in texts (gettext, in the buyer's language) when the organization has no template for a step.
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
}
EVIDENCE_LABELS = {
    "photo": gettext_lazy("photos of the item"),
    "video": gettext_lazy("a video showing the problem"),
    "imei": gettext_lazy("the IMEI (dial *#06#)"),
    "serial_number": gettext_lazy("the serial number"),
}
DJANGO_LANGUAGE = {"zh": "zh-hans"}


def step_for_status(new_status: str, reason: str) -> str | None:
    if new_status == "needs_evidence":
        return None if reason == "evidence_requested" else "evidence_requested"
    return new_status if new_status in STEPS else None


def return_address(rma: Rma) -> str:
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
    return "\n".join(p for p in parts if p)


def _author(rma: Rma, actor_user_id: int | None) -> User | None:
    ticket = rma.ticket
    assert ticket is not None
    candidates = []
    if actor_user_id is not None:
        candidates.append(User.objects.filter(pk=actor_user_id, is_active=True).first())
    if ticket.assignee_id is not None:
        candidates.append(User.objects.filter(pk=ticket.assignee_id, is_active=True).first())
    for user in candidates:
        if user is not None and has_perm(user, Permission.REPLY) and can_view_ticket(user, ticket):
            return user
    return None


def _template_body(rma: Rma, step: str, language: str) -> tuple[str, str]:
    """(body, where it came from) in `language`: the organization's template variant, else built-in."""
    template = ReplyTemplate.objects.filter(organization_id=rma.organization_id, name=TEMPLATE_NAMES[step]).first()
    if template is not None:
        variant = template.variants.filter(language=language).first() or (
            template.variants.filter(language=template.source_language).first() or template.variants.first()
        )
        if variant is not None:
            return variant.body, f"template:{template.pk}:{variant.language}"
    with translation.override(DJANGO_LANGUAGE.get(language, language)):
        return str(BUILT_IN[step]), "built-in"


def _extra(rma: Rma, step: str, payload: dict[str, Any], language: str) -> str:
    with translation.override(DJANGO_LANGUAGE.get(language, language)):
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
    return ""


def rma_notify_customer(
    *, rma_id: int, step: str, rma_event_id: int, actor_user_id: int | None, payload: dict[str, Any]
) -> str:
    """Send the buyer the message of `step` (see the module docstring). Returns what happened:
    `sent` (queued on the ticket), `no_ticket`, `no_author` or `refused: <why>`."""
    from aftersales.inbox.services import ticket_reply

    from .rma import record_event

    rma = Rma.objects.select_related("ticket", "return_warehouse", "order", "store").filter(pk=rma_id).first()
    if rma is None or step not in STEPS:
        return "unknown"
    if step == "approved" and rma.resolution == RmaResolution.RETURNLESS_REFUND:
        return "folded"  # the resolution's message says it all
    if rma.ticket is None:
        record_event(rma, "notification_skipped", NOTIFY_ACTOR, step=step, why="no_ticket", for_event_id=rma_event_id)
        return "no_ticket"
    author: User | Actor | None = _author(rma, actor_user_id)
    if author is None and actor_user_id is None:
        author = NOTIFY_ACTOR  # an automatic step nobody can write: the system sends it
    if author is None:
        record_event(rma, "notification_skipped", NOTIFY_ACTOR, step=step, why="no_author", for_event_id=rma_event_id)
        return "no_author"
    agent = author if isinstance(author, User) else None
    language = normalise(rma.buyer_language or rma.ticket.language) or "en"
    body, source = _template_body(rma, step, language)
    refund = rma.refunds.order_by("-id").first()
    amount = None
    currency = ""
    if step == "partial_offered" and payload.get("amount"):
        from decimal import Decimal

        amount, currency = Decimal(payload["amount"]), payload.get("currency", "")
    elif refund is not None:
        amount, currency = refund.amount, refund.currency
    context = context_for_ticket(
        rma.ticket,
        agent=agent,
        rma_number=rma.number,
        return_address=return_address(rma),
        refund_amount=amount,
        refund_currency=currency,
    )
    if step == "label_issued" and rma.label_tracking_number:
        from aftersales.language.templates import TrackingVars

        context = context.__class__(
            **{
                **{name: getattr(context, name) for name in context.__dataclass_fields__},
                "tracking": TrackingVars(
                    rma.label_tracking_number,
                    rma.label_carrier,
                    f"https://t.17track.net/en#nums={rma.label_tracking_number}",
                ),
            }
        )
    try:
        text = render_body(body, context)
    except DomainError:
        body, source = str(BUILT_IN[step]), "built-in"
        text = render_body(body, context)
    extra = _extra(rma, step, payload, language)
    text = "\n\n".join(p for p in (text.strip(), extra) if p)
    try:
        message = ticket_reply(
            ticket=rma.ticket, author=author, body=text, idempotency_key=f"rma-{rma.pk}-{step}-{rma_event_id}"
        )
    except DomainError as exc:
        record_event(
            rma,
            "notification_skipped",
            NOTIFY_ACTOR,
            step=step,
            why=f"refused: {exc.message}"[:200],
            for_event_id=rma_event_id,
        )
        return f"refused: {exc.message}"
    record_event(
        rma,
        "customer_notified",
        Actor.user(author) if isinstance(author, User) else author,
        step=step,
        message_id=message.pk,
        language=language,
        source=source,
        for_event_id=rma_event_id,
    )
    return "sent"


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
