"""Translation memory: approved segments (agents' corrections, imports), matched exactly or after
normalisation (case, spacing, punctuation) before any provider is called. Segments are stored
masked (see protection.py), so "Where is order ⟦0⟧?" serves every order number."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from django.db.models import F

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
    """The best approved segment for a masked source: exact first, then normalised."""
    base = MemorySegment.objects.filter(organization_id=organization_id, source_language=source, target_language=target)
    hit = base.filter(exact_key=exact_key(masked_source)).first()
    if hit is None:
        hit = base.filter(normalised_key=normalised_key(masked_source)).order_by("-updated_at", "-id").first()
    if hit is not None:
        MemorySegment.objects.filter(pk=hit.pk).update(use_count=F("use_count") + 1)
    return hit


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
