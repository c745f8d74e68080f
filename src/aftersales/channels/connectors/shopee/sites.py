"""Shopee's sites (Store.site) with their currency, language, country and API host. No imports: the
store form and the demo read these without loading the connector.

Hosts: Shopee Open Platform's live host for every region but Brazil's (partner.shopeemobile.com);
Brazil's shops are served from openplatform.shopee.com.br (docs/connectors/shopee.md says where
this comes from and that it is the one fact here not from Shopee's own pages)."""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL_HOST = "https://partner.shopeemobile.com"
BRAZIL_HOST = "https://openplatform.shopee.com.br"
TEST_HOST = "https://partner.test-stable.shopeemobile.com"


@dataclass(frozen=True)
class ShopeeSite:
    code: str  # Shopee's region code, lower case (the API sends it upper case: "SG")
    currency: str  # ISO 4217
    language: str  # BCP 47: the language buyers write in, by default
    country: str  # ISO 3166-1 alpha-2
    decimals: int  # minor units Shopee shows for the currency
    host: str = GLOBAL_HOST


SITES: dict[str, ShopeeSite] = {
    "sg": ShopeeSite("sg", "SGD", "en", "SG", 2),
    "my": ShopeeSite("my", "MYR", "ms", "MY", 2),
    "th": ShopeeSite("th", "THB", "th", "TH", 2),
    "ph": ShopeeSite("ph", "PHP", "en", "PH", 2),
    "vn": ShopeeSite("vn", "VND", "vi", "VN", 0),
    "id": ShopeeSite("id", "IDR", "id", "ID", 0),
    "tw": ShopeeSite("tw", "TWD", "zh-Hant", "TW", 0),
    "br": ShopeeSite("br", "BRL", "pt-BR", "BR", 2, BRAZIL_HOST),
    "mx": ShopeeSite("mx", "MXN", "es", "MX", 2),
}


def site_code(site: str) -> str:
    """ "shopee.sg", "shopee.com.br", "SG", "shopee.co.th" -> "sg" / "br" / "th"; "" when unknown."""
    text = (site or "").strip().lower().removeprefix("www.")
    if text in SITES:
        return text
    tail = text.rsplit(".", 1)[-1]
    return tail if text.startswith("shopee") and tail in SITES else ""


def site_for(site: str) -> ShopeeSite | None:
    return SITES.get(site_code(site))


def host_for(site: str) -> str:
    found = site_for(site)
    return found.host if found else GLOBAL_HOST
