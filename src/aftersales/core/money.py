"""Money: a Decimal amount with an ISO 4217 currency. Never floats.

Models store two columns (`<name>_amount` DecimalField, `<name>_currency` CharField); code passes
`moneyed.Money` values around."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from moneyed import Money

# py-moneyed (and babel, which it imports: ~8 MiB) is imported where a currency is checked or a Money
# built, not with this module, which every model module loads (issue 13, web process memory).

__all__ = ["AMOUNT_DIGITS", "AMOUNT_PLACES", "Money", "parse_money", "validate_currency"]

AMOUNT_DIGITS = 14
AMOUNT_PLACES = 2


def __getattr__(name: str) -> Any:
    if name == "Money":  # `from aftersales.core.money import Money` keeps working
        from moneyed import Money

        return Money
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate_currency(code: str) -> None:
    from moneyed import CURRENCIES

    if code not in CURRENCIES or code == "XXX":
        raise ValidationError(f"unknown currency code {code!r}")


def parse_money(amount: str | int | Decimal, currency: str) -> Money:
    """Build a Money from user input, refusing floats, NaN and unknown currencies."""
    if isinstance(amount, float):
        raise ValidationError("amounts must be decimal strings, not floats")
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValidationError(f"invalid amount {amount!r}") from exc
    if not value.is_finite():
        raise ValidationError(f"invalid amount {amount!r}")
    validate_currency(currency)
    from moneyed import Money

    return Money(value, currency)
