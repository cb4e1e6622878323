"""RFC 9457 problem details with a stable machine-readable ``code``.

Every text here is fixed: a problem never quotes what the client sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:ceip:problem:"


@dataclass(frozen=True, slots=True)
class ProblemKind:
    status: int
    code: str
    title: str


MALFORMED_JSON = ProblemKind(400, "malformed-json", "The body is not a valid JSON document.")
INVALID_ENCODING = ProblemKind(
    400, "invalid-encoding", "The body is not UTF-8 text without a byte order mark."
)
MALFORMED_GZIP = ProblemKind(400, "malformed-gzip", "The gzip body is truncated or corrupt.")
INVALID_BATCH = ProblemKind(
    400, "invalid-batch", 'The body must be {"reports": [...]} with 1 to 100 reports.'
)
NO_VALID_REPORT = ProblemKind(400, "no-valid-report", "No report in the batch is valid.")
INVALID_REQUEST = ProblemKind(400, "invalid-request", "The request body does not match the schema.")
PAYLOAD_TOO_LARGE = ProblemKind(413, "payload-too-large", "The body exceeds 1 MiB after decompression.")
UNSUPPORTED_MEDIA_TYPE = ProblemKind(415, "unsupported-media-type", "Content-Type must be application/json.")
UNSUPPORTED_ENCODING = ProblemKind(
    415, "unsupported-content-encoding", "Content-Encoding must be identity or gzip."
)
NOT_FOUND = ProblemKind(404, "not-found", "No such resource.")
METHOD_NOT_ALLOWED = ProblemKind(405, "method-not-allowed", "The resource does not support this method.")
STORAGE_UNAVAILABLE = ProblemKind(503, "storage-unavailable", "Storage is unavailable; retry later.")
INTERNAL_ERROR = ProblemKind(500, "internal-error", "An unexpected error occurred; retry later.")

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_BASE + self.kind.code,
            "title": self.kind.title,
            "status": self.kind.status,
            "code": self.kind.code,
            **self.extensions,
        }

    def json(self) -> str:
        return json.dumps(self.body(), separators=(",", ":"))


class ProblemError(Exception):
    """Raised where a request cannot be served; the handler turns it into a problem response."""

    def __init__(
        self, kind: ProblemKind, *, headers: dict[str, str] | None = None, **extensions: Any
    ) -> None:
        super().__init__(kind.code)
        self.problem = Problem(kind, dict(extensions), dict(headers or {}))


def retry_later(kind: ProblemKind = STORAGE_UNAVAILABLE) -> ProblemError:
    """503 with Retry-After: the request did not take effect and may be sent again as it is."""
    return ProblemError(kind, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
