"""The purge's compact suppression set: 16 bytes a key, exact answers for keys in and out."""

from __future__ import annotations

import hashlib

from ceip.machines.suppression import MachineKeySet, read_key_set


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
    # And a key with spaces (which bytes.fromhex skips) neither matches nor shifts its neighbours
    spaced = key(7)[:2] + "  " + key(7)[4:]
    page = [key(7), spaced, key(8)] * 4
    assert keys.contains_each(page) == [True, False, True] * 4 and spaced not in keys


def test_keys_sharing_their_first_64_bits_are_told_apart_by_page() -> None:
    # Given a set where runs of keys share their first 16 hex digits (the part searched first)
    shared = ["0" * 16 + key(n)[16:] for n in range(5)] + ["f" * 16 + key(n)[16:] for n in range(5, 8)]
    keys = MachineKeySet.of(shared + [key(n) for n in range(100)])
    # When pages ask about each member of the runs and about strangers with the same first digits
    strangers = ["0" * 16 + key(n)[16:] for n in range(200, 203)] + ["f" * 16 + key(300)[16:]]
    page = [*reversed(shared), *strangers, key(3), key(500)]
    # Then members are found wherever they sit in their run, and strangers are not
    assert keys.contains_each(page) == [True] * len(shared) + [False] * len(strangers) + [True, False]
    assert keys.contains_each(page) == [k in keys for k in page]


def test_an_empty_set_holds_no_key() -> None:
    assert MachineKeySet.of([]).contains_each([key(n) for n in range(10)]) == [False] * 10


def test_the_set_holds_16_bytes_a_key() -> None:
    keys = MachineKeySet.of(key(n) for n in range(50_000))
    assert len(keys) == 50_000
    assert keys.nbytes == 16 * 50_000


class PagedScan:
    """A DynamoDB client's Scan paginator over fixed pages (what read_key_set reads)."""

    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages

    def get_paginator(self, name: str) -> PagedScan:
        assert name == "scan"
        return self

    def paginate(self, **_: object) -> list[dict[str, object]]:
        return [{"Items": [{"machine_key": {"S": k}} for k in page]} for page in self.pages]


def test_the_purge_holds_few_keys_as_a_set_and_many_as_packed_prefixes() -> None:
    # Given a suppression table read in three pages of 40 keys
    pages = [[key(n) for n in range(start, start + 40)] for start in (0, 40, 80)]
    # When the purge reads it with room for 200 keys as strings, and with room for 100
    few = read_key_set("suppression", PagedScan(pages), small_set_keys=200)
    many = read_key_set("suppression", PagedScan(pages), small_set_keys=100)
    # Then the first is a frozenset and the second a MachineKeySet of 16 bytes a key, both exact
    assert few == frozenset(key(n) for n in range(120))
    assert isinstance(many, MachineKeySet) and many.nbytes == 16 * 120
    assert all(key(n) in many for n in range(120)) and key(120) not in many
