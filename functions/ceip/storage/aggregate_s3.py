"""What aggregation reads and writes: raw report objects in (ReportSource), aggregate files out
(AggregateStore); each port with its S3 adapter and its in-memory twin.

Its own client: aggregation fetches many objects at once (a connection per worker) and can wait
longer than the ingest path, whose short timeouts suit a 30-second API. Built lazily, after any mock.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.storage.s3 import S3Bucket, StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_POOL_CONNECTIONS = 64
"""At least the number of fetch workers, so no worker waits for a connection."""
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"mode": "standard", "total_max_attempts": 5},
    max_pool_connections=MAX_POOL_CONNECTIONS,
)
_DELETE_BATCH = 1000
"""DeleteObjects takes at most 1000 keys."""
_MISSING = {"NoSuchKey", "404", "NotFound"}


@cache
def aggregate_s3_client() -> S3Client:
    return boto3.client("s3", config=_CLIENT_CONFIG)


class ReportSource(Protocol):
    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under prefix, in key order."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when it vanished since listing; raise on any other failure."""


class AggregateStore(Protocol):
    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        """Store body under key, replacing any object there."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""

    def list_keys(self, prefix: str) -> list[str]:
        """Every object key under prefix."""

    def delete(self, keys: Sequence[str]) -> None:
        """Delete these keys (absent ones are fine)."""


class _Bucket(S3Bucket):
    client_factory = staticmethod(aggregate_s3_client)

    def list_keys(self, prefix: str) -> list[str]:
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            for page in pages:
                found.extend(item["Key"] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(type(error).__name__) from error
        return sorted(found)

    def get(self, key: str) -> bytes | None:
        try:
            body: bytes = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise StorageUnavailable(type(error).__name__) from error
        except BotoCoreError as error:
            raise StorageUnavailable(type(error).__name__) from error
        return body


class S3ReportSource(_Bucket):
    """Raw report objects (reports/dt=.../hr=.../*.ndjson.gz) of the reports bucket."""


class S3AggregateStore(_Bucket):
    """Aggregate files of the aggregates bucket."""

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StorageUnavailable(type(error).__name__) from error

    def delete(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (ClientError, BotoCoreError) as error:
                raise StorageUnavailable(type(error).__name__) from error
            if answer.get("Errors"):
                raise StorageUnavailable(f"DeleteObjects: {answer['Errors'][0].get('Code', 'error')}")


class MemorySource:
    """ReportSource over a dict of key -> body, like the reports bucket."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)


class MemoryStore(MemorySource):
    """AggregateStore over a dict of key -> body, like the aggregates bucket."""

    def __init__(self) -> None:
        super().__init__({})

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.objects[key] = body

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)
