"""The HTML of customer e-mails: sanitised once when stored, and shown without remote content.

A remote image (a tracking pixel, a logo on the sender's server) tells the sender when and where an
agent opened the ticket. So:
- when a message is stored (`sanitise_html`), nh3 (ammonia) removes scripts, event handlers, styles,
  forms and dangerous URLs, and every `<img src>` pointing elsewhere is parked as `data-remote-src`
  (other image sources, relative ones included, are dropped): stored HTML never loads anything;
- on the ticket page (`html_without_images`) every image is replaced by a placeholder, so the page
  does not even contain the remote address;
- "Load images" on one message opens `html_with_remote_images` in a sandboxed frame with its own
  policy (no scripts, no referrer, http(s) images only; see web/views/message_content.py), only
  for a user who may see the ticket.

The rewriting works on nh3's output, whose attributes are always written as name="value" with
quotes escaped, so a tag can be matched exactly; the result of a rewrite is cleaned by nh3 again."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from functools import cache
from typing import Any

LINK_REL = "noopener noreferrer nofollow"

# Any start tag of nh3's output, consumed whole (attribute values included), so that an "<img" written
# inside another tag's attribute value is never taken for a tag.
_TAG = re.compile(r'<(?P<tag>[a-zA-Z][a-zA-Z0-9]*)(?P<attrs>(?:\s+[^\s="\'<>/]+(?:="[^"]*")?)*)\s*/?>')
_ATTR = re.compile(r'\s+(?P<name>[^\s="\'<>/]+)(?:="(?P<value>[^"]*)")?')
_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_PARKED = "data-remote-src"


def _clean(html: str, **options: Any) -> str:
    """nh3.clean, nh3 imported on first use: its Rust library (1.8 MiB resident) is loaded only by the
    processes that sanitise or render e-mail HTML, not by every web process at start-up."""
    import nh3

    return nh3.clean(html, link_rel=LINK_REL, **options)


@cache
def _with_placeholder() -> dict[str, set[str]]:
    import nh3

    return {**nh3.ALLOWED_ATTRIBUTES, "span": {*nh3.ALLOWED_ATTRIBUTES.get("span", set()), "class"}}


def sanitise_html(html: str) -> str:
    """Keep formatting; drop scripts, event handlers, styles and remote tricks; park remote images."""
    if not html:
        return ""
    cleaned = _clean(html)
    return _TAG.sub(_only_images(_park), cleaned)


def remote_image_count(html: str) -> int:
    """How many images of this (stored, sanitised) HTML would load from elsewhere."""
    if not html or "<img" not in html.lower():
        return 0
    return sum(1 for m in _TAG.finditer(html) if _is_img(m) and _remote_source(_attrs(m)) is not None)


def html_without_images(html: str, *, placeholder: str) -> str:
    """The stored HTML for the ticket page: every image becomes a text placeholder (its alt text
    when it has one), so nothing is fetched and no remote address is in the page."""
    if not html or "<img" not in html.lower():
        return html

    def replace(match: re.Match[str]) -> str:
        alt = html_lib.unescape(_attrs(match).get("alt", "")).strip()
        label = f"{placeholder}: {alt}" if alt else placeholder
        return f'<span class="img-blocked">[{html_lib.escape(label)}]</span>'

    return _clean(_TAG.sub(_only_images(replace), html), attributes=_with_placeholder())


def html_with_remote_images(html: str) -> str:
    """The stored HTML with its remote images restored as http(s) sources (protocol-relative ones
    as https), cleaned by nh3 again: for the sandboxed "load images" frame only."""
    if not html:
        return ""

    def restore(match: re.Match[str]) -> str:
        attrs = _attrs(match)
        source = _remote_source(attrs)
        kept = {k: v for k, v in attrs.items() if k not in {"src", _PARKED, "srcset"}}
        if source is not None:
            kept["src"] = html_lib.escape(source, quote=True)
        return "<img" + "".join(f' {k}="{v}"' for k, v in kept.items()) + ">"

    return _clean(_TAG.sub(_only_images(restore), html), url_schemes={"http", "https", "mailto", "tel"})


def _is_img(match: re.Match[str]) -> bool:
    return match.group("tag").lower() == "img"


def _only_images(rewrite: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    return lambda match: rewrite(match) if _is_img(match) else match.group(0)


def _attrs(match: re.Match[str]) -> dict[str, str]:
    """Attribute name -> value as written (still HTML-escaped)."""
    return {m.group("name").lower(): m.group("value") or "" for m in _ATTR.finditer(match.group("attrs"))}


def _remote_source(attrs: dict[str, str]) -> str | None:
    """The absolute http(s) address an image would load, unescaped, or None."""
    for key in (_PARKED, "src"):
        value = html_lib.unescape(attrs.get(key, "")).strip()
        if value and _REMOTE.match(value):
            return "https:" + value if value.startswith("//") else value
    return None


def _park(match: re.Match[str]) -> str:
    attrs = _attrs(match)
    source = _remote_source(attrs)
    kept = {k: v for k, v in attrs.items() if k not in {"src", "srcset", _PARKED}}
    if source is not None:
        kept[_PARKED] = html_lib.escape(source, quote=True)
    return "<img" + "".join(f' {k}="{v}"' for k, v in kept.items()) + ">"
