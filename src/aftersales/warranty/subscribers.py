"""Warranty events to background work (after commit, core.events; registered in WarrantyConfig.ready):
a requested replacement reserves its stock (warranty.replacements); the buyer is told when the
replacement ships and when the repair order receives the unit or ships it back (warranty.notify)."""

from __future__ import annotations

from aftersales.core.events import subscribe

from .events import RepairOrderStatusChanged, WarrantyReplacementRequested, WarrantyReplacementShipped
from .notify_tasks import warranty_notify_task
from .replacement_tasks import warranty_replacement_reserve_task

REPAIR_STEPS = {"received": "repair_received", "shipped_back": "repair_shipped_back"}


def _on_replacement(event: WarrantyReplacementRequested) -> None:
    warranty_replacement_reserve_task(event.replacement_id)


def _on_shipped(event: WarrantyReplacementShipped) -> None:
    warranty_notify_task(event.claim_id, "replacement_shipped", event.claim_event_id, event.actor.user_id)


def _on_repair(event: RepairOrderStatusChanged) -> None:
    step = REPAIR_STEPS.get(event.new_status)
    if step is not None:
        warranty_notify_task(event.claim_id, step, event.repair_event_id, event.actor.user_id)


subscribe(WarrantyReplacementRequested, _on_replacement)
subscribe(WarrantyReplacementShipped, _on_shipped)
subscribe(RepairOrderStatusChanged, _on_repair)
