"""An Actor checks its kind against ActorKind (a frozenset of the values, made once: TextChoices.values
builds a list on every call, and an actor is made for every audit row and event of a synced record)."""

from __future__ import annotations

import pytest

from aftersales.core.actors import Actor, ActorKind


@pytest.mark.parametrize("kind", [*ActorKind, *ActorKind.values])
def test_every_kind_is_accepted_as_member_or_text(kind):  # type: ignore[no-untyped-def]
    assert Actor(kind, "1").kind == kind


@pytest.mark.parametrize("kind", ["", "users", "Customer", "admin"])
def test_an_unknown_kind_is_refused(kind):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="unknown actor kind"):
        Actor(kind, "1")
