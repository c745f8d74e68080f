"""The RMA list's filters, declared once (the inbox's pattern: aftersales.inbox.filters).

`RMA_FILTERS` says, for every filter of the RMA list: its name, the kind of value it takes, its
choices, label (the web form) and description (the API's query schema). From it derive:

- `parse_rma_filters`: the one validator of filter values for the API and the web UI; a bad value
  raises ValidationFailed naming the filter;
- the API's query schema (api.schemas.rma_lists.RmaListQuery is generated from RMA_FILTERS);
- the web UI's filter form (web.views.rmas builds its fields from RMA_FILTERS);
- the selector's clauses (returns.selectors.rma_queryset reads an `RmaFilters`).

The value kinds, parsing and messages are the inbox's (FilterSpec, Kind, Widget), so a filter
behaves the same on both lists. To add a filter: a FilterSpec here, a field in RmaFilters, a clause
in selectors.rma_queryset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from aftersales.catalog.models import Platform
from aftersales.core.errors import ValidationFailed
from aftersales.inbox.filters import FilterSpec, Kind, Widget, flatten_params

from .models import PlatformSync, RmaResolution, RmaStatus


def _choices(enum: Any) -> tuple[tuple[str, Any], ...]:
    return tuple((str(value), label) for value, label in enum.choices)


YES_NO = (("true", _("Yes")), ("false", _("No")))

# In the order of the web form.
RMA_FILTERS: tuple[FilterSpec, ...] = (
    FilterSpec(
        "q",
        Kind.SEARCH,
        _("Search"),
        "Text search: RMA number, order number, return tracking number, buyer name or e-mail",
        Widget.SEARCH,
    ),
    FilterSpec("status", Kind.CHOICES, _("Status"), "RMA statuses", Widget.MULTI, _choices(RmaStatus)),
    FilterSpec("resolution", Kind.CHOICES, _("Resolution"), "Resolutions", Widget.MULTI, _choices(RmaResolution)),
    FilterSpec(
        "platform", Kind.CHOICES, _("Platform"), "Platforms", Widget.MULTI, _choices(Platform), options="platforms"
    ),
    FilterSpec("store", Kind.IDS, _("Store"), "Store ids (comma-separated)", Widget.MULTI, options="stores"),
    FilterSpec(
        "platform_sync",
        Kind.CHOICES,
        _("Marketplace sync"),
        "Where the marketplace stands with the seller's decision",
        Widget.MULTI,
        _choices(PlatformSync),
    ),
    FilterSpec(
        "has_discrepancies",
        Kind.BOOLEAN,
        _("Facts differ from the order"),
        "true: the automatic checks found discrepancies with the order; false: none",
        Widget.SELECT,
        YES_NO,
        blank=_("Any"),
    ),
    FilterSpec(
        "assignee",
        Kind.ASSIGNEE,
        _("Ticket assignee"),
        "The assignee of the RMA's ticket: me, none or a user id; several with commas",
        Widget.SELECT,
        (("me", _("Me")), ("none", _("Unassigned")), ("me,none", _("Me or unassigned"))),
        options="users",
        blank=_("Anyone"),
    ),
    FilterSpec("reason", Kind.TEXT, _("Reason"), "A return reason code (e.g. defective, changed_mind)", Widget.TEXT),
    FilterSpec(
        "created_after", Kind.DATETIME, _("Created on or after"), "Created on or after", Widget.DATE, group=_("Created")
    ),
    FilterSpec("created_before", Kind.DATETIME, _("Created before"), "Created before", Widget.DATE, group=_("Created")),
    FilterSpec("ticket", Kind.ID, _("Ticket"), "Ticket id: the RMAs opened from that ticket", Widget.HIDDEN),
)
RMA_FILTERS_BY_NAME: dict[str, FilterSpec] = {spec.name: spec for spec in RMA_FILTERS}
RMA_FILTER_NAMES = frozenset(RMA_FILTERS_BY_NAME)
RMA_PAGINATION_NAMES = frozenset({"cursor", "limit", "sort"})


@dataclass(frozen=True)
class RmaFilters:
    """Validated filters (parse_rma_filters); the fields are the names of RMA_FILTERS."""

    q: str = ""
    status: tuple[str, ...] = ()
    resolution: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    store: tuple[int, ...] = ()
    platform_sync: tuple[str, ...] = ()
    has_discrepancies: bool | None = None
    assignee: str = ""
    reason: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None
    ticket: int | None = None

    def as_query(self) -> dict[str, str]:
        """Back to query-string form (links, tabs, the pushed URL)."""
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


_declared = {f.name for f in fields(RmaFilters)}
if _declared != RMA_FILTER_NAMES:  # pragma: no cover - a programming error, caught by any test run
    raise ImportError(f"RmaFilters and RMA_FILTERS disagree: {sorted(_declared ^ RMA_FILTER_NAMES)}")


def parse_rma_filters(
    params: Mapping[str, Any], *, allow: frozenset[str] = RMA_PAGINATION_NAMES, date_timezone: tzinfo | None = None
) -> RmaFilters:
    """Validate raw query parameters. Unknown names and bad values raise ValidationFailed naming the
    field. Multi-valued filters take comma-separated values (status=requested,under_review) or
    repeated parameters. A bare date means midnight in `date_timezone` (default UTC)."""
    flat = flatten_params(params)
    unknown = sorted(set(params) - RMA_FILTER_NAMES - allow)
    if unknown:
        raise ValidationFailed(
            gettext("unknown filter %(name)r; known filters: %(names)s")
            % {"name": unknown[0], "names": ", ".join(sorted(RMA_FILTER_NAMES))},
            field=unknown[0],
        )
    values = {
        spec.name: spec.parse(flat[spec.name], date_timezone=date_timezone) for spec in RMA_FILTERS if spec.name in flat
    }
    return RmaFilters(**values)
