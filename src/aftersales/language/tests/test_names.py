"""Product names and model codes are protected without a glossary entry (issue 8, section 4): the
catalog's titles and brands, and a model-code pattern. Checked with the offline Apertium engine."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aftersales.language.models import GlossaryTerm
from aftersales.language.names import catalog_names, names_in, names_of_titles
from aftersales.language.routing import translate_text
from aftersales.testing.factories import ProductFactory

TITLES = [
    "Samsung Galaxy A54 5G 128GB smartphone, black",
    "Lenovo ThinkPad X1 Carbon Gen 11 laptop 14 inch",
    "Apple AirPods Pro 2 wireless earbuds with USB-C case",
]


@pytest.fixture
def catalog(world):  # type: ignore[no-untyped-def]
    for title in TITLES:
        ProductFactory(organization=world.org, title=title)
    return world


def test_names_of_titles_cut_runs_into_names() -> None:
    names = names_of_titles(TITLES)
    assert ("galaxy", "a54") in names.phrases and ("thinkpad", "x1", "carbon") in names.phrases
    assert ("airpods", "pro", "2") in names.phrases and ("airpods",) in names.phrases
    assert ("black",) not in names.phrases and ("carbon",) not in names.phrases  # plain words alone: no
    assert ("usb-c",) not in names.phrases  # a code alone is no product name
    assert names.brands == {"Samsung", "Lenovo", "Apple"}


def test_plain_title_words_and_units_are_no_names() -> None:
    names = names_of_titles(
        [
            "Wireless Earbuds Bluetooth 5.3 White",
            "Wireless Charger 15W Fast Charging Pad",
            "SZG 20000mAh Power Bank PD 65W",
            "SZG 7-in-1 USB-C Hub HDMI 4K",
            "Cotton T-Shirt 3-Pack Black",
        ]
    )
    assert names.phrases == frozenset() and names.brands == {"SZG"}  # "Wireless" opens titles, names no brand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my galaxy a54 screen is broken", ["galaxy a54"]),
        ("The ThinkPad X1 Carbon does not boot", ["ThinkPad X1 Carbon"]),
        ("AirPods Pro 2 left ear silent, Apple said to wait, I ate an apple", ["AirPods Pro 2", "Apple"]),
        ("Order A12 is late", []),  # a form word before a code is no product
        ("Black case please", []),
    ],
)
def test_names_in_uses_the_catalog(catalog, text: str, expected: list[str]) -> None:
    assert names_in(catalog.org.pk, text) == expected


def test_model_code_pattern_without_catalog(world) -> None:
    text = "I bought an iPhone 15 Pro Max, a Pixel 8a, a Galaxy S23 Ultra and a Redmi Note 12 Pro"
    assert set(names_in(world.org.pk, text)) == {
        "iPhone 15 Pro Max",
        "Pixel 8a",
        "Galaxy S23 Ultra",
        "Redmi Note 12 Pro",
    }


def test_catalog_names_are_cached_per_organization_and_follow_changes(catalog) -> None:
    org_id = catalog.org.pk
    catalog_names(org_id)
    with CaptureQueriesContext(connection) as queries:
        catalog_names(org_id)
    assert len(queries) == 1  # the freshness stamp only; the titles come from the cache
    ProductFactory(organization=catalog.org, title="Sony WH-1000XM5 headphones")
    assert ("wh-1000xm5", "headphones") not in catalog_names(org_id).phrases
    assert "Sony" in catalog_names(org_id).brands  # a new product is seen at once
    assert names_in(catalog.foreign_org.pk, "my galaxy a54") == []  # another organization's catalog: no


@pytest.mark.parametrize(
    ("text", "names", "mangled"),
    [
        ("My Galaxy A54 arrived with a broken screen.", ["Galaxy A54"], "Galaxia"),
        ("The ThinkPad X1 Carbon does not turn on.", ["ThinkPad X1 Carbon"], "carbono"),
        ("One AirPods Pro 2 earbud has no sound.", ["AirPods Pro 2"], None),
    ],
)
def test_apertium_keeps_product_names(catalog, text: str, names: list[str], mangled: str | None) -> None:
    for target in ("es", "pt", "fr"):
        result = translate_text(organization_id=catalog.org.pk, text=text, source="en", target=target)
        for name in names:
            assert name in result.text, (target, result.text)
        if mangled:
            assert mangled not in result.text
        assert result.glossary_applied == ()  # names are not glossary terms
        assert not result.flags


def test_without_protection_apertium_mangles_them() -> None:
    from aftersales.language.providers.apertium import ApertiumProvider

    out = ApertiumProvider().translate_batch(["My Galaxy A54 broke.", "The ThinkPad X1 Carbon is dead."], "en", "es")
    assert "Galaxia" in out[0] and "Carbon" not in out[1]


def test_a_glossary_entry_wins_over_a_name(catalog) -> None:
    GlossaryTerm.objects.create(
        organization=catalog.org,
        source_language="en",
        target_language="es",
        term="Galaxy A54",
        translation="Galaxy A54 (5G)",
    )
    result = translate_text(organization_id=catalog.org.pk, text="My Galaxy A54 broke.", source="en", target="es")
    assert "Galaxy A54 (5G)" in result.text and result.glossary_applied == ("Galaxy A54",)
