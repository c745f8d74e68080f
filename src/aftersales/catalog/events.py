"""Domain events of the catalog."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CustomerTierChanged:
    customer_id: int
    old_tier: str
    new_tier: str
