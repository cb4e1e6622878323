"""docs/openapi.json, docs/report.schema.json and docs/examples/batch.json agree with the code."""

from __future__ import annotations

import json
from pathlib import Path

from ceip.openapi import generated_documents
from ceip.reports.model import ReportBatch

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_committed_documents_match_what_the_code_generates() -> None:
    # When the documents are generated from the models
    for name, content in generated_documents().items():
        # Then the committed copy is identical (run `make docs` after changing a model)
        assert (DOCS / name).read_text(encoding="utf-8") == content, f"docs/{name} is stale: run make docs"


def test_openapi_request_example_validates_against_the_model() -> None:
    document = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    example = document["paths"]["/v1/reports"]["post"]["requestBody"]["content"]["application/json"][
        "example"
    ]
    assert ReportBatch.model_validate(example).reports


def test_schema_forbids_unknown_fields_everywhere() -> None:
    # Given the published report schema
    schema = json.loads((DOCS / "report.schema.json").read_text(encoding="utf-8"))
    objects = [schema, *schema["$defs"].values()]
    # Then every object type refuses extra properties (no room for contact data)
    assert all(obj.get("additionalProperties") is False for obj in objects if obj.get("type") == "object")
