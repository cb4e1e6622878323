"""The salt that keys the machines' HLL sketch keys, derived from the machine-key secret.

A sketch of a small cell holds its machines' hashes; keyed, they cannot be tested against a known GUID
by anyone without the secret (docs/privacy-model.md). The salt is HMAC-SHA256(secret, a fixed context):
distinct from the suppression list's keys (a suppression entry cannot be matched to a sketch), and the
secret itself never reaches the SQL engine. docs/adr/0013 says why the keyed hash then runs in SQL.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cache

from ceip.machines.machine_key import MIN_KEY_BYTES
from ceip.machines.secret import machine_key_secret

_CONTEXT = b"ceip/aggregate/sketch-keys/v2"


@dataclass(frozen=True, slots=True)
class SketchSalt:
    """Hex salt for sql/machine_sketch_keys.sql; never printed (repr hides it), logged or stored."""

    hex: str = field(repr=False)

    @classmethod
    def from_secret(cls, secret: bytes) -> SketchSalt:
        if len(secret) < MIN_KEY_BYTES:
            raise ValueError("the machine-key secret must hold at least 32 bytes")
        return cls(hmac.new(secret, _CONTEXT, hashlib.sha256).hexdigest())


@cache
def sketch_salt(secret_id: str) -> SketchSalt:
    """The container's salt: the secret is fetched once (SecretUnavailable when it cannot be)."""
    return SketchSalt.from_secret(machine_key_secret(secret_id))
