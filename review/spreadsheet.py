"""CSV cells that stay text when the export is opened in a spreadsheet."""

from __future__ import annotations

# A cell starting with one of these is a formula to a spreadsheet; a detail typed by a
# sender ("=HYPERLINK(...)") must stay text when the export is opened in Excel.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """The value as CSV text, with a leading quote when it would read as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
