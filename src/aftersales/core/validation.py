"""Input checks shared by the API schemas, the web views and the services, so that a value is refused
the same way whichever door it came through. Each `check_*` returns the clean value or raises
ValidationFailed naming the field; each `*_problem` returns what is wrong (or None) for callers that
report errors their own way (pydantic validators).

- Ids are positive and fit a signed 64-bit column on every database we support.
- Dates and instants lie between 2000-01-01 and 2100-12-31 (UTC); an instant carries its offset, and
  converting it to UTC cannot overflow (0001-01-01T00:30:00+01:00 is year 0 in UTC).
- Text is storable by every database (no NUL, no lone surrogates) and free of control characters
  other than tab and line breaks (none at all in one-line values such as tags)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from .errors import ValidationFailed

MAX_ID = 2**62
MAX_IDS = 1000

MIN_YEAR = 2000
MAX_YEAR = 2100
EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
LATEST = datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

# Field names as messages show them to people ("body must not be empty" / "正文不能为空"); the API's
# error still names the field by its key. A field not listed here is shown by its key.
FIELD_LABELS = {
    "body": pgettext_lazy("field", "body"),
    "subject": pgettext_lazy("field", "subject"),
    "name": pgettext_lazy("field", "name"),
    "reason": pgettext_lazy("field", "reason"),
    "tag": pgettext_lazy("field", "tag"),
    "title": pgettext_lazy("field", "title"),
    "text": pgettext_lazy("field", "text"),
    "note": pgettext_lazy("field", "note"),
    "label": pgettext_lazy("field", "label"),
    "email": pgettext_lazy("field", "e-mail address"),
    "display_name": pgettext_lazy("field", "display name"),
    "username": pgettext_lazy("field", "username"),
    "original_text": pgettext_lazy("field", "original text"),
}


def field_label(field: str) -> str:
    """The field's name in the active language (its key when it has no label)."""
    label = FIELD_LABELS.get(field)
    return str(label) if label is not None else field


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # C0 controls and DEL, except \t \n \r
_CONTROL_ONE_LINE = re.compile(r"[\x00-\x1f\x7f]")


# --- ids --------------------------------------------------------------------------------------


def id_problem(value: object) -> str | None:
    if isinstance(value, bool):
        return _("must be a positive whole number")
    if isinstance(value, str):
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 20:
            return _("must be a positive whole number")
        value = int(text)
    if not isinstance(value, int) or value <= 0:
        return _("must be a positive whole number")
    if value > MAX_ID:
        return _("is too large to be an id")
    return None


def parse_id(value: object, *, field: str) -> int:
    """An id given as an int or a string of ASCII digits (a form value) -> int, in range."""
    problem = id_problem(value)
    if problem:
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field_label(field), "problem": problem}, field=field
        )
    return int(value)  # type: ignore[call-overload]


def parse_ids(values: Iterable[object], *, field: str, max_count: int = MAX_IDS) -> list[int]:
    items = list(values)
    if len(items) > max_count:
        raise ValidationFailed(
            _("%(field)s: at most %(count)d ids at once") % {"field": field, "count": max_count}, field=field
        )
    return [parse_id(v, field=field) for v in items]


# --- dates and instants -----------------------------------------------------------------------


def _range_text() -> str:
    return _("must be between %(earliest)s and %(latest)s (UTC)") % {
        "earliest": EARLIEST.date().isoformat(),
        "latest": LATEST.date().isoformat(),
    }


def instant_problem(value: datetime) -> str | None:
    """A moment in time: aware, and within [EARLIEST, LATEST] once converted to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        return _("needs a time zone offset, e.g. 2026-11-11T08:00:00+08:00")
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return _range_text()
    if not EARLIEST <= utc <= LATEST:
        return _range_text()
    return None


def day_problem(value: date) -> str | None:
    """A calendar day (datetimes are checked as instants)."""
    if isinstance(value, datetime):
        return instant_problem(value)
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        return _range_text()
    return None


def check_instant(value: datetime, *, field: str) -> datetime:
    problem = instant_problem(value)
    if problem:
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field_label(field), "problem": problem}, field=field
        )
    return value


def check_day(value: date, *, field: str) -> date:
    problem = day_problem(value)
    if problem:
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field_label(field), "problem": problem}, field=field
        )
    return value


# --- text -------------------------------------------------------------------------------------


def storable_text_problem(value: str) -> str | None:
    """What no database column can store: NUL characters and lone surrogates."""
    if "\x00" in value:
        return _("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("must be valid Unicode text")
    return None


def text_problem(value: str, *, one_line: bool = False) -> str | None:
    problem = storable_text_problem(value)
    if problem:
        return problem
    if (_CONTROL_ONE_LINE if one_line else _CONTROL).search(value):
        return _("must not contain control characters")
    return None


def check_text(
    value: str, *, field: str, max_length: int | None = None, required: bool = False, one_line: bool = False
) -> str:
    """Storable text without control characters (tab and line breaks allowed unless `one_line`),
    at most `max_length` characters, not blank when `required`. Returns it unchanged."""
    if not isinstance(value, str):
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field_label(field), "problem": _("must be text")}, field=field
        )
    problem = text_problem(value, one_line=one_line)
    if problem:
        raise ValidationFailed(
            _("%(field)s: %(problem)s") % {"field": field_label(field), "problem": problem}, field=field
        )
    if required and not value.strip():
        raise ValidationFailed(_("%(field)s must not be empty") % {"field": field_label(field)}, field=field)
    if max_length is not None and len(value) > max_length:
        raise ValidationFailed(
            _("%(field)s is longer than %(limit)d characters") % {"field": field_label(field), "limit": max_length},
            field=field,
        )
    return value
