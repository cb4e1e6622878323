"""Data exports: the port the export needs (an encrypted object and a presigned link) and its S3 adapter."""

from __future__ import annotations

from typing import Protocol

from ceip.storage.s3 import S3Bucket


class ExportWriter(Protocol):
    def put_json(self, key: str, body: bytes) -> None: ...
    def presigned_url(self, key: str, expires_in: int) -> str: ...


class S3ExportWriter(S3Bucket):
    def put_json(self, key: str, body: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentDisposition='attachment; filename="ceip-export.json"',
            # No ServerSideEncryption here: the bucket's default (SSE-KMS with the stack's data key) applies.
        )

    def presigned_url(self, key: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url
