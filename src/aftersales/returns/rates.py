"""The organization's exchange-rate table (to the policy's reporting currency): set, list, look up.
The eligibility decision reports the rate it used."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from aftersales.accounts.audit import setting_changes_record
from aftersales.accounts.models import Permission
from aftersales.accounts.permissions import check_perm, organization_of
from aftersales.core import clock
from aftersales.core.errors import ValidationFailed
from aftersales.core.money import validate_currency

from .models import ExchangeRate
from .policy import Rate


def check_rate(value: Any, *, field: str = "rate") -> Decimal:
    if isinstance(value, float | bool):
        raise ValidationFailed(_("%(field)s: must be a decimal string") % {"field": field}, field=field)
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(_("%(field)s: must be a decimal number") % {"field": field}, field=field) from None
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or rate <= 0 or rate >= Decimal(10**10) or (isinstance(exponent, int) and exponent < -8):
        raise ValidationFailed(
            _("%(field)s: must be positive, below 10^10, at most 8 decimal places") % {"field": field}, field=field
        )
    return rate


def rate_set(*, user: Any, currency: str, rate: Any, as_of: date | None = None) -> ExchangeRate:
    """Create or replace the rate of one currency (admins)."""
    check_perm(user, Permission.ADMINISTER)
    try:
        validate_currency(currency)
    except Exception:
        raise ValidationFailed(_("currency: unknown currency code"), field="currency") from None
    value = check_rate(rate)
    org_id, day = organization_of(user), as_of or clock.now().date()
    with transaction.atomic():
        setting_changes_record(
            organization_id=org_id,
            actor=user,
            setting=f"exchange_rate.{currency}",
            old=ExchangeRate.objects.filter(organization_id=org_id, currency=currency).values("rate", "as_of").first(),
            new={"rate": value, "as_of": day},
        )
        row, _created = ExchangeRate.objects.update_or_create(
            organization_id=org_id,
            currency=currency,
            defaults={"rate": value, "as_of": day, "updated_at": clock.now()},
        )
    return row


def rate_list(user: Any) -> list[ExchangeRate]:
    check_perm(user, Permission.ADMINISTER)
    return list(ExchangeRate.objects.filter(organization_id=organization_of(user)).order_by("currency"))


def rate_lookup(organization_id: int, currency: str) -> Rate | None:
    row = (
        ExchangeRate.objects.filter(organization_id=organization_id, currency=currency)
        .values_list("rate", "as_of")
        .first()
    )
    return Rate(currency=currency, rate=row[0], as_of=row[1]) if row else None
