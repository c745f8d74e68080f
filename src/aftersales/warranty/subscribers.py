"""Warranty events to background work (after commit, core.events; registered in WarrantyConfig.ready):
a requested replacement reserves its stock (warranty.replacements)."""

from __future__ import annotations

from aftersales.core.events import subscribe

from .events import WarrantyReplacementRequested
from .replacement_tasks import warranty_replacement_reserve_task


def _on_replacement(event: WarrantyReplacementRequested) -> None:
    warranty_replacement_reserve_task(event.replacement_id)


subscribe(WarrantyReplacementRequested, _on_replacement)
