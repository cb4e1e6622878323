"""The suppression list as aggregation and the CLI read it: every key at once, one Scan."""

from __future__ import annotations

from ceip.machines.keyer import machine_keyer
from ceip.machines.suppression import SuppressionSnapshot, scan_keys


def suppression_snapshot(table: str, secret_id: str) -> SuppressionSnapshot:
    """Read once per run: a machine suppressed after this moment is left out by the next run."""
    return SuppressionSnapshot(scan_keys(table), machine_keyer(secret_id))
