"""Hostile-day benchmark: the aggregate benchmark's 1,000,000-report day alone, against the same day
plus 200 requests of maximum-size reports with unique ids, in the same rounds.

Targets (issue 16, "hostile clients"): the hostile day takes at most 1.5x the time and 1.5x the peak
memory (RSS) of the normal day, and writes every table of both audiences.

The hostile part is what ingest stores for 200 requests of about 1 MiB each (the request body limit):
as many reports as fit, each from a fresh machine GUID, with 256 problems and 256 features of fresh
128-character ids, 64 hardware features of fresh names, every sample list at 256 values, and a random
OS version (benchmarks/workloads/reports.py, `max_size_report`). Each request goes through ingest's
own service (validation by the Report model, canonical lines, content-addressed key, gzip), so each
object is one stored request. The objects are cached beside the normal day, under a fingerprint of
the parameters; the hostile day is a second tree of symlinks to both days' objects.

Each measurement is aggregate.py's child: a fresh interpreter that times `aggregate_day` alone and
reports its peak RSS (os.wait4).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import aggregate
from benchmarks.harness import Check, median, paired_ratio
from benchmarks.render import Section, checks_markdown, machine_line, markdown_table
from benchmarks.workloads.reports import batch_body, max_size_report
from ceip.aggregate.tables import AUDIENCES, TABLES
from ceip.ingest.service import ingest
from ceip.machines.suppression import MemorySuppression
from ceip.reports import limits
from ceip.reports.minimization import StoredEntries
from ceip.reports.model import Report
from ceip.storage import report_codec
from ceip.storage.s3 import MemoryObjectWriter

REQUESTS = 200
SEED = 20261116
GENERATOR_VERSION = 2
"""Bump to regenerate the cached hostile objects when the generator changes."""
ROUNDS = 7
MAX_TIME_RATIO = 1.5
MAX_PEAK_RSS_RATIO = 1.5
NORMAL = aggregate.SIZES["1M"]
TABLE_COUNT = len(AUDIENCES) * len(TABLES)
COMMAND = ".venv/bin/python -m benchmarks hostile"


# --- the hostile objects ---------------------------------------------------------------------------------
def fingerprint() -> str:
    """What the cached objects depend on: change any of it and they are generated again."""
    parameters = {
        "version": GENERATOR_VERSION,
        "requests": REQUESTS,
        "seed": SEED,
        "day": aggregate.DAY.isoformat(),
        "products": aggregate.PRODUCTS,
        "stored": dataclasses.astuple(StoredEntries()),
        "limits": [
            limits.MAX_BODY_BYTES,
            limits.MAX_REPORTS_PER_BATCH,
            limits.MAX_SAMPLES,
            limits.MAX_LIST_ITEMS,
            limits.MAX_HARDWARE_FEATURES,
            limits.IDENTIFIER_PATTERN,
            limits.VERSION_PATTERN,
        ],
    }
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:12]


def hostile_dir() -> Path:
    return aggregate.CACHE / f"hostile-{fingerprint()}"


def _request(rng: random.Random, received: datetime, carried: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """As many maximum-size reports as one request body holds (the one that overflows is carried to
    the next request). Products in turn, created up to an hour before the request."""
    reports = carried[:]
    carried.clear()
    while len(reports) < limits.MAX_REPORTS_PER_BATCH:
        product = aggregate.PRODUCTS[rng.randrange(len(aggregate.PRODUCTS))]
        report = max_size_report(rng, product, received - timedelta(seconds=rng.randrange(1, 3600)))
        if len(batch_body([*reports, report], compact=True).encode()) > limits.MAX_BODY_BYTES:
            carried.append(report)
            break
        reports.append(report)
    return reports


def generate_hostile() -> Path:
    """reports/dt=2026-11-28/hr=HH/<digest>.ndjson.gz: one object per request, as ingest stores it."""
    root = hostile_dir()
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(SEED)
    carried: list[dict[str, Any]] = []
    for number in range(REQUESTS):
        hour = number * 24 // REQUESTS
        received = datetime(aggregate.DAY.year, aggregate.DAY.month, aggregate.DAY.day, hour, tzinfo=UTC)
        received += timedelta(seconds=rng.randrange(3600), milliseconds=rng.randrange(1000))
        sent = _request(rng, received, carried)
        check_sent(sent)
        body = batch_body(sent, compact=True)
        writer = MemoryObjectWriter()
        # What the handler passes on after decoding the body: ingest validates and stores.
        result = ingest(
            json.loads(body), received_at=received, writer=writer, suppression=MemorySuppression()
        )
        if result.rejected or result.object_key is None:
            raise RuntimeError(f"ingest rejected a generated report: {result.rejected[:1]}")
        path = root / result.object_key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(writer.objects[result.object_key])
    check_sample(root)
    (root / "complete").write_text("ok\n")
    return root


def check_sent(reports: list[dict[str, Any]]) -> None:
    """Every report of a request as sent: every list at its limit, every id 128 characters."""
    expected = (
        limits.MAX_LIST_ITEMS,
        limits.MAX_LIST_ITEMS,
        limits.MAX_HARDWARE_FEATURES,
        limits.MAX_SAMPLES,
    )
    for sent in reports:
        report = Report.model_validate(sent)
        if _counts(report) != expected or _id_lengths(report) != {128}:
            raise RuntimeError(f"a hostile report is not at the limits: {_counts(report)}")


def check_sample(root: Path) -> None:
    """One stored object parsed back through the Report model: what ingest keeps of each report (the
    entries the aggregation can count, ceip.reports.minimization), every sample."""
    sample = min((root / "reports").rglob("*.ndjson.gz"))
    stored = StoredEntries()
    expected = (stored.problems, stored.features, stored.hardware_features, limits.MAX_SAMPLES)
    for line in report_codec.decode_lines(sample.read_bytes()):
        line.pop(report_codec.RECEIVED_AT)
        report = Report.model_validate(line)
        if _counts(report) != expected or _id_lengths(report) != {128}:
            raise RuntimeError(f"a stored hostile report is not minimized: {_counts(report)}")


def _counts(report: Report) -> tuple[int, int, int, int]:
    performance, usage, configuration = report.performance, report.usage, report.configuration
    if performance is None or usage is None or configuration is None:
        raise RuntimeError("a hostile report lacks a section")
    return (
        len(performance.problems),
        len(usage.features),
        len(configuration.hardware_features or {}),
        len(performance.ui_response_ms),
    )


def _id_lengths(report: Report) -> set[int]:
    problems = report.performance.problems if report.performance else []
    features = report.usage.features if report.usage else []
    return {len(problem.id) for problem in problems} | {len(feature.id) for feature in features}


def hostile_day(normal: Path, hostile: Path) -> Path:
    """A tree of symlinks to the normal day's objects and the hostile ones, under the same keys."""
    root = aggregate.CACHE / f"{normal.name}+{hostile.name}"
    if (root / "complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for source in (normal, hostile):
        for path in sorted((source / "reports").rglob("*.ndjson.gz")):
            link = root / path.relative_to(source)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(os.path.relpath(path, link.parent))  # a key in both days would raise
    (root / "complete").write_text("ok\n")
    return root


def objects_of(root: Path) -> tuple[int, int, int]:
    """(objects, compressed bytes, reports) under a day's tree."""
    paths = sorted((root / "reports").rglob("*.ndjson.gz"))
    reports = sum(sum(1 for _ in report_codec.decode_lines(path.read_bytes())) for path in paths)
    return len(paths), sum(path.stat().st_size for path in paths), reports


# --- the measurement ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Round:
    normal: aggregate.Run
    hostile: aggregate.Run

    @property
    def time_ratio(self) -> float:
        return self.hostile.seconds / self.normal.seconds

    @property
    def rss_ratio(self) -> float:
        return self.hostile.peak_rss_mb / self.normal.peak_rss_mb


def measure(normal: Path, hostile: Path, rounds: int = ROUNDS) -> list[Round]:
    aggregate.spawn("floor", hostile)  # warm the page cache: both days' objects
    done = []
    for number in range(rounds):
        # Odd rounds run the normal day first, even rounds the hostile one.
        days = [("normal", normal), ("hostile", hostile)]
        order = days if number % 2 == 0 else days[::-1]
        runs = {label: aggregate.spawn("aggregate", root) for label, root in order}
        done.append(Round(runs["normal"], runs["hostile"]))
        print(
            f"  round {number + 1}: "
            + ", ".join(f"{label} {run.seconds:.2f}s {run.peak_rss_mb:.0f} MB" for label, run in runs.items())
            + f" ({done[-1].time_ratio:.2f}x, {done[-1].rss_ratio:.2f}x)",
            flush=True,
        )
    return done


def run() -> Section:
    started = time.perf_counter()
    normal = aggregate.generate(*NORMAL)
    extra = generate_hostile()
    both = hostile_day(normal, extra)
    print(f"  data ready in {time.perf_counter() - started:.0f}s ({both})", flush=True)
    rounds = measure(normal, both)
    stages = {
        label: aggregate.spawn("aggregate", root, "--stages")
        for label, root in (("normal", normal), ("hostile", both))
    }
    return render(rounds, stages, objects_of(extra))


def render(rounds: list[Round], stages: dict[str, aggregate.Run], extra: tuple[int, int, int]) -> Section:
    time_ratio = paired_ratio([r.hostile.seconds for r in rounds], [r.normal.seconds for r in rounds])
    peak = {
        "normal": max(r.normal.peak_rss_mb for r in rounds),
        "hostile": max(r.hostile.peak_rss_mb for r in rounds),
    }
    rss_ratio = peak["hostile"] / peak["normal"]
    stored = StoredEntries()
    hostile = rounds[0].hostile.payload
    written = hostile["written"]
    tables_with_rows_and_files = TABLE_COUNT - len(
        set(written["without_rows"]) | set(written["without_files"])
    )
    checks = (
        Check("hostile / normal day, time", time_ratio, MAX_TIME_RATIO, at_most=True),
        Check("hostile / normal day, peak RSS", rss_ratio, MAX_PEAK_RSS_RATIO, at_most=True),
        Check(
            f"hostile day: tables with rows and files (of {TABLE_COUNT})",
            tables_with_rows_and_files,
            TABLE_COUNT,
            at_most=False,
        ),
        Check(
            "hostile day: files listed in the manifest but missing",
            len(written["missing_files"]),
            0,
            at_most=True,
        ),
    )
    rows = [
        (
            label,
            f"{payload['input']['objects_read']:,}",
            f"{payload['input']['reports_read']:,}",
            f"{payload['machines']:,}",
            f"{median([getattr(r, label).seconds for r in rounds]):.2f} s",
            f"{peak[label]:,.0f} MB",
        )
        for label, payload in (("normal", rounds[0].normal.payload), ("hostile", hostile))
    ]
    per_round = "; ".join(
        f"{r.normal.seconds:.2f}/{r.hostile.seconds:.2f} s, "
        f"{r.normal.peak_rss_mb:.0f}/{r.hostile.peak_rss_mb:.0f} MB"
        for r in rounds
    )
    counts = hostile["input"]
    folded = hostile["folded"]
    labels = sorted(
        set(stages["normal"].payload["stages"]) | set(stages["hostile"].payload["stages"]),
        key=lambda label: -stages["hostile"].payload["stages"].get(label, 0.0),
    )
    stage_rows = [
        (
            label,
            f"{stages['normal'].payload['stages'].get(label, 0.0):.2f} s",
            f"{stages['hostile'].payload['stages'].get(label, 0.0):.2f} s",
        )
        for label in labels
    ]
    stage_rows.append(
        ("the whole run (timed)", f"{stages['normal'].seconds:.2f} s", f"{stages['hostile'].seconds:.2f} s")
    )
    objects, size, reports = extra
    grown = ", ".join(
        f"{name} {hostile['rows'].get(name, 0):,} (normal {rounds[0].normal.payload['rows'].get(name, 0):,})"
        for name in sorted(hostile["rows"])
        if hostile["rows"].get(name) != rounds[0].normal.payload["rows"].get(name)
    )
    headers = ("Day", "Objects", "Reports read", "Machines", "Aggregation (median)", "Peak RSS (max)")
    markdown = f"""## Hostile day

{machine_line()}

{markdown_table(headers, rows)}

{checks_markdown(checks)}

What is measured against what: `ceip.aggregate.service.aggregate_day` on the aggregate benchmark's
day ({NORMAL[0]:,} reports of {NORMAL[1]:,} machines, the normal day) against the same day plus
{objects} objects that ingest stored for {REQUESTS} hostile requests of about 1 MiB each
({size / 2**20:,.0f} MiB gzip stored,
{reports:,} reports, the hostile day), each request as large as the body limit allows
({limits.MAX_BODY_BYTES:,} bytes): {reports // objects} or so reports of a fresh machine GUID each, with
{limits.MAX_LIST_ITEMS} problems and {limits.MAX_LIST_ITEMS} features of fresh 128-character ids,
{limits.MAX_HARDWARE_FEATURES} hardware features of fresh 128-character names, {limits.MAX_SAMPLES}
samples in each list and a random OS version (benchmarks/workloads/reports.py `max_size_report`, each
report checked at the limits). Each request went through ingest's service, so every report passed the
Report model, and ingest stored of each what the aggregation can count: the {stored.problems} most hit
problems, {stored.features} most used features and first {stored.hardware_features} hardware names
(ceip.reports.minimization; one stored object is parsed back to check). Same ports, options and
child process as the aggregate benchmark (local
directory source and store, {hostile["threads"]} DuckDB threads, memory_limit 1024 MB, one fetch
thread); the hostile day's tree links to the normal day's objects. After one warm-up read of every
object (page cache), {len(rounds)} rounds each run both days in fresh interpreters, the normal day
first in odd rounds and the hostile day first in even ones. The time ratio is the median of the
per-round ratios; the memory ratio is the highest peak RSS (`ru_maxrss`) of the hostile runs over the
highest of the normal runs. Run: `{COMMAND}`.

Rounds (normal/hostile): {per_round}; time ratios {", ".join(f"{r.time_ratio:.2f}" for r in rounds)};
peak RSS ratios {", ".join(f"{r.rss_ratio:.2f}" for r in rounds)}.

What the bounds did on the hostile day (its manifest): reports beyond the day's product cap
{counts["over_product_cap_reports_dropped"]:,}, beyond a machine's products
{counts["over_products_reports_dropped"]:,}, beyond its reports {counts["over_reports_dropped"]:,}
(the hostile reports are for the day's products, and every hostile machine sends one report, so none of
these applies: the per-machine bounds on distinct problems, features and hardware features and the
per-product caps do the work); ids beyond the caps
folded into '(other)': {folded["problem_ids"]:,} problem ids and {folded["feature_ids"]:,} feature ids;
{folded["hardware_features"]:,} hardware-feature names dropped from the configuration table. Tables
whose row counts differ from the normal day's: {grown or "none"}. Every table of both audiences has
rows in the manifest and files in the store ({TABLE_COUNT - len(written["without_rows"])} of
{TABLE_COUNT} with rows, {TABLE_COUNT - len(written["without_files"])} with files,
{len(written["missing_files"])} listed files missing).

Where the time goes (one extra run of each day with aggregate.py's per-stage timers; stages overlap,
as the aggregate section explains, so they do not add up to the run):

{markdown_table(("Stage", "Normal day", "Hostile day"), stage_rows)}
"""
    table = "\n".join(
        [
            f"normal {rows[0][4]}, peak {peak['normal']:,.0f} MB; "
            f"hostile {rows[1][4]}, peak {peak['hostile']:,.0f} MB",
            f"time ratio {time_ratio:.2f}x, peak RSS ratio {rss_ratio:.2f}x; folded {folded}; "
            f"over_products {counts['over_products_reports_dropped']}, "
            f"over_reports {counts['over_reports_dropped']}",
            "stages (normal/hostile): " + ", ".join(f"{label} {n}/{h}" for label, n, h in stage_rows),
        ]
    )
    return Section("hostile", markdown, table, checks)
