"""Writes of the follow-ups that people make: the organization's settings (admins), the coupon pool
(admins), and the buyer's CSAT rating through the signed link (no login: the token is the key).
The periodic jobs that send follow-ups are in jobs.py."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_audit
from aftersales.accounts.models import Permission, User
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import events
from aftersales.core.actors import Actor
from aftersales.core.clock import now
from aftersales.core.errors import ValidationFailed
from aftersales.core.validation import check_text, parse_id
from aftersales.inbox.workflow import TicketCategory

from .events import CsatRated
from .models import Coupon, CsatResponse, FollowUp, FollowUpKind, FollowUpOutcome, FollowUpSettings
from .selectors import survey_for_token

MAX_COMMENT = 2000
MAX_COUPONS_PER_IMPORT = 10_000
COUPON_PLACEHOLDER = "{code}"
LIMITS = {
    "stall_days": (1, 60),
    "csat_delay_hours": (0, 720),
    "csat_sample_percent": (0, 100),
    "csat_link_days": (1, 90),
}
# What the settings audit (accounts.audit) records of the follow-up settings.
AUDIT_FIELDS = (
    *LIMITS,
    *("stall_enabled", "csat_enabled", "thanks_enabled", "warranty_delivery_enabled"),
    *("stall_template", "csat_template", "thanks_template", "thanks_categories", "coupon_pattern"),
)


# --- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingsInput:
    stall_enabled: bool
    stall_days: int
    csat_enabled: bool
    csat_delay_hours: int
    csat_sample_percent: int
    csat_link_days: int
    thanks_enabled: bool
    thanks_categories: list[str]
    coupon_pattern: str
    warranty_delivery_enabled: bool
    stall_template_id: int | None = None
    csat_template_id: int | None = None
    thanks_template_id: int | None = None


def _check_whole(name: str, value: Any) -> int:
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed(
            _("%(field)s: a whole number from %(low)d to %(high)d") % {"field": name, "low": low, "high": high},
            field=name,
        )
    return value


def _check_template(organization_id: int, value: Any, field: str) -> int | None:
    from aftersales.language.selectors import reply_templates

    if value is None:
        return None
    template_id = parse_id(value, field=field)
    if not reply_templates(organization_id=organization_id).filter(pk=template_id).exists():
        raise ValidationFailed(_("%(field)s: no such reply template") % {"field": field}, field=field)
    return template_id


def _check_categories(values: Any) -> list[str]:
    if not isinstance(values, list) or len(values) > len(TicketCategory.values):
        raise ValidationFailed(_("thanks_categories: a list of ticket categories"), field="thanks_categories")
    for index, value in enumerate(values):
        if value not in TicketCategory.values:
            raise ValidationFailed(
                _("thanks_categories: %(value)s is not a ticket category") % {"value": str(value)[:40]},
                field=f"thanks_categories[{index}]",
            )
    return sorted(set(values))


def check_coupon_pattern(pattern: str) -> str:
    text = check_text(pattern, field="coupon_pattern", max_length=40, one_line=True).strip()
    if text and text.count(COUPON_PLACEHOLDER) != 1:
        raise ValidationFailed(
            _("coupon_pattern must contain {code} exactly once (it becomes 8 random letters and digits)"),
            field="coupon_pattern",
        )
    return text


def followup_settings_save(*, user: User, values: SettingsInput) -> FollowUpSettings:
    """Save the organization's follow-up settings. Admins only; a refusal names the field and
    nothing is written."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    numbers = {name: _check_whole(name, getattr(values, name)) for name in LIMITS}
    templates = {
        name: _check_template(organization_id, getattr(values, name), name)
        for name in ("stall_template_id", "csat_template_id", "thanks_template_id")
    }
    categories = _check_categories(values.thanks_categories)
    pattern = check_coupon_pattern(values.coupon_pattern)
    with transaction.atomic():
        row, _created = FollowUpSettings.objects.select_for_update().get_or_create(organization_id=organization_id)
        for name, number in numbers.items():
            setattr(row, name, number)
        for name, template_id in templates.items():
            setattr(row, name, template_id)
        row.stall_enabled = bool(values.stall_enabled)
        row.csat_enabled = bool(values.csat_enabled)
        row.thanks_enabled = bool(values.thanks_enabled)
        row.warranty_delivery_enabled = bool(values.warranty_delivery_enabled)
        row.thanks_categories = categories
        row.coupon_pattern = pattern
        setting_audit(row, AUDIT_FIELDS, actor=user, setting="followup")
        row.updated_at = now()
        row.save()
    return row


# --- coupons -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouponImport:
    imported: int
    already_there: int


def coupons_import(*, user: User, csv_text: str) -> CouponImport:
    """Add codes to the organization's pool from CSV text: one code per line in the first column
    (a header line named `code` is skipped). All or nothing: a bad line is refused naming
    `csv[line]`. Codes already in the pool are counted, not duplicated. Admins only."""
    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    check_text(csv_text, field="csv", max_length=1_000_000, required=True)
    codes: list[str] = []
    for line_number, row in enumerate(csv.reader(io.StringIO(csv_text)), start=1):
        if not row or not row[0].strip():
            continue
        code = row[0].strip()
        if line_number == 1 and code.lower() == "code":
            continue
        if len(code) > 60 or any(ch.isspace() for ch in code):
            raise ValidationFailed(
                _("line %(line)d: a coupon code has at most 60 characters and no spaces") % {"line": line_number},
                field=f"csv[{line_number}]",
            )
        codes.append(code)
    if not codes:
        raise ValidationFailed(_("csv: no coupon codes found"), field="csv")
    if len(codes) > MAX_COUPONS_PER_IMPORT:
        raise ValidationFailed(
            _("csv: at most %(max)d codes per import") % {"max": MAX_COUPONS_PER_IMPORT}, field="csv"
        )
    unique = list(dict.fromkeys(codes))
    at = now()
    with transaction.atomic():
        existing = set(
            Coupon.objects.filter(organization_id=organization_id, code__in=unique).values_list("code", flat=True)
        )
        new = [Coupon(organization_id=organization_id, code=c, imported_at=at) for c in unique if c not in existing]
        Coupon.objects.bulk_create(new, ignore_conflicts=True)
    return CouponImport(imported=len(new), already_there=len(codes) - len(new))


# --- CSAT ratings ------------------------------------------------------------------------------


def check_rating(value: Any) -> int:
    """A rating from 1 to 5 (an int or its digits as text); anything else names `rating`."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 1:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationFailed(_("rating: a whole number from 1 to 5"), field="rating")
    return value


def csat_rate(*, token: str, rating: Any, comment: str = "", at: datetime | None = None) -> CsatResponse:
    """The buyer rates the solved ticket (1-5, optional comment). Rating again before the link
    expires replaces the rating (counted in `changes`). Publishes CsatRated (actor: the customer).
    Locks the survey row."""
    value = check_rating(rating)
    text = check_text(comment or "", field="comment", max_length=MAX_COMMENT).strip()
    moment = at or now()
    survey = survey_for_token(token, at=moment)
    return _record_rating(survey, value, text, moment)


# A reply that is only a rating: "4", "4/5", "５", "4 stars", "4 ★" (what a buyer answers to "reply with a
# number from 1 to 5"); anything longer is an ordinary message.
RATING_REPLY = re.compile(r"^\s*([1-5１-５])\s*(?:/\s*5|stars?|★+|星|分)?\s*[.!。！]?\s*$", re.IGNORECASE)


def rating_in_reply(body: str) -> int | None:
    match = RATING_REPLY.match(body or "")
    if match is None:
        return None
    digit = match.group(1)
    return int(digit) if digit.isascii() else ord(digit) - ord("０")


def csat_rate_by_reply(*, message_id: int) -> CsatResponse | None:
    """A buyer's message that is only a number from 1 to 5, on a ticket with a CSAT survey sent before
    it and not expired (the link-less survey of channels that forbid links, or any survey), rates the
    ticket as the link would (the same recording, CsatRated by the customer). Anything else: None,
    nothing written. Safe to run twice (the same rating again is a change of nothing but the count)."""
    from aftersales.inbox.models import Message, MessageDirection

    message = Message.objects.select_related("ticket").filter(pk=message_id).first()
    if message is None or message.direction != MessageDirection.INBOUND:
        return None
    value = rating_in_reply(message.body)
    if value is None:
        return None
    arrived = message.sent_at or message.created_at
    survey = (
        FollowUp.objects.filter(
            ticket_id=message.ticket_id,
            kind=FollowUpKind.CSAT_SURVEY,
            outcome=FollowUpOutcome.SENT,
            created_at__lte=arrived,
            expires_at__gt=arrived,
        )
        .select_related("ticket", "ticket__customer")
        .order_by("-created_at", "-pk")
        .first()
    )
    if survey is None:
        return None
    existing = CsatResponse.objects.filter(survey=survey).first()
    if existing is not None and existing.rating == value and existing.rated_at >= arrived:
        return existing  # this reply was already counted
    return _record_rating(survey, value, "", arrived)


def _record_rating(survey: FollowUp, value: int, text: str, moment: datetime) -> CsatResponse:
    ticket = survey.ticket
    assert ticket is not None  # a survey always has its ticket
    actor = Actor.customer(ticket.customer)
    with transaction.atomic():
        FollowUp.objects.select_for_update().get(pk=survey.pk)
        response = CsatResponse.objects.filter(survey=survey).first()
        is_change = response is not None
        if response is None:
            response = CsatResponse(organization_id=survey.organization_id, survey=survey, ticket=ticket)
        else:
            response.changes += 1
        response.rating = value
        response.comment = text
        response.agent_id = ticket.assignee_id
        response.team_id = ticket.team_id
        response.language = survey.language
        response.rated_at = moment
        try:
            with transaction.atomic():
                response.save()
        except IntegrityError:  # a concurrent first rating: rate again on top of it
            raise ValidationFailed(_("rating: please send it again"), field="rating") from None
        events.publish(
            CsatRated(
                response_id=response.pk,
                organization_id=response.organization_id,
                ticket_id=ticket.pk,
                rating=value,
                has_comment=bool(text),
                is_change=is_change,
                actor=actor,
            )
        )
    return response
