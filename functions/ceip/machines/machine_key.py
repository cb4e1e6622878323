"""Keyed hash of a machine GUID: how suppression data names a machine without holding its GUID.

HMAC-SHA256 under a secret key: without the key, a suppression entry cannot be tested against a
guessed GUID, and the GUID cannot be recovered from it.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

MIN_KEY_BYTES = 32


def canonical_guid(machine_id: str | uuid.UUID) -> str:
    """Lower-case hyphenated form, as stored in reports, so every spelling hashes alike."""
    return str(machine_id if isinstance(machine_id, uuid.UUID) else uuid.UUID(str(machine_id)))


def machine_key(machine_id: str | uuid.UUID, secret: bytes) -> str:
    if len(secret) < MIN_KEY_BYTES:
        raise ValueError("the machine-key secret must hold at least 32 bytes")
    digest = hmac.new(secret, canonical_guid(machine_id).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()


class MachineKeyer:
    """Hashes GUIDs under one secret, remembering recent results (a machine sends many reports)."""

    def __init__(self, secret: bytes, cache_size: int = 200_000) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise ValueError("the machine-key secret must hold at least 32 bytes")
        self._prototype = hmac.new(secret, digestmod=hashlib.sha256)
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def key(self, machine_id: str) -> str:
        """machine_id must already be canonical (lower-case), as in stored reports and validated models."""
        found = self._cache.get(machine_id)
        if found is None:
            mac = self._prototype.copy()
            mac.update(machine_id.encode("ascii"))
            found = mac.hexdigest()
            if len(self._cache) >= self._cache_size:
                self._cache.clear()
            self._cache[machine_id] = found
        return found
