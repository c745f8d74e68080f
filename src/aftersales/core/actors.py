"""Who did something: every audit row and every domain event carries an `Actor`.

An actor is a kind (a user, a customer, a connector, a rule, the system) and an id within that kind.
Ingestion and connectors act as themselves, never as an admin user; rules will act as the rule; the
worker's housekeeping acts as the system. Consumers (rules, notifications, webhooks) use the kind to
avoid loops (a rule ignores what rules did) and the id to say who it was."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    CUSTOMER = "customer", _("Customer")
    CONNECTOR = "connector", _("Connector")
    RULE = "rule", _("Rule")
    SYSTEM = "system", _("System")


# (TextChoices.values builds a new list on every call: an actor is made per audit row and event, ~1.4 per
# synced record; bench/RESULTS.md, ingest twelfth session)
_KINDS = frozenset(ActorKind.values)


@dataclass(frozen=True)
class Actor:
    """`id` is the user's, customer's or rule's primary key, the connector's store id, or the name of
    a system component (e.g. "delivery-sweeper"), always as text so every kind fits one column."""

    kind: str
    id: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(ActorKind.USER, str(user.pk), str(user))

    @classmethod
    def customer(cls, customer: Any) -> Actor:
        return cls(ActorKind.CUSTOMER, str(customer.pk), getattr(customer, "name", "") or "")

    @classmethod
    def connector(cls, *, store_id: int, platform: str) -> Actor:
        return cls(ActorKind.CONNECTOR, str(store_id), platform)

    @classmethod
    def rule(cls, rule_id: int, name: str = "") -> Actor:
        return cls(ActorKind.RULE, str(rule_id), name)

    @classmethod
    def system(cls, component: str = "") -> Actor:
        return cls(ActorKind.SYSTEM, component, component)

    @property
    def user_id(self) -> int | None:
        """The user's id when a user acted, else None."""
        return int(self.id) if self.kind == ActorKind.USER and self.id else None

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "id": self.id}


SYSTEM = Actor.system()
