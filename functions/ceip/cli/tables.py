"""Tables for people, drawn by rich (imported here only, when a command prints a table, so the CLI's
start-up stays small). Plain columns when stdout is not a terminal, so `| grep` and `| head` work, and
where rich is not installed: it is the `cli` extra, kept out of the Lambda packages."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from typing import TextIO

from ceip.storage.csv_cells import spreadsheet_safe


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[object]], stream: TextIO) -> None:
    """Text cells neutralised against CSV injection (storage/csv_cells)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None
) -> None:
    try:
        from rich import box  # noqa: PLC0415 - rich costs ~35 ms: only for commands that print a table
        from rich.console import Console  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415 - cells as plain text: a sender's "[b]" is no markup
    except ImportError:
        print(plain_table(headers, rows, title=title), file=sys.stdout)
        return

    terminal = sys.stdout.isatty()
    table = Table(
        *headers,
        title=title,
        box=box.SIMPLE_HEAD if terminal else None,
        show_edge=False,
        pad_edge=False,
        header_style="bold" if terminal else "",
    )
    for row in rows:
        table.add_row(*(Text("" if v is None else str(v)) for v in row))
    console = Console(file=sys.stdout, width=None if terminal else 10_000, highlight=False, soft_wrap=False)
    console.print(table)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str | None = None) -> str:
    """Columns padded to their widest cell, two spaces apart: the table without rich."""
    cells = [list(headers), *[["" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]
    return "\n".join([title, *lines] if title else lines)
