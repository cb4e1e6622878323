"""Report wire format v1.

Every model forbids unknown fields and has no free-text field, so a name, an e-mail address or a phone
number has nowhere to ride. Field descriptions feed the published JSON Schema and OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    UUID4,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ceip.reports import limits

Identifier = Annotated[
    str,
    Field(
        pattern=limits.IDENTIFIER_PATTERN,
        description="Lower-case identifier: letters, digits and . _ : - (at most 128 characters).",
    ),
]
Version = Annotated[str, Field(pattern=limits.VERSION_PATTERN, description="Version string.")]
_HYPHENATED_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _hyphenated_uuid(value: object) -> object:
    """Only the form the schema publishes: UUID parsing alone also takes {braces}, urn:uuid: and bare hex.
    The version is left to UUID4, which names it (uuid_version)."""
    if isinstance(value, str) and not _HYPHENATED_UUID.fullmatch(value):
        raise PydanticCustomError("uuid_parsing", "not a hyphenated UUID")
    return value


_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"
)


def _rfc3339_text(value: object) -> object:
    """A date-time string as RFC 3339 (and the schema's format) spells it: pydantic alone also takes
    Unix times (numbers and digit strings), times without seconds and a space for the T. A missing
    offset passes here so that AwareDatetime can say what is wrong (timezone_aware)."""
    if not isinstance(value, str):
        raise PydanticCustomError("datetime_type", "not a string")
    if not _RFC3339.fullmatch(value):
        raise PydanticCustomError("datetime_parsing", "not an RFC 3339 date-time")
    return value


MachineGuid = Annotated[
    UUID4,
    BeforeValidator(_hyphenated_uuid),
    Field(
        description="The random CEIP machine GUID stored on the computer (UUID version 4).",
        json_schema_extra={"pattern": limits.UUID4_PATTERN},
    ),
]
ReportId = Annotated[
    UUID4,
    BeforeValidator(_hyphenated_uuid),
    Field(
        description="Random per report; a resent report keeps its id (deduplication). UUID version 4.",
        json_schema_extra={"pattern": limits.UUID4_PATTERN},
    ),
]


def _json_integer(value: object) -> object:
    """JSON has one number type: 8.0 is the integer 8, as the schema's "integer" says; true is no number.

    Counts are strict (lax mode would take true and "8"); integral floats are let through as ints here.
    """
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "not an integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_JSON_INTEGER = BeforeValidator(_json_integer)


def _strict_int(maximum: int, description: str) -> object:
    return Field(ge=0, le=maximum, strict=True, description=description)


Count = Annotated[int, _strict_int(limits.MAX_COUNT, "Non-negative count."), _JSON_INTEGER]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Product(_Strict):
    id: Identifier = Field(description="Product identifier, for example contoso.editor.")
    version: Version = Field(description="Product version, for example 12.0.4471.")


class OperatingSystem(_Strict):
    family: Identifier = Field(description="Operating system family, for example windows, macos or linux.")
    version: Version = Field(description="Operating system version, for example 10.0.22631.")


HardwareFeatures = Annotated[
    dict[Identifier, Annotated[bool, Field(strict=True)]],
    # A key that is not an identifier is refused: say so in the schema, not only in the pattern.
    Field(max_length=limits.MAX_HARDWARE_FEATURES, json_schema_extra={"additionalProperties": False}),
]


class Configuration(_Strict):
    processor_count: (
        Annotated[int, _strict_int(limits.MAX_PROCESSOR_COUNT, "Logical processors."), _JSON_INTEGER] | None
    ) = None
    network_connection_count: (
        Annotated[
            int, _strict_int(limits.MAX_NETWORK_CONNECTIONS, "Active network connections."), _JSON_INTEGER
        ]
        | None
    ) = None
    os: OperatingSystem | None = None
    hardware_features: HardwareFeatures | None = Field(
        default=None,
        description="Whether each hardware feature is on, for example bluetooth or high_speed_usb.",
    )


class Problem(_Strict):
    id: Identifier = Field(description="Problem identifier, for example crash.mso.dll.0xc0000005.")
    kind: Literal["program", "device"] = Field(description="Whether a program or a device had the problem.")
    count: Count = Field(description="How often the problem occurred since the last report.")


UiResponseSample = Annotated[
    int, _strict_int(limits.MAX_UI_RESPONSE_MS, "UI response time in milliseconds."), _JSON_INTEGER
]
KbpsSample = Annotated[int, _strict_int(limits.MAX_NETWORK_KBPS, "Throughput in kbit/s."), _JSON_INTEGER]


class NetworkThroughput(_Strict):
    send: list[KbpsSample] = Field(default_factory=list, max_length=limits.MAX_SAMPLES)
    receive: list[KbpsSample] = Field(default_factory=list, max_length=limits.MAX_SAMPLES)


class Performance(_Strict):
    ui_response_ms: list[UiResponseSample] = Field(
        default_factory=list, max_length=limits.MAX_SAMPLES, description="UI response time samples."
    )
    problems: list[Problem] = Field(
        default_factory=list, max_length=limits.MAX_LIST_ITEMS, description="Problems, each id at most once."
    )
    network_kbps: NetworkThroughput | None = Field(default=None, description="Network throughput samples.")

    @field_validator("problems")
    @classmethod
    def _unique_problems(cls, problems: list[Problem]) -> list[Problem]:
        _reject_duplicates([(p.id, p.kind) for p in problems], "problem")
        return problems


class Feature(_Strict):
    id: Identifier = Field(description="Feature identifier, for example editor.spellcheck.")
    count: Count = Field(description="How often the feature was used since the last report.")


class Usage(_Strict):
    features: list[Feature] = Field(
        default_factory=list,
        max_length=limits.MAX_LIST_ITEMS,
        description="Features used, each id at most once.",
    )
    help_center_opens: Count | None = Field(default=None, description="How often Help was opened.")
    desktop_folder_count: Count | None = Field(default=None, description="Folders on the desktop.")

    @field_validator("features")
    @classmethod
    def _unique_features(cls, features: list[Feature]) -> list[Feature]:
        _reject_duplicates([f.id for f in features], "feature")
        return features


_SECTIONS = ("configuration", "performance", "usage")


class Report(_Strict):
    """One CEIP report from one machine."""

    # The published schema states the at-least-one-section rule too (a null section counts as absent),
    # so a generator that follows the schema only makes reports the server accepts.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [{"required": [name], "properties": {name: {"type": "object"}}} for name in _SECTIONS]
        }
    )

    schema_version: Annotated[Literal[1], _JSON_INTEGER] = Field(description="Wire format version.")
    report_id: ReportId
    machine_id: MachineGuid
    product: Product
    created_at: Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)] = Field(
        description="When the client made the report (RFC 3339 with offset); at most one day ahead."
    )
    configuration: Configuration | None = None
    performance: Performance | None = None
    usage: Usage | None = None

    @field_validator("created_at")
    @classmethod
    def _not_in_future(cls, created_at: datetime, info: ValidationInfo) -> datetime:
        now = (info.context or {}).get("now")
        if isinstance(now, datetime) and created_at > now + limits.MAX_FUTURE_SKEW:
            raise PydanticCustomError(
                "created_at_in_future", "created_at is more than one day ahead of the server"
            )
        return created_at

    @model_validator(mode="after")
    def _has_content(self) -> Report:
        if self.configuration is None and self.performance is None and self.usage is None:
            raise PydanticCustomError(
                "report_empty", "a report needs at least one of configuration, performance or usage"
            )
        return self


def _entries_checked_one_by_one(schema: dict[str, Any]) -> None:
    """Publish what the server accepts: any entries, at least one of them a Report (`contains`).

    `items: Report` would call a batch with one bad entry invalid, yet it is answered 202 with that
    entry under `rejected`; a client or fuzzer reading the schema must be able to predict that.
    """
    schema["contains"] = schema.pop("items")


class ReportBatch(BaseModel):
    """Request body of POST /v1/reports (documentation model; reports are validated one by one)."""

    model_config = ConfigDict(extra="forbid")

    reports: list[Report] = Field(
        min_length=1,
        max_length=limits.MAX_REPORTS_PER_BATCH,
        description=(
            "1 to 100 entries, each validated as a Report on its own: the valid ones are stored and the "
            "others listed under `rejected`, so a batch is accepted when it contains at least one report."
        ),
        json_schema_extra=_entries_checked_one_by_one,
    )


def _reject_duplicates(keys: list[object], what: str) -> None:
    if len(set(keys)) != len(keys):
        raise PydanticCustomError("duplicate_id", "each {what} id may appear only once", {"what": what})
