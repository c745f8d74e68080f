"""CSV files the product writes are opened in spreadsheets: a cell that starts with = + - @ (or a tab
or carriage return) would run as a formula (`=HYPERLINK(...)`, `@SUM(1)`: CSV injection). Every CSV
export writes its cells through `csv_writer`, which prefixes such a cell with an apostrophe (shown as
text by Excel, LibreOffice and Google Sheets); importers read cells back with `csv_cell_read`, so an
export imports again unchanged."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(text: str) -> bool:
    # "'=x" is escaped too, so that reading it back cannot turn it into "=x"
    return text.lstrip("'").startswith(FORMULA_STARTS)


def csv_cell(value: Any) -> str:
    """The text of one cell, neutralised when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if _looks_like_formula(text) else text


def csv_cell_read(text: str) -> str:
    """Undo `csv_cell`: "'=x" -> "=x", "''=x" -> "'=x"; any other text is returned as it is."""
    if text.startswith("'") and _looks_like_formula(text):
        return text[1:]
    return text


class SafeCsvWriter:
    """csv.writer whose rows are neutralised cell by cell."""

    def __init__(self, out: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **kwargs: Any) -> SafeCsvWriter:
    return SafeCsvWriter(out, **kwargs)
