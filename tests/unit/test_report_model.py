"""Report wire format v1: what is accepted and what is refused, field by field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ceip.reports.validation import REDACTED_KEY, sanitize_location, validate_reports
from tests.support.reports import example_batch, make_report

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def errors_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    result = validate_reports([report], now=NOW)
    assert not result.accepted, "expected the report to be rejected"
    return [e.as_dict() for e in result.rejected[0].errors]


def test_the_published_example_batch_is_valid() -> None:
    # Given the example from docs/examples/batch.json
    items = example_batch()["reports"]
    # When it is validated
    result = validate_reports(items, now=NOW)
    # Then every report is accepted
    assert len(result.accepted) == len(items) and not result.rejected


@pytest.mark.parametrize(
    ("mutate", "expected_loc", "expected_type"),
    [
        (lambda r: r.update(email="jane@example.com"), ["*"], "extra_forbidden"),
        (lambda r: r["product"].update(owner="Jane Doe"), ["product", "*"], "extra_forbidden"),
        (lambda r: r["product"].update(id="Jane Doe"), ["product", "id"], "string_pattern_mismatch"),
        (lambda r: r["product"].update(id="jane@example.com"), ["product", "id"], "string_pattern_mismatch"),
        (lambda r: r["product"].update(version="1" * 33), ["product", "version"], "string_pattern_mismatch"),
        (lambda r: r.update(schema_version=2), ["schema_version"], "literal_error"),
        (lambda r: r.update(report_id="not-a-uuid"), ["report_id"], "uuid_parsing"),
        (
            lambda r: r.update(machine_id="6fa459ea-ee8a-1ca4-894e-db77e160355e"),
            ["machine_id"],
            "uuid_version",
        ),
        (lambda r: r.update(created_at="2026-11-29T12:00:00"), ["created_at"], "timezone_aware"),
        (lambda r: r.update(created_at="2026-11-29 12:00Z"), ["created_at"], "datetime_parsing"),
        (lambda r: r.update(created_at=1795953600), ["created_at"], "datetime_type"),
        (lambda r: r.update(created_at="1795953600"), ["created_at"], "datetime_parsing"),
        (lambda r: r.update(schema_version=True), ["schema_version"], "int_type"),
        (
            lambda r: r.update(machine_id="{0b6f2c1e-7d3a-4e9b-8c5f-1a2b3c4d5e6f}"),
            ["machine_id"],
            "uuid_parsing",
        ),
        (
            lambda r: r.update(report_id="urn:uuid:5f0c7a64-8a1e-4c55-9a3e-3f6d2b1c9e01"),
            ["report_id"],
            "uuid_parsing",
        ),
        (lambda r: r.update(created_at="2026-12-01T12:00:01Z"), ["created_at"], "created_at_in_future"),
        (
            lambda r: r["configuration"].update(processor_count=True),
            ["configuration", "processor_count"],
            "int_type",
        ),
        (
            lambda r: r["configuration"].update(processor_count="8"),
            ["configuration", "processor_count"],
            "int_type",
        ),
        (
            lambda r: r["configuration"].update(processor_count=-1),
            ["configuration", "processor_count"],
            "greater_than_equal",
        ),
        (
            lambda r: r["performance"]["problems"][0].update(count=1_000_001),
            ["performance", "problems", 0, "count"],
            "less_than_equal",
        ),
        (
            lambda r: r["performance"]["problems"][0].update(kind="driver"),
            ["performance", "problems", 0, "kind"],
            "literal_error",
        ),
        (
            lambda r: r["performance"].update(ui_response_ms=[1] * 257),
            ["performance", "ui_response_ms"],
            "too_long",
        ),
        (
            lambda r: r["performance"].update(ui_response_ms=[1.5]),
            ["performance", "ui_response_ms", 0],
            "int_type",
        ),
        (
            lambda r: r["performance"]["problems"].append(dict(r["performance"]["problems"][0])),
            ["performance", "problems"],
            "duplicate_id",
        ),
        (
            lambda r: r["usage"]["features"].append({"id": "editor.spellcheck", "count": 1}),
            ["usage", "features"],
            "duplicate_id",
        ),
        (
            lambda r: r["configuration"]["hardware_features"].update({"Jane Doe": True}),
            ["configuration", "hardware_features", "*", "[key]"],
            "string_pattern_mismatch",
        ),
        (lambda r: [r.pop(k) for k in ("configuration", "performance", "usage")], [], "report_empty"),
        (lambda r: r.pop("machine_id"), ["machine_id"], "missing"),
    ],
)
def test_invalid_field_is_rejected_with_a_stable_type_and_a_location(
    mutate: Any, expected_loc: list[Any], expected_type: str
) -> None:
    # Given a valid report with one field made invalid
    report = make_report(created_at="2026-11-29T11:00:00Z")
    mutate(report)
    # When it is validated
    errors = errors_of(report)
    # Then the error names the field and a stable type
    assert {"loc": expected_loc, "type": expected_type} in [
        {"loc": e["loc"], "type": e["type"]} for e in errors
    ]


def test_error_messages_never_quote_the_submitted_value() -> None:
    # Given identifying strings in every place a client controls
    secret = "jane.doe@example.com"
    report = make_report(report_id=secret, created_at=secret)
    report["product"]["id"] = secret
    report["configuration"]["hardware_features"] = {secret: True}
    report[secret] = secret
    # When it is validated
    errors = errors_of(report)
    # Then neither messages nor locations repeat any of it
    assert errors
    assert secret not in repr(errors)
    assert "jane" not in repr(errors).lower()


def test_created_at_up_to_one_day_ahead_is_accepted() -> None:
    # Given a client clock one day minus a second ahead of the server
    ahead = (NOW + timedelta(days=1) - timedelta(seconds=1)).isoformat()
    # When validated
    result = validate_reports([make_report(created_at=ahead)], now=NOW)
    # Then it is accepted
    assert len(result.accepted) == 1


def test_duplicate_report_id_in_one_batch_is_rejected_once() -> None:
    # Given two reports sharing a report_id
    first = make_report(created_at="2026-11-29T11:00:00Z")
    second = make_report(created_at="2026-11-29T11:00:00Z", report_id=first["report_id"])
    # When the batch is validated
    result = validate_reports([first, second], now=NOW)
    # Then the first is kept and the second rejected as a duplicate
    assert len(result.accepted) == 1
    assert result.rejected[0].index == 1
    assert result.rejected[0].errors[0].type == "duplicate_report_id"


def test_uuids_are_stored_lower_case() -> None:
    # Given upper-case GUIDs
    report = make_report(created_at="2026-11-29T11:00:00Z")
    report["machine_id"] = report["machine_id"].upper()
    # When validated
    accepted = validate_reports([report], now=NOW).accepted[0]
    # Then the stored form is canonical
    assert str(accepted.machine_id) == report["machine_id"].lower()


def test_location_sanitizer_keeps_indexes_and_schema_fields_only() -> None:
    assert sanitize_location(["performance", "problems", 3, "id"]) == ("performance", "problems", 3, "id")
    assert sanitize_location(["usage", "phone_number"]) == ("usage", REDACTED_KEY)


def test_a_flood_of_errors_is_answered_with_one_error_not_with_all_of_them() -> None:
    # Given one report with 21 unknown fields and another with 20
    flooded = make_report(created_at="2026-11-29T11:00:00Z", **{f"jane{i}": 0 for i in range(21)})
    listed = make_report(created_at="2026-11-29T11:00:00Z", **{f"jane{i}": 0 for i in range(20)})
    # When validated
    result = validate_reports([flooded, listed], now=NOW)
    # Then past 20 errors one too_many_errors error stands for all; up to 20, each is listed
    first, second = result.rejected
    assert [e.as_dict() for e in first.errors] == [
        {"loc": [], "type": "too_many_errors", "msg": "Too many errors to list (more than 20)."}
    ]
    assert [e.type for e in second.errors] == ["extra_forbidden"] * 20


@pytest.mark.parametrize("count", [8.0, 1e3])
def test_an_integral_number_written_with_a_fraction_is_that_integer(count: float) -> None:
    # Given counts written as 8.0 and 1e3 (JSON has one number type; the schema's integer includes them)
    report = make_report(created_at="2026-11-29T11:00:00Z")
    report["configuration"]["processor_count"] = count
    report["schema_version"] = 1.0
    # When validated
    (accepted,) = validate_reports([report], now=NOW).accepted
    # Then they are accepted as integers
    assert accepted.configuration is not None
    assert accepted.configuration.processor_count == int(count)
    assert type(accepted.configuration.processor_count) is int
