from __future__ import annotations

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.warranty.serials import imei_problem, looks_like_imei, normalise_imei, normalise_serial

VALID_IMEI = "490154203237518"


@pytest.mark.parametrize("value", [VALID_IMEI, "49-015420-323751-8", "49 015420 323751 8", "35-209900-176148-1"])
def test_valid_imeis_are_compacted(value):
    assert normalise_imei(value) == value.replace("-", "").replace(" ", "")


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("490154203237519", "Luhn"),  # wrong check digit
        ("49015420323751", "15 digits"),  # no check digit
        ("4901542032375180", "15 digits"),  # IMEISV
        ("49015420323751A", "digits only"),
        ("", "digits only"),
    ],
)
def test_invalid_imeis_name_the_field_and_the_problem(value, words):
    with pytest.raises(ValidationFailed) as caught:
        normalise_imei(value, field="units[2].imei")
    assert caught.value.field == "units[2].imei"
    assert words in caught.value.message
    assert imei_problem(value)


@pytest.mark.parametrize(
    ("value", "stored"),
    [("c02-xk1 2ab", "C02XK12AB"), ("SN_0042", "SN0042"), ("R58N/12.3", "R58N/12.3")],
)
def test_serials_are_normalised(value, stored):
    assert normalise_serial(value) == stored


@pytest.mark.parametrize("value", ["   ", "ab#12", "x" * 65, "серия1"])
def test_bad_serials(value):
    with pytest.raises(ValidationFailed) as caught:
        normalise_serial(value)
    assert caught.value.field == "serial_number"


def test_looks_like_imei():
    assert looks_like_imei("49-015420-323751-8")
    assert not looks_like_imei("C02XK12AB")
    assert not looks_like_imei("1234")
