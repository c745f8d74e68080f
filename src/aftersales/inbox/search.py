"""Free-text search of tickets: tokenizer, query parser and the search document column.

Every ticket has one search document (`TicketSearch.document`): the tokens of its subject, its
customer's name and e-mail, and every message body and stored translation, in order. Documents and
queries are tokenized by the same function, so both sides agree on what a "word" is:

- text is NFKC-normalised and case-folded; accents are dropped from Latin, Greek and Cyrillic
  letters (`Müller` = `muller`, `São` = `sao`);
- letters and digits form words (`205-1234567-7654321` is three words in a row, `a@b.com` three);
- Chinese, Japanese and Korean have no spaces between words, so a run of those characters is
  indexed as its overlapping bigrams (`我要退款` -> `我要 要退 退款`) plus its last character: any
  substring of two or more characters is a phrase of consecutive bigrams, one character is a
  prefix of a bigram (or the last character). This is what pg_bigm or a CJK-aware search engine
  does; it needs no extension.

A query is split on white space into parts that must all match (AND). One part is a phrase: its
tokens must be consecutive in the document. The last word of a part matches as a prefix
(`olive` finds `Oliveira`), so agents can type the start of a name, a number or an e-mail.

Storage: on PostgreSQL the column is a `tsvector` written with explicit positions (no text search
parser or dictionary is involved, so the database locale cannot change the tokens) and matched with
`@@ to_tsquery` (`<->` for phrases, `:*` for prefixes) through a GIN index. On SQLite it is the token
string " tok1 tok2 ... ", indexed by the FTS5 table `inbox_ticketsearch_fts` (migration 0010:
external content, kept in sync by triggers on inbox_ticketsearch) whose `ascii` tokenizer splits on
ASCII spaces and punctuation only, so each of our tokens is exactly one FTS5 token (they hold only
letters and digits); a query is `"tok1 tok2" * AND "tok3"` (a quoted phrase, `*` for a prefix: no
token can contain a quote, so an FTS5 syntax error is impossible). See docs/adr/0012-ticket-search.md
and docs/adr/0013-sqlite-fts5-search.md.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import BooleanField, Expression, F, Lookup

# Scripts written without spaces between words: Hiragana, Katakana, CJK ideographs (with extension A
# and compatibility ideographs), Hangul syllables and jamo. Half-width katakana become full-width
# under NFKC before this applies.
_CJK = "\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_SPACE = re.compile(r"\s+")

MAX_DOCUMENT_TOKENS = 16_000  # PostgreSQL tsvector positions stop at 16,383
MAX_MESSAGE_TOKENS = 3_000  # a long e-mail (quoted history) does not crowd out the rest of the ticket
MAX_TOKEN_CHARS = 64  # longer "words" (base64, hashes) are cut, alike in documents and queries
MAX_QUERY_PARTS = 8
MAX_QUERY_TOKENS = 32
POSTGRES_MAX_POSITION = 16_383

SQLITE_FTS_TABLE = "inbox_ticketsearch_fts"  # FTS5 index of TicketSearch.document (migration 0010)
# False: SQLite matches documents with LIKE patterns, reading every document (the design before
# migration 0010): kept for bench/search_sqlite.py's before/after comparison and the tests that check
# both give the same results.
SQLITE_FTS = True


_CJK_RUN = re.compile(rf"[{_CJK}]+")
_TOKEN_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Combining accents (U+0300-U+036F) after a Latin, Greek or Cyrillic letter. Marks of other scripts
# are part of the letter there (Japanese voiced marks, Devanagari vowel signs) and are kept.
_LATIN_ACCENTS = re.compile(r"(?<=[\u0041-\u052f])[\u0300-\u036f]+")


# Letters that may carry a Latin/Greek/Cyrillic accent once NFKC-composed; text without any (Chinese,
# Japanese, Arabic...) skips the decomposition, which would give it back unchanged anyway.
_ACCENTABLE = re.compile(r"[\u00c0-\u052f\u1e00-\u1fff]")


def normalise(text: str) -> str:
    """NFKC, case-folded, Latin/Greek/Cyrillic accents dropped (`Müller` -> `muller`)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    if text.isascii() or not _ACCENTABLE.search(text):
        return text
    return unicodedata.normalize("NFC", _LATIN_ACCENTS.sub("", unicodedata.normalize("NFKD", text)))


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)]


def tokens(text: str) -> list[str]:
    """The document tokens of `text`, in order. (The hot path of indexing: plain ASCII text, most
    of what buyers write, takes one regex pass.)"""
    text = normalise(text)
    if text.isascii():
        return [w[:MAX_TOKEN_CHARS] for w in _ASCII_WORD.findall(text)]
    out: list[str] = []
    for run in _TOKEN_RUN.findall(text):
        if not _CJK_RUN.match(run):
            out.append(run[:MAX_TOKEN_CHARS])
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(_bigrams(run))
            out.append(run[-1])  # so that a one-character query finds a run's last character
    return out


def ticket_document(subject: str, customer_name: str, customer_email: str, texts: Iterable[str]) -> list[str]:
    """What a ticket's document holds, in order: subject, customer name and e-mail, then each message
    and translation text. The services (from the database) and the demo generator (in bulk) both
    build documents here, so they cannot disagree."""
    return document_tokens([subject, customer_name, customer_email, *texts])


def document_tokens(parts: Iterable[str], *, per_part: int = MAX_MESSAGE_TOKENS) -> list[str]:
    """Tokens of a whole ticket: each part (subject, name, a message...) capped at `per_part`
    tokens, the whole capped at MAX_DOCUMENT_TOKENS."""
    return joined_tokens((tokens(part) for part in parts if part), per_part=per_part)


def joined_tokens(parts: Iterable[list[str]], *, per_part: int = MAX_MESSAGE_TOKENS) -> list[str]:
    """`document_tokens` of parts already tokenized (`tokens(part)` each, in the same order): ingest
    tokenizes a new ticket's subject and message before its write transaction opens."""
    out: list[str] = []
    for toks in parts:
        out.extend(toks[:per_part])
        if len(out) >= MAX_DOCUMENT_TOKENS:
            return out[:MAX_DOCUMENT_TOKENS]
    return out


def appended_tokens(
    document_length: int, parts: Iterable[list[str]], *, per_part: int = MAX_MESSAGE_TOKENS
) -> list[str]:
    """The tokens that parts added after a document of `document_length` tokens (the joined_tokens
    of the parts before them) bring to it: `joined_tokens(before + parts)` is the document's tokens
    followed by these. The document is capped at MAX_DOCUMENT_TOKENS: a full one takes nothing more
    (joined_tokens cuts the whole at the cap, so its first tokens never change)."""
    budget = MAX_DOCUMENT_TOKENS - document_length
    out: list[str] = []
    if budget <= 0:
        return out
    for toks in parts:
        out.extend(toks[:per_part])
        if len(out) >= budget:
            return out[:budget]
    return out


class DocumentLength(Expression):
    """The number of tokens a stored search document holds, or NULL where the document does not say:
    a PostgreSQL tsvector keeps at most 256 positions per lexeme (the first ones), so when a lexeme
    reaches 256 the last positions may be gone; otherwise every position 1..n is there once and the
    largest is n. On SQLite the document " tok1 tok2 ... " holds one more space than tokens. What
    services.search.tickets_search_append needs to append to a document instead of rebuilding it."""

    output_field = models.IntegerField()

    def __init__(self, document: Any) -> None:
        super().__init__()
        self.document = document

    def get_source_expressions(self) -> list[Any]:
        return [self.document]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.document,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.document)
        if connection.vendor == "postgresql":
            length = (
                "CASE WHEN bool_or(u.positions IS NULL OR cardinality(u.positions) >= 256) THEN NULL "
                "ELSE coalesce(max(u.positions[cardinality(u.positions)]), 0) END"
            )
            return f"(SELECT {length} FROM unnest({sql}) AS u)", tuple(params)  # noqa: S608
        return f"(length({sql}) - length(replace({sql}, ' ', '')) - 1)", (*params, *params)


@dataclass(frozen=True)
class Phrase:
    """Tokens that must appear consecutively; the last one as a prefix when `prefix`."""

    tokens: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class SearchQuery:
    phrases: tuple[Phrase, ...]

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def tsquery(self) -> str:
        """PostgreSQL tsquery text: phrases joined by &, tokens of a phrase by <->."""
        parts = []
        for phrase in self.phrases:
            quoted = [f"'{t}'" for t in phrase.tokens]
            if phrase.prefix:
                quoted[-1] += ":*"
            parts.append(" <-> ".join(quoted))
        return " & ".join(f"({p})" for p in parts)

    def fts5_match(self) -> str:
        """SQLite FTS5 MATCH expression: each phrase a quoted string (`*` after it makes its last
        token a prefix), AND-ed. Tokens hold only letters and digits, so quoting every phrase leaves
        no room for FTS5 operators or syntax errors (a quote would be doubled all the same)."""
        parts = []
        for phrase in self.phrases:
            text = " ".join(phrase.tokens).replace('"', '""')
            parts.append(f'"{text}"' + (" *" if phrase.prefix else ""))
        return " AND ".join(parts)

    def like_patterns(self) -> list[str]:
        """SQLite LIKE patterns over the " tok1 tok2 ... " document string, one per phrase."""
        return [f"% {' '.join(p.tokens)}{'%' if p.prefix else ' %'}" for p in self.phrases]


def parse_query(text: str) -> SearchQuery:
    """Parse what an agent typed. Parts separated by white space must all match; within a part,
    word runs joined by punctuation form one phrase (`205-1234567`, `maria@example`), and each run of
    CJK characters is a phrase of its bigrams. The last word of a phrase matches as a prefix."""
    phrases: list[Phrase] = []
    used = 0
    for chunk in _SPACE.split(text.strip()):
        words: list[str] = []
        for run in _TOKEN_RUN.findall(normalise(chunk)):
            if _CJK_RUN.match(run):
                if words:
                    phrases.append(Phrase(tuple(words), prefix=len(words[-1]) > 1))
                    words = []
                if len(run) == 1:
                    phrases.append(Phrase((run,), prefix=True))
                else:
                    phrases.append(Phrase(tuple(_bigrams(run)), prefix=False))
            else:
                words.append(run[:MAX_TOKEN_CHARS])
        if words:
            phrases.append(Phrase(tuple(words), prefix=len(words[-1]) > 1))
    unique = list(dict.fromkeys(phrases))[:MAX_QUERY_PARTS]
    kept: list[Phrase] = []
    for phrase in unique:
        if used + len(phrase.tokens) > MAX_QUERY_TOKENS:
            break
        kept.append(phrase)
        used += len(phrase.tokens)
    return SearchQuery(tuple(kept))


def to_postgres_tsvector(toks: list[str]) -> str:
    """tsvector input text with explicit positions: no parser, no dictionary, no locale."""
    return " ".join(f"'{t}':{min(i + 1, POSTGRES_MAX_POSITION)}" for i, t in enumerate(toks))


def to_sqlite_document(toks: list[str]) -> str:
    return f" {' '.join(toks)} " if toks else " "


class SearchDocumentField(models.Field):  # type: ignore[type-arg]
    """A ticket's search tokens: `tsvector` on PostgreSQL, a token string elsewhere. The Python value
    written is the list of tokens (see `document_tokens`); it is never read back."""

    description = "Search document (tsvector on PostgreSQL, token string elsewhere)"

    def db_type(self, connection: Any) -> str:
        return "tsvector" if connection.vendor == "postgresql" else "text"

    def get_prep_value(self, value: Any) -> Any:
        return value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None or isinstance(value, str):
            return value
        toks = list(value)
        return to_postgres_tsvector(toks) if connection.vendor == "postgresql" else to_sqlite_document(toks)


@SearchDocumentField.register_lookup
class Matches(Lookup):  # type: ignore[type-arg]
    """`document__matches=parse_query(...)`."""

    lookup_name = "matches"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        query: SearchQuery = self.rhs
        if not query:
            return "1 = 0", ()
        if connection.vendor == "postgresql":
            return f"{lhs} @@ %s::tsquery", (*lhs_params, query.tsquery())
        if SQLITE_FTS:
            ticket_id = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{connection.ops.quote_name('ticket_id')}"
            return f"{ticket_id} IN ({_FTS_ROWIDS})", (query.fts5_match(),)
        return _like_sql(lhs, lhs_params, query)


def _like_sql(lhs: str, lhs_params: Sequence[Any], query: SearchQuery) -> tuple[str, tuple[str | int, ...]]:
    clauses: list[str] = []
    params: list[str | int] = []
    for pattern in query.like_patterns():
        clauses.append(f"{lhs} LIKE %s")
        params += [*lhs_params, pattern]
    return "(" + " AND ".join(clauses) + ")", tuple(params)


@SearchDocumentField.register_lookup
class ScanMatches(Lookup):  # type: ignore[type-arg]
    """SQLite: `document__scan_matches=parse_query(...)`, the document string itself checked with
    LIKE patterns (the same matches as the FTS5 index: the tests compare them). For a word in a large
    share of the tickets, probed on each ticket the inbox walks (see sqlite_match_share): the page
    is full after a few dozen tickets, where the FTS5 route would first read every match. PostgreSQL:
    the same as `matches`."""

    lookup_name = "scan_matches"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[str | int, ...]]:
        query: SearchQuery = self.rhs
        if not query:
            return "1 = 0", ()
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} @@ %s::tsquery", (*lhs_params, query.tsquery())
        return _like_sql(lhs, lhs_params, query)


_FTS_ROWIDS = f"SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH %s"  # noqa: S608


def sqlite_newest_matches(query: SearchQuery, *, limit: int) -> list[int]:
    """SQLite: the ids of the newest `limit` tickets whose document matches, newest first (FTS5 reads
    its doclists in descending rowid order: the cost is that of `limit` matches, not of the word's)."""
    if not query:
        return []
    with connection.cursor() as cursor:
        cursor.execute(f"{_FTS_ROWIDS} ORDER BY rowid DESC LIMIT %s", [query.fts5_match(), limit])
        return [row[0] for row in cursor.fetchall()]


def sqlite_match_share(newest: list[int]) -> float:
    """The share of the newest tickets that match, estimated from the newest matches
    (`sqlite_newest_matches`): their count over the tickets from the oldest of them to the newest
    ticket. Ticket ids grow with creation, so this is the density of matches near the top of the inbox."""
    if not newest:
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM inbox_ticket")  # (inbox.models imports this module)
        (last,) = cursor.fetchone()
    return len(newest) / max(int(last or 0) - min(newest) + 1, len(newest))


class SqliteSearchProbe(Expression):
    """SQLite: `+ticket.id IN (SELECT rowid FROM fts WHERE fts MATCH ...)`, a condition checked on
    each ticket SQLite walks in the inbox's order: the matches are read from the FTS index once
    (into an ephemeral table), and the unary `+` keeps SQLite from driving the query from them
    instead (which, with ANALYZE statistics, it would do for a word in every ticket: a sort of all
    its matches). For many matches, where the first page is found after a short walk."""

    output_field = BooleanField()

    def __init__(self, query: SearchQuery) -> None:
        super().__init__()
        self.query = query
        self.pk: Any = F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.pk]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.pk,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column, params = compiler.compile(self.pk)
        return f"+{column} IN ({_FTS_ROWIDS})", (*params, self.query.fts5_match())
