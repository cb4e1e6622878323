"""Purge benchmark: a day of 1,000,000 reports, 1,000 pending erasures, against reading the same objects.

Target (from the issue): `Purger.run()` (the pass plus its verification re-scan) takes at most 3x the
floor, which lists, reads and gzip-decompresses every object of the same in-memory store once.

The day is generated as ingest stores it: gzip NDJSON, one canonical line per report plus
`received_at`, keyed by content digest, built by ceip's own Report model and report_codec for a pool of
template reports whose ids and times are then varied by string replacement (a sample is parsed back
and re-encoded byte for byte). A request comes from one client, so ingest writes one machine's reports
per object: that is the layout checked. The mixed layout (100 machines per object, as a relay batching
for many clients would send) is timed for information. Storage, checkpoints and requests are in-memory
fakes, so the figures are the purge's own CPU cost; S3 round trips are not in them.

Generated objects are cached under .bench-cache/purge/ (the file name carries a fingerprint of the
parameters and the template lines, so a change in the report format regenerates them).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import random
import re
import struct
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.harness import Check, Profile, median, paired_ratio
from benchmarks.render import (
    PROJECT_ROOT,
    Section,
    checks_markdown,
    machine_line,
    markdown_table,
    shares_table,
)
from benchmarks.workloads.ports import MemoryDynamoDB
from benchmarks.workloads.reports import client_report, guid
from ceip.datasubject.guid_scan import KeyLookup
from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus, expected_by
from ceip.datasubject.purge import CHECKPOINT_SECONDS, PROGRESS_ENTRIES, PurgeOutcome, Purger, PurgeStatus
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import KEY_ATTRIBUTE, read_key_set
from ceip.reports.model import Report
from ceip.storage import keys, report_codec
from ceip.storage.report_objects import MemoryReportObjects

MACHINES = 100_000
REPORTS_PER_MACHINE = 10
"""Per machine per day: 1,000,000 reports in all."""
MAX_REPORTS_PER_OBJECT = 10
"""One-machine layout: each object holds min(uniform 1..10, the machine's reports left that day)."""
MIXED_REPORTS_PER_OBJECT = 100
"""Mixed layout: 100 reports of 100 different machines per object (the batch limit)."""
ERASURES = 1_000
TEMPLATES = 256
"""Distinct report bodies (products, configurations, samples) the generated reports are drawn from."""
DAY = datetime(2026, 11, 28, tzinfo=UTC)
SEED = 20261128
SECRET = b"purge-bench-machine-key-secret-0123456789abcdefg"
"""48 bytes, fixed: the suppressed keys and the requests' machine keys are derived from it."""
ROUNDS = 5
"""Rounds of the checked layout: the machine is shared and per-round ratios vary by +-20%."""
MIXED_ROUNDS = 3
PURGE_MAX_FLOOR_RATIO = 3.0
GZIP_WBITS = 16 + zlib.MAX_WBITS
CACHE_DIR = PROJECT_ROOT / ".bench-cache" / "purge"
CACHE_FORMAT = b"ceip-purge-bench 1\n"
SAMPLE_EVERY = 997
"""Every 997th object is parsed back through Report and re-encoded, as a check of the generator."""
SUPPRESSION_TABLE = "suppression"
"""The table name read_key_set is given (the in-memory client ignores it)."""

_SENTINEL_REPORT = "00000000-0000-4000-8000-00000000aaaa"
_SENTINEL_MACHINE = "00000000-0000-4000-8000-00000000bbbb"
_SENTINEL_CREATED = "2000-01-01T00:00:00Z"
_RECORD = struct.Struct("<HI")
_MACHINE_FIELD = re.compile(rb'"machine_id":"([^"]+)"')


# --- the generated day ------------------------------------------------------------------------------


def template_lines(count: int = TEMPLATES, seed: int = SEED) -> list[str]:
    """Canonical lines (ceip's Report model and report_codec) with sentinel ids and creation time."""
    rng = random.Random(seed)
    lines: list[str] = []
    for _ in range(count):
        wire = client_report(rng, DAY + timedelta(hours=12))
        wire.update(report_id=_SENTINEL_REPORT, machine_id=_SENTINEL_MACHINE, created_at=_SENTINEL_CREATED)
        lines.append(report_codec.canonical_line(Report.model_validate(wire)))
    return lines


def machine_ids(seed: int = SEED) -> list[str]:
    rng = random.Random(seed + 1)
    return [guid(rng) for _ in range(MACHINES)]


def _clock(second: int) -> str:
    hours, rest = divmod(second, 3600)
    return f"{DAY:%Y-%m-%d}T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}Z"


@dataclass(frozen=True, slots=True)
class Layouts:
    one_machine: dict[str, bytes]
    mixed: dict[str, bytes]


def _encode(lines: list[str], received_at: datetime, into: dict[str, bytes]) -> None:
    """What ingest's service does with the canonical lines of one accepted batch."""
    key = keys.report_object_key(received_at, report_codec.content_digest(lines))
    into[key] = report_codec.encode_lines(lines, received_at)


def generate(templates: list[str], machines: list[str], seed: int = SEED) -> Layouts:
    """Both layouts of the same 1,000,000 reports, built machine by machine.

    Each machine's reports are spread over the day; a one-machine object is received up to ten minutes
    after its last report. Mixed object (j, c) holds report j of machines 100c .. 100c+99.
    """
    rng = random.Random(seed + 2)
    one_machine: dict[str, bytes] = {}
    mixed: dict[str, bytes] = {}
    pending: list[list[tuple[int, str]]] = [[] for _ in range(REPORTS_PER_MACHINE)]
    for index, machine in enumerate(machines):
        seconds = sorted(rng.randrange(0, 86_400 - 900) for _ in range(REPORTS_PER_MACHINE))
        lines = [
            templates[rng.randrange(len(templates))]
            .replace(_SENTINEL_REPORT, guid(rng))
            .replace(_SENTINEL_MACHINE, machine)
            .replace(_SENTINEL_CREATED, _clock(second))
            for second in seconds
        ]
        start = 0
        while start < len(lines):
            size = min(rng.randint(1, MAX_REPORTS_PER_OBJECT), len(lines) - start)
            last = seconds[start + size - 1]
            received = DAY + timedelta(seconds=last + rng.randint(1, 600), milliseconds=rng.randrange(1000))
            _encode(lines[start : start + size], received, one_machine)
            start += size
        for j, (second, line) in enumerate(zip(seconds, lines, strict=True)):
            pending[j].append((second, line))
        if (index + 1) % MIXED_REPORTS_PER_OBJECT == 0:
            for group in pending:
                last = max(second for second, _ in group)
                received = DAY + timedelta(
                    seconds=last + rng.randint(1, 600), milliseconds=rng.randrange(1000)
                )
                _encode([line for _, line in group], received, mixed)
                group.clear()
    return Layouts(one_machine, mixed)


def check_sample(objects: dict[str, bytes], every: int = SAMPLE_EVERY) -> int:
    """Parse sampled objects back through Report and re-encode them: the bytes must be identical.

    Returns the number of reports checked; raises if one object differs from what ingest would write.
    """
    checked = 0
    for key in sorted(objects)[::every]:
        data = objects[key]
        parsed = [json.loads(line) for line in zlib.decompress(data, wbits=GZIP_WBITS).splitlines()]
        stamps = {entry.pop(report_codec.RECEIVED_AT) for entry in parsed}
        if len(stamps) != 1:
            raise RuntimeError(f"{key}: one received_at per object expected, found {stamps}")
        received_at = datetime.fromisoformat(stamps.pop())
        lines = [report_codec.canonical_line(Report.model_validate(entry)) for entry in parsed]
        if report_codec.encode_lines(lines, received_at) != data:
            raise RuntimeError(f"{key}: not byte-identical to what ingest writes")
        if keys.report_object_key(received_at, report_codec.content_digest(lines)) != key:
            raise RuntimeError(f"{key}: key is not the one ingest derives")
        checked += len(lines)
    return checked


def _fingerprint(templates: list[str]) -> str:
    parameters = (
        MACHINES,
        REPORTS_PER_MACHINE,
        MAX_REPORTS_PER_OBJECT,
        MIXED_REPORTS_PER_OBJECT,
        DAY.isoformat(),
        SEED,
        CACHE_FORMAT,
    )
    digest = hashlib.sha256(repr(parameters).encode())
    for line in templates:
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def _write_cache(path: Path, objects: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        out.write(CACHE_FORMAT)
        for key, data in objects.items():
            encoded = key.encode()
            out.write(_RECORD.pack(len(encoded), len(data)))
            out.write(encoded)
            out.write(data)
    partial.replace(path)


def read_cache(path: Path) -> dict[str, bytes]:
    raw = path.read_bytes()
    if not raw.startswith(CACHE_FORMAT):
        raise ValueError(f"{path}: not a cache file of this format")
    objects: dict[str, bytes] = {}
    view = memoryview(raw)
    offset = len(CACHE_FORMAT)
    while offset < len(raw):
        key_length, data_length = _RECORD.unpack_from(raw, offset)
        offset += _RECORD.size
        key = bytes(view[offset : offset + key_length]).decode()
        offset += key_length
        objects[key] = bytes(view[offset : offset + data_length])
        offset += data_length
    return objects


def cache_paths(templates: list[str] | None = None) -> tuple[Path, Path]:
    """Where load_day keeps the one-machine and the mixed layout of the day."""
    fingerprint = _fingerprint(templates or template_lines())
    return CACHE_DIR / f"one-machine-{fingerprint}.bin", CACHE_DIR / f"mixed-{fingerprint}.bin"


@dataclass(frozen=True, slots=True)
class Day:
    layouts: Layouts
    machines: list[str]
    from_cache: bool
    generate_seconds: float
    sampled_reports: int


def load_day() -> Day:
    """The generated day from .bench-cache/purge/, generating (and caching) it when missing or stale."""
    templates = template_lines()
    machines = machine_ids()
    paths = cache_paths(templates)
    start = time.perf_counter()
    if all(path.exists() for path in paths):
        layouts = Layouts(read_cache(paths[0]), read_cache(paths[1]))
        from_cache = True
    else:
        layouts = generate(templates, machines)
        for stale in CACHE_DIR.glob("*.bin"):  # other fingerprints: an older format or parameters
            stale.unlink()
        _write_cache(paths[0], layouts.one_machine)
        _write_cache(paths[1], layouts.mixed)
        from_cache = False
    seconds = time.perf_counter() - start
    sampled = check_sample(layouts.one_machine) + check_sample(layouts.mixed, every=97)
    for name, objects, per_object in (
        ("one-machine", layouts.one_machine, 1),
        ("mixed", layouts.mixed, MIXED_REPORTS_PER_OBJECT),
    ):
        total = 0
        for data in objects.values():
            text = zlib.decompress(data, wbits=GZIP_WBITS)
            total += text.count(b"\n")
            if len(set(_MACHINE_FIELD.findall(text))) != per_object:
                raise RuntimeError(f"{name} object does not hold {per_object} machine(s)")
        if total != MACHINES * REPORTS_PER_MACHINE:
            raise RuntimeError(f"{name} layout holds {total:,} reports")
    return Day(layouts, machines, from_cache, seconds, sampled)


@dataclass(frozen=True, slots=True)
class Erasures:
    machines: frozenset[str]
    requests: tuple[ErasureRequest, ...]
    keys: KeyLookup
    """The suppression table's content, as the purge reads it before the pass: read_key_set on the
    table's in-memory client (a frozenset at this size)."""


def erasures(machines: list[str], count: int = ERASURES, seed: int = SEED) -> Erasures:
    rng = random.Random(seed + 3)
    chosen = rng.sample(machines, count)
    keyer = MachineKeyer(SECRET)
    requests = []
    for machine in chosen:
        received = DAY + timedelta(seconds=rng.randrange(86_400))
        requests.append(
            ErasureRequest(
                request_id=guid(rng),
                machine_key=keyer.key(machine),
                status=RequestStatus.RECEIVED,
                received_at=received,
                expected_by=expected_by(received),
            )
        )
    table = MemoryDynamoDB({r.machine_key for r in requests}, KEY_ATTRIBUTE)
    return Erasures(frozenset(chosen), tuple(requests), read_key_set(SUPPRESSION_TABLE, table))


# --- timing -------------------------------------------------------------------------------------------


def floor_pass(store: MemoryReportObjects) -> int:
    """The least a purge must do: list every object, read it and decompress it, once. Bytes inflated."""
    inflated = 0
    for stored in store.objects(keys.REPORTS_PREFIX, None):
        inflated += len(zlib.decompress(store.read(stored.key, stored.latest_version), wbits=GZIP_WBITS))
    return inflated


@dataclass(frozen=True, slots=True)
class PurgeRun:
    seconds: float
    outcome: PurgeOutcome
    store: MemoryReportObjects
    requests: MemoryRequestStore
    checkpoints: MemoryCheckpoint


def _purger(objects: dict[str, bytes], chosen: Erasures) -> tuple[Purger, PurgeRun]:
    store = MemoryReportObjects(objects)
    requests = MemoryRequestStore(list(chosen.requests))
    checkpoints = MemoryCheckpoint()
    purger = Purger(
        objects=store,
        requests=requests,
        checkpoints=checkpoints,
        keyer=MachineKeyer(SECRET),  # cold cache, as in a purge Lambda's first pass of the day
        suppressed_keys=chosen.keys,
        now=lambda: DAY + timedelta(days=1, hours=3),
    )
    placeholder = PurgeOutcome(PurgeStatus.NOTHING_PENDING)  # until purge_once runs it
    return purger, PurgeRun(0.0, placeholder, store, requests, checkpoints)


def purge_once(objects: dict[str, bytes], chosen: Erasures) -> PurgeRun:
    """One timed Purger.run() over a fresh copy of the day (copying is outside the timed region)."""
    purger, run = _purger(objects, chosen)
    gc.collect()
    start = time.perf_counter()
    outcome = purger.run()
    seconds = time.perf_counter() - start
    return dataclasses.replace(run, seconds=seconds, outcome=outcome)


def floor_once(objects: dict[str, bytes]) -> tuple[float, int]:
    store = MemoryReportObjects(objects)
    gc.collect()
    start = time.perf_counter()
    inflated = floor_pass(store)
    return time.perf_counter() - start, inflated


_GUID_TEXT = b'"machine_id":"'


def verify_independently(run: PurgeRun, original: dict[str, bytes], chosen: Erasures) -> None:
    """The benchmark's own check of a purge: no erased machine left, every other byte where it was."""
    verify_objects(run.store, original, chosen.machines)
    if run.outcome.status != "fulfilled":
        raise RuntimeError(f"purge ended {run.outcome.status}")
    for request in run.requests.by_id.values():
        receipt = request.receipt
        if request.status != RequestStatus.FULFILLED or receipt is None or receipt.verification_remaining:
            raise RuntimeError(f"request {request.request_id} not fulfilled with a clean receipt")
        if receipt.reports_removed != REPORTS_PER_MACHINE:
            raise RuntimeError(f"request {request.request_id}: {receipt.reports_removed} reports removed")


def verify_objects(store: MemoryReportObjects, original: dict[str, bytes], machines: frozenset[str]) -> None:
    """No line of the erased machines is left, and every other line is where it was, byte for byte."""
    remaining = store.contents()
    erased = {machine.encode() for machine in machines}
    kept_reports = 0

    def machine(line: bytes) -> bytes:
        start = line.index(_GUID_TEXT) + len(_GUID_TEXT)
        return line[start : start + 36]

    for key, data in remaining.items():
        lines = zlib.decompress(data, wbits=GZIP_WBITS).splitlines()
        if key in store.replaced:
            before = zlib.decompress(original[key], wbits=GZIP_WBITS).splitlines()
            if lines != [line for line in before if machine(line) not in erased]:
                raise RuntimeError(f"{key}: the other machines' lines did not survive byte for byte")
        elif data is not original[key]:
            raise RuntimeError(f"{key} changed but was not replaced")
        if any(machine(line) in erased for line in lines):
            raise RuntimeError(f"{key} still holds a line of an erased machine")
        kept_reports += len(lines)
    expected = (MACHINES - len(machines)) * REPORTS_PER_MACHINE
    if kept_reports != expected:
        raise RuntimeError(f"{kept_reports:,} reports left, expected {expected:,}")


@dataclass(frozen=True, slots=True)
class LayoutResult:
    name: str
    objects: int
    stored_bytes: int
    inflated_bytes: int
    floor_runs: tuple[float, ...]
    purge_runs: tuple[float, ...]
    last: PurgeRun

    @property
    def ratio(self) -> float:
        """Median of per-round ratios: each floor round runs just before its purge round."""
        return paired_ratio(self.purge_runs, self.floor_runs)

    @property
    def reports_per_object(self) -> float:
        return MACHINES * REPORTS_PER_MACHINE / self.objects

    @property
    def receipts(self) -> list[Receipt]:
        return [r.receipt for r in self.last.requests.by_id.values() if r.receipt is not None]


def measure_layout(
    name: str, objects: dict[str, bytes], chosen: Erasures, rounds: int = ROUNDS
) -> LayoutResult:
    floor_once(objects)  # warm-up: pages touched, code paths warm
    floor_runs: list[float] = []
    purge_runs: list[float] = []
    inflated = 0
    last: PurgeRun | None = None
    for index in range(rounds):
        seconds, inflated = floor_once(objects)
        floor_runs.append(seconds)
        last = purge_once(objects, chosen)
        purge_runs.append(last.seconds)
        if index == 0:
            verify_independently(last, objects, chosen)
        print(f"  {name} round {index + 1}: floor {seconds:.2f} s, purge {last.seconds:.2f} s", flush=True)
    assert last is not None
    return LayoutResult(
        name,
        len(objects),
        sum(len(data) for data in objects.values()),
        inflated,
        tuple(floor_runs),
        tuple(purge_runs),
        last,
    )


PROFILE_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("gzip inflate, every member: both passes", "ceip/storage/gzip_members.py", "inflate"),
    ("machine ids of each object: bytes.split on the field name", "", "<method 'split' of 'bytes' objects>"),
    ("machine_id regex: search per line of hit objects", "", "<method 'search' of 're.Pattern' objects>"),
    ("keyed hashes: MachineKeyer.key (once per machine)", "ceip/machines/machine_key.py", "key"),
    ("checkpoint: PassState.as_dict", "ceip/datasubject/purge_state.py", "as_dict"),
    ("checkpoint: save = json.dumps (as S3Checkpoint)", "ceip/datasubject/purge_checkpoint.py", "save"),
    ("progress record: save_progress = json.dumps", "ceip/datasubject/purge_checkpoint.py", "save_progress"),
    ("recompress kept lines: gzip.compress", "/gzip.py", "compress"),
    ("listing: ReportObjects.objects (in-memory)", "ceip/storage/report_objects.py", "objects"),
)
"""(label, file, function) of the work a purge does; file "" for a builtin. None calls another."""


def profile_purge(objects: dict[str, bytes], chosen: Erasures) -> list[tuple[str, float]]:
    """Share of one profiled Purger.run() per kind of work (cProfile inflates per-call Python overhead)."""
    purger, _ = _purger(objects, chosen)
    profile = Profile(purger.run)
    total = profile.seconds_in("ceip/datasubject/purge.py", "run")
    rest = "rest: Python per object (_split's sets and Counters, loops, receipts, ...)"
    return profile.shares(total, PROFILE_GROUPS, rest, at_least=0.005)


# --- section ----------------------------------------------------------------------------------------


def _seconds(values: tuple[float, ...]) -> str:
    return ", ".join(f"{value:.2f}" for value in values)


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def render(
    day: Day, chosen: Erasures, layouts: list[LayoutResult], profile: list[tuple[str, float]]
) -> Section:
    one, mixed = layouts
    check = Check("purge / floor, one-machine objects", one.ratio, PURGE_MAX_FLOOR_RATIO, at_most=True)
    rows = [
        (
            f"{result.name}{' (checked)' if result is one else ' (information)'}",
            f"{result.objects:,} ({result.reports_per_object:.1f} reports each)",
            f"{_mb(result.stored_bytes)} gz / {_mb(result.inflated_bytes)}",
            f"{median(result.floor_runs):.2f} s",
            f"{median(result.purge_runs):.2f} s",
            f"{result.ratio:.2f}x",
            f"<= {PURGE_MAX_FLOOR_RATIO:.1f}x: {check.verdict}" if result is one else "-",
        )
        for result in layouts
    ]
    effects = [
        (
            result.name,
            f"{len(result.last.store.replaced):,} / {len(result.last.store.deleted):,}",
            f"{sum(r.objects_rewritten for r in result.receipts):,}",
            f"{sum(r.reports_removed for r in result.receipts):,}",
            f"{sum(r.verification_remaining == 0 for r in result.receipts):,} of {len(result.receipts):,}",
            f"{result.last.checkpoints.saves:,} ({_mb(result.last.checkpoints.saved_bytes)})",
        )
        for result in layouts
    ]
    effects_table = markdown_table(
        (
            "Layout",
            "Objects replaced / deleted",
            "objects_rewritten, summed over receipts",
            "Reports removed",
            "verification_remaining 0",
            "Checkpoint saves (JSON written)",
        ),
        effects,
    )
    profile_table = shares_table("Work", profile)
    saves = one.last.checkpoints
    inherent = 2 * median(one.floor_runs) / median(one.purge_runs)
    source = "read from `.bench-cache/purge/`" if day.from_cache else "generated and cached"
    markdown = f"""## Purge

{machine_line()}

{markdown_table(("Layout", "Objects", "Size", "Floor (median)", "Purge (median)", "Ratio", "Target"), rows)}

{checks_markdown((check,))}

The ratio is the median of per-round ratios (each floor round runs just before its purge round, so
both share the machine's load at the time); it need not equal the ratio of the medians.

- Purge: `Purger(...).run()` as purge_app builds it, with in-memory ports: the pass over every object
  and the verification re-scan of every object, then one receipt per request. The in-memory store reads
  inline (`read_each`), where S3's adapter reads ahead on threads to hide round trips that this store
  does not have. Each round starts from
  a fresh copy of the day, fresh requests, no checkpoint and a `MachineKeyer` with an empty cache (a
  daily Lambda's first pass); copying is outside the timed region. Rounds (s): {_seconds(one.purge_runs)}
  (one-machine), {_seconds(mixed.purge_runs)} (mixed).
- Floor: list every object of the same in-memory store through the same `ReportObjects` port, read it
  and `zlib.decompress` it (gzip), once, in the same process. Rounds (s): {_seconds(one.floor_runs)}
  (one-machine), {_seconds(mixed.floor_runs)} (mixed). The purge reads everything twice (pass and
  re-scan), so 2x is its lower bound against this floor.
- Procedure: one untimed floor pass, then {ROUNDS} rounds (one-machine) or {MIXED_ROUNDS} (mixed) of
  floor then purge; garbage collected before each timed region, not disabled in it.

### The day

{MACHINES:,} machines x {REPORTS_PER_MACHINE} reports = {MACHINES * REPORTS_PER_MACHINE:,} reports
received on {DAY:%Y-%m-%d}, {ERASURES:,} of the machines with an open erasure request. Objects are what
ingest writes: `report_codec.encode_lines` of canonical lines (gzip level 6, mtime 0, `received_at`
appended), keyed by `keys.report_object_key` from the content digest. The lines come from
{TEMPLATES} template reports (shaped like the ingest benchmark's bodies) validated by `Report` and
serialized by `report_codec.canonical_line`, with report id, machine id and `created_at` then varied by
string replacement; {day.sampled_reports:,} reports of sampled objects were parsed back through
`Report.model_validate` and re-encoded to the identical bytes and key. Data {source} in
{day.generate_seconds:.1f} s.

- **One-machine** (checked): a request comes from one client, which sends its own machine's reports,
  and ingest stores each accepted request as one object, so every object holds reports of one
  machine: here min(uniform 1..{MAX_REPORTS_PER_OBJECT}, reports left that day) per object.
- **Mixed** (information): {MIXED_REPORTS_PER_OBJECT} reports of {MIXED_REPORTS_PER_OBJECT} different
  machines per object. The API allows it (a relay batching for many clients), but the client does not
  send it. With 1% of machines erased, {_share_hit(mixed)} of mixed objects hold an erased
  machine and must be split line by line, re-keyed and recompressed, each preceded by a progress record.

{effects_table}

Every one of the {ERASURES:,} receipts of each layout shows `verification_remaining` 0 and
{REPORTS_PER_MACHINE} reports removed; the benchmark also checks on its own that no line of an erased
machine is left, that every object it did not touch is the one it stored and that a replaced object
holds the other machines' lines byte for byte, in order. A
receipt's `objects_rewritten` counts deleted objects too (one-machine objects of an erased machine
are deleted whole), and a mixed object once per erased machine in it.

Reading everything twice, as the pass and the re-scan do, is {inherent:.0%} of the one-machine purge
time. The full checkpoint is saved at most every {CHECKPOINT_SECONDS:.0f} s, once {PROGRESS_ENTRIES}
counters have changed since the last one, and when stopping for the deadline; each save serializes
the counters of every machine found so far (no request id): {saves.saves:,} saves of
{saves.saved_bytes / max(saves.saves, 1) / 1000:,.0f} KB on average in one purge (each an S3 PUT in AWS).
Before every change a small progress record is written ({saves.progress_saves:,} in one purge, one
PUT each), so a purge that dies halfway through a change loses no count.

Where the purge's time goes (one cProfile run on the one-machine layout; the profiler inflates
per-call Python overhead, so read the shares as rough):

{profile_table}
"""
    table = "\n".join(
        [
            f"{result.name:<12} {result.objects:>9,} objects  floor {median(result.floor_runs):6.2f} s"
            f"  purge {median(result.purge_runs):6.2f} s  ratio {result.ratio:.2f}x"
            f"  removed {sum(r.reports_removed for r in result.receipts):,}"
            f"  clean receipts {sum(r.verification_remaining == 0 for r in result.receipts):,}"
            for result in layouts
        ]
        + ["purge time: " + ", ".join(f"{label.split(' (')[0]} {share:.0%}" for label, share in profile)]
    )
    return Section("purge", markdown, table, (check,))


def _share_hit(result: LayoutResult) -> str:
    changed = len(result.last.store.replaced) + len(result.last.store.deleted)
    return f"{changed / result.objects:.0%}"


def run() -> Section:
    day = load_day()
    chosen = erasures(day.machines)
    print(
        f"  day: {len(day.layouts.one_machine):,} one-machine objects, {len(day.layouts.mixed):,} mixed"
        f" ({'cache' if day.from_cache else 'generated'}, {day.generate_seconds:.1f} s)",
        flush=True,
    )
    one = measure_layout("one-machine", day.layouts.one_machine, chosen)
    mixed = measure_layout("mixed", day.layouts.mixed, chosen, MIXED_ROUNDS)
    profile = profile_purge(day.layouts.one_machine, chosen)
    return render(day, chosen, [one, mixed], profile)
