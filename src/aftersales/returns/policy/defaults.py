"""The policy a new organization starts with (documented in docs/returns-policy.md): 30 days by
default, 15 days for changed-mind returns of high-value phones and computers, VIP +15 days, the
EU's 14-day withdrawal floor (no restocking fee inside it), evidence for defects by value tier and
category, returnless refunds below 15.00, a 20 % partial-refund offer for "not as described" on
low-value items."""

from __future__ import annotations

from typing import Any

DEFAULT_POLICY: dict[str, Any] = {
    "schema_version": 1,
    "reporting_currency": "USD",
    "timezone": "UTC",
    "site_timezones": {
        "amazon.com": "America/Los_Angeles",
        "amazon.de": "Europe/Berlin",
        "amazon.es": "Europe/Madrid",
        "amazon.fr": "Europe/Paris",
        "amazon.it": "Europe/Rome",
        "amazon.co.uk": "Europe/London",
        "ebay.de": "Europe/Berlin",
        "ebay.com": "America/Los_Angeles",
        "shopee.br": "America/Sao_Paulo",
        "shopee.sg": "Asia/Singapore",
        "aliexpress.com": "Asia/Shanghai",
    },
    "value_tiers": {"high_from": "500.00", "mid_from": "100.00"},
    "reasons": [
        {"code": "changed_mind", "resolution": "return_and_refund", "return_shipping_paid_by": "buyer"},
        {"code": "defective", "resolution": "return_and_refund", "return_shipping_paid_by": "seller"},
        {"code": "damaged_in_transit", "resolution": "return_and_refund", "return_shipping_paid_by": "seller"},
        {"code": "not_as_described", "resolution": "return_and_refund", "return_shipping_paid_by": "seller"},
        {"code": "wrong_item", "resolution": "exchange", "return_shipping_paid_by": "seller"},
        {"code": "wrong_size", "resolution": "exchange", "return_shipping_paid_by": "buyer"},
        {"code": "stopped_working", "resolution": "repair", "return_shipping_paid_by": "seller"},
        {"code": "no_longer_needed_after_use", "accepted": False},
    ],
    "windows": [
        {"code": "W-DEFAULT", "days": 30},
        {"code": "W-SHOPEE", "days": 15, "scope": {"platform": "shopee"}},
        {"code": "W-SHOPEE-BR", "days": 30, "scope": {"site": "shopee.br"}},
        {
            "code": "W-HIGH-3C-CHANGED-MIND",
            "days": 15,
            "scope": {"category": "phones", "reasons": ["changed_mind"], "value_tiers": ["high"]},
        },
        {
            "code": "W-HIGH-COMPUTERS-CHANGED-MIND",
            "days": 15,
            "scope": {"category": "computers", "reasons": ["changed_mind"], "value_tiers": ["high"]},
        },
    ],
    "customer_tier_bonuses": [{"code": "X-VIP", "customer_tier": "vip", "days": 15}],
    "seasonal": [
        {
            "code": "X-HOLIDAY-2026",
            "delivered_from": "2026-11-01",
            "delivered_to": "2026-12-31",
            "returnable_until": "2027-01-31",
        }
    ],
    "statutory_floors": [{"code": "S-EU-WITHDRAWAL", "countries": ["EU"], "days": 14, "forbids_restocking_fee": True}],
    "restocking_fees": [
        {"code": "F-HIGH-CHANGED-MIND", "percent": "15", "reasons": ["changed_mind"], "value_tiers": ["high"]},
        {"code": "F-CHANGED-MIND", "percent": "10", "reasons": ["changed_mind"], "categories": ["phones", "computers"]},
    ],
    "evidence": [
        {
            "code": "E-DEFECT-PHOTOS",
            "require": ["photos"],
            "reasons": ["defective", "damaged_in_transit", "not_as_described"],
        },
        {
            "code": "E-DEFECT-PHONE-IMEI",
            "require": ["imei", "video"],
            "reasons": ["defective", "stopped_working"],
            "categories": ["phones"],
            "value_tiers": ["high", "mid"],
        },
        {
            "code": "E-DEFECT-COMPUTER-SERIAL",
            "require": ["serial_number"],
            "reasons": ["defective", "stopped_working"],
            "categories": ["computers"],
            "value_tiers": ["high", "mid"],
        },
    ],
    "returnless_refunds": [{"code": "R-RETURNLESS-LOW", "below": "15.00", "value_tiers": ["low"]}],
    "partial_refund_offers": [
        {"code": "P-KEEP-IT-20", "percent": "20", "reasons": ["not_as_described"], "value_tiers": ["low", "mid"]}
    ],
}
