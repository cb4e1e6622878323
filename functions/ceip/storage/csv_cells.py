"""CSV cells a spreadsheet will not run as formulas (CSV injection; OWASP's advice), in Python and SQL.

A cell whose text starts with `=`, `+`, `-`, `@`, a tab or a carriage return is evaluated by Excel,
LibreOffice and Google Sheets as a formula (`=cmd|'/c calc'!A0`, `=HYPERLINK(...)`). Senders, subjects,
product and problem ids come from strangers, so every text cell we write as CSV gets a leading
apostrophe before such a character: spreadsheets then show the text as it is (the apostrophe is a
visible extra character for other readers; the value is otherwise unchanged). Numbers are left alone:
-3 is a number, not a formula, and a numeric column must stay numeric. Parquet is typed and
needs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet evaluates a text cell starting with one of these as a formula."""
NEUTRALISER = "'"
_TEXT_TYPES = frozenset({"VARCHAR"})
"""DuckDB's text type, as DESCRIBE names it (TEXT and STRING are its aliases)."""


def spreadsheet_safe(value: object) -> object:
    """Text that a spreadsheet shows as text: an apostrophe before a formula's first character; numbers
    and other cells unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return NEUTRALISER + value
    return value


def quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def neutralised_sql(column: str) -> str:
    """The SQL (DuckDB) expression of spreadsheet_safe over a text column; NULL stays NULL."""
    prefixes = ", ".join(f"chr({ord(p)})" if not p.isprintable() else _literal(p) for p in FORMULA_PREFIXES)
    name = quoted(column)
    return f"CASE WHEN left({name}, 1) IN ({prefixes}) THEN {_literal(NEUTRALISER)} || {name} ELSE {name} END"


def csv_select(table: str, columns: Sequence[tuple[str, str]]) -> str:
    """SELECT every column of table, text columns neutralised, rows in the order ORDER BY ALL gives the
    stored values (qualified names sort by the column, not by its neutralised projection)."""
    projection = ", ".join(
        f"{neutralised_sql(name)} AS {quoted(name)}" if kind in _TEXT_TYPES else quoted(name)
        for name, kind in columns
    )
    order = ", ".join(f"{quoted(table)}.{quoted(name)}" for name, _ in columns)
    return f"SELECT {projection} FROM {quoted(table)} ORDER BY {order}"  # noqa: S608 (quoted identifiers only)
