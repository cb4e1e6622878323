"""Response models of the HTTP API. Handlers serialize through them, so the OpenAPI document is true."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class FieldErrorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loc: list[str | int] = Field(description='Where the error is; keys not in the wire format appear as "*".')
    type: str = Field(description="Stable error type, for example missing or string_pattern_mismatch.")
    msg: str = Field(description="Fixed human-readable text; never quotes the submitted value.")


class RejectedReportModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, description="Position of the report in the submitted batch.")
    errors: list[FieldErrorModel]


class BatchAccepted(BaseModel):
    """202: the valid reports of the batch are stored; the rejected ones are listed."""

    model_config = ConfigDict(extra="forbid")

    accepted: int = Field(ge=1, description="Reports stored.")
    rejected: list[RejectedReportModel] = Field(description="Reports not stored, with the reasons.")


class ProblemDetails(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="URI of the problem type: urn:ceip:problem:<code>.")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code.")
    rejected: list[RejectedReportModel] | None = Field(
        default=None, description="For no-valid-report: why each report was rejected."
    )
