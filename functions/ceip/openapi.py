"""The OpenAPI document and JSON Schema, generated from the models (`make docs` writes them to docs/).

A test regenerates both and fails when the committed files drift from the code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ceip.api import problems
from ceip.api.schemas import BatchAccepted, ProblemDetails
from ceip.datasubject.schemas import PrivacyRequestAccepted, PrivacyRequestIn, PrivacyRequestStatusOut
from ceip.reports import limits
from ceip.reports.model import Report, ReportBatch

API_VERSION = "1.0.0"
_REF = "#/components/schemas/{model}"
_EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "batch.json"
_EXAMPLE_REPORTS = 2
"""The request example shows the first reports of docs/examples/batch.json: its 100 (one batch's worth,
enough machines for the local stack's partner tables) would be most of the document."""


def report_json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ceip.invalid/schemas/report-v1.json",
        **schema,
    }


def _problem(description: str, *kinds: problems.ProblemKind) -> dict[str, Any]:
    codes = ", ".join(f"`{k.code}`" for k in kinds)
    return {
        "description": f"{description} Codes: {codes}.",
        "content": {problems.PROBLEM_CONTENT_TYPE: {"schema": {"$ref": _REF.format(model="ProblemDetails")}}},
    }


def openapi_document(example: dict[str, Any] | None = None) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = [
        (ReportBatch, "validation"),
        (BatchAccepted, "serialization"),
        (ProblemDetails, "serialization"),
        (PrivacyRequestIn, "validation"),
        (PrivacyRequestAccepted, "serialization"),
        (PrivacyRequestStatusOut, "serialization"),
    ]
    _, schemas = models_json_schema(models, ref_template=_REF)
    request_body: dict[str, Any] = {"schema": {"$ref": _REF.format(model="ReportBatch")}}
    if example is not None:
        request_body["example"] = example
    retry_after = {
        "Retry-After": {"description": "Seconds to wait before retrying.", "schema": {"type": "integer"}}
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ceip",
            "version": API_VERSION,
            "description": (
                "Customer Experience Improvement Program endpoint. Reports are anonymous: the source "
                "address of a request is never stored or logged. Errors are RFC 9457 problem+json "
                "with a stable `code` and never quote the submitted values."
            ),
        },
        "paths": {
            "/v1/reports": {
                "post": {
                    "operationId": "postReports",
                    "summary": "Submit a batch of 1 to 100 reports.",
                    # Content-Encoding is described, not declared as a parameter: it names how the body
                    # is encoded, so a client (or a fuzzer) cannot pick it independently of the body.
                    "description": (
                        f"Body limit {limits.MAX_BODY_BYTES} bytes after decompression; Content-Encoding "
                        "identity or gzip (a gzip body needs `Content-Encoding: gzip`). Valid reports are "
                        "stored even when others in the batch are rejected. Resending the identical batch "
                        "after a timeout does not store a copy."
                    ),
                    "requestBody": {"required": True, "content": {"application/json": request_body}},
                    "responses": {
                        "202": {
                            "description": "At least one report was stored.",
                            "content": {
                                "application/json": {"schema": {"$ref": _REF.format(model="BatchAccepted")}}
                            },
                        },
                        "400": _problem(
                            "The body is not a valid batch.",
                            problems.MALFORMED_JSON,
                            problems.INVALID_ENCODING,
                            problems.MALFORMED_GZIP,
                            problems.INVALID_BATCH,
                            problems.NO_VALID_REPORT,
                        ),
                        "405": _problem("Method not allowed.", problems.METHOD_NOT_ALLOWED),
                        "413": _problem("Body too large.", problems.PAYLOAD_TOO_LARGE),
                        "415": _problem(
                            "Unsupported media type or encoding.",
                            problems.UNSUPPORTED_MEDIA_TYPE,
                            problems.UNSUPPORTED_ENCODING,
                        ),
                        "503": {
                            **_problem(
                                "Storage unavailable; nothing was stored. Retry.",
                                problems.STORAGE_UNAVAILABLE,
                            ),
                            "headers": retry_after,
                        },
                    },
                }
            },
            **privacy_paths(retry_after),
        },
        "components": {"schemas": schemas["$defs"]},
    }


def _json_content(model: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": _REF.format(model=model)}}}


def privacy_paths(retry_after: dict[str, Any]) -> dict[str, Any]:
    unavailable = {
        **_problem("Storage unavailable; nothing was filed. Retry.", problems.STORAGE_UNAVAILABLE),
        "headers": retry_after,
    }
    return {
        "/v1/privacy/requests": {
            "post": {
                "operationId": "postPrivacyRequest",
                "summary": "Ask for the erasure of a machine's data (sent when its user opts out).",
                "description": (
                    "Possession of the machine GUID is the proof. From the moment the request is filed, "
                    "new reports of the machine are dropped and aggregation leaves it out; the daily purge "
                    "removes its stored reports and issues a receipt. The same machine asking again gets "
                    "its open request back."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": _REF.format(model="PrivacyRequestIn")},
                            "example": {
                                "type": "erasure",
                                "machine_id": "0b6f2c1e-7d3a-4e9b-8c5f-1a2b3c4d5e6f",
                            },
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "Filed (or already open).",
                        "content": _json_content("PrivacyRequestAccepted"),
                    },
                    "400": _problem(
                        "The body is not a valid request.",
                        problems.MALFORMED_JSON,
                        problems.INVALID_ENCODING,
                        problems.MALFORMED_GZIP,
                        problems.INVALID_REQUEST,
                    ),
                    "405": _problem("Method not allowed.", problems.METHOD_NOT_ALLOWED),
                    "413": _problem("Body too large.", problems.PAYLOAD_TOO_LARGE),
                    "415": _problem(
                        "Unsupported media type or encoding.",
                        problems.UNSUPPORTED_MEDIA_TYPE,
                        problems.UNSUPPORTED_ENCODING,
                    ),
                    "503": unavailable,
                },
            }
        },
        "/v1/privacy/requests/{request_id}": {
            "get": {
                "operationId": "getPrivacyRequest",
                "summary": "Status of an erasure request, with its receipt once fulfilled.",
                "parameters": [
                    {
                        "name": "request_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "The request's status.",
                        "content": _json_content("PrivacyRequestStatusOut"),
                    },
                    "404": _problem("No such request.", problems.NOT_FOUND),
                    "405": _problem("Method not allowed.", problems.METHOD_NOT_ALLOWED),
                    "503": unavailable,
                },
            }
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_documents() -> dict[str, str]:
    """File name under docs/ -> content."""
    batch = json.loads(_EXAMPLE.read_text(encoding="utf-8"))
    example = {"reports": batch["reports"][:_EXAMPLE_REPORTS]}
    return {
        "openapi.json": render(openapi_document(example)),
        "report.schema.json": render(report_json_schema()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, required=True, help="docs directory")
    args = parser.parse_args()
    for name, content in generated_documents().items():
        (args.write / name).write_text(content, encoding="utf-8")
        print(f"wrote {args.write / name}")


if __name__ == "__main__":
    main()
