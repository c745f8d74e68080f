"""The inbox filters, declared once.

`FILTERS` says, for every filter of the ticket list: its name, what kind of value it takes, its
choices, bounds, label (the web form) and description (the API's query schema). From it derive:

- `parse_ticket_filters` (re-exported by inbox.selectors): the one validator of filter values for
  the API, the web UI and saved views; a bad value raises ValidationFailed naming the filter;
- the API's query schema (api.schemas.tickets.TicketListQuery is generated from FILTERS);
- the web UI's filter form (web.views.inbox builds its fields from FILTERS).

`TicketFilters` is the typed result; a filter declared here and missing there (or the other way
round) fails at import time. To add a filter: a FilterSpec here, a field in TicketFilters, a
clause in selectors.ticket_queryset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, tzinfo
from enum import StrEnum
from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.catalog.models import CustomerTier, Platform
from aftersales.core.errors import ValidationFailed

from .search import parse_query
from .workflow import StatusCategory, TicketCategory, TicketStatus, Urgency

# Dates outside these years are refused (a year-1 date with an offset overflowed to a 500).
MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_ID = 2**62
MAX_TEXT = 200


class Kind(StrEnum):
    CHOICES = "choices"  # one or more of fixed values (comma-separated)
    CHOICE = "choice"  # one of fixed values
    LANGUAGES = "languages"  # one or more language codes
    IDS = "ids"  # one or more object ids
    ID = "id"  # one object id
    ASSIGNEE = "assignee"  # me, none or a user id
    BOOLEAN = "boolean"  # true / false
    DATETIME = "datetime"  # an ISO 8601 date or aware date-time, within MIN_YEAR..MAX_YEAR
    TEXT = "text"  # free text up to MAX_TEXT characters
    SEARCH = "search"  # free text with at least one word to search for


class Widget(StrEnum):
    """How the web form shows a filter."""

    SEARCH = "search"
    MULTI = "multi"  # a drop-down of check boxes
    SELECT = "select"
    TEXT = "text"
    DATE = "date"
    HIDDEN = "hidden"  # set by links (customer=...), shown as a removable chip


@dataclass(frozen=True)
class FilterSpec:
    name: str
    kind: Kind
    label: Promise | str
    description: str  # for the API documentation (English)
    widget: Widget
    choices: tuple[tuple[str, Any], ...] = ()  # fixed choices (value, translated label)
    options: str = ""  # the web form lists the organization's "platforms", "stores", "teams", "users", "languages"
    blank: Promise | str = ""  # a select's "any" option
    group: Promise | str = ""  # date inputs shown as one range ("Created: from – before")

    @property
    def values(self) -> frozenset[str]:
        return frozenset(value for value, _label in self.choices)

    def api_description(self) -> str:
        if self.choices and self.kind in (Kind.CHOICES, Kind.CHOICE):
            listed = ", ".join(value for value, _label in self.choices)
            return f"{self.description}: {listed}" + (" (comma-separated)" if self.kind == Kind.CHOICES else "")
        if self.kind == Kind.DATETIME:
            return (
                f"{self.description}: an ISO 8601 date (midnight UTC) or date-time with an offset,"
                f" years {MIN_YEAR} to {MAX_YEAR}"
            )
        return self.description

    def parse(self, text: str, *, date_timezone: tzinfo | None = None) -> Any:
        """The typed value of one filter from its (non-blank) text, or ValidationFailed naming it."""
        name = self.name
        if self.kind == Kind.CHOICES:
            items = _items(text)
            bad = [v for v in items if v not in self.values]
            if bad:
                raise ValidationFailed(
                    gettext("invalid value %(value)r for %(name)s; expected one of %(choices)s")
                    % {"value": bad[0], "name": name, "choices": ", ".join(sorted(self.values))},
                    field=name,
                )
            return items
        if self.kind == Kind.CHOICE:
            if text not in self.values:
                raise ValidationFailed(
                    gettext("invalid value %(value)r for %(name)s; expected one of %(choices)s")
                    % {"value": text, "name": name, "choices": ", ".join(sorted(self.values))},
                    field=name,
                )
            return text
        if self.kind == Kind.LANGUAGES:
            items = tuple(dict.fromkeys(v.lower() for v in _items(text)))
            if any(len(v) > 10 or not v.replace("-", "").isalpha() for v in items):
                raise ValidationFailed(gettext("language takes language codes such as en, de, zh-hans"), field=name)
            return items
        if self.kind == Kind.IDS:
            return tuple(dict.fromkeys(_int(v, name) for v in _items(text)))
        if self.kind == Kind.ID:
            return _int(text, name)
        if self.kind == Kind.ASSIGNEE:  # one or more of: me, none, a user id ("me,none": mine or unassigned)
            items = _items(text)
            for item in items:
                if item not in {"me", "none"}:
                    _int(item, name)
            return ",".join(items)
        if self.kind == Kind.BOOLEAN:
            lowered = text.lower()
            if lowered not in {"true", "false", "1", "0", "yes", "no"}:
                raise ValidationFailed(gettext("%(name)s must be true or false") % {"name": name}, field=name)
            return lowered in {"true", "1", "yes"}
        if self.kind == Kind.DATETIME:
            return _datetime(text, name, date_timezone or UTC)
        if len(text) > MAX_TEXT:
            raise ValidationFailed(
                gettext("%(name)s is longer than %(max)d characters") % {"name": name, "max": MAX_TEXT}, field=name
            )
        if self.kind == Kind.SEARCH and not parse_query(text):
            raise ValidationFailed(gettext("q needs at least one letter or digit to search for"), field=name)
        return text


def _items(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))


def _int(text: str, name: str) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        raise ValidationFailed(gettext("%(name)s must be an integer id") % {"name": name}, field=name) from None
    if value <= 0 or value > MAX_ID:
        raise ValidationFailed(gettext("%(name)s must be a positive integer id") % {"name": name}, field=name)
    return value


def _datetime(text: str, name: str, date_timezone: tzinfo) -> datetime:
    """An aware date-time within MIN_YEAR..MAX_YEAR. A bare date is midnight in `date_timezone`
    (UTC for the API; the organization's time zone for the web form's date inputs)."""
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            day = date.fromisoformat(text)
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise _out_of_range(name)
            return datetime.combine(day, time.min, tzinfo=date_timezone)
        parsed = parse_datetime(text)
    except ValueError:  # well-formed but impossible, e.g. 2026-13-45
        parsed = None
    if parsed is None:
        raise ValidationFailed(gettext("%(name)s must be an ISO 8601 date or date-time") % {"name": name}, field=name)
    if parsed.tzinfo is None:
        raise ValidationFailed(
            gettext("%(name)s needs a time zone offset (e.g. 2026-11-11T00:00:00+08:00)") % {"name": name}, field=name
        )
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise _out_of_range(name)
    return parsed


def _out_of_range(name: str) -> ValidationFailed:
    return ValidationFailed(
        gettext("%(name)s must be a date between the years %(min)d and %(max)d")
        % {"name": name, "min": MIN_YEAR, "max": MAX_YEAR},
        field=name,
    )


def _choices(enum: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(value), label) for value, label in enum.choices)


YES_NO = (("true", _("Yes")), ("false", _("No")))

# In the order of the web form.
FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "q",
        Kind.SEARCH,
        _("Search"),
        "Text search: subject, customer, order number, messages, #id",
        Widget.SEARCH,
    ),
    FilterSpec(
        "platform", Kind.CHOICES, _("Platform"), "Platforms", Widget.MULTI, _choices(Platform), options="platforms"
    ),
    FilterSpec("store", Kind.IDS, _("Store"), "Store ids (comma-separated)", Widget.MULTI, options="stores"),
    FilterSpec("status", Kind.CHOICES, _("Status"), "Statuses", Widget.MULTI, _choices(TicketStatus)),
    FilterSpec(
        "status_category", Kind.CHOICES, _("Status group"), "Status groups", Widget.MULTI, _choices(StatusCategory)
    ),
    FilterSpec("urgency", Kind.CHOICES, _("Urgency"), "Urgencies", Widget.MULTI, _choices(Urgency)),
    FilterSpec("category", Kind.CHOICES, _("Category"), "Categories", Widget.MULTI, _choices(TicketCategory)),
    FilterSpec(
        "customer_tier", Kind.CHOICES, _("Customer tier"), "Customer tiers", Widget.MULTI, _choices(CustomerTier)
    ),
    FilterSpec(
        "language",
        Kind.LANGUAGES,
        _("Language"),
        "Language codes (en, de, zh-hans; comma-separated)",
        Widget.MULTI,
        options="languages",
    ),
    FilterSpec(
        "assignee",
        Kind.ASSIGNEE,
        _("Assignee"),
        "me, none or a user id; several with commas (me,none: mine or unassigned)",
        Widget.SELECT,
        (("me", _("Me")), ("none", _("Unassigned")), ("me,none", _("Me or unassigned"))),
        options="users",
        blank=_("Anyone"),
    ),
    FilterSpec("team", Kind.ID, _("Team"), "Team id", Widget.SELECT, options="teams", blank=_("Any team")),
    FilterSpec("unreplied", Kind.BOOLEAN, _("Unreplied"), "true or false", Widget.SELECT, YES_NO, blank=_("Any")),
    FilterSpec(
        "high_priority", Kind.BOOLEAN, _("High priority"), "true or false", Widget.SELECT, YES_NO, blank=_("Any")
    ),
    FilterSpec(
        "delivery",
        Kind.CHOICE,
        _("Delivery"),
        "failed: a reply to the customer could not be delivered",
        Widget.SELECT,
        (("failed", _("Delivery failed")),),
        blank=_("Any"),
    ),
    FilterSpec("sku", Kind.TEXT, "SKU", "A SKU of the ticket's order", Widget.TEXT),
    FilterSpec("tag", Kind.TEXT, _("Tag"), "A tag name", Widget.TEXT),
    FilterSpec(
        "created_after", Kind.DATETIME, _("Created on or after"), "Created on or after", Widget.DATE, group=_("Created")
    ),
    FilterSpec("created_before", Kind.DATETIME, _("Created before"), "Created before", Widget.DATE, group=_("Created")),
    FilterSpec(
        "updated_after", Kind.DATETIME, _("Updated on or after"), "Updated on or after", Widget.DATE, group=_("Updated")
    ),
    FilterSpec("updated_before", Kind.DATETIME, _("Updated before"), "Updated before", Widget.DATE, group=_("Updated")),
    FilterSpec("customer", Kind.ID, _("Customer"), "Customer id", Widget.HIDDEN),
)
FILTERS_BY_NAME: dict[str, FilterSpec] = {spec.name: spec for spec in FILTERS}
FILTER_NAMES = frozenset(FILTERS_BY_NAME)
PAGINATION_NAMES = frozenset({"cursor", "limit", "sort", "view"})


@dataclass(frozen=True)
class TicketFilters:
    """Validated filters (parse_ticket_filters); the fields are the names of FILTERS."""

    platform: tuple[str, ...] = ()
    store: tuple[int, ...] = ()
    status: tuple[str, ...] = ()
    status_category: tuple[str, ...] = ()
    urgency: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    customer_tier: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    sku: str = ""
    assignee: str = ""  # "me", "none", a user id, or several of them ("me,none")
    team: int | None = None
    tag: str = ""
    unreplied: bool | None = None
    high_priority: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    q: str = ""
    customer: int | None = None
    delivery: str = ""  # "failed": a reply to the customer could not be delivered

    def as_query(self) -> dict[str, str]:
        """Back to query-string form (for links and saved views)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in ((), "", None):
                continue
            if isinstance(value, tuple):
                out[f.name] = ",".join(str(v) for v in value)
            elif isinstance(value, bool):
                out[f.name] = "true" if value else "false"
            elif isinstance(value, datetime):
                out[f.name] = value.isoformat()
            else:
                out[f.name] = str(value)
        return out


_declared = {f.name for f in fields(TicketFilters)}
if _declared != FILTER_NAMES:  # pragma: no cover - a programming error, caught by any test run
    raise ImportError(f"TicketFilters and FILTERS disagree: {sorted(_declared ^ FILTER_NAMES)}")


def flatten_params(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as {name: text}: repeated values (a form's check boxes, a QueryDict or lists)
    and comma lists both become one comma list; blank values are dropped."""
    out: dict[str, str] = {}
    getlist = getattr(params, "getlist", None)
    for name in params:
        raw = getlist(name) if getlist else params[name]
        if raw is None:
            continue
        values = raw if isinstance(raw, list | tuple) else [raw]
        text = ",".join(str(v).strip() for v in values if str(v).strip())
        if text:
            out[name] = text
    return out


def parse_ticket_filters(
    params: Mapping[str, Any], *, allow: frozenset[str] = PAGINATION_NAMES, date_timezone: tzinfo | None = None
) -> TicketFilters:
    """Validate raw query parameters. Unknown names and bad values raise ValidationFailed naming
    the field. Multi-valued filters take comma-separated values (platform=amazon,ebay) or repeated
    parameters. A bare date means midnight in `date_timezone` (default UTC)."""
    flat = flatten_params(params)
    unknown = sorted(set(params) - FILTER_NAMES - allow)
    if unknown:
        raise ValidationFailed(
            gettext("unknown filter %(name)r; known filters: %(names)s")
            % {"name": unknown[0], "names": ", ".join(sorted(FILTER_NAMES))},
            field=unknown[0],
        )
    values = {
        spec.name: spec.parse(flat[spec.name], date_timezone=date_timezone) for spec in FILTERS if spec.name in flat
    }
    return TicketFilters(**values)
