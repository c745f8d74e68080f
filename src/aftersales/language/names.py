"""Product names and model codes, protected from machine translation without a glossary entry.

Apertium turns "Galaxy A54" into "Galaxia A54" and "ThinkPad X1 Carbon" into "X1 el carbono". Two
sources say what a product name is:

- the organization's catalog: every product title is cut into its name runs (consecutive
  capitalised, CamelCase or alphanumeric words: "Samsung Galaxy A54 5G 128GB" in "Samsung Galaxy
  A54 5G 128GB smartphone, black"); any part of a run that holds a distinctive word (CamelCase like
  "AirPods", a model code like "A54" or "X1", a number) is a name, and so is a title's first word
  (the brand, matched with its case: "Apple" but not "apple"). Cached per organization, refreshed
  when a product changes (the cache key holds the catalog's count and latest change);
- a model-code pattern for names the catalog does not know: a CamelCase word with what follows it
  ("iPhone 15 Pro Max", "AirPods Pro 2") or a capitalised word followed by a letter-digit code
  ("Galaxy S23", "Pixel 8a", "ThinkPad X1 Carbon").

`names_in(organization_id, text)` returns the names found, which the router protects like
do-not-translate glossary terms (a glossary entry for the same words wins)."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max

from aftersales.catalog.models import Product

MAX_RUN = 8  # words: longer runs are cut (a title is not a sentence of names)
CACHE_SECONDS = 3600

_WORD = re.compile(r"[A-Za-z0-9À-ɏ][A-Za-z0-9À-ɏ+'.-]*[A-Za-z0-9À-ɏ+]|[A-Za-z0-9À-ɏ]")
_CAMEL = re.compile(r"^[a-z]{0,2}[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$|^[a-z][A-Z][A-Za-z0-9]+$")  # AirPods, iPhone
_CODE = re.compile(r"^(?=.*\d)[A-Za-z0-9+-]{1,12}$")  # A54, X1, 8a, 128GB, 5G, 15, WH-1000XM5
_CAPITAL = re.compile(r"^[A-Z][A-Za-z0-9À-ɏ+'-]*$")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "for",
        "with",
        "of",
        "in",
        "on",
        "to",
        "by",
        "from",
        "new",
        "set",
        "pack",
        "kit",
        "case",
        "cover",
        "de",
        "la",
        "le",
        "el",
        "les",
        "los",
        "las",
        "para",
        "con",
        "für",
        "mit",
        "und",
        "der",
        "die",
        "das",
        "pour",
        "avec",
        "et",
    ]
)

# The pattern for names the catalog does not hold. re.ASCII keeps \b ASCII (CJK text around it).
_SUFFIX = r"(?:Pro|Max|Plus|Ultra|Mini|Lite|Air|FE|Neo|Edge|Note|Carbon|Yoga|Fold|Flip|Gen\s?\d{1,2}|SE|XL|S)"
_UNITS = r"(?:gb|tb|mb|mah|wh|w|v|k|p|g|l|ml|mm|cm|m|hz|in|x|pc)"
MODEL_PATTERN = re.compile(
    r"\b(?:"
    # CamelCase lead: iPhone 15 Pro Max, AirPods Pro 2, ThinkPad X1 Carbon, MacBook Air M2
    rf"(?:[a-z]{{0,2}}[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[a-z][A-Z][A-Za-z0-9]+)"
    rf"(?:\s(?:[A-Z]{{0,3}}\d{{1,4}}[A-Za-z]{{0,2}}|{_SUFFIX}))*"
    r"|"
    # Capitalised lead + a code holding a digit: Galaxy A54, Pixel 8a, Redmi Note 12 Pro (Note is a suffix)
    rf"[A-Z][a-z]{{2,}}(?:\s{_SUFFIX})?\s(?:[A-Z]{{1,3}}\d{{1,4}}[A-Za-z]{{0,2}}|\d{{1,4}}(?!{_UNITS}\b)[a-z]{{1,2}})\b"
    rf"(?:\s(?:{_SUFFIX}|\d{{1,2}}))*"
    r"|"
    # Capitalised lead + a model line + a number: Redmi Note 12 Pro
    rf"[A-Z][a-z]{{2,}}\s{_SUFFIX}\s\d{{1,4}}\b"
    rf"(?:\s(?:{_SUFFIX}|\d{{1,2}}))*"
    r")\b",
    re.ASCII,
)
# Capitalised words that head sentences and forms rather than products ("Order A12", "Size M2").
_NOT_A_LEAD = frozenset({"Order", "Orden", "Pedido", "Commande", "Bestellung", "Size", "Talla", "Item", "Sku", "Room"})


@dataclass(frozen=True)
class CatalogNames:
    phrases: frozenset[tuple[str, ...]]  # casefolded word tuples
    brands: frozenset[str]  # first words of titles, matched case-sensitively
    longest: int


_UNIT = re.compile(
    r"^\d+(?:[.,]\d+)?(?:-?(?:gb|tb|mb|mah|wh|w|v|k|p|g|l|ml|mm|cm|m|hz|khz|in|inch|x|pcs|pc|pack|piece)|-in-\d+)?$",
    re.I,
)
_TRAIL = frozenset(
    {"pro", "max", "plus", "ultra", "mini", "lite", "air", "fe", "neo", "edge", "note", "carbon", "yoga", "gen", "se"}
)
# Words that open titles without being brands ("Wireless Earbuds ...", "Smart Watch ...").
_COMMON_LEADS = frozenset(
    {
        "new",
        "wireless",
        "smart",
        "mini",
        "pro",
        "classic",
        "portable",
        "premium",
        "universal",
        "waterproof",
        "lightweight",
        "magnetic",
        "fast",
        "usb",
        "kids",
        "women",
        "men",
        "original",
        "genuine",
        "replacement",
        "gift",
        "cotton",
        "digital",
        "electric",
        "upgraded",
        "professional",
        "heavy",
        "ultra",
        "super",
        "high",
    }
)


def _code(word: str) -> bool:
    """A model code: letters and digits ("A54", "X1", "8a", "WH-1000XM5"), not a unit ("128GB", "5G")."""
    return bool(_CODE.match(word)) and not _UNIT.match(word)


def _distinctive(word: str) -> bool:
    return bool(_CAMEL.match(word)) or _code(word)


def _lead(word: str) -> bool:
    return _distinctive(word) or (bool(_CAPITAL.match(word)) and not _UNIT.match(word))


def _trail(word: str) -> bool:
    return _distinctive(word) or word.casefold() in _TRAIL or (word.isdigit() and len(word) <= 5)


def _runs(title: str) -> list[list[str]]:
    """Consecutive capitalised, CamelCase or alphanumeric words of a title (lower-case words and
    connectives end a run)."""
    runs: list[list[str]] = []
    current: list[str] = []
    for word in _WORD.findall(title):
        if (_CAPITAL.match(word) or _CAMEL.match(word) or _CODE.match(word)) and word.casefold() not in _STOP:
            current.append(word)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    return runs


def names_of_titles(titles: list[str]) -> CatalogNames:
    """Each title's names: around every distinctive word of a run (CamelCase, model code), up to two
    capitalised words before it ("Samsung Galaxy A54") and the model-line words after it ("X1
    Carbon Gen 11", "AirPods Pro 2"). Units ("128GB", "65W") and plain words ("Wireless Earbuds")
    are no names. A title's first word is a brand when it heads a name, is written in capitals or
    CamelCase, or opens two titles or more (and is not a common opening word)."""
    phrases: set[tuple[str, ...]] = set()
    brands: set[str] = set()
    openers: dict[str, int] = {}
    for title in titles:
        words = _WORD.findall(title)
        first = words[0] if words else ""
        heads_a_name = False
        for run in _runs(title):
            run = run[:MAX_RUN]
            for i, word in enumerate(run):
                if not _distinctive(word):
                    continue
                start = i
                while start > 0 and i - start < 2 and _lead(run[start - 1]):
                    start -= 1
                end = i
                while end + 1 < len(run) and _trail(run[end + 1]):
                    end += 1
                for s in range(start, i + 1):
                    for e in range(i, end + 1):
                        if s == e == i and not _CAMEL.match(word):
                            continue  # a code alone is no name ("A54" is protected with its line)
                        phrases.add(tuple(w.casefold() for w in run[s : e + 1]))
                        heads_a_name = heads_a_name or run[s] == first
        if first and _CAPITAL.match(first) and len(first) > 1 and not any(c.isdigit() for c in first):
            openers[first] = openers.get(first, 0) + 1
            if first.casefold() not in _COMMON_LEADS and (heads_a_name or first.isupper() or _CAMEL.match(first)):
                brands.add(first)
    brands |= {w for w, n in openers.items() if n >= 2 and w.casefold() not in _COMMON_LEADS}
    longest = max((len(p) for p in phrases), default=1)
    return CatalogNames(frozenset(phrases), frozenset(brands), longest)


def catalog_names(organization_id: int) -> CatalogNames:
    """The names of the organization's catalog, cached until a product is added or changed."""
    stamp = Product.objects.filter(organization_id=organization_id).aggregate(n=Count("id"), at=Max("updated_at"))
    key = f"language:names:{organization_id}:{stamp['n']}:{stamp['at'].timestamp() if stamp['at'] else 0}"
    found = cache.get(key)
    if found is None:
        titles = list(Product.objects.filter(organization_id=organization_id).values_list("title", flat=True))
        found = names_of_titles(titles)
        cache.set(key, found, CACHE_SECONDS)
    return found


def _catalog_spans(text: str, names: CatalogNames) -> list[tuple[int, int]]:
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        matched = 0
        for length in range(min(names.longest, len(words) - i), 0, -1):
            chunk = words[i : i + length]
            # the words of a name are separated by spaces only ("Galaxy A54", not "Galaxy. A54")
            if any(text[a[1] : b[0]] != " " for a, b in itertools.pairwise(chunk)):
                continue
            if tuple(w[2].casefold() for w in chunk) in names.phrases:
                matched = length
                break
        if matched:
            spans.append((words[i][0], words[i + matched - 1][1]))
            i += matched
            continue
        if words[i][2] in names.brands:
            spans.append((words[i][0], words[i][1]))
        i += 1
    return spans


def names_in(organization_id: int, text: str, *, catalog: CatalogNames | None = None) -> list[str]:
    """The product names and model codes in `text`, longest first, as written in the text. `catalog`: the
    organization's `catalog_names`, when the caller read them already (a batch of messages)."""
    if not text:
        return []
    spans = _catalog_spans(text, catalog if catalog is not None else catalog_names(organization_id))
    for m in MODEL_PATTERN.finditer(text):
        if m.group(0).split()[0] in _NOT_A_LEAD:
            continue
        if all(m.end() <= s or m.start() >= e for s, e in spans):
            spans.append((m.start(), m.end()))
    found = {text[s:e] for s, e in spans}
    return sorted(found, key=lambda n: (-len(n), n))
