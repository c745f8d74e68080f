"""Domain events of the catalog."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales.core.actors import Actor


@dataclass(frozen=True)
class CustomerTierChanged:
    customer_id: int
    organization_id: int
    old_tier: str
    new_tier: str
    actor: Actor
