"""The purge's compact suppression set: 16 bytes a key, exact answers for keys in and out."""

from __future__ import annotations

import hashlib

from ceip.machines.suppression import MachineKeySet


def key(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def test_members_and_strangers_are_told_apart_one_by_one_and_by_page() -> None:
    # Given 10,000 keys in the set
    keys = MachineKeySet.of(key(n) for n in range(10_000))
    # Then each is a member, and keys outside it, broken keys and non-strings are not
    assert all(key(n) in keys for n in range(0, 10_000, 97))
    assert not any(key(n) in keys for n in range(10_000, 10_100))
    assert "not-a-key" not in keys and 42 not in keys and key(1)[:63] not in keys
    page = [key(5), key(20_000), "zz" * 32, key(9_999)] * 3
    assert keys.contains_each(page) == [key in keys for key in page] == [True, False, False, True] * 3


def test_the_set_holds_16_bytes_a_key() -> None:
    keys = MachineKeySet.of(key(n) for n in range(50_000))
    assert len(keys) == 50_000
    assert keys.nbytes == 16 * 50_000
