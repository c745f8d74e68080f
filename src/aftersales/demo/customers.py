"""Buyers: names that fit their country, e-mail addresses, tiers, lifetime values and one identity
per store they buy from (Amazon buyer id, eBay user name, Shopee user, e-mail address...)."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from . import data
from .sampling import Weighted
from .writer import BulkTable, IdAllocator

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
    "GB": ("gmail.com", "btinternet.com", "hotmail.co.uk"),
    "CA": ("gmail.com", "outlook.com", "videotron.ca"),
    "DE": ("gmx.de", "web.de", "t-online.de", "gmail.com"),
    "FR": ("orange.fr", "free.fr", "gmail.com"),
    "ES": ("gmail.com", "hotmail.es", "yahoo.es"),
    "IT": ("libero.it", "gmail.com", "virgilio.it"),
    "NL": ("ziggo.nl", "gmail.com", "hotmail.nl"),
    "PL": ("wp.pl", "onet.pl", "gmail.com"),
    "BR": ("gmail.com", "hotmail.com", "uol.com.br"),
    "PT": ("sapo.pt", "gmail.com"),
    "MX": ("gmail.com", "hotmail.com", "outlook.com"),
    "JP": ("gmail.com", "yahoo.co.jp", "docomo.ne.jp"),
    "KR": ("naver.com", "daum.net", "gmail.com"),
    "SA": ("gmail.com", "hotmail.com"),
    "AE": ("gmail.com", "hotmail.com", "outlook.com"),
    "SG": ("gmail.com", "singnet.com.sg", "yahoo.com.sg"),
}
TIERS = Weighted((("vip", 6), ("regular", 44), ("new", 35), ("at_risk", 15)))
LIFETIME_USD = {"vip": (800, 5000), "regular": (80, 700), "new": (10, 150), "at_risk": (40, 900)}
ORDER_COUNTS = {"vip": (8, 40), "regular": (2, 9), "new": (1, 1), "at_risk": (1, 6)}
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "æ": "ae"})
_ID_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True, slots=True)
class Buyer:
    """What ticket generation needs to know about a customer."""

    id: int
    country: data.CountrySpec
    language: str
    tier: str
    first_name: str
    last_name: str
    name: str
    stores: tuple[str, ...]
    email: str = ""


def ascii_fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(ch for ch in text if ch.isascii() and (ch.isalnum() or ch in ".-_")).lower()


def _names(rng: random.Random, country: data.CountrySpec, language: str) -> tuple[str, str, str, str, str]:
    """(first name, last name, display name, latin given, latin family)."""
    g = rng.randrange(len(country.given))
    f = rng.randrange(len(country.family))
    given, family = country.given[g], country.family[f]
    if country.latin:
        latin_given, latin_family = country.latin[0][g], country.latin[1][f]
    else:
        latin_given, latin_family = ascii_fold(given), ascii_fold(family).replace(" ", "")
    if country.latin and language == "en":
        # English-writing buyers of these countries use their romanised name.
        given, family = latin_given.capitalize(), latin_family.capitalize()
        return given, family, f"{given} {family}", latin_given, latin_family
    if country.name_order == "family_given":
        return given, family, f"{family} {given}", latin_given, latin_family
    if country.name_order == "family_given_nospace":
        return given, family, f"{family}{given}", latin_given, latin_family
    return given, family, f"{given} {family}", latin_given, latin_family


def _random_id(rng: random.Random, length: int) -> str:
    return "".join(_ID_ALPHABET[rng.randrange(len(_ID_ALPHABET))] for _ in range(length))


def _base34(value: int, width: int) -> str:
    digits = []
    while value:
        value, rest = divmod(value, len(_ID_ALPHABET))
        digits.append(_ID_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def identity_external_id(rng: random.Random, platform: str, index: int, latin: str, email: str) -> str:
    """The buyer's id on a platform, in that platform's style (unique per index)."""
    if platform == "amazon":
        return "A" + _random_id(rng, 4) + _base34(index, 9)
    if platform == "ebay":
        return f"{latin[:12]}_{index}"
    if platform == "shopee":
        return f"{latin[:10]}.{index}"
    if platform == "aliexpress":
        return f"{rng.randrange(1, 9)}{index:09d}"
    if platform == "tiktok":
        return f"7{rng.randrange(10**8, 10**9)}{index:09d}"
    return email  # shopify customer e-mail, e-mail sender


class CustomerMaker:
    def __init__(
        self,
        *,
        rng: random.Random,
        org_id: int,
        store_platforms: dict[str, str],
        store_ids: dict[str, int],
        now: datetime,
    ) -> None:
        self.rng = rng
        self.org_id = org_id
        self.store_platforms = store_platforms
        self.store_ids = store_ids
        self.now = now
        self.countries = Weighted(tuple((c, c.weight) for c in data.COUNTRIES))
        self.languages = {c.code: Weighted(c.languages) for c in data.COUNTRIES}
        self.store_choice = {c.code: Weighted(c.stores) for c in data.COUNTRIES}

    def make(self, index: int, ids: IdAllocator, customers: BulkTable, identities: BulkTable) -> Buyer:
        from aftersales.catalog.models import Customer, CustomerIdentity, normalise_email

        rng = self.rng
        country = self.countries.pick(rng)
        language = self.languages[country.code].pick(rng)
        first, last, name, latin_given, latin_family = _names(rng, country, language)
        domain = EMAIL_DOMAINS[country.code][rng.randrange(len(EMAIL_DOMAINS[country.code]))]
        email = f"{latin_given}.{latin_family}{index}@{domain}"
        tier = TIERS.pick(rng)
        low, high = LIFETIME_USD[tier]
        lifetime = Decimal(rng.randrange(low * 100, high * 100)) / 100
        orders_low, orders_high = ORDER_COUNTS[tier]
        order_count = rng.randint(orders_low, orders_high)
        return_count = min(order_count, rng.randrange(0, 3 if tier != "at_risk" else 5))
        stores = [self.store_choice[country.code].pick(rng)]
        if rng.random() < 0.2:
            other = self.store_choice[country.code].pick(rng)
            if other != stores[0]:
                stores.append(other)
        since = self.now - timedelta(days=90 + rng.random() * 700)
        customer_id = ids.take(Customer)
        customers.add(
            (
                customer_id, since, since, self.org_id, name, email, normalise_email(email), country.code, language,
                tier, lifetime, "USD", order_count, return_count,
            )
        )  # fmt: skip
        for key in stores:
            external = identity_external_id(rng, self.store_platforms[key], index, latin_given + latin_family, email)
            identities.add((ids.take(CustomerIdentity), since, since, customer_id, self.store_ids[key], external))
        return Buyer(customer_id, country, language, tier, first, last, name, tuple(stores), email)
