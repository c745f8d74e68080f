"""The periodic follow-up jobs (issue 11 section 5; issue 10's warranty reminders delivered). Each
is safe to run twice and to overlap: the work is claimed by a FollowUp row whose unique key is
(kind, object, slot), created in the same transaction as the buyer message, and the message itself
carries that key as its idempotency key. Buyer messages go out through the inbox's one reply path
(`ticket_reply` with the system actor "followups"), so the channel's rules apply (Amazon: no links).
What was sent or skipped, and why, is the FollowUp log; a skip worth an agent's eye also leaves a
note on the ticket by the same actor."""

from __future__ import annotations

import hashlib
import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from aftersales.catalog.models import Shipment
from aftersales.channels.connectors.email.amazon_relay import parse_relay_conversation
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import DomainError
from aftersales.inbox.models import Ticket
from aftersales.inbox.services import ticket_add_note, ticket_reply
from aftersales.inbox.services.proactive import ticket_open_for_order
from aftersales.inbox.workflow import TicketStatus

from . import texts
from .events import FollowUpSent, FollowUpSkipped
from .links import make_token, survey_url
from .models import Coupon, FollowUp, FollowUpKind, FollowUpOutcome, FollowUpSettings

logger = logging.getLogger(__name__)

ACTOR = Actor.system("followups")
CATCH_UP = timedelta(days=7)  # a job that did not run for a while still sends what fell due this week
COMPLAINT_INTENT = "complaint_escalation"
COUPON_ALPHABET = string.ascii_uppercase + string.digits


class SkipReason:
    NOT_SAMPLED = "not_sampled"
    LINKS_FORBIDDEN = "links_forbidden"
    NO_COUPON = "no_coupon"
    NO_TICKET = "no_ticket"
    REPLY_REFUSED = "reply_refused"


# Skips an agent should see on the ticket (a note by the system actor); sampling is not one.
NOTED = frozenset({SkipReason.LINKS_FORBIDDEN, SkipReason.NO_COUPON, SkipReason.REPLY_REFUSED})


@dataclass(frozen=True)
class Outcome:
    follow_up: FollowUp | None  # None: the key was already taken (nothing done)

    @property
    def sent(self) -> bool:
        return self.follow_up is not None and self.follow_up.outcome == FollowUpOutcome.SENT


def _isolated(work: Callable[[], Outcome], *, ident: int) -> int:
    """Run one follow-up; an unexpected error is logged and the job goes on with the next one (the
    key was not taken: a later run tries again). Returns 1 when a message was sent."""
    try:
        return int(work().sent)
    except Exception:
        logger.exception("follow-up failed", extra={"event": "followup_failed", "object_id": ident})
        return 0


# --- pure helpers --------------------------------------------------------------------------------


def is_sampled(ticket_id: int, percent: int) -> bool:
    """Deterministic by ticket: the same ticket is always in (or out of) a given sample, and a
    larger percentage keeps every ticket a smaller one had."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha256(f"csat:{ticket_id}".encode()).digest()[:4], "big") % 100
    return bucket < percent


def links_allowed(ticket: Ticket) -> bool:
    """Whether the ticket's channel carries external links to the buyer: Amazon's buyer-seller
    messaging (its API and its e-mail relay) forbids them."""
    return ticket.platform != "amazon" and parse_relay_conversation(ticket.conversation_id) is None


def _slot(at: datetime) -> str:
    return str(int(at.timestamp()))


def _ticket_language(ticket: Ticket) -> str:
    return texts.buyer_language(ticket.language or ticket.customer.preferred_language or ticket.store.default_language)


def _order_number(ticket: Ticket) -> str:
    return ticket.order.external_id if ticket.order is not None else f"#{ticket.pk}"


def _rendered(template_id: int | None, ticket: Ticket, language: str, fallback: str, extra: str = "") -> str:
    """The organization's reply template for this follow-up in the buyer's language (machine-
    translated and flagged when it has no such variant) plus `extra` (the link, the code) on its own
    line; else the built-in text (which already holds `extra`)."""
    if template_id is None:
        return fallback
    from aftersales.language.models import ReplyTemplate
    from aftersales.language.templates import context_for_ticket, render_template

    template = ReplyTemplate.objects.filter(pk=template_id, organization_id=ticket.organization_id).first()
    if template is None:
        return fallback
    rendered = render_template(template=template, language=language, context=context_for_ticket(ticket))
    return f"{rendered.text}\n\n{extra}".strip() if extra else rendered.text


# --- claim, send, skip ---------------------------------------------------------------------------


def _claim(
    *, organization_id: int, kind: str, key: str, ticket: Ticket | None, outcome: str, **fields: object
) -> FollowUp:
    return FollowUp.objects.create(
        organization_id=organization_id, kind=kind, key=key, ticket=ticket, outcome=outcome, created_at=now(), **fields
    )


def skip(*, organization_id: int, kind: str, key: str, ticket: Ticket | None, reason: str, detail: str = "") -> Outcome:
    """Record that this follow-up will not be sent, and why (once per key). A skip in NOTED also
    leaves a note on the ticket by the system actor."""
    try:
        with transaction.atomic():
            row = _claim(
                organization_id=organization_id,
                kind=kind,
                key=key,
                ticket=ticket,
                outcome=FollowUpOutcome.SKIPPED,
                reason=reason,
                detail=detail[:300],
            )
            if ticket is not None and reason in NOTED:
                with translation.override("en"):
                    label = str(FollowUpKind(kind).label)
                ticket_add_note(
                    ticket=ticket,
                    author=ACTOR,
                    body=_("Follow-up not sent (%(kind)s): %(detail)s") % {"kind": label, "detail": detail or reason},
                )
            events.publish(
                FollowUpSkipped(
                    follow_up_id=row.pk,
                    organization_id=organization_id,
                    kind=kind,
                    ticket_id=ticket.pk if ticket else None,
                    reason=reason,
                    actor=ACTOR,
                )
            )
    except IntegrityError:  # decided by an earlier or concurrent run
        return Outcome(None)
    return Outcome(row)


def send(
    *,
    ticket: Ticket,
    kind: str,
    key: str,
    language: str,
    body_for: object,
    expires_at: datetime | None = None,
    coupon_code: str = "",
) -> Outcome:
    """Claim `key` and queue the buyer message through the inbox's reply path as the system actor,
    in one transaction. `body_for(follow_up)` builds the text (it may need the row's id, e.g. for a
    signed link). A reply the channel refuses (closed ticket, a marketplace rule, a paused store)
    rolls back and is recorded as skipped with the refusal's words."""
    if FollowUp.objects.filter(key=key).exists():
        return Outcome(None)
    try:
        with transaction.atomic():
            row = _claim(
                organization_id=ticket.organization_id,
                kind=kind,
                key=key,
                ticket=ticket,
                outcome=FollowUpOutcome.SENT,
                language=language,
                expires_at=expires_at,
                coupon_code=coupon_code,
            )
            body = body_for(row)  # type: ignore[operator]
            message = ticket_reply(ticket=ticket, author=ACTOR, body=body, idempotency_key=key[:120])
            row.message = message
            row.save(update_fields=["message"])
            events.publish(
                FollowUpSent(
                    follow_up_id=row.pk,
                    organization_id=ticket.organization_id,
                    kind=kind,
                    ticket_id=ticket.pk,
                    message_id=message.pk,
                    actor=ACTOR,
                )
            )
    except IntegrityError:
        return Outcome(None)
    except DomainError as exc:
        return skip(
            organization_id=ticket.organization_id,
            kind=kind,
            key=key,
            ticket=ticket,
            reason=SkipReason.REPLY_REFUSED,
            detail=exc.message,
        )
    return Outcome(row)


def _enabled(flag: str) -> QuerySet[FollowUpSettings]:
    return FollowUpSettings.objects.filter(**{flag: True}).order_by("organization_id")


def _solved_tickets(organization_id: int, *, kind: str, until: datetime) -> QuerySet[Ticket]:
    """Solved tickets resolved before `until` (within the catch-up window) that have no follow-up
    of `kind` since their resolution."""
    done = FollowUp.objects.filter(ticket=OuterRef("pk"), kind=kind, created_at__gte=OuterRef("resolved_at"))
    return (
        Ticket.objects.filter(
            organization_id=organization_id,
            status=TicketStatus.SOLVED,
            resolved_at__lte=until,
            resolved_at__gte=until - CATCH_UP,
            merged_into__isnull=True,
        )
        .exclude(Exists(done))
        .select_related("customer", "store", "order")
        .order_by("resolved_at", "pk")
    )


# --- 1. CSAT surveys -----------------------------------------------------------------------------


def csat_surveys_send(*, at: datetime | None = None) -> int:
    """Send the CSAT survey of each ticket solved `csat_delay_hours` ago (one per ticket and
    resolution), to the sampled share of tickets, where the channel allows links. Returns how many
    were sent."""
    moment = at or now()
    sent = 0
    for config in _enabled("csat_enabled"):
        until = moment - timedelta(hours=config.csat_delay_hours)
        for ticket in _solved_tickets(config.organization_id, kind=FollowUpKind.CSAT_SURVEY, until=until):
            sent += _isolated(partial(csat_survey_send, ticket=ticket, config=config, at=moment), ident=ticket.pk)
    return sent


def csat_survey_send(*, ticket: Ticket, config: FollowUpSettings, at: datetime) -> Outcome:
    assert ticket.resolved_at is not None
    key = f"csat:{ticket.pk}:{_slot(ticket.resolved_at)}"
    if not is_sampled(ticket.pk, config.csat_sample_percent):
        return skip(
            organization_id=ticket.organization_id,
            kind=FollowUpKind.CSAT_SURVEY,
            key=key,
            ticket=ticket,
            reason=SkipReason.NOT_SAMPLED,
            detail=f"{config.csat_sample_percent}%",
        )
    language = _ticket_language(ticket)
    expires_at = at + timedelta(days=config.csat_link_days)
    if not links_allowed(ticket):
        # Amazon's messaging forbids links: the survey asks for a reply with a number instead
        # (services.csat_rate_by_reply records it), same sampling, same language, same expiry.
        def reply_body(_row: FollowUp) -> str:
            return texts.message_text(language, "csat_invite_reply", order=_order_number(ticket))

        return send(
            ticket=ticket,
            kind=FollowUpKind.CSAT_SURVEY,
            key=key,
            language=language,
            body_for=reply_body,
            expires_at=expires_at,
        )

    def body(row: FollowUp) -> str:
        link = survey_url(make_token(row.pk, expires_at))
        fallback = texts.message_text(language, "csat_invite", order=_order_number(ticket), link=link)
        return _rendered(config.csat_template_id, ticket, language, fallback, extra=link)

    return send(
        ticket=ticket, kind=FollowUpKind.CSAT_SURVEY, key=key, language=language, body_for=body, expires_at=expires_at
    )


# --- 2. thank-you with a coupon after a resolved complaint ---------------------------------------


def coupon_claim(*, organization_id: int, follow_up: FollowUp, pattern: str) -> str | None:
    """A code for `follow_up`: the oldest unused code of the pool (claimed by a conditional update,
    so two runs never hand out one code), else one made from the pattern, else None."""
    for _attempt in range(5):
        free = Coupon.objects.filter(organization_id=organization_id, used_at__isnull=True).order_by("pk").first()
        if free is None:
            break
        taken = Coupon.objects.filter(pk=free.pk, used_at__isnull=True).update(used_at=now(), used_by=follow_up)
        if taken:
            return free.code
    if not pattern:
        return None
    code = pattern.replace("{code}", "".join(secrets.choice(COUPON_ALPHABET) for _ in range(8)))
    Coupon.objects.create(
        organization_id=organization_id, code=code, imported_at=now(), used_at=now(), used_by=follow_up
    )
    return code


def _complaints(organization_id: int, categories: list[str], *, until: datetime) -> QuerySet[Ticket]:
    from aftersales.triage.models import TriageResult

    complained = TriageResult.objects.filter(message__ticket=OuterRef("pk"), intent=COMPLAINT_INTENT)
    return _solved_tickets(organization_id, kind=FollowUpKind.COMPLAINT_THANKS, until=until).filter(
        Q(category__in=categories) | Q(Exists(complained))
    )


def complaint_thanks_send(*, at: datetime | None = None) -> int:
    """Thank the buyer of each solved complaint (the configured categories, or a message triaged
    as complaint_escalation) with a coupon code: once per ticket and resolution."""
    moment = at or now()
    sent = 0
    for config in _enabled("thanks_enabled"):
        for ticket in _complaints(config.organization_id, list(config.thanks_categories or []), until=moment):
            sent += _isolated(partial(complaint_thank, ticket=ticket, config=config), ident=ticket.pk)
    return sent


def complaint_thank(*, ticket: Ticket, config: FollowUpSettings) -> Outcome:
    assert ticket.resolved_at is not None
    key = f"thanks:{ticket.pk}:{_slot(ticket.resolved_at)}"
    if FollowUp.objects.filter(key=key).exists():
        return Outcome(None)
    language = _ticket_language(ticket)

    def body(row: FollowUp) -> str:
        code = coupon_claim(organization_id=ticket.organization_id, follow_up=row, pattern=config.coupon_pattern)
        if code is None:
            raise _NoCoupon
        row.coupon_code = code
        row.save(update_fields=["coupon_code"])
        fallback = texts.message_text(language, "thanks_coupon", order=_order_number(ticket), code=code)
        return _rendered(config.thanks_template_id, ticket, language, fallback, extra=code)

    try:
        return send(ticket=ticket, kind=FollowUpKind.COMPLAINT_THANKS, key=key, language=language, body_for=body)
    except _NoCoupon:
        return skip(
            organization_id=ticket.organization_id,
            kind=FollowUpKind.COMPLAINT_THANKS,
            key=key,
            ticket=ticket,
            reason=SkipReason.NO_COUPON,
            detail=_("the coupon pool is empty and no coupon pattern is set"),
        )


class _NoCoupon(Exception):
    pass


# --- 3. parcel stalled ---------------------------------------------------------------------------


def stalled_parcels_notify(*, at: datetime | None = None) -> int:
    """For each followed shipment whose last tracking event is `stall_days` old: a proactive
    message to the buyer in their language on the order's live ticket (or a new one), once per
    shipment stall (the key holds the instant of the last event: a parcel that moves and stalls
    again is a new stall)."""
    from aftersales.tracking.selectors import shipments_stalled

    moment = at or now()
    sent = 0
    for config in _enabled("stall_enabled"):
        stalled = shipments_stalled(config.organization_id, config.stall_days, at=moment).select_related(
            "order", "order__store", "order__customer"
        )
        for shipment in stalled:
            key = f"stall:{shipment.pk}:{_slot(shipment.tracking_last_event_at)}"  # type: ignore[attr-defined]
            if FollowUp.objects.filter(key=key).exists():
                continue
            sent += _isolated(
                partial(parcel_stall_notify, shipment=shipment, key=key, config=config, at=moment), ident=shipment.pk
            )
    return sent


def parcel_stall_notify(*, shipment: Shipment, key: str, config: FollowUpSettings, at: datetime) -> Outcome:
    order = shipment.order
    since = shipment.tracking_last_event_at  # type: ignore[attr-defined]
    days = max(config.stall_days, (at - since).days)
    try:
        ticket, _created = ticket_open_for_order(
            order=order,
            subject=_("Parcel %(tracking)s has not moved") % {"tracking": shipment.tracking_number},
            actor=ACTOR,
        )
    except DomainError as exc:
        return skip(
            organization_id=order.organization_id,
            kind=FollowUpKind.PARCEL_STALLED,
            key=key,
            ticket=None,
            reason=SkipReason.NO_TICKET,
            detail=exc.message,
        )
    language = _ticket_language(ticket)

    def body(_row: FollowUp) -> str:
        fallback = texts.message_text(
            language, "stall_notice", order=order.external_id, tracking=shipment.tracking_number, days=days
        )
        return _rendered(config.stall_template_id, ticket, language, fallback)

    return send(ticket=ticket, kind=FollowUpKind.PARCEL_STALLED, key=key, language=language, body_for=body)


# --- 4. warranty-expiry reminders delivered ------------------------------------------------------


def warranty_reminder_deliver(*, reminder_id: int) -> Outcome:
    """Deliver one queued warranty reminder (warranty.reminders_queue wrote its text in the buyer's
    language) through the buyer's thread: the live ticket of the unit's order, else the customer's
    newest live ticket on the unit's store. Once per reminder. No thread: skipped, recorded."""
    from aftersales.warranty.models import WarrantyReminder

    reminder = WarrantyReminder.objects.select_related("unit", "unit__order").filter(pk=reminder_id).first()
    if reminder is None:
        return Outcome(None)
    key = f"warranty:{reminder.pk}"
    config = FollowUpSettings.objects.filter(organization_id=reminder.organization_id).first()
    if config is not None and not config.warranty_delivery_enabled:
        return Outcome(None)  # delivery off: the reminder stays queued, a later run may send it
    ticket = _reminder_thread(reminder)
    if ticket is None:
        return skip(
            organization_id=reminder.organization_id,
            kind=FollowUpKind.WARRANTY_REMINDER,
            key=key,
            ticket=None,
            reason=SkipReason.NO_TICKET,
            detail=_("no open conversation with the buyer to send it in"),
        )
    return send(
        ticket=ticket,
        kind=FollowUpKind.WARRANTY_REMINDER,
        key=key,
        language=reminder.language,
        body_for=lambda _row: reminder.body,
    )


def _reminder_thread(reminder: object) -> Ticket | None:
    unit = reminder.unit  # type: ignore[attr-defined]
    live = (
        Ticket.objects.filter(organization_id=reminder.organization_id, merged_into__isnull=True)  # type: ignore[attr-defined]
        .exclude(status=TicketStatus.CLOSED)
        .select_related("customer", "store", "order")
        .order_by("-last_message_at", "-pk")
    )
    if unit.order_id is not None:
        found = live.filter(order_id=unit.order_id).first()
        if found is not None:
            return found
    if reminder.customer_id is None:  # type: ignore[attr-defined]
        return None
    scoped = live.filter(customer_id=reminder.customer_id)  # type: ignore[attr-defined]
    if unit.store_id is not None:
        scoped = scoped.filter(store_id=unit.store_id)
    return scoped.first()


def warranty_reminders_deliver(*, at: datetime | None = None) -> int:
    """Catch-up for reminders whose delivery task was lost: every queued reminder of the last week
    without a follow-up yet."""
    from aftersales.warranty.models import WarrantyReminder

    moment = at or now()
    taken = set(
        FollowUp.objects.filter(
            kind=FollowUpKind.WARRANTY_REMINDER, created_at__gte=moment - CATCH_UP - timedelta(days=1)
        ).values_list("key", flat=True)
    )
    pending = (
        WarrantyReminder.objects.filter(created_at__gte=moment - CATCH_UP, created_at__lte=moment)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for reminder_id in pending:
        if f"warranty:{reminder_id}" not in taken:
            sent += _isolated(partial(warranty_reminder_deliver, reminder_id=reminder_id), ident=reminder_id)
    return sent
