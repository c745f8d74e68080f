"""TikTok Shop's markets (Store.site) with their currency, language and country. No imports: the
store form and the demo read these without loading the connector.

One API host serves every market (open-api.tiktokglobalshop.com) and one authorisation host
(auth.tiktok-shops.com); the market of a shop is its `region` in Get Authorized Shops. Currency is
also sent on every order and return (payment.currency, refund_amount.currency): the market's is
only the fallback. docs/connectors/tiktok.md says where this comes from."""

from __future__ import annotations

from dataclasses import dataclass

API_HOST = "https://open-api.tiktokglobalshop.com"
AUTH_HOST = "https://auth.tiktok-shops.com"


@dataclass(frozen=True)
class TikTokRegion:
    code: str  # TikTok's region code (upper case, as sent: "US", "GB")
    currency: str  # ISO 4217
    language: str  # BCP 47: the language buyers write in, by default
    country: str  # ISO 3166-1 alpha-2


REGIONS: dict[str, TikTokRegion] = {
    r.code: r
    for r in (
        TikTokRegion("US", "USD", "en", "US"),
        TikTokRegion("GB", "GBP", "en", "GB"),
        TikTokRegion("IE", "EUR", "en", "IE"),
        TikTokRegion("DE", "EUR", "de", "DE"),
        TikTokRegion("FR", "EUR", "fr", "FR"),
        TikTokRegion("IT", "EUR", "it", "IT"),
        TikTokRegion("ES", "EUR", "es", "ES"),
        TikTokRegion("MX", "MXN", "es", "MX"),
        TikTokRegion("BR", "BRL", "pt-BR", "BR"),
        TikTokRegion("JP", "JPY", "ja", "JP"),
        TikTokRegion("ID", "IDR", "id", "ID"),
        TikTokRegion("MY", "MYR", "ms", "MY"),
        TikTokRegion("TH", "THB", "th", "TH"),
        TikTokRegion("VN", "VND", "vi", "VN"),
        TikTokRegion("PH", "PHP", "en", "PH"),
        TikTokRegion("SG", "SGD", "en", "SG"),
    )
}


def region_code(site: str) -> str:
    """ "shop.tiktok.com/us", "tiktok.gb", "US", "uk" -> "US" / "GB"; "" when unknown."""
    text = (site or "").strip().lower().rstrip("/")
    tail = text.rsplit("/", 1)[-1].rsplit(".", 1)[-1].upper()
    tail = "GB" if tail == "UK" else tail
    return tail if tail in REGIONS else ""


def region_for(site: str) -> TikTokRegion | None:
    return REGIONS.get(region_code(site))
