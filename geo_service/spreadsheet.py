"""CSV cells that a spreadsheet will not run: every CSV the service writes goes through ``safe_cell``.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a
carriage return, which some of them skip first) as a formula, so a project named ``=HYPERLINK(...)`` or
``@SUM(...)`` would run on the computer of whoever opens an export. As OWASP recommends for CSV injection, such
a text cell is written with a leading apostrophe, which spreadsheets show as text and do not display; numbers
are left alone (a negative number is not text). Reading a CSV back (``geo-service import``) removes that
apostrophe again, so an export imports unchanged.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def read_cell(text: str) -> str:
    """A cell as ``safe_cell`` wrote it, back to the text it was."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
