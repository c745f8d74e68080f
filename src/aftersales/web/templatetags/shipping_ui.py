"""The order panel's shipping bits: whether its store can mark shipped, and where telling the
marketplace about each shipment stands (channels.shipping)."""

from __future__ import annotations

from typing import Any

from django import template

from aftersales.channels.shipping import ShipmentSync, can_mark_shipped, shipment_syncs

register = template.Library()


@register.filter
def marks_shipped(order: Any) -> bool:
    return order is not None and can_mark_shipped(order.store.platform)


@register.simple_tag
def marketplace_syncs(order: Any) -> dict[int, ShipmentSync]:
    """{shipment id: ShipmentSync} of the order's shipments marked shipped from here."""
    return shipment_syncs(list(order.shipments.all())) if order is not None else {}


@register.filter
def sync_of(syncs: dict[int, ShipmentSync], shipment_id: int) -> ShipmentSync | None:
    return syncs.get(shipment_id)
