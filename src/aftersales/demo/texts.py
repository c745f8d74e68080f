"""The message corpus: what buyers write, per ticket category and language, and what agents answer.

One JSON file per language under corpus/ (plus notes.json for internal notes). Templates use
str.format placeholders filled from the ticket's order: {order}, {sku}, {product}, {tracking},
{carrier}, {days}, {size}, {size_wanted}, {amount}, {warranty}, {first_name}, {last_name},
{customer_name}, {agent}, {mention}."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from aftersales.inbox.workflow import TicketCategory

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pl", "pt", "ja", "ko", "ar", "zh")
# Placeholders that need an order (with a shipment) behind the ticket.
ORDER_FIELDS = frozenset({"order", "sku", "tracking", "carrier", "days", "amount", "size", "size_wanted"})


def placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class CustomerTemplate:
    subject: str
    body: str
    needs_order: bool
    groups: frozenset[str] | None = None  # product groups it fits (3c, fashion, other); None = any
    skus: tuple[str, ...] = ()  # SKU prefixes it fits (earbuds, screens...); empty = any


@dataclass(frozen=True)
class LanguageCorpus:
    language: str
    greetings: tuple[str, ...]
    closings: tuple[str, ...]
    customer: dict[str, tuple[CustomerTemplate, ...]]
    followups: tuple[str, ...]
    followups_without_order: tuple[str, ...]
    thanks: tuple[str, ...]
    reply_greeting: str
    reply_closing: str
    reply_ack: str
    replies: dict[str, str]


@dataclass(frozen=True)
class Note:
    text: str
    needs_order: bool
    categories: frozenset[str] | None = None  # ticket categories it fits; None = any
    tiers: frozenset[str] | None = None  # customer tiers it fits; None = any


def _load(name: str) -> dict:  # type: ignore[type-arg]
    with (CORPUS_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        return json.load(fh)


@cache
def corpus(language: str) -> LanguageCorpus:
    raw = _load(language)
    customer = {
        category: tuple(
            CustomerTemplate(
                subject=t["subject"],
                body=t["body"],
                needs_order=bool((placeholders(t["subject"]) | placeholders(t["body"])) & ORDER_FIELDS),
                groups=frozenset(t["groups"]) if "groups" in t else None,
                skus=tuple(t.get("sku", ())),
            )
            for t in raw["customer"][category]
        )
        for category in TicketCategory.values
    }
    followups = tuple(raw["followup"])
    return LanguageCorpus(
        language=language,
        greetings=tuple(raw["greeting"]),
        closings=tuple(raw["closing"]),
        customer=customer,
        followups=followups,
        followups_without_order=tuple(f for f in followups if not placeholders(f) & ORDER_FIELDS),
        thanks=tuple(raw["thanks"]),
        reply_greeting=raw["reply_greeting"],
        reply_closing=raw["reply_closing"],
        reply_ack=raw["reply_ack"],
        replies={category: raw["reply"][category] for category in TicketCategory.values},
    )


@cache
def notes() -> dict[str, tuple[Note, ...]]:
    raw = _load("notes")
    return {
        lang: tuple(
            Note(
                text=n["text"],
                needs_order=bool(placeholders(n["text"]) & ORDER_FIELDS),
                categories=frozenset(n["categories"]) if "categories" in n else None,
                tiers=frozenset(n["tiers"]) if "tiers" in n else None,
            )
            for n in items
        )
        for lang, items in raw.items()
    }


@cache
def customer_templates(
    language: str, category: str, group: str, sku: str, has_order: bool
) -> tuple[CustomerTemplate, ...]:
    """The first-message templates that fit the ticket (falling back to any usable one)."""
    usable = [t for t in corpus(language).customer[category] if has_order or not t.needs_order]
    fitting = [t for t in usable if (t.groups is None or group in t.groups) and (not t.skus or sku.startswith(t.skus))]
    return tuple(fitting or usable)


@cache
def note_pool(language: str, category: str, tier: str, has_order: bool) -> tuple[Note, ...]:
    return tuple(
        n
        for n in notes()[language]
        if (has_order or not n.needs_order)
        and (n.categories is None or category in n.categories)
        and (n.tiers is None or tier in n.tiers)
    )
