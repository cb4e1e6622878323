"""A short, fixed description of an AWS failure for errors and logs: the service's error code (such as
MessageRejected or ProvisionedThroughputExceededException), never its message, which may quote input."""

from __future__ import annotations

from botocore.exceptions import ClientError


def error_code(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)[:80]
    return type(error).__name__
