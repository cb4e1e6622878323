"""Where a purge pass writes down how far it got: the port, its S3 adapter and its in-memory twin.

Two records, as JSON objects in the reports bucket: the checkpoint (request ids, machine keys, the last
key done, counts) and the small progress record written between its saves. No GUIDs, no report content.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ceip.storage.s3 import S3Bucket

CHECKPOINT_KEY = "purge-state/checkpoint.json"
PROGRESS_KEY = "purge-state/progress.json"


class CheckpointStore(Protocol):
    def load(self) -> dict[str, Any] | None: ...
    def save(self, state: dict[str, Any]) -> None: ...

    def load_progress(self) -> dict[str, Any] | None:
        """The progress record written since the last save (it names the save it extends), if any."""

    def save_progress(self, progress: dict[str, Any]) -> None:
        """A small record written before each change of an object, between full saves."""

    def clear(self) -> None:
        """Remove the checkpoint and the progress record."""


class S3Checkpoint(S3Bucket):
    def __init__(
        self, bucket: str, client: Any = None, key: str = CHECKPOINT_KEY, progress_key: str = PROGRESS_KEY
    ) -> None:
        super().__init__(bucket, client)
        self._key = key
        self._progress_key = progress_key

    def load(self) -> dict[str, Any] | None:
        return self._get(self._key)

    def save(self, state: dict[str, Any]) -> None:
        self._put(self._key, state)

    def load_progress(self) -> dict[str, Any] | None:
        return self._get(self._progress_key)

    def save_progress(self, progress: dict[str, Any]) -> None:
        self._put(self._progress_key, progress)

    def clear(self) -> None:
        # The checkpoint first: a progress record without it is ignored (it names a pass that is over).
        self.client.delete_object(Bucket=self.bucket, Key=self._key)
        self.client.delete_object(Bucket=self.bucket, Key=self._progress_key)

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        loaded: dict[str, Any] = json.loads(body)
        return loaded

    def _put(self, key: str, record: dict[str, Any]) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=key, Body=encode(record), ContentType="application/json"
        )


def encode(record: dict[str, Any]) -> bytes:
    """A record as stored: json.dumps with its defaults (a checkpoint written by any version resumes)."""
    return json.dumps(record).encode()


class MemoryCheckpoint:
    """CheckpointStore holding the bytes S3Checkpoint would PUT (so a round trip serializes as S3's does),
    and counting what it writes."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}
        self.saves = 0
        self.saved_bytes = 0
        self.progress_saves = 0

    def load(self) -> dict[str, Any] | None:
        return self._get(CHECKPOINT_KEY)

    def save(self, state: dict[str, Any]) -> None:
        self.records[CHECKPOINT_KEY] = body = encode(state)
        self.saves += 1
        self.saved_bytes += len(body)

    def load_progress(self) -> dict[str, Any] | None:
        return self._get(PROGRESS_KEY)

    def save_progress(self, progress: dict[str, Any]) -> None:
        self.records[PROGRESS_KEY] = encode(progress)
        self.progress_saves += 1

    def clear(self) -> None:
        self.records.clear()

    def _get(self, key: str) -> dict[str, Any] | None:
        body = self.records.get(key)
        if body is None:
            return None
        loaded: dict[str, Any] = json.loads(body)
        return loaded
