"""The inbox bucket, where SES stores raw messages and the team stores letters: the port, its error and
its S3 adapter."""

from __future__ import annotations

from typing import Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.storage.s3 import S3Bucket

RAW_CONTENT_TYPE = "message/rfc822"


class InboxUnavailable(Exception):
    """The inbox bucket could not be read or written."""


class RawMailStore(Protocol):
    def get(self, key: str) -> bytes | None:
        """The stored message, or None when it no longer exists; InboxUnavailable on failure."""

    def put(self, key: str, body: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class S3RawMailStore(S3Bucket):
    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            body: bytes = response["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise InboxUnavailable(error_code(error)) from error
        except BotoCoreError as error:
            raise InboxUnavailable(error_code(error)) from error
        return body

    def put(self, key: str, body: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=RAW_CONTENT_TYPE)
        except (ClientError, BotoCoreError) as error:
            raise InboxUnavailable(error_code(error)) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise InboxUnavailable(error_code(error)) from error
