"""The "Translation" section of the settings page (administrators only): the glossary, the
providers with their health, and the language pairs the organization can translate."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from aftersales.accounts.models import User
from aftersales.accounts.permissions import is_admin
from aftersales.language.selectors import glossary_terms, provider_statuses, supported_pairs

GLOSSARY_SAMPLE = 50
_ROW_ERRORS = re.compile(r";\s+(?=row \d+:|and \d+ more)")
_NOT_IMPORTED = "glossary not imported, nothing was changed: "


@dataclass(frozen=True)
class PairGroup:
    source: str
    targets: tuple[str, ...]


def pair_groups(pairs: list[str]) -> list[PairGroup]:
    """["en-es", "en-pt", "es-en"] -> [en: (es, pt), es: (en,)]."""
    grouped: dict[str, list[str]] = defaultdict(list)
    for pair in pairs:
        source, _sep, target = pair.partition("-")
        if source and target:
            grouped[source].append(target)
    return [PairGroup(source, tuple(sorted(targets))) for source, targets in sorted(grouped.items())]


def glossary_errors(message: str) -> tuple[str, list[str]]:
    """The import error as a headline and one line per bad row (the engine joins them with "; ")."""
    if not message.startswith(_NOT_IMPORTED):
        return message, []
    return "", [part.strip() for part in _ROW_ERRORS.split(message[len(_NOT_IMPORTED) :]) if part.strip()]


def translation_settings(user: User, **extra: Any) -> dict[str, Any]:
    if not is_admin(user) or user.organization_id is None:
        return {"can_administer": False}
    org_id: int = user.organization_id
    terms = glossary_terms(organization_id=org_id)
    return {
        "can_administer": True,
        "glossary_count": terms.count(),
        "glossary_sample": list(terms[:GLOSSARY_SAMPLE]),
        "providers": provider_statuses(user=user),
        "providers_checked": False,
        "pair_groups": pair_groups(supported_pairs(organization_id=org_id)),
        **extra,
    }
