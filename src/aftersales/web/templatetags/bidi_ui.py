"""Numbers that must keep their order inside right-to-left text (issue 10 §8, Arabic buyers): an order
number such as 113-1234567-1234567, an RMA number (RMA-1042), a Shopify order (#1001). In an Arabic
paragraph the Unicode bidi algorithm turns the digits after Arabic letters into Arabic numbers and lays
the hyphen-separated groups out right to left (1234567-1234567-113); a <bdi> around each keeps it whole."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

# A run of digits with at least one separator-joined group, optionally behind a short letter prefix
# (RMA-1042, 113-1234567-1234567, 12-34567-89012, 2026-12-01), or a # order number: only these are
# reordered (a plain run of digits stays whole in any direction).
NUMBER_RE = re.compile(r"(?<![\w#-])(?:#\d+|(?:[A-Za-z]{1,6}-)?\d+(?:[-/.]\w+)+|[A-Za-z]{1,6}-\d+)(?![\w-])")


def isolate_numbers(text: str) -> SafeString:
    """`text` HTML-escaped, with each order-like number wrapped in <bdi>."""
    out: list[str] = []
    last = 0
    for match in NUMBER_RE.finditer(text):
        out.append(escape(text[last : match.start()]))
        out.append(f"<bdi>{escape(match.group(0))}</bdi>")
        last = match.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308  (every part escaped above)


@register.filter(name="bdi_numbers")
def bdi_numbers(value: object) -> SafeString:
    return isolate_numbers("" if value is None else str(value))
