"""Translation memory: approved segments (agents' corrections, imports), matched exactly or after
normalisation (case, spacing, punctuation) before any provider is called. Segments are stored
masked (see protection.py), so "Where is order ⟦0⟧?" serves every order number."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

from django.db.models import F, Q

from .models import MemorySegment, SegmentOrigin

_PUNCT_RE = re.compile(r"[^\w⟦⟧]+", re.UNICODE)


def exact_key(text: str) -> str:
    return hashlib.sha256(text.strip().encode()).hexdigest()


def normalise_text(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT_RE.sub(" ", value).split())


def normalised_key(text: str) -> str:
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()


def lookup(organization_id: int, source: str, target: str, masked_source: str) -> MemorySegment | None:
    """The best approved segment for a masked source: exact first, then normalised (its use counted)."""
    hit = find(organization_id, source, target, [masked_source])[masked_source]
    if hit is not None:
        count_uses(Counter([hit.pk]))
    return hit


def find(
    organization_id: int, source: str, target: str, masked_sources: Iterable[str]
) -> dict[str, MemorySegment | None]:
    """The best approved segment for each masked source (exact first, then normalised: the newest), in one
    query for them all. Uses are not counted (`count_uses`)."""
    texts = list(dict.fromkeys(masked_sources))
    if not texts:
        return {}
    exact = {text: exact_key(text) for text in texts}
    loose = {text: normalised_key(text) for text in texts}
    rows = MemorySegment.objects.filter(
        Q(exact_key__in=set(exact.values())) | Q(normalised_key__in=set(loose.values())),
        organization_id=organization_id,
        source_language=source,
        target_language=target,
    )
    by_exact: dict[str, MemorySegment] = {}
    by_loose: dict[str, MemorySegment] = {}
    for row in rows:
        by_exact.setdefault(row.exact_key, row)
        best = by_loose.get(row.normalised_key)
        if best is None or (row.updated_at, row.pk) > (best.updated_at, best.pk):
            by_loose[row.normalised_key] = row
    return {text: by_exact.get(exact[text]) or by_loose.get(loose[text]) for text in texts}


def count_uses(uses: Counter[int]) -> None:
    """Add each segment's uses to its use count (one UPDATE per distinct number of uses)."""
    by_count: dict[int, list[int]] = {}
    for pk, n in uses.items():
        by_count.setdefault(n, []).append(pk)
    for n, pks in sorted(by_count.items()):
        MemorySegment.objects.filter(pk__in=sorted(pks)).update(use_count=F("use_count") + n)


def remember(
    *,
    organization_id: int,
    source: str,
    target: str,
    masked_source: str,
    masked_target: str,
    origin: str = SegmentOrigin.CORRECTION,
    user_id: int | None = None,
) -> MemorySegment:
    """Store (or replace) the approved translation of a segment; the newest correction wins."""
    segment, _ = MemorySegment.objects.update_or_create(
        organization_id=organization_id,
        source_language=source,
        target_language=target,
        exact_key=exact_key(masked_source),
        defaults={
            "source_text": masked_source.strip(),
            "target_text": masked_target.strip(),
            "normalised_key": normalised_key(masked_source),
            "origin": origin,
            "created_by_id": user_id,
        },
    )
    return segment
