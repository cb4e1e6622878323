"""Aggregate benchmark: one day of 1,000,000 reports from 100,000 machines through the aggregation
service, side by side with the floor of merely decompressing the same objects and counting lines.

Targets (from the issue): aggregation at most 3x the floor; peak memory (RSS) at most 1.5 GB; time
growing linearly: the 1M-report day takes 3.5x to 4.5x the 250k-report day (25,000 machines).

The day is generated once into .bench-cache/aggregate/ as gzip NDJSON objects of 100 reports, as
ingest writes them, by the shared report generator (benchmarks/workloads/reports.py), serialized
without pydantic (validating a million reports would take minutes). Each measurement runs
in a fresh interpreter and times only the work itself (the floor's loop; `aggregate_day`); each round
runs, per size, a floor and right after it an aggregation, and the figures are medians of per-round
ratios. Peak memory is the aggregation child's maximum RSS (os.wait4). The service reads the objects
through a local-directory ReportSource and writes through a local-directory store: no S3, no moto.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import Check, median, paired_ratio
from benchmarks.harness import spawn as spawn_child
from benchmarks.render import PROJECT_ROOT, Section, checks_markdown, machine_line, markdown_table
from benchmarks.workloads.ports import DirectorySource, DirectoryStore
from benchmarks.workloads.reports import (
    Catalogue,
    MachineStyle,
    ReportStyle,
    Samples,
    draw_machine,
    draw_report,
    stored_line,
)
from ceip.aggregate import engine, loading, partner_release, service
from ceip.aggregate.manifest import Manifest
from ceip.aggregate.tables import AUDIENCES, TABLES
from ceip.machines.sketch_key import SketchSalt
from ceip.machines.suppression import MemorySuppression
from ceip.storage import aggregate_keys

CACHE = PROJECT_ROOT / ".bench-cache" / "aggregate"
DAY = date(2026, 11, 28)
REPORTS_PER_OBJECT = 100
SIZES = {"1M": (1_000_000, 100_000), "250k": (250_000, 25_000)}
FIXED_COST_DAY = (1_000, 100)
"""For information: a day this small costs only what every run costs whatever its size."""
ROUNDS = 9
MAX_FLOOR_RATIO = 3.0
MAX_PEAK_RSS_MB = 1536
GROWTH_RANGE = (3.5, 4.5)
GENERATOR_VERSION = 2
"""Bump to regenerate cached days when the generator changes."""
LOCAL_FETCH_WORKERS = 1

PRODUCTS = ("contoso.editor", "contoso.mail", "contoso.sheet")
PROBLEMS = tuple((f"crash.module{i}.0xc0000005", "program") for i in range(300))
FEATURES = tuple(f"feature.f{i}" for i in range(150))
CATALOGUE = Catalogue(
    products=dict.fromkeys(PRODUCTS, ("12.0.4471",)),
    os_versions={
        "windows": ("10.0.19045", "10.0.22621", "10.0.22631", "10.0.26100"),
        "macos": ("14.5", "15.1"),
    },
    os_weights=(5, 1),
    processor_counts=(2, 4, 8, 16, 32),
    hardware=("bluetooth", "high_speed_usb", "touch", "tpm"),
    problems=PROBLEMS,
    features=FEATURES,
)
MACHINE_STYLE = MachineStyle(hardware_share=0.6)
"""Problems and features are drawn per report, not per machine."""


def long_tail_problems(rng: random.Random) -> list[tuple[str, str]]:
    """Up to two of the 300 problems, Pareto-distributed: a few common, a long tail of rare ones."""
    picked = {PROBLEMS[min(int(rng.paretovariate(1.2)) - 1, 299)] for _ in range(rng.randint(0, 2))}
    return sorted(picked)


def some_features(rng: random.Random) -> list[str]:
    return [FEATURES[i] for i in sorted(rng.sample(range(len(FEATURES)), rng.randint(1, 4)))]


REPORT_STYLE = ReportStyle(
    ui_response_ms=Samples((2, 8), (5, 400)),
    send_kbps=Samples((1, 3), (100, 9000)),
    receive_kbps=Samples((1, 3), (100, 90000)),
    help_center_opens=(0, 3),
    desktop_folder_count=(0, 40),
    network_connections=(0, 4),
    extra_problems=long_tail_problems,
    extra_problem_hits=(1, 5),
    extra_features=some_features,
    extra_feature_uses=(1, 30),
)


# --- the day --------------------------------------------------------------------------------------------
def data_dir(reports: int, machines: int) -> Path:
    return CACHE / f"v{GENERATOR_VERSION}-{reports}-{machines}"


def generate(reports: int, machines: int, seed: int = 20261128) -> Path:
    """reports/dt=2026-11-28/hr=HH/<n>.ndjson.gz under the cache directory; reused when present."""
    root = data_dir(reports, machines)
    done = root / "complete"
    if done.exists():
        return root
    rng = random.Random(seed)
    fleet = [
        draw_machine(rng, CATALOGUE, MACHINE_STYLE, product_id=PRODUCTS[number % len(PRODUCTS)])
        for number in range(machines)
    ]
    objects = reports // REPORTS_PER_OBJECT
    for number in range(objects):
        hour = number * 24 // objects
        received = datetime(DAY.year, DAY.month, DAY.day, hour, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(3600)
        )
        stamp = received.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines = []
        for _ in range(REPORTS_PER_OBJECT):
            machine = fleet[rng.randrange(machines)]
            created = received - timedelta(seconds=rng.randrange(1, 3600))
            lines.append(stored_line(draw_report(machine, created, rng, REPORT_STYLE), stamp))
        folder = root / "reports" / f"dt={DAY.isoformat()}" / f"hr={hour:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:08x}.ndjson.gz").write_bytes(gzip.compress("".join(lines).encode(), 6, mtime=0))
    done.write_text("ok\n")
    return root


# --- children: each measurement in a fresh interpreter --------------------------------------------------
def child_floor(root: Path) -> dict[str, Any]:
    files = sorted((root / "reports").rglob("*.ndjson.gz"))
    started, cpu = time.perf_counter(), time.process_time()
    lines = 0
    for path in files:
        lines += gzip.decompress(path.read_bytes()).count(b"\n")
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu": time.process_time() - cpu, "lines": lines, "objects": len(files)}


def child_aggregate(root: Path, stages: bool) -> dict[str, Any]:
    timings: dict[str, float] = {}
    if stages:
        _instrument(timings)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    # One fetch thread: a local read never waits, so more threads only contend for the GIL (two
    # spent 2.6 times the CPU of one on the same reads). Parsing stays parallel: the part files per
    # chunk follow the DuckDB threads, not the fetch threads. On S3 the default of 16 hides round trips.
    options = service.AggregationOptions(
        threads=cpus, fetch_workers=LOCAL_FETCH_WORKERS, memory_limit_mb=1024
    )
    with tempfile.TemporaryDirectory(prefix="ceip-bench-out-") as out:
        started, cpu = time.perf_counter(), time.process_time()
        result = service.aggregate_day(
            DAY,
            source=DirectorySource(root),
            store=DirectoryStore(Path(out)),
            suppression=MemorySuppression(),
            sketch_salt=SketchSalt.from_secret(b"benchmark-machine-key-secret-32-bytes!"),
            options=options,
        )
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        written = tables_written(result.manifest, Path(out))
    counts = result.manifest.input
    return {
        "seconds": seconds,
        "cpu": cpu_seconds,
        "reports": counts.reports_aggregated,
        "machines": counts.machines,
        "objects": counts.objects_read,
        "rows": result.manifest.rows,
        "input": counts.model_dump(),
        "folded": result.manifest.folded.model_dump(),
        "written": written,
        "engine": result.manifest.engine.version,
        "stages": timings,
        "threads": cpus,
    }


def tables_written(manifest: Manifest, out: Path) -> dict[str, list[str]]:
    """What a run left out (checked after the timed work): tables of either audience without rows in
    the manifest or without a file, and files the manifest lists that are not in the store."""
    expected = [(audience, table) for audience in AUDIENCES for table in TABLES]
    return {
        "without_rows": [f"{a}/{t}" for a, t in expected if f"{a}/{t}" not in manifest.rows],
        "without_files": [
            f"{a}/{t}"
            for a, t in expected
            if not any(
                key.startswith(aggregate_keys.table_day_prefix(a, t, manifest.dt)) for key in manifest.files
            )
        ],
        "missing_files": [key for key in manifest.files if not (out / key).is_file()],
    }


def _instrument(timings: dict[str, float]) -> None:
    """Wall time per stage, for the breakdown (only in the extra, untimed run)."""

    def timed(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timings[label] = timings.get(label, 0.0) + time.perf_counter() - started

        setattr(owner, name, wrapper)

    timed(loading, "fetch_objects", "fetch objects (local files, overlapped with parsing)")
    timed(engine.Engine, "append_reports", "parse NDJSON into DuckDB")
    timed(engine.Engine, "drop_unusable", "drop corrupt lines and duplicates")
    timed(engine.Engine, "machine_ids", "list machines for suppression")
    timed(engine.Engine, "drop_over_bounds", "reports beyond the product cap and a machine's bounds (SQL)")
    timed(engine.Engine, "key_machines", "machines' keyed sketch keys (SQL)")
    timed(engine.Engine, "build_machine_tables", "per-machine and per-item tables (SQL)")
    timed(engine.Engine, "folded_ids", "ids beyond the caps counted (SQL)")
    timed(engine.Engine, "build_daily_tables", "daily tables (SQL)")
    timed(engine.Engine, "sketch_inputs", "sketch inputs (SQL, beside the daily tables)")
    timed(service, "sketch_of", "HLL sketches (Python, beside the daily tables)")
    timed(service, "rolling_windows", "rolling windows (Python, beside the daily tables)")
    timed(service, "_fetch_earlier_sketches", "earlier days' sketches fetched (beside the load)")
    timed(engine.Engine, "read_sketches", "earlier days' sketches read")
    timed(engine.Engine, "publish_internal", "internal Parquet files (all but performance's beside it)")
    timed(engine.Engine, "release_inputs", "partner release inputs (SQL)")
    timed(partner_release, "release", "partner release (OpenDP noise and selection)")
    timed(engine.Engine, "publish_partner", "partner Parquet and CSV files")


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    payload: dict[str, Any]


def spawn(kind: str, root: Path, *extra: str) -> Run:
    command = [sys.executable, "-m", "benchmarks.aggregate", "--child", kind, "--data", str(root), *extra]
    env = {**os.environ, "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}{PROJECT_ROOT / 'functions'}"}
    child = spawn_child(command, cwd=PROJECT_ROOT, env=env)
    payload = json.loads(child.stdout.strip().splitlines()[-1])
    return Run(payload["seconds"], child.peak_rss_mb, payload)


@dataclass(frozen=True)
class Round:
    """One round: each size's floor, then its aggregation, the large day first, back to back."""

    floor: dict[str, Run]
    aggregate: dict[str, Run]

    def ratio(self, label: str) -> float:
        return self.aggregate[label].seconds / self.floor[label].seconds

    @property
    def growth(self) -> float:
        return self.aggregate["1M"].seconds / self.aggregate["250k"].seconds

    @property
    def floor_growth(self) -> float:
        return self.floor["1M"].seconds / self.floor["250k"].seconds


@dataclass(frozen=True)
class Results:
    rounds: list[Round]

    def ratio(self, label: str) -> float:
        """Median of the per-round ratios: a floor and the aggregation run right after it share the
        machine's load of the moment, which the ratio of two medians would not."""
        return paired_ratio(
            [r.aggregate[label].seconds for r in self.rounds], [r.floor[label].seconds for r in self.rounds]
        )

    def seconds(self, label: str, kind: str) -> float:
        return median([getattr(r, kind)[label].seconds for r in self.rounds])

    def cpu_ratio(self, label: str) -> float:
        """CPU time (all threads) of aggregation over the floor's: what wall time would be on one core."""
        return paired_ratio(
            [r.aggregate[label].payload["cpu"] for r in self.rounds],
            [r.floor[label].payload["cpu"] for r in self.rounds],
        )

    def peak_rss_mb(self, label: str) -> float:
        return max(r.aggregate[label].peak_rss_mb for r in self.rounds)

    @property
    def growth(self) -> float:
        """Median of the per-round growth: both sizes of a round run within seconds of each other."""
        return median([r.growth for r in self.rounds])

    @property
    def floor_growth(self) -> float:
        return median([r.floor_growth for r in self.rounds])


def measure(rounds: int = ROUNDS) -> Results:
    roots = {}
    for label, (reports, machines) in SIZES.items():
        started = time.perf_counter()
        roots[label] = generate(reports, machines)
        print(f"  {label}: data ready in {time.perf_counter() - started:.0f}s ({roots[label]})", flush=True)
        spawn("floor", roots[label])  # warm the page cache
    done = []
    for number in range(rounds):
        floors, aggregates = {}, {}
        # Odd rounds run the large day first, even rounds the small one: what runs right after a long
        # burst of both cores (a slower clock, a busier neighbour) falls on each size alike.
        order = list(roots.items()) if number % 2 == 0 else list(reversed(roots.items()))
        for label, root in order:
            floors[label] = spawn("floor", root)
            aggregates[label] = spawn("aggregate", root)
        done.append(Round(floors, aggregates))
        print(
            f"  round {number + 1}: "
            + "; ".join(
                f"{label} floor {floors[label].seconds:.2f}s, aggregate {aggregates[label].seconds:.2f}s "
                f"({done[-1].ratio(label):.2f}x), peak {aggregates[label].peak_rss_mb:.0f} MB"
                for label in roots
            )
            + f"; growth {done[-1].growth:.2f}x",
            flush=True,
        )
    return Results(done)


def run() -> Section:
    results = measure()
    stages = spawn("aggregate", data_dir(*SIZES["1M"]), "--stages")
    tiny = generate(*FIXED_COST_DAY)
    fixed = median([spawn("aggregate", tiny).seconds for _ in range(ROUNDS)])
    return render(results, stages, fixed)


def render(results: Results, stages: Run, fixed_seconds: float) -> Section:
    growth = results.growth
    per_round = [r.growth for r in results.rounds]
    fixed_share = fixed_seconds / results.seconds("250k", "aggregate")
    variable_growth = median(
        [
            (r.aggregate["1M"].seconds - fixed_seconds) / (r.aggregate["250k"].seconds - fixed_seconds)
            for r in results.rounds
        ]
    )
    checks = (
        Check("aggregation / floor, 1M reports", results.ratio("1M"), MAX_FLOOR_RATIO, at_most=True),
        Check("peak RSS (MB), 1M reports", results.peak_rss_mb("1M"), MAX_PEAK_RSS_MB, at_most=True),
        Check("growth 250k -> 1M (at least)", growth, GROWTH_RANGE[0], at_most=False),
        Check("growth 250k -> 1M (at most)", growth, GROWTH_RANGE[1], at_most=True),
    )
    rows = [
        (
            f"{reports:,} reports, {machines:,} machines",
            f"{results.seconds(label, 'aggregate'):.2f} s",
            f"{results.seconds(label, 'floor'):.2f} s",
            f"{results.ratio(label):.2f}x",
            f"{results.cpu_ratio(label):.2f}x",
            f"{results.peak_rss_mb(label):,.0f} MB",
        )
        for label, (reports, machines) in SIZES.items()
    ]
    payload = results.rounds[0].aggregate["1M"].payload
    total = sum(stages.payload["stages"].values()) or 1.0
    stage_rows = [
        (label, f"{seconds:.2f} s", f"{seconds / total:.0%}")
        for label, seconds in sorted(stages.payload["stages"].items(), key=lambda item: -item[1])
    ]
    rounds = "; ".join(
        f"{label}: aggregate {', '.join(f'{r.aggregate[label].seconds:.2f}' for r in results.rounds)} s, "
        f"floor {', '.join(f'{r.floor[label].seconds:.2f}' for r in results.rounds)} s, "
        f"ratio {', '.join(f'{r.ratio(label):.2f}' for r in results.rounds)}"
        for label in SIZES
    )
    headers = ("Day", "Aggregation (median)", "Floor (median)", "Ratio", "CPU-time ratio", "Peak RSS")
    written = ", ".join(f"{k} {v}" for k, v in sorted(payload["rows"].items()) if k.startswith("internal/"))
    markdown = f"""## Aggregate

{machine_line()}

{markdown_table(headers, rows)}

Growth 250k -> 1M reports: {growth:.2f}x (target {GROWTH_RANGE[0]}x to {GROWTH_RANGE[1]}x); the floor's own
growth in the same rounds: {results.floor_growth:.2f}x. A day of {FIXED_COST_DAY[0]:,} reports takes
{fixed_seconds:.2f} s (median of {ROUNDS} runs): what every run costs whatever its size (starting DuckDB,
some 70 statements, 28 files written and the sketches merged), {fixed_share:.0%} of the 250k day; it is
why the growth stays below 4, and why making the per-report work faster lowers it. Per-round growth
ranged {min(per_round):.2f}x to {max(per_round):.2f}x ({", ".join(f"{g:.2f}" for g in per_round)}): the
machine's speed moves within seconds. For information only (not what the target checks): with that
fixed cost taken off both days, the median growth would be {variable_growth:.2f}x.

{checks_markdown(checks)}

Aggregation is `ceip.aggregate.service.aggregate_day` on one generated day ({payload["objects"]:,} objects of
{REPORTS_PER_OBJECT} reports, gzip NDJSON as ingest stores them; {payload["machines"]:,} machines, 3 products,
300 problem ids with a long tail, 150 features), reading through a local-directory ReportSource and
writing every table (internal Parquet, partner Parquet and CSV, sketches, manifest) to a local
directory: DuckDB {payload["engine"]}, {payload["threads"]} threads, memory_limit 1024 MB,
{LOCAL_FETCH_WORKERS} fetch thread (a local read does not wait; the Lambda's 16 hide S3 round trips).
The floor decompresses the same objects with Python's gzip and counts their lines, single-threaded.
Each measurement runs in a fresh interpreter and times only the work. After one warm-up floor per size
(page cache), {len(results.rounds)} rounds each run, for each day, the floor and right after it the
aggregation, the 1M day first in odd rounds and the 250k day first in even ones. The ratio is the
median of the per-round ratios and the growth the
median of the per-round growth (both sizes of a round run within seconds of each other): pairs
measured together share the machine's load of the moment, which the ratio of two medians taken
minutes apart would not. Peak RSS is the aggregation child's `ru_maxrss` (os.wait4), imports
included. The CPU-time ratio (process CPU time of all threads; for information, the target is on
wall time) says how much of the wall-time ratio is work: wall time drops below it only when both
cores run the aggregation at once, which other processes on the machine prevent.

Rounds: {rounds}.

Where the 1M-report run spends its time (one extra run with per-stage timers; the sketch inputs, HLL
sketches, rolling windows and rolling tables run on a thread beside the daily tables, performance is
built on another beside the small daily tables, and every table but performance is published while
performance is computed, so those overlap and the daily tables' time counts both threads; stages not
listed, such as writing the sketches and the rolling tables, make up the rest):

{markdown_table(("Stage", "Time", "Share"), stage_rows)}

Rows written (1M day): {written}.
"""
    table = "\n".join(
        [
            *(
                f"{label:>5}: aggregate {results.seconds(label, 'aggregate'):6.2f}s  "
                f"floor {results.seconds(label, 'floor'):5.2f}s  ratio {results.ratio(label):.2f}x  "
                f"peak {results.peak_rss_mb(label):,.0f} MB"
                for label in SIZES
            ),
            f"growth 250k -> 1M: {growth:.2f}x (floor {results.floor_growth:.2f}x); "
            f"a {FIXED_COST_DAY[0]:,}-report day: {fixed_seconds:.2f}s",
            "stages: " + ", ".join(f"{label} {share}" for label, _, share in stage_rows),
        ]
    )
    return Section("aggregate", markdown, table, checks)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.aggregate")
    parser.add_argument("--child", choices=("floor", "aggregate"), required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--stages", action="store_true")
    args = parser.parse_args(argv)
    work: Callable[[], dict[str, Any]]
    if args.child == "floor":
        work = lambda: child_floor(args.data)  # noqa: E731
    else:
        work = lambda: child_aggregate(args.data, args.stages)  # noqa: E731
    with contextlib.redirect_stdout(sys.stderr):
        payload = work()
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main())
