"""The S3 client of the request path, the base of the S3 adapters, and the report writer of ingest:
its port, its S3 adapter and its in-memory twin. The client is built lazily, on first use, so tests can
start their mocks first."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.runtime.lazy_client import LazyClient

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


class S3Bucket(LazyClient):
    """One bucket, through s3_client unless an adapter names another factory or a client is passed in."""

    client_factory = staticmethod(s3_client)

    def __init__(self, bucket: str, client: Any = None) -> None:
        super().__init__(client)
        self.bucket = bucket


class ObjectWriter(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store body under key, replacing any object there; raise StorageUnavailable on failure."""


class S3ObjectWriter(S3Bucket):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(type(error).__name__) from error


class MemoryObjectWriter:
    """ObjectWriter over a dict of key -> body."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.objects[key] = body
