"""The filter form of a list page (the inbox, the RMA list), built from the list's one filter
declaration (inbox.filters.FILTERS, returns.filters.RMA_FILTERS: FilterSpec each) and shown by
web/_filterbar.html. Views pass the query string as typed and the dynamic choices they read."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aftersales.inbox.filters import MAX_YEAR, MIN_YEAR

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FormFilter:
    """One filter of the form, built from its declaration (a FilterSpec)."""

    name: str
    label: str
    widget: str  # inbox.filters.Widget
    value: str  # as typed (a date input: the local date)
    options: tuple[Option, ...] = ()
    blank: str = ""
    group: str = ""

    @property
    def summary(self) -> str:
        return ", ".join(o.label for o in self.options if o.selected)


@dataclass(frozen=True)
class DateRange:
    """Two date filters shown as one range ("Created: from – before")."""

    label: str
    fields: tuple[FormFilter, ...]
    widget: str = "date"


def date_input_value(value: str) -> str:
    """What a date input shows for a filter value (an ISO date-time becomes the local date)."""
    if not value or _DATE_ONLY.fullmatch(value):
        return value
    try:
        parsed = parse_datetime(value)
        if parsed is None or parsed.tzinfo is None or not MIN_YEAR <= parsed.year <= MAX_YEAR:
            return ""
        return timezone.localtime(parsed).date().isoformat()
    except (ValueError, OverflowError):
        return ""


def picked(raw: Mapping[str, str]) -> dict[str, set[str]]:
    """The values chosen per filter (comma-separated in the query string)."""
    return {name: {v for v in value.split(",") if v} for name, value in raw.items()}


def form_filters(
    specs: Iterable[Any], raw: Mapping[str, str], *, stores: Iterable[Any], dynamic: Mapping[str, list[tuple[Any, str]]]
) -> list[FormFilter | DateRange]:
    """The filter form, in the order of the declaration: each filter's widget, label and options
    (fixed choices; the platforms of the organization's `stores` and the ones chosen; or the
    `dynamic` choices named by the spec: stores, teams, users, languages...)."""
    chosen_by_name = picked(raw)
    store_list = list(stores)
    platforms = {s.platform for s in store_list} | chosen_by_name.get("platform", set())
    options_of = {"stores": [(s.pk, s.name) for s in store_list], **dynamic}
    items: list[FormFilter | DateRange] = []
    for spec in specs:
        chosen = chosen_by_name.get(spec.name, set())
        choices: list[tuple[Any, Any]] = list(spec.choices)
        if spec.options == "platforms":
            choices = [c for c in choices if c[0] in platforms]
        elif spec.options:
            choices += options_of[spec.options]
        value = raw.get(spec.name, "")
        item = FormFilter(
            name=spec.name,
            label=str(spec.label),
            widget=str(spec.widget),
            value=date_input_value(value) if spec.widget == "date" else value,
            options=tuple(Option(str(v), str(label), str(v) in chosen) for v, label in choices),
            blank=str(spec.blank),
            group=str(spec.group),
        )
        last = items[-1] if items else None
        if spec.group and isinstance(last, DateRange) and last.label == item.group:
            items[-1] = DateRange(last.label, (*last.fields, item))
        elif spec.group:
            items.append(DateRange(item.group, (item,)))
        else:
            items.append(item)
    return items
