"""S3 adapter for the inbox bucket, where SES stores raw messages and the team stores letters."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.privacy.ports import InboxUnavailable
from ceip.storage.s3 import s3_client

RAW_CONTENT_TYPE = "message/rfc822"


class S3RawMailStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def get(self, key: str) -> bytes | None:
        try:
            response = self.client.get_object(Bucket=self._bucket, Key=key)
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
            self.client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=RAW_CONTENT_TYPE)
        except (ClientError, BotoCoreError) as error:
            raise InboxUnavailable(error_code(error)) from error

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise InboxUnavailable(error_code(error)) from error
