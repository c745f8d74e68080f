"""Decoding e-mail as real clients send it: RFC 2047 headers, charsets by their real names, and
mislabelled text best effort. Pure functions, no Django.

- Declared charsets are widened to the superset clients actually write: gb2312/gbk -> gb18030,
  shift_jis -> cp932 (Windows' Shift_JIS, with the NEC/IBM extensions), iso-2022-jp ->
  iso2022_jp_2 (JIS X 0212 and more), euc-kr / ks_c_5601-1987 -> cp949, big5 -> big5hkscs,
  iso-8859-1 / us-ascii -> windows-1252 (what "Latin-1" mail almost always is).
- A body that does not decode under its declared charset (or declares none) is tried as UTF-8,
  then guessed with charset_normalizer, then decoded with replacement characters: a customer's
  message is never lost for a wrong label.
- HTML-only mail gets a text body from its HTML (blocks and line breaks kept, scripts and styles
  dropped); `html_to_text(..., drop_quotes=True)` also drops blockquotes and the quote containers of
  Gmail, Outlook, Apple Mail, QQ Mail, 163 Mail and Yahoo (for the display text)."""

from __future__ import annotations

import codecs
import re
from email.header import Header, decode_header
from html import unescape
from html.parser import HTMLParser

_WIDER = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "csiso2022jp": "iso2022_jp_2",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "us-ascii": "windows-1252",
    "ascii": "windows-1252",
    "iso-8859-8-i": "iso-8859-8",
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
}


def codec_for(charset: str | None) -> str | None:
    """The Python codec to decode a declared charset with, or None if unknown."""
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    name = _WIDER.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of `data` declared as `charset` (may be wrong or missing), best effort, never raises."""
    codec = codec_for(charset)
    if codec is not None and codec != "utf-8":
        try:
            text = data.decode(codec)
            if codec != "cp1252" or not _looks_utf8(data):  # "Latin-1" labels on UTF-8 text are common
                return text
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:  # optional: best-effort detection of unlabelled or mislabelled text (imported here: issue 13)
        from charset_normalizer import from_bytes as _detect
    except ImportError:  # pragma: no cover - the fallbacks below still decode
        _detect = None  # type: ignore[assignment]
    if _detect is not None:
        best = _detect(data).best()
        if best is not None:
            return str(best)
    for fallback in ("gb18030", "cp932", "windows-1252"):  # gb18030 and cp1252 decode nearly anything
        try:
            return data.decode(fallback)
        except UnicodeDecodeError:
            continue
    return data.decode(codec or "utf-8", errors="replace")


def _looks_utf8(data: bytes) -> bool:
    if not any(b >= 0x80 for b in data):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_header_value(value: object) -> str:
    """An RFC 2047 header (encoded words in any charset, raw 8-bit values too) as text, unfolded."""
    if value is None:
        return ""
    if isinstance(value, Header):  # compat32 hands raw 8-bit header bytes over as an unknown-8bit Header
        raw = "".join(
            decode_bytes(chunk, None) if isinstance(chunk, bytes) else chunk for chunk, _cs in decode_header(value)
        )
    else:
        raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):  # surrogate-escaped 8-bit bytes
        raw = decode_bytes(raw.encode("utf-8", "surrogateescape"), None)
    try:
        parts = decode_header(raw)
    except Exception:  # a malformed encoded word: keep what was written
        return " ".join(raw.split())
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    text = "".join(out)
    return " ".join(text.replace("\r", " ").replace("\n", " ").split())


# --- HTML to text ---------------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}
_SKIP = {"script", "style", "head", "title"}
# Quote containers of the common clients (by class or id), dropped from the display text.
_QUOTE_MARKERS = re.compile(
    r"gmail_quote|gmail_extra|yahoo_quoted|ydp[0-9a-f]+yahoo_quoted|divRplyFwdMsg|appendonsend|"
    r"OutlookMessageHeader|mail-editor-reference-message-container|AppleOriginalContents|"
    r"moz-cite-prefix|protonmail_quote|ntes-mailmasterquote|qmbox|QQMailQuote|isForwardContent|"
    r"zmail_extra|WordSection1Quote",
    re.IGNORECASE,
)


class _TextExtractor(HTMLParser):
    def __init__(self, *, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.parts: list[str] = []
        self._skip_depth = 0
        self._quote_stack: list[str] = []  # tags opened inside a dropped quote

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._quote_stack:
            if tag not in {"br", "hr", "img", "meta", "link", "input", "wbr"}:
                self._quote_stack.append(tag)
            return
        if tag in _SKIP:
            self._skip_depth += 1
            return
        if self.drop_quotes:
            marker = " ".join(v or "" for k, v in attrs if k in {"class", "id", "name"})
            if tag == "blockquote" or (marker and _QUOTE_MARKERS.search(marker)):
                self._quote_stack.append(tag)
                return
        if tag in _BLOCK:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if self._quote_stack:
            if tag in self._quote_stack:
                while self._quote_stack and self._quote_stack.pop() != tag:
                    pass
            return
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth or self._quote_stack:
            return
        self.parts.append(data)


def html_to_text(html: str, *, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body: paragraphs and line breaks kept, whitespace collapsed."""
    parser = _TextExtractor(drop_quotes=drop_quotes)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # HTMLParser is lenient; a pathological input falls back to tag stripping
        return unescape(re.sub(r"<[^>]+>", " ", html)).strip()
    text = "".join(parser.parts).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
