"""Shipping-address fingerprints (`Order.ship_address_key`).

The abnormal-refund review ("several accounts to one address", returns.review) needs to know when
orders of different customers went to the same address, not the address itself. So the catalog
stores no shipping address in clear: only a keyed hash of its normalised form.

- Normalised: the country (ISO alpha-2, upper case), the postal code and the street lines, each
  Unicode-NFKC'd, accents dropped, case-folded (so "Straße" = "STRASSE"), and everything that is not
  a letter or a digit removed (spaces, punctuation, line breaks: "Flat 3, 12 Main St." =
  "flat 3 12 main st"). The street lines are joined before folding, so an address split over two
  lines on one platform and one line on another gives the same key. The city is not part of it
  (the postal code already says it; cities are spelt in too many ways).
- Keyed: HMAC-SHA256 with a key derived from the installation's SECRET_KEY (Django's
  `salted_hmac` with the salt below). Without the secret a key cannot be tested against a guessed
  address, and keys of two installations never match. Changing SECRET_KEY changes every future key:
  orders stored before the change no longer match orders stored after it (the address is not kept,
  so old keys cannot be recomputed).
- No street line: no key (None), and the order's stored key is left as it is (a platform that hides
  the address on a later pull does not erase it). A country and postal code alone (what Amazon
  gives without a Restricted Data Token) are shared by thousands of buyers: they are no address."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.utils.crypto import salted_hmac

KEY_SALT = "aftersales.catalog.ship_address_key"
KEY_LENGTH = 64  # hex digits of HMAC-SHA256


def fold(text: str) -> str:
    """Case-, accent-, space- and punctuation-folded: letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if ch.isalnum())


def ship_address_key(*, country: str, postal_code: str, lines: Iterable[str]) -> str | None:
    """The keyed fingerprint of a shipping address, or None when there is no address to key."""
    postal = fold(postal_code)
    street = fold(" ".join(lines))
    if not street:
        return None
    normalised = "\x1f".join((fold(country).upper(), postal, street))
    return salted_hmac(KEY_SALT, normalised, algorithm="sha256").hexdigest()
