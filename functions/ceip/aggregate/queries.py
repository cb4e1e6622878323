"""The table definitions: SQL files under sql/, with numeric parameters filled in.

Parameters are written `${name}` in the files and only ever replaced by numbers, so a file stays
plain SQL that Athena can run once its parameters are filled the same way. A bare `$` (regular
expressions) is left alone.
"""

from __future__ import annotations

import math
import re
from functools import cache
from importlib import resources

Parameter = int | float
_PLACEHOLDER = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


def _literal(name: str, value: Parameter) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"SQL parameter {name} must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"SQL parameter {name} must be finite")
    return repr(value)


@cache
def sql_text(name: str) -> str:
    """The text of sql/<name>.sql (name may contain one directory, like internal/problems)."""
    folder, _, file = name.rpartition("/")
    root = resources.files("ceip.aggregate").joinpath("sql")
    if folder:
        root = root.joinpath(folder)
    return root.joinpath(f"{file}.sql").read_text(encoding="utf-8")


def query(name: str, **parameters: Parameter) -> str:
    """The SQL of sql/<name>.sql with every ${parameter} replaced; a missing one raises KeyError."""
    values = {key: _literal(key, value) for key, value in parameters.items()}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], sql_text(name))
