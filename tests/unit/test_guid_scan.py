"""GUID scanning of stored objects: the quick scan and the line split agree, on good lines and bad."""

from __future__ import annotations

from collections import Counter

import pytest

from ceip.datasubject.guid_scan import SuppressedGuids, candidates, guid_of, split_lines

ERASED = "3f2b6c1e-8d4a-4b7e-9c2d-1a5e6f7b8c9d"
KEPT = "7a1c2e3f-4b5d-4e6f-8a9b-0c1d2e3f4a5b"


def key_of(guid: str) -> str:
    """A stand-in for the keyed hash: any injective function of the GUID does."""
    return f"key:{guid}"


SUPPRESSED = frozenset({key_of(ERASED)})


def line(machine_id: str, extra: str = "") -> bytes:
    """A canonical stored line (sorted keys, no spaces), as report_codec writes it."""
    return f'{{{extra}"machine_id":"{machine_id}","report_id":"r","received_at":"t"}}\n'.encode()


def test_a_line_of_a_suppressed_machine_is_found_and_split_out_with_its_count() -> None:
    # Given an object holding two lines of the erased machine around one of another machine
    data = line(ERASED) + line(KEPT) + line(ERASED)
    # When it is scanned and split
    found = SuppressedGuids(key_of, SUPPRESSED).any_in(data)
    lines, hits = split_lines(data, key_of, SUPPRESSED)
    # Then the scan says yes, and the split marks exactly the erased machine's lines, in order
    assert found
    assert lines == [(line(ERASED), key_of(ERASED)), (line(KEPT), None), (line(ERASED), key_of(ERASED))]
    assert hits == Counter({key_of(ERASED): 2})
    assert candidates(data) == {f'{ERASED}"'.encode(), f'{KEPT}"'.encode()}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty data"),
        pytest.param(line(KEPT), id="another machine only"),
        pytest.param(line(ERASED.upper()), id="upper case: never stored, never matched"),
        pytest.param(line(ERASED[:-1]), id="GUID one digit short"),
        pytest.param(line(ERASED[:-1] + "g"), id="non-hex digit"),
        pytest.param(line(ERASED.replace("-", "")), id="GUID without hyphens"),
        pytest.param(line(KEPT, extra=f'"old_machine_id":"{ERASED}",'), id="field name inside another name"),
        pytest.param(
            line(KEPT, extra=f'"note":"\\"machine_id\\":\\"{ERASED}\\"",'),
            id="field name inside a string value",
        ),
        pytest.param(f'{{"machine_id":"{ERASED[:12]}'.encode(), id="line cut short at the end of data"),
        pytest.param(b'"machine_id":"', id="nothing after the field name"),
    ],
)
def test_lines_without_a_suppressed_machine_id_are_neither_found_nor_split_out(data: bytes) -> None:
    # Given an object whose bytes may hold the erased GUID, but not as a line's machine_id value
    scan = SuppressedGuids(key_of, SUPPRESSED)
    # When it is scanned and split
    found = scan.any_in(data)
    lines, hits = split_lines(data, key_of, SUPPRESSED)
    # Then neither finds the erased machine, and the split keeps every byte
    assert not found
    assert hits == Counter()
    assert all(key is None for _, key in lines)
    assert b"".join(text for text, _ in lines) == data


def test_a_last_line_without_newline_is_found_and_kept_as_it_is() -> None:
    # Given an object whose last line, the erased machine's, has no newline
    data = line(KEPT) + line(ERASED).rstrip(b"\n")
    # When it is scanned and split
    found = SuppressedGuids(key_of, SUPPRESSED).any_in(data)
    lines, hits = split_lines(data, key_of, SUPPRESSED)
    # Then the line is found and split out without a newline added
    assert found
    assert lines[-1] == (line(ERASED).rstrip(b"\n"), key_of(ERASED))
    assert hits == Counter({key_of(ERASED): 1})


def test_guid_of_accepts_only_a_lower_case_guid_and_its_closing_quote() -> None:
    # Given candidates as the scan slices them
    # When each is read
    # Then only a canonical GUID followed by its quote is one
    assert guid_of(f'{ERASED}"'.encode()) == ERASED
    assert guid_of(f'{ERASED.upper()}"'.encode()) is None
    assert guid_of(ERASED.encode()) is None
    assert guid_of(f'{ERASED[:-1]}""'.encode()) is None


def test_each_guid_is_hashed_once_until_the_cache_is_full_then_the_cache_starts_over() -> None:
    # Given a scan remembering two verdicts, and a keyed hash that counts its calls
    asked: list[str] = []

    def counting_key(guid: str) -> str:
        asked.append(guid)
        return key_of(guid)

    scan = SuppressedGuids(counting_key, SUPPRESSED, size=2)
    other = "00000000-0000-4000-8000-000000000001"
    # When the same two machines are scanned three times, then a third machine, then the first again
    for _ in range(3):
        assert not scan.any_in(line(KEPT) + line(other))
    assert scan.any_in(line(ERASED))
    assert not scan.any_in(line(KEPT))
    # Then each was hashed once until the third filled the cache, which then started over
    assert sorted(asked[:2]) == sorted([KEPT, other])
    assert asked[2:] == [ERASED, KEPT]


def test_nothing_suppressed_answers_no_without_hashing() -> None:
    # Given an empty suppression list
    asked: list[str] = []
    scan = SuppressedGuids(lambda guid: asked.append(guid) or key_of(guid), frozenset())
    # When an object of any machine is scanned
    # Then the answer is no, and no GUID was hashed
    assert not scan.any_in(line(ERASED))
    assert asked == []
