"""A product's data dictionary: what a valid one is, and how big it may be."""

from __future__ import annotations

import json

import pytest

from ceip.aggregate.dictionary import (
    MAX_BYTES,
    MAX_DECLARED,
    InvalidDictionary,
    declared_rows,
    parse_dictionary,
)


def document(**overrides: object) -> bytes:
    body: dict[str, object] = {
        "product_id": "contoso.editor",
        "problems": [{"id": "crash.mso.dll", "kind": "program", "description": "The editor closes."}],
        "features": [{"id": "editor.spellcheck", "description": "Spelling checked as you type."}],
    }
    body.update(overrides)
    return json.dumps(body).encode()


def test_a_dictionary_declares_its_product_and_the_products_problems_and_features() -> None:
    parsed = parse_dictionary(document())
    assert declared_rows([parsed]) == [
        ("contoso.editor", "product", "", ""),
        ("contoso.editor", "problem", "crash.mso.dll", "program"),
        ("contoso.editor", "feature", "editor.spellcheck", ""),
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"product_id": "Contoso Editor"},
        {"problems": [{"id": "crash.(other)", "kind": "program", "description": "x"}]},
        {"problems": [{"id": "crash.a", "kind": "kernel", "description": "x"}]},
        {"features": [{"id": "editor.a", "description": ""}]},
        {"features": [{"id": "editor.a", "description": "x" * 501}]},
        {"features": [{"id": f"editor.{n}", "description": "x"} for n in range(MAX_DECLARED + 1)]},
        {"owner": "someone@example.com"},
    ],
    ids=["product id", "reserved id", "kind", "empty description", "long description", "too many", "extra"],
)
def test_a_dictionary_that_is_not_valid_is_refused_without_echoing_it(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidDictionary) as refused:
        parse_dictionary(document(**overrides))
    assert "someone@example.com" not in str(refused.value)


def test_a_file_larger_than_the_bound_is_not_parsed() -> None:
    with pytest.raises(InvalidDictionary, match="larger than"):
        parse_dictionary(b" " * (MAX_BYTES + 1))
    with pytest.raises(InvalidDictionary):
        parse_dictionary(b"not json")
