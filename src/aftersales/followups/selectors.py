"""Reads of the follow-ups: the settings (admins), a ticket's follow-up log and CSAT rating (whoever
may see the ticket), CSAT per agent / team / period for analytics, and what the rating page shows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet
from django.utils.translation import gettext as _

from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core.clock import now
from aftersales.core.errors import DomainError, ValidationFailed
from aftersales.inbox.selectors import ticket_get

from . import texts
from .links import BadToken, read_token
from .models import Coupon, CsatResponse, FollowUp, FollowUpKind, FollowUpOutcome, FollowUpSettings


class SurveyLinkInvalid(DomainError):
    """The survey link was altered or is not one of ours."""

    status_code = 400
    code = "invalid_link"


class SurveyLinkExpired(DomainError):
    """The survey link is genuine but past its expiry."""

    status_code = 410
    code = "link_expired"


def settings_of(organization_id: int) -> FollowUpSettings:
    """The organization's follow-up settings (defaults, unsaved, when never saved)."""
    found = FollowUpSettings.objects.filter(organization_id=organization_id).first()
    return found or FollowUpSettings(organization_id=organization_id)


def survey_for_token(token: str, *, at: datetime | None = None) -> FollowUp:
    """The survey a link names. SurveyLinkInvalid (400, field `token`) when the signature does not
    match or no such survey was sent; SurveyLinkExpired (410) past its expiry."""
    try:
        signed = read_token(token)
    except BadToken:
        raise SurveyLinkInvalid(_("this survey link is not valid"), field="token") from None
    survey = (
        FollowUp.objects.select_related("ticket", "ticket__customer")
        .filter(pk=signed.follow_up_id, kind=FollowUpKind.CSAT_SURVEY, outcome=FollowUpOutcome.SENT)
        .first()
    )
    if survey is None or survey.ticket is None:
        raise SurveyLinkInvalid(_("this survey link is not valid"), field="token")
    expires_at = min(signed.expires_at, survey.expires_at or signed.expires_at)
    if (at or now()) >= expires_at:
        raise SurveyLinkExpired(_("this survey link has expired"), field="token")
    return survey


def followup_settings(user: Any) -> FollowUpSettings:
    """The organization's follow-up settings. Admins only."""
    check_perm(user, Permission.ADMINISTER)
    return settings_of(organization_of(user))


@dataclass(frozen=True)
class SettingsPage:
    settings: FollowUpSettings
    templates: tuple[tuple[int, str], ...]
    coupons_free: int
    coupons_used: int


def followup_settings_page(user: Any) -> SettingsPage:
    """The settings, the reply templates to choose from and the coupon pool's counts. Admins only."""
    from aftersales.language.selectors import reply_templates

    check_perm(user, Permission.ADMINISTER)
    organization_id = organization_of(user)
    pool = Coupon.objects.filter(organization_id=organization_id).aggregate(
        free=Count("pk", filter=Q(used_at__isnull=True)), used=Count("pk", filter=Q(used_at__isnull=False))
    )
    return SettingsPage(
        settings=settings_of(organization_id),
        templates=tuple((t.pk, t.name) for t in reply_templates(organization_id=organization_id)),
        coupons_free=pool["free"],
        coupons_used=pool["used"],
    )


@dataclass(frozen=True)
class TicketFollowUps:
    follow_ups: tuple[FollowUp, ...]
    csat: CsatResponse | None  # the latest rating of the ticket
    # Follow-ups for this ticket's order or buyer that were not sent because there was no
    # conversation to send them in (no_ticket: a stalled parcel of the order, a warranty reminder of
    # the buyer): they have no ticket of their own, so the agent sees them here.
    unsent_elsewhere: tuple[FollowUp, ...] = ()


def ticket_follow_ups(user: Any, ticket_id: int) -> TicketFollowUps:
    """What was sent or skipped on this ticket and why, newest first, its latest CSAT rating, and the
    no_ticket skips of its order's parcels and its buyer's warranty reminders. NotFound outside the
    user's sight."""
    ticket = ticket_get(user, ticket_id)
    rows = tuple(FollowUp.objects.filter(ticket=ticket).select_related("csat").order_by("-created_at", "-pk")[:50])
    csat = CsatResponse.objects.filter(ticket=ticket).order_by("-rated_at", "-pk").first()
    return TicketFollowUps(rows, csat, _unsent_elsewhere(ticket))


def _unsent_elsewhere(ticket: Any) -> tuple[FollowUp, ...]:
    from aftersales.catalog.models import Shipment
    from aftersales.warranty.models import WarrantyReminder

    keys = Q(pk__in=[])
    if ticket.order_id is not None:
        for shipment_id in Shipment.objects.filter(order_id=ticket.order_id).values_list("pk", flat=True)[:20]:
            keys |= Q(key__startswith=f"stall:{shipment_id}:")
    if ticket.customer_id is not None:
        reminders = WarrantyReminder.objects.filter(
            organization_id=ticket.organization_id, customer_id=ticket.customer_id
        ).values_list("pk", flat=True)[:50]
        keys |= Q(key__in=[f"warranty:{pk}" for pk in reminders])
    return tuple(
        FollowUp.objects.filter(
            keys, organization_id=ticket.organization_id, ticket__isnull=True, reason="no_ticket"
        ).order_by("-created_at", "-pk")[:20]
    )


GROUPS = ("agent", "team")


@dataclass(frozen=True)
class CsatRow:
    group_id: int | None
    name: str
    responses: int
    average: float
    satisfied_percent: float  # ratings of 4 or 5


def csat_summary(
    user: Any, *, group_by: str, since: datetime | None = None, until: datetime | None = None
) -> list[CsatRow]:
    """CSAT per agent or team over a period (ratings by `rated_at`): the number of ratings, the
    average and the share rated 4 or 5. Admins and approvers (team leads) only."""
    check_perm(user, Permission.APPROVE)
    if group_by not in GROUPS:
        raise ValidationFailed(_("group_by: agent or team"), field="group_by")
    rows: QuerySet[CsatResponse] = CsatResponse.objects.filter(organization_id=organization_of(user))
    if since is not None:
        rows = rows.filter(rated_at__gte=since)
    if until is not None:
        rows = rows.filter(rated_at__lt=until)
    name_field = "agent__username" if group_by == "agent" else "team__name"
    grouped = (
        rows.values(f"{group_by}_id", name_field)
        .annotate(n=Count("pk"), avg=Avg("rating"), happy=Count("pk", filter=Q(rating__gte=4)))
        .order_by(name_field)
    )
    return [
        CsatRow(
            g[f"{group_by}_id"],
            g[name_field] or "",
            g["n"],
            round(float(g["avg"]), 2),
            round(100 * g["happy"] / g["n"], 1),
        )
        for g in grouped
    ]


@dataclass(frozen=True)
class SurveyPage:
    state: str  # open, invalid, expired
    language: str
    rtl: bool
    rating: int | None = None
    comment: str = ""
    expires_at: datetime | None = None
    store_name: str = ""


def survey_page(token: str, *, language_hint: str = "") -> SurveyPage:
    """What the buyer's rating page shows for a link: the survey's language and current rating, or
    why the link does not work (in the hint's language, e.g. the browser's)."""
    try:
        survey = survey_for_token(token)
    except DomainError as exc:
        language = texts.buyer_language(language_hint)
        state = "expired" if exc.code == "link_expired" else "invalid"
        return SurveyPage(state, language, texts.is_rtl(language))
    language = texts.buyer_language(survey.language)
    response = CsatResponse.objects.filter(survey=survey).first()
    ticket = survey.ticket
    return SurveyPage(
        "open",
        language,
        texts.is_rtl(language),
        rating=response.rating if response else None,
        comment=response.comment if response else "",
        expires_at=survey.expires_at,
        store_name=ticket.store.name if ticket is not None else "",
    )
