"""The Lambda side of a request in-process: an API Gateway HTTP API 2.0 event and a context object."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def http_event(body: str, index: int) -> dict[str, Any]:
    """A minimal API Gateway HTTP API payload 2.0 event for POST /v1/reports."""
    now = datetime.now(UTC)
    return {
        "version": "2.0",
        "routeKey": "POST /v1/reports",
        "rawPath": "/v1/reports",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "bench.invalid", "user-agent": "ceip-bench"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.invalid",
            "domainPrefix": "bench",
            "http": {
                "method": "POST",
                "path": "/v1/reports",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "ceip-bench",
            },
            "requestId": f"bench-{index}",
            "routeKey": "POST /v1/reports",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }


@dataclass
class BenchContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str = "IngestFunction"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:IngestFunction"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/IngestFunction"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000
