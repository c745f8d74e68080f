"""The one interface every translation provider implements.

`translate_batch(texts, source, target)` returns one output per input, in order. Providers raise
`ProviderError`: `permanent` errors (bad key, unsupported pair, bad request) are not retried;
transient ones (timeouts, 429, 5xx, quota) make the router try the next provider and, when every
provider failed that way, the message is flagged "translation pending" and retried later."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class ProviderError(Exception):
    """A provider could not translate. `kind`: timeout | rate_limited | quota | unavailable |
    auth | bad_request | unsupported | bad_response."""

    def __init__(self, message: str, *, kind: str, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.permanent = permanent
        self.status = status


@dataclass(frozen=True)
class TermHint:
    """A placeholder standing for a glossary term or a product name, told to providers that can
    use it (an LLM translates the sentence around it better knowing what ⟦1⟧ is)."""

    token: str  # "⟦1⟧"
    source: str  # what the customer wrote ("power bank")
    target: str  # what is put back in the translation ("充电宝"; the name itself for a name)
    keep: bool  # a do-not-translate term or a product name


@dataclass(frozen=True)
class Context:
    """What the router knows beyond the texts: the regional variant wanted for the target
    ("pt-BR" for a buyer in Brazil, "" for the language's default) and, per text, the hints of
    its placeholders. Providers that cannot use them ignore them."""

    variant: str = ""
    hints: tuple[tuple[TermHint, ...], ...] = ()

    def chunk(self, start: int, end: int) -> Context:
        return Context(self.variant, self.hints[start:end]) if self.hints else self


NO_CONTEXT = Context()


@dataclass(frozen=True)
class Health:
    ok: bool
    detail: str = ""
    latency_ms: float | None = None


@dataclass
class Provider(ABC):
    """A configured provider. `quality` labels its output: "draft" (rule-based) or "machine"."""

    name: str
    timeout: float = 20.0
    max_batch: int = 50
    quality: str = "machine"
    options: dict = field(default_factory=dict)

    @abstractmethod
    def supported_pairs(self) -> frozenset[tuple[str, str]]:
        """(source, target) ISO 639-1 pairs this provider can translate directly."""

    @abstractmethod
    def _translate(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        """Translate one batch of at most `max_batch` texts."""

    def variant_of(self, target: str, variant: str) -> str:
        """The regional variant this provider writes for `target` when `variant` is asked for
        ("" when it has none or cannot tell): recorded with the translation."""
        return ""

    def health(self) -> Health:
        try:
            pair = next(iter(sorted(self.supported_pairs())))
        except StopIteration:
            return Health(False, "no language pairs")
        import time

        started = time.perf_counter()
        try:
            self.translate_batch(["Hello"], pair[0], pair[1])
        except ProviderError as exc:
            return Health(False, f"{exc.kind}: {exc}")
        return Health(True, "ok", round((time.perf_counter() - started) * 1000, 1))

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.supported_pairs()

    def translate_batch(self, texts: list[str], source: str, target: str, context: Context = NO_CONTEXT) -> list[str]:
        if not texts:
            return []
        if not self.supports(source, target):
            raise ProviderError(
                f"{self.name} does not translate {source}->{target}", kind="unsupported", permanent=True
            )
        out: list[str] = []
        for start in range(0, len(texts), self.max_batch):
            chunk = texts[start : start + self.max_batch]
            result = self._translate(chunk, source, target, context.chunk(start, start + len(chunk)))
            if len(result) != len(chunk):
                raise ProviderError(
                    f"{self.name} returned {len(result)} translations for {len(chunk)} texts", kind="bad_response"
                )
            out.extend(result)
        return out
