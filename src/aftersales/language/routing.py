"""The translation engine: memory, protection, the provider chain of a pair, pivoting, glossary.

`translate_text()` is the one entry point. For each line of the text: an approved memory segment
wins; the other lines are masked (protection.py, with the glossary's terms) and sent in one batch
to the first provider of the pair's chain that answers with every placeholder intact; a pair that
no provider translates directly is pivoted through English. Every provider fails -> the error
says whether it is worth retrying (TranslationUnavailable) or not (UnsupportedPair)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.translation import gettext as _

from aftersales.core.errors import DomainError, ValidationFailed

from . import glossary, memory, names
from .languages import VARIANTS, check_language
from .models import ANY, MemorySegment, ProviderConfig, TranslationRoute
from .protection import Masked, Term, check, mask, restore
from .providers.base import Context, Provider, ProviderError, TermHint
from .providers.registry import build, builtin

logger = logging.getLogger(__name__)

PIVOT = "en"
MAX_CHARS = 50_000
DOWN_SECONDS = 60  # a provider that timed out / is unavailable is skipped for this long


class TranslationUnavailable(DomainError):
    """Every provider of the pair failed for a reason that may pass (outage, 429, quota)."""

    status_code = 503
    code = "translation_unavailable"


class UnsupportedPair(ValidationFailed):
    code = "unsupported_language_pair"


@dataclass(frozen=True)
class TranslationResult:
    text: str
    source_language: str
    target_language: str
    provider: str  # "apertium", "deepl", "apertium>deepl" (pivot), "memory", "none"
    quality: str  # "draft" | "machine" | "memory" | "original"
    glossary_applied: tuple[str, ...] = ()
    tm_applied: bool = False
    flags: tuple[str, ...] = ()  # "placeholders_lost", "pivot:en"
    variant: str = ""  # the regional variant written ("pt-BR", "pt-PT"), "" when none applies / unknown

    def as_json(self, at: str) -> dict:
        return {
            "text": self.text,
            "provider": self.provider,
            "quality": self.quality,
            "glossary_applied": list(self.glossary_applied),
            "tm_applied": self.tm_applied,
            "flags": list(self.flags),
            "source_language": self.source_language,
            "variant": self.variant,
            "at": at,
        }


class Lookups:
    """What translating reads from the database, read once and kept for this object's life: per organization
    its enabled providers and routes, its catalog's names; per organization and pair the glossary's terms
    and the translation memory's segments (`prefetch_memory`: for many texts in one query). Uses of memory
    segments are counted here and written by `count_memory_uses`. One per `translate_text` call, or one for
    a batch of messages (inbound.messages_translate): a provider or glossary changed meanwhile applies to the
    next batch."""

    def __init__(self) -> None:
        self._configs: dict[int, list[ProviderConfig]] = {}
        self._routes: dict[int, list[TranslationRoute]] = {}
        self._pairs: dict[int, list[str]] = {}
        self._terms: dict[tuple[int, str, str], list[Term]] = {}
        self._catalogs: dict[int, names.CatalogNames] = {}
        self._memory: dict[tuple[int, str, str], dict[str, MemorySegment | None]] = {}
        self.memory_uses: Counter[int] = Counter()

    def configs(self, organization_id: int) -> list[ProviderConfig]:
        if organization_id not in self._configs:
            self._configs[organization_id] = list(
                ProviderConfig.objects.filter(organization_id=organization_id, is_enabled=True).order_by(
                    "priority", "id"
                )
            )
        return self._configs[organization_id]

    def chain(self, organization_id: int, source: str, target: str) -> list[Provider]:
        """The ordered providers for a pair: the most specific configured routes, else every enabled
        provider by priority followed by the built-in Apertium."""
        if organization_id not in self._routes:
            self._routes[organization_id] = list(
                TranslationRoute.objects.filter(organization_id=organization_id, provider__is_enabled=True)
                .select_related("provider")
                .order_by("position", "id")
            )
        routes = [
            r
            for r in self._routes[organization_id]
            if r.source_language in (source, ANY) and r.target_language in (target, ANY)
        ]
        if routes:
            best = max((r.source_language != ANY) + (r.target_language != ANY) for r in routes)
            chosen = [r for r in routes if (r.source_language != ANY) + (r.target_language != ANY) == best]
            return [build(r.provider) for r in sorted(chosen, key=lambda r: (r.position, r.pk))]
        configs = self.configs(organization_id)
        chain = [build(c) for c in configs]
        if not any(c.kind == "apertium" for c in configs):
            chain.append(builtin())
        return chain

    def available_pairs(self, organization_id: int) -> list[str]:
        """Every pair the organization can translate, directly or through English ("de-zh")."""
        if organization_id not in self._pairs:
            providers = [build(c) for c in self.configs(organization_id)] + [builtin()]
            direct: set[tuple[str, str]] = set()
            for provider in providers:
                direct |= provider.supported_pairs()
            pivoted = {(a, c) for (a, b) in direct if b == PIVOT for (b2, c) in direct if b2 == PIVOT and a != c}
            self._pairs[organization_id] = sorted(f"{a}-{b}" for a, b in direct | pivoted)
        return self._pairs[organization_id]

    def terms_for_text(self, organization_id: int, source: str, target: str, text: str) -> list[Term]:
        """glossary.terms_for_text, with the pair's terms and the catalog's names read once."""
        key = (organization_id, source, target)
        if key not in self._terms:
            self._terms[key] = glossary.terms_for(organization_id, source, target)
        if organization_id not in self._catalogs:
            self._catalogs[organization_id] = names.catalog_names(organization_id)
        return glossary.terms_for_text(
            organization_id, source, target, text, terms=self._terms[key], catalog=self._catalogs[organization_id]
        )

    def prefetch_memory(self, organization_id: int, source: str, target: str, masked_texts: Iterable[str]) -> None:
        """Read the memory's segments for these masked texts of a pair (one query), for `memory_lookup`."""
        known = self._memory.setdefault((organization_id, source, target), {})
        missing = [text for text in dict.fromkeys(masked_texts) if text not in known]
        if missing:
            known.update(memory.find(organization_id, source, target, missing))

    def memory_lookup(self, organization_id: int, source: str, target: str, masked_text: str) -> MemorySegment | None:
        """memory.lookup: the best approved segment for a masked text (read now unless prefetched); its use
        is counted in `memory_uses`."""
        self.prefetch_memory(organization_id, source, target, [masked_text])
        hit = self._memory[(organization_id, source, target)][masked_text]
        if hit is not None:
            self.memory_uses[hit.pk] += 1
        return hit

    def count_memory_uses(self) -> None:
        """Write the counted uses of memory segments (and forget them)."""
        if self.memory_uses:
            memory.count_uses(self.memory_uses)
            self.memory_uses = Counter()


def chain_for(organization_id: int, source: str, target: str) -> list[Provider]:
    """The ordered providers for a pair: the most specific configured routes, else every enabled
    provider by priority followed by the built-in Apertium."""
    return Lookups().chain(organization_id, source, target)


def available_pairs(organization_id: int) -> list[str]:
    """Every pair the organization can translate, directly or through English ("de-zh")."""
    return Lookups().available_pairs(organization_id)


def _down_key(provider: Provider) -> str:
    return f"language:down:{provider.name}:{getattr(provider, 'base_url', '')}"


def _run_chain(
    providers: list[Provider],
    masked: list[Masked],
    texts: list[str],
    source: str,
    target: str,
    errors: list[str],
    context: Context,
) -> tuple[list[str], Provider, bool] | None:
    """First provider whose output keeps every placeholder intact, alone and once (`check()`: a
    placeholder with words pulled into it is refused, not repaired). Returns (outputs, provider,
    damaged); a damaged output is returned only when no provider did better, to be flagged."""
    best_effort: tuple[list[str], Provider, bool] | None = None
    for provider in providers:
        if not provider.supports(source, target):
            continue
        if cache.get(_down_key(provider)):
            errors.append(f"{provider.name}: skipped (failed recently)")
            continue
        try:
            outputs = provider.translate_batch(texts, source, target, context)
        except ProviderError as exc:
            errors.append(str(exc))
            if exc.kind in ("timeout", "unavailable"):
                cache.set(_down_key(provider), True, DOWN_SECONDS)
            logger.warning("translation provider failed", extra={"provider": provider.name, "kind": exc.kind})
            continue
        problems = [p for out, m in zip(outputs, masked, strict=True) for p in check(out, m)]
        if problems:
            errors.append(f"{provider.name} {source}->{target}: placeholders damaged ({'; '.join(problems[:3])})")
            logger.warning(
                "translation damaged placeholders",
                extra={"provider": provider.name, "pair": f"{source}-{target}", "problems": problems[:5]},
            )
            best_effort = best_effort or (outputs, provider, True)
            continue
        return outputs, provider, False
    return best_effort


@dataclass(frozen=True)
class _Machine:
    texts: list[str]
    provider: str
    quality: str
    flags: list[str]
    variant: str


def hints_of(masked: Masked) -> tuple[TermHint, ...]:
    """What the placeholders standing for glossary terms and product names mean, for providers."""
    return tuple(
        TermHint(e.token, e.value, e.replacement, keep=e.kind == "name" or e.replacement == e.value)
        for e in masked.entities
        if e.kind in ("term", "name")
    )


def _machine(
    lookups: Lookups, organization_id: int, masked: list[Masked], source: str, target: str, variant: str = ""
) -> _Machine:
    errors: list[str] = []
    texts = [m.text for m in masked]
    hints = tuple(hints_of(m) for m in masked)
    context = Context(variant, hints)
    chain = lookups.chain(organization_id, source, target)
    direct = _run_chain(chain, masked, texts, source, target, errors, context)
    if direct is not None and not direct[2]:
        return _Machine(direct[0], direct[1].name, direct[1].quality, [], direct[1].variant_of(target, variant))
    pivoted: _Machine | None = None
    if PIVOT not in (source, target):
        first = _run_chain(
            lookups.chain(organization_id, source, PIVOT), masked, texts, source, PIVOT, errors, Context("", hints)
        )
        if first is not None:
            second = _run_chain(
                lookups.chain(organization_id, PIVOT, target), masked, first[0], PIVOT, target, errors, context
            )
            if second is not None:
                quality = "draft" if "draft" in (first[1].quality, second[1].quality) else "machine"
                damaged = first[2] or second[2]
                pivoted = _Machine(
                    second[0],
                    f"{first[1].name}>{second[1].name}",
                    quality,
                    [f"pivot:{PIVOT}", *(["placeholders_lost"] if damaged else [])],
                    second[1].variant_of(target, variant),
                )
                if not damaged:
                    return pivoted
    # Every route damaged a placeholder: keep the first output (the direct one, else the pivoted
    # one), flagged; restore() repairs what it can and appends the values it could not place.
    if direct is not None:
        return _Machine(
            direct[0], direct[1].name, direct[1].quality, ["placeholders_lost"], direct[1].variant_of(target, variant)
        )
    if pivoted is not None:
        return pivoted
    pairs = lookups.available_pairs(organization_id)
    if f"{source}-{target}" not in pairs:
        raise UnsupportedPair(
            f"no provider translates {source} to {target}; supported pairs: {', '.join(pairs) or 'none'}",
            field="target_language",
        )
    raise TranslationUnavailable(
        f"translation {source}->{target} failed: " + "; ".join(errors[:6]), field="target_language"
    )


@dataclass(frozen=True)
class TextPlan:
    """A text to translate, checked and masked (`plan_text`): the whole text and each of its lines. Its
    masked texts are what the memory is asked for (`memory_texts`)."""

    organization_id: int
    text: str
    source: str
    target: str
    variant: str
    whole: Masked | None  # None: nothing to translate (source == target)
    lines: tuple[str, ...] = ()
    masked: tuple[tuple[int, Masked], ...] = ()  # (line index, masked line) of the lines with text

    def memory_texts(self) -> list[str]:
        return [self.whole.text, *(m.text for _, m in self.masked)] if self.whole is not None else []


def plan_text(
    *, organization_id: int, text: str, source: str, target: str, variant: str = "", lookups: Lookups | None = None
) -> TextPlan:
    """Check a text to translate (raises ValidationFailed) and mask it with the pair's glossary terms and
    the product names it holds."""
    source = check_language(source, field="source_language")
    target = check_language(target, field="target_language")
    if not text or not text.strip():
        raise ValidationFailed(_("there is no text to translate"), field="text")
    if len(text) > MAX_CHARS:
        raise ValidationFailed(
            _("text is longer than %(max_chars)s characters") % {"max_chars": MAX_CHARS}, field="text"
        )
    if source == target:
        return TextPlan(organization_id, text, source, target, "", None)
    if VARIANTS.get(variant) != target:
        variant = ""  # a variant of another language (a Brazilian buyer answered in Spanish): none
    terms = (lookups or Lookups()).terms_for_text(organization_id, source, target, text)
    lines = text.replace("\r\n", "\n").split("\n")
    masked = tuple((i, mask(line.strip(), terms=terms)) for i, line in enumerate(lines) if line.strip())
    whole = mask(text.strip(), terms=terms)
    return TextPlan(organization_id, text, source, target, variant, whole, tuple(lines), masked)


def translate_planned(plan: TextPlan, lookups: Lookups, *, use_memory: bool = True) -> TranslationResult:
    """Translate a planned text: an approved memory segment for the whole text wins; else each line's
    segment, and the other lines go to the pair's providers in one batch. The memory's uses are counted
    in `lookups` (written by its `count_memory_uses`)."""
    organization_id, source, target, whole = plan.organization_id, plan.source, plan.target, plan.whole
    if whole is None:
        return TranslationResult(plan.text, source, target, "none", "original")
    if use_memory:
        hit = lookups.memory_lookup(organization_id, source, target, whole.text)
        if hit is not None:
            restored = restore(hit.target_text, whole)
            return TranslationResult(restored.text, source, target, "memory", "memory", restored.terms, True)
    masked = dict(plan.masked)
    slots = list(masked)
    outputs: dict[int, str] = {}
    if use_memory:
        for i in slots:
            hit = lookups.memory_lookup(organization_id, source, target, masked[i].text)
            if hit is not None:
                outputs[i] = hit.target_text
    todo = [i for i in slots if i not in outputs]
    provider, quality, flags, written = "memory", "memory", list[str](), ""
    if todo:
        machine = _machine(lookups, organization_id, [masked[i] for i in todo], source, target, plan.variant)
        provider, quality, flags, written = machine.provider, machine.quality, machine.flags, machine.variant
        outputs.update(zip(todo, machine.texts, strict=True))
    applied: list[str] = []
    lost: list[str] = []
    result_lines = list(plan.lines)
    for i in slots:
        restored = restore(outputs[i], masked[i])
        result_lines[i] = restored.text
        applied.extend(restored.terms)
        lost.extend(restored.missing)
    if lost and "placeholders_lost" not in flags:
        flags.append("placeholders_lost")
    return TranslationResult(
        "\n".join(result_lines).strip(),
        source,
        target,
        provider,
        quality,
        tuple(dict.fromkeys(applied)),
        len(todo) < len(slots),
        tuple(flags),
        written,
    )


def translate_text(
    *, organization_id: int, text: str, source: str, target: str, use_memory: bool = True, variant: str = ""
) -> TranslationResult:
    """Translate `text` (any number of lines) from `source` to `target` for an organization.
    `variant` asks for a regional variant of the target ("pt-BR": languages.variant_for); the
    variant actually written is recorded on the result."""
    lookups = Lookups()
    plan = plan_text(
        organization_id=organization_id, text=text, source=source, target=target, variant=variant, lookups=lookups
    )
    if use_memory:
        lookups.prefetch_memory(plan.organization_id, plan.source, plan.target, plan.memory_texts())
    try:
        return translate_planned(plan, lookups, use_memory=use_memory)
    finally:
        lookups.count_memory_uses()
