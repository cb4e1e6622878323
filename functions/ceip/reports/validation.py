"""Validate decoded reports one by one and describe failures without echoing the input.

Pydantic's own messages sometimes quote the submitted value (a UUID parse error names the bad
character) and its error locations name unknown keys, which a client controls. So locations keep only
the field names of the wire format and list indexes, and messages come from a fixed table keyed by
the error type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from ceip.reports import limits
from ceip.reports.model import Report

REDACTED_KEY = "*"

_MESSAGES: dict[str, str] = {
    "missing": "Field required.",
    "extra_forbidden": "Unknown field.",
    "string_type": "Must be a string.",
    "string_pattern_mismatch": "Does not match the required pattern.",
    "string_too_long": "Too long.",
    "int_type": "Must be an integer.",
    "int_parsing": "Must be an integer.",
    "int_from_float": "Must be an integer.",
    "bool_type": "Must be true or false.",
    "greater_than_equal": "Below the minimum.",
    "less_than_equal": "Above the maximum.",
    "list_type": "Must be an array.",
    "too_long": "Too many items.",
    "too_short": "Too few items.",
    "dict_type": "Must be an object.",
    "model_type": "Must be an object.",
    "model_attributes_type": "Must be an object.",
    "literal_error": "Not one of the allowed values.",
    "uuid_type": "Must be a UUID string.",
    "uuid_parsing": "Must be a UUID.",
    "uuid_version": "Must be a version 4 UUID.",
    "datetime_type": "Must be an RFC 3339 date-time string.",
    "datetime_parsing": "Must be an RFC 3339 date-time.",
    "datetime_from_date_parsing": "Must be an RFC 3339 date-time.",
    "timezone_aware": "Must carry a UTC offset.",
    "created_at_in_future": "More than one day ahead of the server clock.",
    "report_empty": "A report needs at least one of configuration, performance or usage.",
    "duplicate_id": "Each id may appear only once in a list.",
    "duplicate_report_id": "The same report_id appears earlier in this batch.",
    "too_many_errors": f"Too many errors to list (more than {limits.MAX_ERRORS_LISTED}).",
}
_DEFAULT_MESSAGE = "Invalid value."


@dataclass(frozen=True, slots=True)
class FieldError:
    loc: tuple[str | int, ...]
    type: str
    msg: str

    def as_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "type": self.type, "msg": self.msg}


@dataclass(frozen=True, slots=True)
class RejectedReport:
    index: int
    errors: tuple[FieldError, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "errors": [e.as_dict() for e in self.errors]}


@dataclass(frozen=True, slots=True)
class BatchValidation:
    accepted: tuple[Report, ...]
    rejected: tuple[RejectedReport, ...]


def _field_names(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    if model in seen:
        return set()
    seen.add(model)
    names: set[str] = set()
    for name, field in model.model_fields.items():
        names.add(name)
        for nested in _models_in(field.annotation):
            names |= _field_names(nested, seen)
    return names


def _models_in(annotation: Any) -> Iterable[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        yield from _models_in(arg)


KNOWN_LOCATIONS: frozenset[str] = frozenset(_field_names(Report, set()) | {"[key]"})
"""Report field names: safe to repeat in an error location."""


def field_names(model: type[BaseModel]) -> frozenset[str]:
    """Every field name of a model and the models nested in it: the locations safe to repeat."""
    return frozenset(_field_names(model, set()) | {"[key]"})


def sanitize_location(
    loc: Sequence[str | int], known: frozenset[str] = KNOWN_LOCATIONS
) -> tuple[str | int, ...]:
    """Keep list indexes and wire-format field names; any other key came from the client."""
    return tuple(part if isinstance(part, int) or part in known else REDACTED_KEY for part in loc)


def describe(error: ValidationError, known: frozenset[str] = KNOWN_LOCATIONS) -> tuple[FieldError, ...]:
    """Errors as (location, type, fixed message): nothing of the submitted values.

    At most limits.MAX_ERRORS_LISTED; more collapse into one too_many_errors error, decided by the
    cheap error_count() before the costly errors() list is built (about 10 us per error).
    """
    if error.error_count() > limits.MAX_ERRORS_LISTED:
        return (FieldError((), "too_many_errors", _MESSAGES["too_many_errors"]),)
    return tuple(
        FieldError(
            loc=sanitize_location(detail["loc"], known),
            type=detail["type"],
            msg=_MESSAGES.get(detail["type"], _DEFAULT_MESSAGE),
        )
        for detail in error.errors(include_url=False, include_input=False, include_context=False)
    )


def validate_reports(items: Sequence[object], now: datetime) -> BatchValidation:
    """Validate each report on its own, so one bad report does not sink the rest of the batch."""
    accepted: list[Report] = []
    rejected: list[RejectedReport] = []
    seen_ids: set[object] = set()
    context = {"now": now}
    for index, item in enumerate(items):
        try:
            report = Report.model_validate(item, context=context)
        except ValidationError as error:
            rejected.append(RejectedReport(index, describe(error)))
            continue
        if report.report_id in seen_ids:
            duplicate = FieldError(("report_id",), "duplicate_report_id", _MESSAGES["duplicate_report_id"])
            rejected.append(RejectedReport(index, (duplicate,)))
            continue
        seen_ids.add(report.report_id)
        accepted.append(report)
    return BatchValidation(tuple(accepted), tuple(rejected))
