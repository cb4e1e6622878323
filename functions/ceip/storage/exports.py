"""Data exports: the port the export needs (an encrypted object, a presigned link, deletion) and its S3
adapter.

A presigned link stops working when the credentials that signed it expire, whatever its ExpiresIn. So
the adapter signs with a session of the export signer role assumed for the link's whole lifetime (the
role's only right is reading exports), not with the caller's session, which may end sooner, and not
with long-lived access keys.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from ceip.storage.s3 import S3Bucket

_MIN_SESSION_SECONDS = 900
"""STS refuses shorter sessions."""


class ExportWriter(Protocol):
    def put_json(self, key: str, body: bytes) -> None: ...
    def presigned_url(self, key: str, expires_in: int) -> str: ...
    def delete(self, key: str) -> bool:
        """Delete the document; False when there was none."""


class S3ExportWriter(S3Bucket):
    def __init__(
        self,
        bucket: str,
        client: Any = None,
        *,
        signer_role_arn: str | None = None,
        session_name: str = "ceip-export",
    ) -> None:
        super().__init__(bucket, client)
        self.signer_role_arn = signer_role_arn
        self.session_name = _session_name(session_name)

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
        url: str = self._signer(expires_in).generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
        )
        return url

    def delete(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return True

    def _signer(self, expires_in: int) -> Any:
        """An S3 client on a session of the signer role that outlives the link (the caller's own client
        when no role is configured: the local stack, whose keys never expire)."""
        if not self.signer_role_arn:
            return self.client
        credentials = boto3.client("sts").assume_role(
            RoleArn=self.signer_role_arn,
            RoleSessionName=self.session_name,
            DurationSeconds=max(_MIN_SESSION_SECONDS, expires_in),
        )["Credentials"]
        return boto3.client(
            "s3",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            config=Config(signature_version="s3v4"),
        )


def _session_name(name: str) -> str:
    """An STS session name (2-64 of [\\w+=,.@-]) from the sender's identity, for CloudTrail."""
    cleaned = re.sub(r"[^\w+=,.@-]", "-", name)[-64:]
    return cleaned if len(cleaned) >= 2 else "ceip-export"
