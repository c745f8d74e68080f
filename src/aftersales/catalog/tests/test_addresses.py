"""Shipping-address fingerprints (catalog.addresses)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from aftersales.catalog.addresses import fold, ship_address_key


def key(country: str = "DE", postal: str = "10115", *lines: str) -> str | None:
    return ship_address_key(country=country, postal_code=postal, lines=lines or ("Invalidenstraße 12",))


def test_fold_keeps_letters_and_digits_only() -> None:
    assert fold("  Flat 3, 12 Main St.\n") == "flat312mainst"
    assert fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("Café") == "cafe"
    assert fold("ＡＢＣ１") == "abc1"  # full-width forms


@pytest.mark.parametrize(
    "other",
    [
        ("de", "10115", "INVALIDENSTRASSE 12"),
        ("DE", "101 15", "Invalidenstrasse  12."),
        ("DE", "10115", "Invaliden-", "straße 12"),  # split over two lines
    ],
)
def test_same_address_written_differently_gives_the_same_key(other: tuple[str, ...]) -> None:
    assert key(*other) == key()


@pytest.mark.parametrize(
    "other",
    [
        ("AT", "10115", "Invalidenstraße 12"),
        ("DE", "10117", "Invalidenstraße 12"),
        ("DE", "10115", "Invalidenstraße 13"),
    ],
)
def test_a_different_country_postal_code_or_street_gives_another_key(other: tuple[str, ...]) -> None:
    assert key(*other) != key()


def test_the_key_is_an_hmac_not_the_address() -> None:
    value = key()
    assert value is not None and len(value) == 64
    assert "10115" not in value and "invaliden" not in value


def test_the_key_depends_on_the_installation_secret() -> None:
    before = key()
    with override_settings(SECRET_KEY="another-installation-secret-0123456789abcdef"):
        assert key() != before


def test_no_street_is_no_key() -> None:
    assert ship_address_key(country="DE", postal_code=" ", lines=("", " - ")) is None
    # a postal code alone (Amazon without a Restricted Data Token) is shared by thousands of buyers
    assert ship_address_key(country="US", postal_code="94103", lines=()) is None
    assert ship_address_key(country="HK", postal_code="", lines=("1 Queen's Road",)) is not None
