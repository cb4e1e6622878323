"""docs/openapi.json, docs/report.schema.json and docs/examples/batch.json agree with the code."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.workloads.example_batch import example_body

from ceip.openapi import generated_documents
from ceip.reports import limits
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


def test_the_example_batch_is_what_the_seeded_generator_draws() -> None:
    # Then the committed example is the generator's, byte for byte (run `make docs` after changing it)
    committed = (DOCS / "examples" / "batch.json").read_text(encoding="utf-8")
    assert committed == example_body(), "docs/examples/batch.json is stale: run make docs"


def test_the_example_batch_is_one_full_batch_of_distinct_machines_of_one_product() -> None:
    # Given the committed example, as curl sends it
    data = (DOCS / "examples" / "batch.json").read_bytes()
    reports = json.loads(data)["reports"]
    # Then it is as many reports as a batch may hold, within the body limit and valid
    assert len(data) < limits.MAX_BODY_BYTES
    assert len(reports) == limits.MAX_REPORTS_PER_BATCH == 100
    assert len(ReportBatch.model_validate({"reports": reports}).reports) == 100
    # from as many machines (each counts once toward a partner row), of one product, with fresh ids
    assert len({r["machine_id"] for r in reports}) == 100
    assert len({r["report_id"] for r in reports}) == 100
    assert {r["product"]["id"] for r in reports} == {"contoso.editor"}
    # and the OpenAPI document shows only its first two, not a 100-report example
    document = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    body = document["paths"]["/v1/reports"]["post"]["requestBody"]["content"]["application/json"]
    assert body["example"] == {"reports": reports[:2]}
