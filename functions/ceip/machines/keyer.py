"""The container's MachineKeyer: the secret is fetched once, frequent machines' hashes reused."""

from __future__ import annotations

from functools import cache

from ceip.machines.machine_key import MachineKeyer
from ceip.machines.secret import machine_key_secret


@cache
def machine_keyer(secret_id: str) -> MachineKeyer:
    return MachineKeyer(machine_key_secret(secret_id))
