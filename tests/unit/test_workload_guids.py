"""The shared report generator's GUIDs: what uuid.UUID makes of the same random draws, formatted faster."""

from __future__ import annotations

import random
import uuid

from benchmarks.workloads.reports import guid


def test_a_drawn_guid_is_the_version_4_uuid_of_the_same_draw() -> None:
    # Given two generators in the same state
    ours, reference = random.Random(16), random.Random(16)
    # When each draws 20,000 GUIDs, one through the generator's guid() and one through uuid.UUID
    drawn = [guid(ours) for _ in range(20_000)]
    expected = [str(uuid.UUID(int=reference.getrandbits(128), version=4)) for _ in range(20_000)]
    # Then the texts are the same, each a canonical version 4 GUID
    assert drawn == expected
    assert all(uuid.UUID(g).version == 4 and str(uuid.UUID(g)) == g for g in drawn[:100])
