"""core.validation: the one place that says which ids, dates, instants and texts are acceptable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from aftersales.core.errors import ValidationFailed
from aftersales.core.validation import (
    MAX_ID,
    check_day,
    check_instant,
    check_text,
    parse_id,
    parse_ids,
)


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),  # year 10000 in UTC
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),  # year 0 in UTC
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2101, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1),  # naive: an instant needs its offset
    ],
)
def test_instants_out_of_range_or_naive_are_refused_naming_the_field(value):
    with pytest.raises(ValidationFailed) as caught:
        check_instant(value, field="sent_at")
    assert caught.value.field == "sent_at" and caught.value.message.startswith("sent_at: ")


def test_instants_and_days_in_range_pass():
    tz = timezone(timedelta(hours=14))
    assert check_instant(datetime(2000, 1, 1, 13, tzinfo=tz) + timedelta(hours=1), field="x")
    assert check_instant(datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC), field="x")
    assert check_day(date(2000, 1, 1), field="d") == date(2000, 1, 1)
    with pytest.raises(ValidationFailed):
        check_day(date(1, 1, 1), field="d")
    with pytest.raises(ValidationFailed):
        check_day(date(9999, 12, 31), field="d")


@pytest.mark.parametrize("raw", ["0", "-1", "1.5", "x", "", "²", "٣", "99999999999999999999999", str(MAX_ID + 1), True])
def test_ids_must_be_positive_whole_numbers_of_64_bits(raw):
    with pytest.raises(ValidationFailed) as caught:
        parse_id(raw, field="ids")
    assert caught.value.field == "ids"


def test_ids_from_forms_and_json():
    assert parse_ids(["1", 2, f"{MAX_ID}"], field="ids") == [1, 2, MAX_ID]
    with pytest.raises(ValidationFailed):
        parse_ids(range(1, 1002), field="ids")


@pytest.mark.parametrize(
    ("text", "one_line", "ok"),
    [
        ("line one\nline two\ttabbed\r\n", False, True),
        ("nul \x00 inside", False, False),
        ("bell \x07", False, False),
        ("escape \x1b[31m", False, False),
        ("lone surrogate \ud800", False, False),
        ("two\nlines", True, False),
        ("中文 ok", True, True),
    ],
)
def test_text(text, one_line, ok):
    if ok:
        assert check_text(text, field="body", one_line=one_line) == text
    else:
        with pytest.raises(ValidationFailed) as caught:
            check_text(text, field="body", one_line=one_line)
        assert caught.value.field == "body"


def test_text_length_and_required():
    with pytest.raises(ValidationFailed, match="longer than 3"):
        check_text("abcd", field="body", max_length=3)
    with pytest.raises(ValidationFailed, match="must not be empty"):
        check_text("  ", field="body", required=True)
