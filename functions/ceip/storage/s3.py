"""S3 adapter. The client is built lazily, on first use, so tests can start their mocks first."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Short timeouts and few retries: API Gateway gives up after 30 s, and a client that gets 503 retries.
_CLIENT_CONFIG = Config(
    connect_timeout=2,
    read_timeout=4,
    retries={"mode": "standard", "total_max_attempts": 2},
)


class StorageUnavailable(Exception):
    """S3 could not be reached or refused the call; the request may be retried."""


@cache
def s3_client() -> S3Client:
    return boto3.client("s3", config=_CLIENT_CONFIG)


class S3ObjectWriter:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        client = self._client or s3_client()
        try:
            client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(type(error).__name__) from error
