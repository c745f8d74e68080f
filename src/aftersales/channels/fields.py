"""Pure readers of platform payload fields for the connectors' mapping modules (no database, no
clock, no HTTP). Each one names the platform's field in the MappingError it raises, so a record
that is missing, malformed or out of range is quarantined with that field and the page goes on.
Used by the Shopee and TikTok Shop mappings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import MappingError


def dig(data: Any, path: str) -> Any:
    """data["a"]["b"] for "a.b"; None when a step is missing or not an object."""
    for part in path.split("."):
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def required(data: Mapping[str, Any], path: str) -> Any:
    value = dig(data, path)
    if value is None or value == "":
        raise MappingError(f"{path} is missing", field=path)
    return value


def text(data: Mapping[str, Any], path: str, *, required: bool = True) -> str:
    value = _required(data, path) if required else dig(data, path)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MappingError(f"{path} is not a text or an id: {value!r}"[:200], field=path)
    return str(value)


_required = required


def epoch(value: Any, field: str) -> datetime:
    """A Unix timestamp in seconds (milliseconds, microseconds or nanoseconds are told apart by
    size), as a timezone-aware datetime."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise MappingError(f"{field} is not a timestamp: {value!r}"[:200], field=field)
    seconds = float(value)
    if seconds > 1e17:
        seconds /= 1e9
    elif seconds > 1e14:
        seconds /= 1e6
    elif seconds > 1e11:
        seconds /= 1e3
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise MappingError(f"{field} is out of range: {value!r}", field=field) from exc


def instant(data: Mapping[str, Any], path: str, *, required: bool = True) -> datetime | None:
    value = dig(data, path)
    if value in (None, "", 0) and not required:
        return None
    return epoch(value, path)


def amount(data: Mapping[str, Any], path: str, *, required: bool = True) -> Decimal | None:
    """A non-negative amount sent as a JSON number or a decimal string."""
    value = dig(data, path)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MappingError(f"{path} is not an amount: {value!r}"[:200], field=path)
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise MappingError(f"{path} is not an amount: {value!r}"[:200], field=path) from exc
    if not number.is_finite() or number < 0:
        raise MappingError(f"{path} is not an amount: {value!r}"[:200], field=path)
    return number


def quantity(data: Mapping[str, Any], path: str) -> int:
    value = _required(data, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MappingError(f"{path} is not a whole number: {value!r}"[:200], field=path)
    return value


def currency_code(data: Mapping[str, Any], path: str, default: str) -> str:
    value = dig(data, path) or default
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise MappingError(f"{path} is not a currency code: {value!r}"[:200], field=path)
    return value.upper()
