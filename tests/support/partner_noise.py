"""A Noise for tests of the partner release's logic: no noise at all, and a threshold at the floor.

It makes the partner tables a function of the exact counts, so their derivations (prevalence, shares,
percentiles, which keys and products) can be checked against the truth; the privacy itself is tested
with OpenDP's noise (tests/functional/test_partner_attacks.py, tests/unit/test_partner_release.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from ceip.aggregate.partner_budget import Planned


class ExactNoise:
    def __init__(self) -> None:
        self.drawn: list[str] = []
        """The statistics drawn, in order."""

    def threshold(self, counts: dict[str, int], planned: Planned, floor: int) -> dict[str, int]:
        self.drawn.append(planned.statistic.name)
        return {key: value for key, value in counts.items() if value >= floor}

    def gaussian(self, values: Sequence[int], planned: Planned) -> list[int]:
        self.drawn.append(planned.statistic.name)
        return list(values)
