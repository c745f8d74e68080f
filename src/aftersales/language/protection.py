"""Protection of what machine translation must not change.

Before a text goes to a provider, order numbers of every platform, tracking numbers, SKUs,
IMEIs/serials, e-mail addresses, URLs, amounts with a currency and the glossary's terms are
replaced by placeholders ⟦0⟧, ⟦1⟧...; after, they are put back (a forced glossary translation is
put back as its translation). `check()` verifies strictly that every placeholder came back intact
(nothing pulled inside the brackets) and exactly once, so the router can try the next provider;
`restore()` then puts the values back, repairing what it can of a damaged output (which the
router has already flagged).

Why ⟦n⟧: Apertium passes it through unchanged in every installed pair (it is an unknown word in
every dictionary; tests check it for real), LLMs and DeepL leave it alone, and it never occurs in
customer text (a literal one is protected like any entity)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

TOKEN_RE = re.compile(r"⟦\s*(\d+)\s*⟧")  # an intact placeholder (spaces inside are harmless)
_FRAGMENT_RE = re.compile(r"⟦([^⟦⟧\n]*)⟧")  # anything in the brackets, e.g. "⟦ai payé 0⟧"
_PIECE_RE = re.compile(r"⟦([^⟦⟧\n]*)⟧|[⟦⟧]")

_CURRENCY_CODES = "USD|EUR|GBP|CNY|RMB|JPY|BRL|MXN|CAD|AUD|PLN|TRY|THB|VND|IDR|KRW|RUB|SGD|MYR|PHP|SAR|AED|CHF|HKD"
_SYMBOLS = r"US\$|CA\$|AU\$|R\$|HK\$|S\$|€|\$|£|¥|￥|₩|₫|₺|₽|฿|zł|Rp"
_NUMBER = r"\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"

# (kind, pattern) in priority order: earlier kinds win where matches overlap. re.ASCII: word
# boundaries and \w are ASCII, so "SKU BT-X200-BLK已经缺货" and "至support@example.com" split right.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("placeholder", re.compile(r"⟦[^⟧\n]{0,20}⟧", re.ASCII)),
    (
        "url",
        re.compile(
            r"\b(?:https?://|www\.)[^\s<>\"'，。）)\u3000-\u9fff\uff00-\uffef]+[^\s<>\"'.,;:!?，。）)\u3000-\u9fff\uff00-\uffef]",
            re.ASCII,
        ),
    ),
    ("email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", re.ASCII)),
    (
        "amount",
        re.compile(
            rf"(?:(?:{_SYMBOLS})\s?(?:{_NUMBER})|(?:{_CURRENCY_CODES})\s?(?:{_NUMBER}))"
            rf"|(?:{_NUMBER})\s?(?:{_SYMBOLS}|{_CURRENCY_CODES}|元|円|euros?\b|dollars?\b)",
            re.ASCII,
        ),
    ),
    ("order_amazon", re.compile(r"\b\d{3}-\d{7}-\d{7}\b", re.ASCII)),
    ("order_ebay", re.compile(r"\b\d{2}-\d{5}-\d{5}\b", re.ASCII)),
    ("order_shopee", re.compile(r"\b\d{6}[A-Z0-9]{8}\b", re.ASCII)),
    ("tracking_ups", re.compile(r"\b1Z[0-9A-Z]{16}\b", re.ASCII)),
    ("tracking_upu", re.compile(r"\b[A-Z]{2}\d{9}[A-Z]{2}\b", re.ASCII)),
    ("tracking", re.compile(r"\b(?:JD|JJD|YT|SF|LP|UB|JT|ZTO|YD|CAINIAO|LB|CNG)\w*\d{8,}\w*\b", re.ASCII)),
    ("order_shopify", re.compile(r"#(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]*", re.ASCII)),
    ("imei", re.compile(r"\b\d{15}\b", re.ASCII)),
    ("long_id", re.compile(r"\b\d{9,22}\b", re.ASCII)),  # AliExpress, TikTok Shop, Shopee ids; phone-like numbers
    ("sku", re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+\b", re.ASCII)),
    ("serial", re.compile(r"\b(?=[A-Z0-9]*\d)(?=[A-Z0-9]*[A-Z])[A-Z0-9]{6,}\b", re.ASCII)),
)


@dataclass(frozen=True)
class Term:
    """A glossary term to protect: put back as `replacement` (itself for do-not-translate).
    kind "name": a product name or model code (names.py), protected like a do-not-translate term
    but not reported as a glossary term applied."""

    term: str
    replacement: str
    case_sensitive: bool = False
    kind: str = "term"

    def pattern(self) -> re.Pattern[str]:
        body = re.escape(self.term)
        # Word boundaries only where the term starts / ends with a word character of a spaced script.
        if re.match(r"[A-Za-z0-9À-ɏ]", self.term):
            body = r"(?<![A-Za-z0-9À-ɏ])" + body
        if re.search(r"[A-Za-z0-9À-ɏ]$", self.term):
            body = body + r"(?![A-Za-z0-9À-ɏ])"
        return re.compile(body, 0 if self.case_sensitive else re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    index: int
    kind: str
    value: str  # as found in the source
    replacement: str  # what goes back in the translation

    @property
    def token(self) -> str:
        return f"⟦{self.index}⟧"


@dataclass(frozen=True)
class Masked:
    text: str
    entities: tuple[Entity, ...]

    @property
    def tokens(self) -> list[str]:
        return [e.token for e in self.entities]


@dataclass(frozen=True)
class Restored:
    text: str
    missing: tuple[str, ...]  # values whose placeholder did not come back
    terms: tuple[str, ...]  # glossary terms applied


def _spans(
    text: str, terms: Sequence[Term], extra: Sequence[tuple[str, re.Pattern[str]]] = ()
) -> list[tuple[int, int, str, str]]:
    taken: list[tuple[int, int, str, str]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _, _ in taken)

    for kind, pattern in (*extra, *PATTERNS):
        for m in pattern.finditer(text):
            if m.end() > m.start() and free(m.start(), m.end()):
                taken.append((m.start(), m.end(), kind, m.group(0)))
    for term in sorted(terms, key=lambda t: -len(t.term)):
        for m in term.pattern().finditer(text):
            if free(m.start(), m.end()):
                taken.append((m.start(), m.end(), term.kind, term.replacement))
    return sorted(taken)


def mask(text: str, *, terms: Sequence[Term] = (), extra: Sequence[tuple[str, re.Pattern[str]]] = ()) -> Masked:
    """Replace protected spans by ⟦n⟧, numbered in order of appearance. `extra` patterns (e.g. the
    {{ variables }} of a template) are protected before everything else."""
    out: list[str] = []
    entities: list[Entity] = []
    pos = 0
    for start, end, kind, replacement in _spans(text, terms, extra):
        value = text[start:end]
        out.append(text[pos:start])
        entity = Entity(len(entities), kind, value, replacement if kind in ("term", "name") else value)
        entities.append(entity)
        out.append(entity.token)
        pos = end
    out.append(text[pos:])
    return Masked("".join(out), tuple(entities))


def missing_tokens(translated: str, masked: Masked) -> list[str]:
    found = {int(i) for i in TOKEN_RE.findall(translated)}
    return [e.token for e in masked.entities if e.index not in found]


def check(translated: str, masked: Masked) -> list[str]:
    """What is wrong with the placeholders of a translation; empty when every placeholder of the
    source came back intact ("⟦n⟧", nothing but the number inside the brackets), alone (its own
    token, never pulled into a word or another placeholder) and exactly once, and no other
    bracket is left. A pivot route can pull words into a placeholder ("je ⟦ai payé 0⟧"): that
    output is refused, not repaired and passed."""
    problems: list[str] = []
    counts: dict[int, int] = {}
    for m in TOKEN_RE.finditer(translated):
        counts[int(m.group(1))] = counts.get(int(m.group(1)), 0) + 1
    known = {e.index for e in masked.entities}
    for entity in masked.entities:
        seen = counts.get(entity.index, 0)
        if seen == 0:
            problems.append(f"{entity.token} missing")
        elif seen > 1:
            problems.append(f"{entity.token} repeated {seen} times")
    problems.extend(f"unknown placeholder ⟦{i}⟧" for i in sorted(set(counts) - known))
    rest = TOKEN_RE.sub(" ", translated)
    for fragment in _FRAGMENT_RE.finditer(rest):
        problems.append(f"damaged placeholder {fragment.group(0)!r}")
    rest = _FRAGMENT_RE.sub(" ", rest)
    if "⟦" in rest or "⟧" in rest:
        problems.append("stray placeholder bracket")
    return problems


def restore(translated: str, masked: Masked) -> Restored:
    """Put the protected values back. A damaged placeholder whose number is still readable
    ("⟦ai payé 0⟧") gives its words and its value back in place; values whose placeholder was lost
    are appended, in parentheses, so that nothing the customer wrote disappears (and `missing`
    says so). Stray brackets are dropped. The router flags such an output (`check()`)."""
    by_index = {e.index: e for e in masked.entities}
    intact = {int(i) for i in TOKEN_RE.findall(translated) if int(i) in by_index}
    seen: set[int] = set()

    def put_back(m: re.Match[str]) -> str:
        piece = m.group(0)
        if len(piece) == 1:  # a stray bracket
            return "" if masked.entities else piece
        token = TOKEN_RE.fullmatch(piece)
        if token is not None:
            entity = by_index.get(int(token.group(1)))
            if entity is None:
                return piece
            seen.add(entity.index)
            return entity.replacement
        inner = m.group(1)
        for number in re.finditer(r"\d+", inner):
            entity = by_index.get(int(number.group(0)))
            if entity is not None and entity.index not in intact and entity.index not in seen:
                seen.add(entity.index)
                words = " ".join((inner[: number.start()] + " " + inner[number.end() :]).split())
                return f"{words} {entity.replacement}" if words else entity.replacement
        return inner if masked.entities else piece

    text = _PIECE_RE.sub(put_back, translated)
    lost = [e for e in masked.entities if e.index not in seen]
    if lost:
        text = text.rstrip() + " (" + ", ".join(e.replacement for e in lost) + ")"
    terms = tuple(dict.fromkeys(e.value for e in masked.entities if e.kind == "term" and e.index in seen))
    return Restored(text, tuple(e.value for e in lost), terms)


def relabel(text: str, masked: Masked) -> str:
    """Mask, in a human translation of a masked source (an agent's correction), the same values
    with the same placeholders, so the pair can be stored in the translation memory."""
    out = text
    for entity in sorted(masked.entities, key=lambda e: -len(e.replacement)):
        if entity.replacement and entity.replacement in out:
            out = out.replace(entity.replacement, entity.token)
    return out
