"""docs/events.md is the contract of the domain events: every event class is listed there, and every
event carries an actor (core.actors.Actor) unless the page says it has none."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "aftersales"
# Events that follow another event; docs/events.md says so for each.
WITHOUT_ACTOR = {
    "NotificationCreated",
    "OutboxMessageQueued",
}  # documented in docs/events.md: they follow another event


def _event_classes() -> list[type]:
    found = []
    for path in sorted(PACKAGE.glob("*/events.py")):
        if path.parent.name == "core":
            continue  # the publisher, not events
        module = importlib.import_module(f"aftersales.{path.parent.name}.events")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and dataclasses.is_dataclass(cls):
                found.append(cls)
    return found


def test_every_event_is_a_frozen_dataclass_listed_in_the_docs():
    doc = (ROOT / "docs" / "events.md").read_text()
    classes = _event_classes()
    assert len(classes) >= 10
    for cls in classes:
        assert cls.__dataclass_params__.frozen, cls  # type: ignore[attr-defined]
        assert f"`{cls.__name__}`" in doc or f".{cls.__name__}`" in doc, f"{cls.__name__} missing from docs/events.md"


def test_every_event_carries_an_actor():
    from aftersales.core.actors import Actor

    missing = []
    for cls in _event_classes():
        fields = {f.name: f.type for f in dataclasses.fields(cls)}
        if cls.__name__ in WITHOUT_ACTOR:
            continue
        if fields.get("actor") not in ("Actor", Actor):
            missing.append(cls.__name__)
    assert missing == [], f"events without an actor: {missing}"
