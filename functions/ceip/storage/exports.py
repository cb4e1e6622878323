"""S3 adapter for data exports: encrypted objects and presigned links."""

from __future__ import annotations

from typing import Any

from ceip.storage.s3 import s3_client


class S3ExportWriter:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        return self._client or s3_client()

    def put_json(self, key: str, body: bytes) -> None:
        self.client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=body,
            ContentType="application/json",
            ContentDisposition='attachment; filename="ceip-export.json"',
            # No ServerSideEncryption here: the bucket's default (SSE-KMS with the stack's data key) applies.
        )

    def presigned_url(self, key: str, expires_in: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url
