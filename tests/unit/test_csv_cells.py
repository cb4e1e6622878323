"""CSV injection: the Python rule (ticket CSV) and its SQL twin (partner CSV) neutralise the same cells."""

from __future__ import annotations

import duckdb
import pytest

from ceip.storage.csv_cells import csv_select, neutralised_sql, spreadsheet_safe

# (cell, as a spreadsheet must receive it), counted by hand from OWASP's list of formula starts.
CELLS = [
    ("=cmd|'/ccalc'!a0@evil.example", "'=cmd|'/ccalc'!a0@evil.example"),
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("+1", "'+1"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("jane@example.net", "jane@example.net"),
    ("10.0.22631", "10.0.22631"),
    (" =1", " =1"),
    ("", ""),
]


@pytest.mark.parametrize(("cell", "shown"), CELLS)
def test_text_cells_starting_a_formula_get_an_apostrophe(cell: str, shown: str) -> None:
    assert spreadsheet_safe(cell) == shown


@pytest.mark.parametrize("number", [-3, -2.5, 0, 7, None, True])
def test_numbers_and_empty_cells_are_left_alone(number: object) -> None:
    # A negative number is a number in every spreadsheet, not a formula
    assert spreadsheet_safe(number) is number


def test_the_sql_expression_neutralises_exactly_the_cells_the_python_rule_does() -> None:
    # Given the same cells in a DuckDB text column, and a NULL
    con = duckdb.connect()
    con.execute("CREATE TABLE t (v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[cell] for cell, _ in CELLS] + [[None]])
    # When projected through the SQL rule
    rows = con.execute(f"SELECT v, {neutralised_sql('v')} FROM t").fetchall()
    # Then each comes out as the hand-counted table says; NULL stays NULL
    assert dict(rows) == {**dict(CELLS), None: None}


def test_csv_select_neutralises_text_columns_keeps_numbers_and_the_order_of_the_stored_values() -> None:
    # Given a table of text and numeric columns, negative numbers included
    con = duckdb.connect()
    con.execute('CREATE TABLE p (product_id VARCHAR, machines BIGINT, share DOUBLE, "odd ""name""" VARCHAR)')
    rows = [("-b", -4, -0.5, "x"), ("a", 3, 0.25, "+y"), ("=c", 1, 1.0, "z"), ("b", 2, 0.5, None)]
    con.executemany("INSERT INTO p VALUES (?, ?, ?, ?)", rows)
    columns = [(str(c[0]), str(c[1])) for c in con.execute("DESCRIBE p").fetchall()]
    # When selected for CSV
    selected = con.execute(csv_select("p", columns)).fetchall()
    # Then text is neutralised, numbers are numbers, and rows keep ORDER BY ALL's order of the raw values
    assert selected == [
        ("'-b", -4, -0.5, "x"),
        ("'=c", 1, 1.0, "z"),
        ("a", 3, 0.25, "'+y"),
        ("b", 2, 0.5, None),
    ]
    assert [r[0] for r in con.execute("SELECT product_id FROM p ORDER BY ALL").fetchall()] == [
        "-b",
        "=c",
        "a",
        "b",
    ]
