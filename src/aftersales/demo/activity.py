"""What the demo marketplace stores built on a local fake (TikTok Shop, AliExpress, Wish) share: a
store's activity holds its fake, the buyers who write, how their words are written, and its own
random stream (so one store's demo data never shift another's), numbers its records and remembers
its orders for later requests."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from . import data

# (order id, buyer, product, rng) -> (subject, body) in the buyer's language
TextFn = Callable[[str, Any, data.ProductSpec, random.Random], tuple[str, str]]
FakeT = TypeVar("FakeT")
T = TypeVar("T")


class StoreActivity(Generic[FakeT]):
    """The base of a demo store's activity on its fake (`seed` at start, `tick` on each turn)."""

    def __init__(self, fake: FakeT, *, buyers: Sequence[Any], text: TextFn, seed: int) -> None:
        self.fake = fake
        self.buyers = buyers
        self.text = text
        self.random = random.Random(seed)  # noqa: S311 (demo content, not secrets)
        self.counter = 0
        # (order id, the buyer's platform id, buyer, product) of the orders placed so far
        self.orders: list[tuple[str, str, Any, data.ProductSpec]] = []

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def pick(self, items: Sequence[T]) -> T:
        """One of `items`, drawn from the store's own random stream."""
        return items[self.random.randrange(len(items))]

    def product(self) -> data.ProductSpec:
        return self.pick(data.PRODUCTS)
