"""Purge flood benchmark: the purge benchmark's day and its 1,000 real erasures, alone and beside
1,000,000 junk erasure requests (random GUIDs of machines that sent nothing), as hostile clients can
file them (issue 16, ADR 0012).

Targets (from the issue): with the junk, one invocation (`read_key_set`, then `Purger.run()` under the
deadline of a 900 s Lambda) takes at most 1.5x the time it takes alone; the real requests are fulfilled
by the first invocation; the peak RSS of each is stated.

Each invocation runs in a child process of its own (`python -m benchmarks.purge_flood --child KIND`), so
its peak RSS is its own; alone and flood children alternate, and the ratio is the median of the per-round
ratios. The day is the purge benchmark's one-machine layout, from its cache (.bench-cache/purge/). The
ports are the in-memory twins, so the timed runs measure CPU; a separate flood child puts the DynamoDB
round trips the purge makes into its deadline's clock (modelled, not slept) to show what the first
invocation of a Lambda gets done, and how many invocations the junk receipts take.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Check, interleave, median, paired_ratio
from benchmarks.harness import spawn as spawn_child
from benchmarks.purge import (
    DAY,
    ERASURES,
    MACHINES,
    REPORTS_PER_MACHINE,
    SECRET,
    SEED,
    SUPPRESSION_TABLE,
    cache_paths,
    erasures,
    load_day,
    machine_ids,
    read_cache,
    verify_objects,
)
from benchmarks.render import PROJECT_ROOT, Section, checks_markdown, machine_line, markdown_table
from benchmarks.workloads.ports import SCAN_PAGE_ITEMS, MemoryDynamoDB
from benchmarks.workloads.reports import guid
from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus, expected_by
from ceip.datasubject.purge import FULFIL_PAGE, Deadline, PurgeOutcome, Purger, PurgeStatus
from ceip.datasubject.purge_checkpoint import MemoryCheckpoint
from ceip.datasubject.purge_state import PassState
from ceip.datasubject.request_store import MemoryRequestStore
from ceip.machines.machine_key import MachineKeyer
from ceip.machines.suppression import KEY_ATTRIBUTE, SMALL_SET_KEYS, MachineKeySet, read_key_set
from ceip.storage.report_objects import MemoryReportObjects

JUNK = 1_000_000
ROUNDS = 4
"""Alone/flood pairs timed; each flood child spends about 10 s building its million requests."""
MAX_FLOOD_RATIO = 1.5
LAMBDA_TIMEOUT_SECONDS = 900.0
"""PurgeFunction's Timeout in template.yaml; Deadline stops a pass with its default 60 s in reserve."""
MODEL_UPDATE_SECONDS = 0.008
"""Modelled UpdateItem (a receipt, the pass record), one at a time as the purge writes them: DynamoDB's
single-digit milliseconds plus botocore's work on a 1,024 MB function's share of a core (assumed)."""
MODEL_REQUEST_PAGE_SECONDS = 0.1
"""Modelled Scan call of the requests table (Limit 1,000, about 250 KB), parsed by botocore (assumed)."""
MODEL_SUPPRESSION_PAGE_SECONDS = 0.2
"""Modelled Scan page of the suppression table (1 MB, about 6,500 keys), parsed by botocore (assumed)."""
MAX_INVOCATIONS = 60
"""The modelled flood gives up (and fails) past this many invocations."""
JUNK_SEED = SEED + 16


# --- the requests --------------------------------------------------------------------------------------


def junk_requests(real_machines: set[str], count: int = JUNK, seed: int = JUNK_SEED) -> list[ErasureRequest]:
    """Erasure requests for random GUIDs, received over the day: hashed as the API hashes them, none of a
    machine with reports."""
    rng = random.Random(seed)
    keyer = MachineKeyer(SECRET, cache_size=1)  # every GUID is new: remembering them would cost memory
    promised = functools.cache(expected_by)
    filed = sorted((rng.randrange(86_400), guid(rng), guid(rng)) for _ in range(count))
    if any(machine in real_machines for _, _, machine in filed):
        raise RuntimeError("a junk GUID is a real machine's")
    # Built in the order filed, as the twin keeps them: a page's requests then lie together in memory,
    # as a page's parsed items do in Lambda (scattered over a heap of a million, each page's reads
    # would miss the caches and time the heap rather than the purge).
    requests = []
    for second, request_id, machine in filed:
        received = DAY + timedelta(seconds=second)
        requests.append(
            ErasureRequest(
                request_id, keyer.key(machine), RequestStatus.RECEIVED, received, promised(received)
            )
        )
    return requests


# --- one invocation, in a child process -----------------------------------------------------------------


@dataclass
class Invocation:
    """A Lambda invocation's clock: wall time since it began, plus the round trips modelled so far."""

    started: float = field(default_factory=time.perf_counter)
    round_trips: float = 0.0
    scans: int = 0
    updates: int = 0

    def remaining_ms(self) -> int:
        elapsed = time.perf_counter() - self.started + self.round_trips
        return int((LAMBDA_TIMEOUT_SECONDS - elapsed) * 1000)


class ModelledRequestStore(MemoryRequestStore):
    """The twin, charging each call the purge makes its modelled round trip on the invocation's clock."""

    def __init__(self, requests: list[ErasureRequest]) -> None:
        super().__init__(requests)
        self.invocation = Invocation()

    def open_requests_page(self, cursor: str | None, limit: int) -> tuple[list[ErasureRequest], str | None]:
        self.invocation.round_trips += MODEL_REQUEST_PAGE_SECONDS
        self.invocation.scans += 1
        return super().open_requests_page(cursor, limit)

    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None:
        self.invocation.round_trips += MODEL_UPDATE_SECONDS
        self.invocation.updates += 1
        super().set_status(request_id, status, receipt)

    def set_pass_cutoff(self, cutoff: datetime | None) -> None:
        self.invocation.round_trips += MODEL_UPDATE_SECONDS
        self.invocation.updates += 1
        super().set_pass_cutoff(cutoff)


class ModelledScan:
    """The suppression table's client, charging each Scan page its modelled round trip."""

    def __init__(self, table: MemoryDynamoDB, invocation: Invocation) -> None:
        self._table = table
        self._invocation = invocation

    def get_paginator(self, operation: str) -> ModelledScan:
        self._table.get_paginator(operation)
        return self

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self._table.paginate(**kwargs):
            self._invocation.round_trips += MODEL_SUPPRESSION_PAGE_SECONDS
            yield page


@dataclass
class TimedPurger(Purger):
    """The Purger, timing its phases (a few calls a run: nothing worth counting)."""

    stages: dict[str, float] = field(default_factory=dict)

    def _timed(self, stage: str, work: Callable[[PassState], Any], state: PassState) -> Any:
        start = time.perf_counter()
        try:
            return work(state)
        finally:
            self.stages[stage] = self.stages.get(stage, 0.0) + time.perf_counter() - start

    def _start(self, state: PassState) -> bool:
        return bool(self._timed("start: page walk", super()._start, state))

    def _pass(self, state: PassState) -> None:
        self._timed("pass", super()._pass, state)

    def _verify(self, state: PassState) -> None:
        self._timed("re-scan", super()._verify, state)

    def _fulfil(self, state: PassState) -> None:
        self._timed("fulfil: receipts", super()._fulfil, state)


_PEAK = re.compile(r"VmHWM:\s+(\d+) kB")
_RESIDENT = re.compile(r"VmRSS:\s+(\d+) kB")


def _status_mb(pattern: re.Pattern[str]) -> float | None:
    try:
        found = pattern.search(Path("/proc/self/status").read_text())
    except OSError:
        return None
    return int(found[1]) / 1024 if found else None


def _reset_peak() -> bool:
    """Start the kernel's peak-RSS mark afresh (Linux: clear_refs 5), so it measures the invocation."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@dataclass
class Child:
    """What a child holds: the day, the requests table and suppression table as twins, the checkpoint."""

    original: dict[str, bytes]
    objects: MemoryReportObjects
    requests: MemoryRequestStore
    table: MemoryDynamoDB
    checkpoints: MemoryCheckpoint
    real: dict[str, str]
    """Real request id -> machine GUID."""


def build(kind: str, modelled: bool) -> Child:
    original = read_cache(cache_paths()[0])
    machines = machine_ids()
    chosen = erasures(machines)
    requests = list(chosen.requests)
    if kind == "flood":
        requests += junk_requests(set(machines))
    store = ModelledRequestStore(requests) if modelled else MemoryRequestStore(requests)
    table = MemoryDynamoDB({r.machine_key for r in requests}, KEY_ATTRIBUTE)
    keyer = MachineKeyer(SECRET)
    by_key = {keyer.key(machine): machine for machine in chosen.machines}
    real = {r.request_id: by_key[r.machine_key] for r in chosen.requests}
    return Child(original, MemoryReportObjects(original), store, table, MemoryCheckpoint(), real)


def invoke(child: Child, invocation: Invocation, resume_only: bool) -> tuple[PurgeOutcome, dict[str, Any]]:
    """One invocation as purge_app runs it: the suppression set read, then one Purger.run()."""
    modelled = isinstance(child.requests, ModelledRequestStore)
    client: Any = ModelledScan(child.table, invocation) if modelled else child.table
    started = time.perf_counter()
    keys = read_key_set(SUPPRESSION_TABLE, client)
    read_seconds = time.perf_counter() - started
    purger = TimedPurger(
        objects=child.objects,
        requests=child.requests,
        checkpoints=child.checkpoints,
        keyer=MachineKeyer(SECRET),  # cold, as in an invocation's first pass
        suppressed_keys=keys,
        now=lambda: DAY + timedelta(days=1, hours=3),
        deadline=Deadline(invocation.remaining_ms),
    )
    outcome = purger.run(resume_only=resume_only)
    seconds = time.perf_counter() - started
    summary = {
        "seconds": seconds,
        "stages": {"suppression set: read_key_set": read_seconds, **purger.stages},
        "status": outcome.status.value,
        "served": outcome.served,
        "key_set": type(keys).__name__,
        "key_set_bytes": keys.nbytes if isinstance(keys, MachineKeySet) else None,
        "round_trips": invocation.round_trips,
        "scans": invocation.scans,
        "updates": invocation.updates,
    }
    return outcome, summary


def real_fulfilled(child: Child) -> int:
    """Real requests fulfilled with a clean receipt of all their machine's reports."""
    done = 0
    for request_id in child.real:
        request = child.requests.by_id[request_id]
        receipt = request.receipt
        if (
            request.status is RequestStatus.FULFILLED
            and receipt is not None
            and receipt.reports_removed == REPORTS_PER_MACHINE
            and receipt.verification_remaining == 0
        ):
            done += 1
    return done


def junk_counts(child: Child) -> tuple[int, int]:
    """Junk requests (of every other request) fulfilled, and those whose receipt removed nothing."""
    fulfilled = zero = 0
    for request in child.requests.by_id.values():
        if request.request_id in child.real:
            continue
        if request.status is RequestStatus.FULFILLED:
            fulfilled += 1
            zero += request.receipt is not None and request.receipt.reports_removed == 0
    return fulfilled, zero


def child_run(kind: str, modelled: bool, verify: bool) -> dict[str, Any]:
    child = build(kind, modelled)
    # What the twins hold lives in S3 and DynamoDB in production, not in the function's heap: kept out of
    # the cyclic collector's way, as in Lambda, so a collection costs what it would cost there.
    gc.collect()
    gc.freeze()
    resident = _status_mb(_RESIDENT)
    peak_reset = _reset_peak()
    invocation = Invocation()
    if isinstance(child.requests, ModelledRequestStore):
        child.requests.invocation = invocation
    outcome, first = invoke(child, invocation, resume_only=False)
    first["real_fulfilled"] = real_fulfilled(child)
    payload: dict[str, Any] = {
        "kind": kind,
        "resident_mb": resident,
        "invocation_peak_mb": _status_mb(_PEAK) if peak_reset else None,
        "invocations": [first],
    }
    while outcome.status is PurgeStatus.INTERRUPTED and len(payload["invocations"]) < MAX_INVOCATIONS:
        invocation = Invocation()  # the 15-minute resume: a fresh invocation reads the set again
        if isinstance(child.requests, ModelledRequestStore):
            child.requests.invocation = invocation
        outcome, summary = invoke(child, invocation, resume_only=True)
        summary["real_fulfilled"] = real_fulfilled(child)
        payload["invocations"].append(summary)
    payload["checkpoint_saves"] = child.checkpoints.saves
    payload["checkpoint_bytes"] = child.checkpoints.saved_bytes
    payload["junk_fulfilled"], payload["junk_zero_receipts"] = junk_counts(child)
    if verify:
        verify_objects(child.objects, child.original, frozenset(child.real.values()))
    payload["verified"] = verify
    return payload


# --- the parent -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    payload: dict[str, Any]
    peak_rss_mb: float

    @property
    def first(self) -> dict[str, Any]:
        invocation: dict[str, Any] = self.payload["invocations"][0]
        return invocation

    @property
    def seconds(self) -> float:
        return float(self.first["seconds"])


def spawn(kind: str, *, modelled: bool = False, verify: bool = False) -> Run:
    command = [sys.executable, "-m", "benchmarks.purge_flood", "--child", kind]
    command += ["--modelled"] * modelled + ["--verify"] * verify
    env = {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{PROJECT_ROOT / 'functions'}"}
    child = spawn_child(command, cwd=PROJECT_ROOT, env=env)
    run = Run(json.loads(child.stdout.strip().splitlines()[-1]), child.peak_rss_mb)
    _check(run, modelled)
    return run


def _check(run: Run, modelled: bool) -> None:
    """What every run must show, or its figures mean nothing."""
    payload, last = run.payload, run.payload["invocations"][-1]
    if last["status"] != "fulfilled":
        raise RuntimeError(f"{payload['kind']}: the purge ended {last['status']}")
    if last["real_fulfilled"] != ERASURES:
        raise RuntimeError(f"{payload['kind']}: {last['real_fulfilled']} real requests fulfilled")
    junk = JUNK if payload["kind"] == "flood" else 0
    if (payload["junk_fulfilled"], payload["junk_zero_receipts"]) != (junk, junk):
        raise RuntimeError(
            f"{payload['kind']}: junk {payload['junk_fulfilled']}/{payload['junk_zero_receipts']}"
        )
    if not modelled and len(payload["invocations"]) != 1:
        raise RuntimeError(f"{payload['kind']}: an unmodelled run took more than one invocation")


@dataclass(frozen=True, slots=True)
class Results:
    alone: list[Run]
    flood: list[Run]
    modelled: Run
    from_cache: bool

    @property
    def ratio(self) -> float:
        return paired_ratio([r.seconds for r in self.flood], [r.seconds for r in self.alone])

    def stage(self, runs: list[Run], name: str) -> float:
        return median([r.first["stages"].get(name, 0.0) for r in runs])


def measure(rounds: int = ROUNDS) -> Results:
    day = load_day()  # generates and caches the day when missing; checks it either way
    from_cache = day.from_cache
    del day
    gc.collect()
    spawn("alone")  # untimed: the day's cache file in the page cache, as for every timed child after it
    alone: list[Run] = []
    flood: list[Run] = []

    def timed(kind: str, runs: list[Run]) -> float:
        run = spawn(kind, verify=not runs)
        runs.append(run)
        print(f"  {kind}: {run.seconds:.2f} s, peak RSS {run.peak_rss_mb:,.0f} MB", flush=True)
        return run.seconds

    interleave(rounds, lambda: timed("alone", alone), lambda: timed("flood", flood))
    modelled = spawn("flood", modelled=True)
    print(f"  modelled flood: {len(modelled.payload['invocations'])} invocations", flush=True)
    return Results(alone, flood, modelled, from_cache)


def run() -> Section:
    return render(measure())


# --- section --------------------------------------------------------------------------------------------


def _mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def _seconds(runs: list[Run]) -> str:
    return ", ".join(f"{r.seconds:.2f}" for r in runs)


def _added_mb(run: Run) -> float | None:
    """What the invocation held at its peak beyond what was resident before it."""
    peak, resident = run.payload["invocation_peak_mb"], run.payload["resident_mb"]
    return None if peak is None or resident is None else peak - resident


def render(results: Results) -> Section:
    alone, flood, modelled = results.alone, results.flood, results.modelled
    first = modelled.first
    invocations = modelled.payload["invocations"]
    checks = (
        Check("invocation time, with 1M junk requests / alone", results.ratio, MAX_FLOOD_RATIO, at_most=True),
        Check(
            "real requests fulfilled by the first invocation (900 s, modelled DynamoDB round trips)",
            first["real_fulfilled"],
            ERASURES,
            at_most=False,
        ),
    )
    rows = []
    for label, runs, pending in (("alone", alone, ERASURES), ("with the flood", flood, ERASURES + JUNK)):
        sample = runs[0].first
        key_set = sample["key_set"]
        if sample["key_set_bytes"]:
            key_set += f" ({sample['key_set_bytes'] / 1e6:.0f} MB)"
        added = [a for a in (_added_mb(r) for r in runs) if a is not None]
        rows.append(
            (
                label,
                f"{pending:,}",
                key_set,
                f"{median([r.seconds for r in runs]):.2f} s",
                "-" if runs is alone else f"{results.ratio:.2f}x",
                f"{sample['status']}, 1 invocation, {sample['served']:,} receipts",
                _mb(max(r.peak_rss_mb for r in runs)),
                _mb(median([r.payload["resident_mb"] or 0.0 for r in runs])),
                _mb(max(added) if added else None),
            )
        )
    table = markdown_table(
        (
            "Run",
            "Pending requests",
            "Suppression set",
            "Invocation (median)",
            "Ratio",
            "Ended",
            "Peak RSS (child)",
            "Resident before",
            "Added at the invocation's peak",
        ),
        rows,
    )
    stage_names = list(dict.fromkeys(name for r in alone + flood for name in r.first["stages"]))
    stages = markdown_table(
        ("Stage (median)", "Alone", "With the flood", "Added"),
        [
            (
                name,
                f"{results.stage(alone, name):.2f} s",
                f"{results.stage(flood, name):.2f} s",
                f"{results.stage(flood, name) - results.stage(alone, name):+.2f} s",
            )
            for name in stage_names
        ],
    )
    model_table = markdown_table(
        (
            "Invocation",
            "Ended",
            "Receipts written (so far)",
            "Real requests fulfilled",
            "Requests Scan calls / UpdateItems",
            "Modelled round trips",
            "CPU here",
        ),
        [
            (
                f"{number}" + (" (daily run)" if number == 1 else " (resume)"),
                invocation["status"],
                f"{invocation['served']:,}",
                f"{invocation['real_fulfilled']:,}",
                f"{invocation['scans']:,} / {invocation['updates']:,}",
                f"{invocation['round_trips']:.0f} s",
                f"{invocation['seconds']:.1f} s",
            )
            for number, invocation in enumerate(invocations, start=1)
        ],
    )
    saves = modelled.payload["checkpoint_saves"]
    saved_kb = modelled.payload["checkpoint_bytes"] / max(saves, 1) / 1000
    source = "read from `.bench-cache/purge/`" if results.from_cache else "generated and cached"
    assumed = (
        f"UpdateItem {MODEL_UPDATE_SECONDS * 1000:.0f} ms, a requests Scan call"
        f" {MODEL_REQUEST_PAGE_SECONDS * 1000:.0f} ms, a suppression Scan page"
        f" {MODEL_SUPPRESSION_PAGE_SECONDS * 1000:.0f} ms"
    )
    markdown = f"""## Purge flood

{machine_line()}

{table}

{checks_markdown(checks)}

The purge benchmark's one-machine day ({MACHINES:,} machines x {REPORTS_PER_MACHINE} reports, data
{source}) and its {ERASURES:,} real erasure requests, alone and beside {JUNK:,} junk
requests: random GUIDs, hashed as the API hashes them, received over the same day, none of a machine
with reports (what clients inventing GUIDs file; the API's throttle does not enter here).

- One invocation, as purge_app runs it: `read_key_set` on the suppression table's in-memory client
  (Scan pages of {SCAN_PAGE_ITEMS:,} keys, DynamoDB's 1 MB), then `Purger(...).run()` on the in-memory
  twins with `Deadline` counting down from {LAMBDA_TIMEOUT_SECONDS:.0f} s (the function's timeout). At
  {ERASURES + JUNK:,} keys the set is past `SMALL_SET_KEYS` ({SMALL_SET_KEYS:,}): with the flood the purge
  looks machines up in a `MachineKeySet`, alone in a frozenset. Both end `fulfilled` in that one
  invocation: every real receipt shows {REPORTS_PER_MACHINE} reports removed and `verification_remaining`
  0, every junk receipt 0 removed, and the first round of each checked on its own that no erased
  machine's line is left and that every other line is where it was.
- Each invocation runs in a child process of its own: one untimed alone child, then alone and flood
  alternating for {len(alone)} rounds; the ratio is the median of the per-round ratios. Rounds (s):
  {_seconds(alone)} (alone), {_seconds(flood)} (flood).
- The twins stand in for S3 and DynamoDB, so their data is kept out of the invocation's way: frozen out
  of the cyclic garbage collector, and laid out in memory in the order a page returns it (as a parsed
  page is, in Lambda). What the twins do per call (a page is a slice, a receipt two list stores) is in
  the times; botocore's work and the round trips are not (see the model below).
- Memory: "peak RSS (child)" is the harness's (`wait4`) and includes the twins' data: the day and, with
  the flood, a million requests that in production stay in DynamoDB. "Added at the invocation's peak"
  is the kernel's peak mark, reset as the invocation starts, less what was resident then: what the
  invocation itself held at its most (the suppression set as it is read and sorted, the purge's state,
  a page of requests), which is what the function's {1024:,} MB must hold beside the runtime.

Where the time goes (median of the rounds):

{stages}

### A 900 s Lambda, with the flood's DynamoDB round trips

The twins answer in microseconds; DynamoDB does not, and what a flood costs the purge in AWS is round
trips: two walks of a million requests ({FULFIL_PAGE:,} a Scan call: the requests of machines with
lines found first, then the rest) and a million receipts, one UpdateItem each. One more flood child
charges each call the purge makes a modelled time on its deadline's clock (assumed, not measured:
{assumed}),
then invokes the 15-minute resume until the pass is done, each invocation reading the suppression set
again. S3's round trips are not modelled (the pass
reads ahead on threads), nor Lambda's smaller share of a core: the CPU is this machine's.

{model_table}

The real requests' receipts are written in the first invocation ({first["real_fulfilled"]:,} of
{ERASURES:,}), before any junk receipt. The junk receipts take {len(invocations)} invocations in all: on
the resume schedule, about {len(invocations) * 15} minutes from the daily run to the last one. The
checkpoint was saved {saves:,} times, {saved_kb:,.1f} KB on average (it holds no request id).
"""
    summary = "\n".join(
        [
            f"alone {median([r.seconds for r in alone]):.2f} s,"
            f" flood {median([r.seconds for r in flood]):.2f} s, ratio {results.ratio:.2f}x;"
            f" peak RSS {max(r.peak_rss_mb for r in alone):,.0f} /"
            f" {max(r.peak_rss_mb for r in flood):,.0f} MB",
            f"modelled Lambda: real {first['real_fulfilled']:,}/{ERASURES:,} in invocation 1;"
            f" {len(invocations)} invocations for the junk",
        ]
    )
    return Section("purge-flood", markdown, summary, checks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.purge_flood")
    parser.add_argument("--child", choices=("alone", "flood"), required=True)
    parser.add_argument("--modelled", action="store_true")
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(sys.stderr):
        payload = child_run(args.child, args.modelled, args.verify)
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
