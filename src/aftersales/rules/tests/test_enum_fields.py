"""The event's trigger, actor kind and statuses and the order's status are enums (rules.fields): the
builder offers them as selects of their values, and the server check refuses free text naming the
field's value path."""

from __future__ import annotations

import pytest

from aftersales.catalog.models import OrderStatus
from aftersales.core.actors import ActorKind
from aftersales.core.errors import ValidationFailed
from aftersales.rules.conditions import check_conditions
from aftersales.rules.fields import ENUM, EVENT_STATUSES, FIELDS
from aftersales.rules.models import RuleTrigger
from aftersales.web.rule_builder import leaf_widget

ENUMS = {
    "event.trigger": set(RuleTrigger.values),
    "event.actor_kind": set(ActorKind.values),
    "order.status": set(OrderStatus.values),
    "event.old_status": set(EVENT_STATUSES),
    "event.new_status": set(EVENT_STATUSES),
}


@pytest.mark.parametrize("path", sorted(ENUMS))
def test_offered_as_a_select_of_the_enum(path: str) -> None:
    field = FIELDS[path]
    assert field.type == ENUM and set(field.choices) == ENUMS[path]
    widget = leaf_widget(path, "eq", "")
    assert widget.kind == "select" and set(widget.choices) == ENUMS[path]
    assert leaf_widget(path, "in", "").kind == "multi"


def test_event_statuses_cover_tickets_returns_and_parcels() -> None:
    assert {"solved", "approved", "exception", "lost", "requested"} <= set(EVENT_STATUSES)
    assert len(EVENT_STATUSES) == len(set(EVENT_STATUSES))


@pytest.mark.parametrize(
    ("leaf", "path"),
    [
        ({"field": "event.actor_kind", "op": "eq", "value": "robot"}, "conditions.all[0].value"),
        ({"field": "event.trigger", "op": "in", "value": ["ticket_created", "tuesday"]}, "conditions.all[0].value"),
        ({"field": "order.status", "op": "eq", "value": "on the moon"}, "conditions.all[0].value"),
        ({"field": "event.new_status", "op": "contains", "value": "lo"}, "conditions.all[0].op"),
    ],
)
def test_free_text_is_refused_naming_the_field(leaf: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_conditions({"all": [leaf]})
    assert info.value.field.startswith(path)


def test_enum_values_are_accepted() -> None:
    check_conditions(
        {
            "all": [
                {"field": "event.actor_kind", "op": "eq", "value": "rule"},
                {"field": "event.trigger", "op": "in", "value": ["ticket_created", "rma_requested"]},
                {"field": "order.status", "op": "ne", "value": "cancelled"},
                {"field": "event.new_status", "op": "in", "value": ["exception", "lost"]},
            ]
        }
    )
