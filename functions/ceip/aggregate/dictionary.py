"""A product's data dictionary: the problem and feature ids its team declares, each with a description.

Declared ids are always kept by the day's cardinality caps (undeclared ones compete for them), and the
day's dictionaries are published with the partner tables so a partner can read what an id means. A
dictionary is an operator's file (`ceip aggregate declare FILE`), stored under
aggregates/dictionary/products/<product_id>.json; its size is bounded here, since every run reads it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ceip.reports import limits

MAX_DECLARED = 10_000
"""Per kind of id (problems, features): a dictionary is at most this long, so declaring never unbounds
the caps."""
MAX_DESCRIPTION = 500
MAX_BYTES = 4 * 1024 * 1024
"""A stored dictionary larger than this is not read (the longest valid one is about 3 MB)."""

Identifier = Annotated[str, Field(pattern=limits.IDENTIFIER_PATTERN)]
Description = Annotated[str, Field(min_length=1, max_length=MAX_DESCRIPTION)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeclaredProblem(_Entry):
    id: Identifier
    kind: Literal["program", "device"]
    description: Description


class DeclaredFeature(_Entry):
    id: Identifier
    description: Description


class DataDictionary(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    product_id: Identifier
    problems: list[DeclaredProblem] = Field(default_factory=list, max_length=MAX_DECLARED)
    features: list[DeclaredFeature] = Field(default_factory=list, max_length=MAX_DECLARED)


class InvalidDictionary(ValueError):
    """Not a data dictionary; the message names the first problems, never the file's content."""


def parse_dictionary(data: bytes) -> DataDictionary:
    if len(data) > MAX_BYTES:
        raise InvalidDictionary(f"larger than {MAX_BYTES} bytes")
    try:
        return DataDictionary.model_validate_json(data)
    except ValidationError as error:
        where = "; ".join(
            f"{'.'.join(str(part) for part in e['loc']) or 'document'}: {e['msg']}"
            for e in error.errors()[:3]
        )
        raise InvalidDictionary(where) from None


def declared_rows(dictionaries: list[DataDictionary]) -> list[tuple[str, str, str, str]]:
    """(product_id, scope, item_id, item_kind) of every declared id, as the engine's declared_ids; a
    product with a dictionary has a row of scope "product" (the day's product cap always keeps it)."""
    rows: list[tuple[str, str, str, str]] = []
    for dictionary in dictionaries:
        rows.append((dictionary.product_id, "product", "", ""))
        rows.extend((dictionary.product_id, "problem", p.id, p.kind) for p in dictionary.problems)
        rows.extend((dictionary.product_id, "feature", f.id, "") for f in dictionary.features)
    return rows
