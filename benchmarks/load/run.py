"""One load run: send, audit, aggregate, and the verdict on the three invariants.

The verdict: the reports answered 202 (accepted), the distinct report ids stored and the reports
aggregated are one number, equal to what was sent; no report is aggregated twice; no 5xx answer and
no handler failure in the gateway's console.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.load.audit import AggregatedCounts, StoredCounts, aggregate_days, stored_reports
from benchmarks.load.clients import SendOutcome, send_all
from benchmarks.load.stack import Stack
from benchmarks.load.traffic import Repeat, make_batches, run_tag


@dataclass(frozen=True, slots=True)
class LoadConfig:
    reports: int = 20_000
    concurrency: int = 16
    batch_size: int = 25
    repeat_share: float = 0.1
    seed: int = 1


@dataclass(frozen=True, slots=True)
class LoadResult:
    config: LoadConfig
    tag: str
    sent: int
    batches: int
    planned_repeats: dict[Repeat, int]
    outcome: SendOutcome
    stored: StoredCounts
    aggregated: AggregatedCounts
    own_stack: bool
    handler_failures: int
    dropped_answers: int | None
    listen_overflows: int | None
    """Listen queue overflows on the machine while sending (any process's; None where not known)."""
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    generate_s: float
    audit_s: float
    aggregate_s: float

    @property
    def accepted(self) -> int:
        return len(self.outcome.accepted_ids)

    @property
    def lost(self) -> int:
        """Reports answered 202 that no stored object holds."""
        return len(self.outcome.accepted_ids - self.stored.ids.keys())

    @property
    def unacknowledged(self) -> int:
        """Stored reports no client saw a 202 for."""
        return len(self.stored.ids.keys() - self.outcome.accepted_ids)

    @property
    def counted_twice(self) -> int:
        """Aggregated beyond the distinct stored ids: copies that aggregation did not drop."""
        return max(0, self.aggregated.reports - self.stored.distinct)

    def latency_ms(self, quantile: float) -> float:
        values = sorted(self.outcome.latencies_s)
        if not values:
            return float("nan")
        if len(values) == 1:
            return values[0] * 1000
        cuts = statistics.quantiles(values, n=1000, method="inclusive")
        return cuts[min(len(cuts) - 1, round(quantile * 1000) - 1)] * 1000

    def failures(self) -> list[str]:
        """Every broken invariant, in words; empty when the run passes."""
        found = []
        if not self.sent == self.accepted == self.stored.distinct == self.aggregated.reports:
            found.append(
                f"counts differ: sent {self.sent}, accepted {self.accepted}, stored {self.stored.distinct}, "
                f"aggregated {self.aggregated.reports}"
            )
        if self.lost:
            found.append(f"{self.lost} reports answered 202 are not stored")
        if self.unacknowledged:
            found.append(f"{self.unacknowledged} stored reports were never answered 202")
        if self.counted_twice:
            found.append(f"{self.counted_twice} reports aggregated twice")
        if self.own_stack:
            # Nothing else wrote to an own stack: the manifest's totals must be this run's alone.
            if self.aggregated.total("reports_aggregated") != self.aggregated.reports:
                found.append(
                    f"manifest reports_aggregated {self.aggregated.total('reports_aggregated')} "
                    f"!= {self.aggregated.reports} in this run's active tables"
                )
            if self.aggregated.total("duplicates_dropped") != self.stored.duplicate_copies:
                found.append(
                    f"manifest duplicates_dropped {self.aggregated.total('duplicates_dropped')} "
                    f"!= {self.stored.duplicate_copies} stored duplicate copies"
                )
        if self.outcome.server_errors:
            found.append(f"{self.outcome.server_errors} answers with a 5xx status")
        if self.outcome.transport_errors:
            found.append(f"transport errors: {dict(self.outcome.transport_errors)}")
        if self.outcome.failed_batches:
            found.append(f"{self.outcome.failed_batches} batches never answered 202")
        if self.outcome.unexpected_answers:
            found.append("unexpected answers: " + "; ".join(self.outcome.unexpected_answers[:3]))
        if self.stored.unreadable_objects:
            found.append(f"{self.stored.unreadable_objects} stored objects are not readable gzip NDJSON")
        if self.handler_failures:
            found.append(f"{self.handler_failures} handler failures or tracebacks in the gateway console")
        return found

    def render(self) -> str:
        o, s, a = self.outcome, self.stored, self.aggregated
        reports_per_s = self.accepted / o.wall_s if o.wall_s else 0.0
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(o.statuses.items()))
        verdict = self.failures()
        lines = [
            f"load run {self.tag}: {self.sent:,} reports in {self.batches:,} batches of up to "
            f"{self.config.batch_size}, {self.config.concurrency} clients, "
            f"repeat share {self.config.repeat_share:.0%} "
            f"({self.planned_repeats[Repeat.ABANDONED]} abandoned then resent, "
            f"{self.planned_repeats[Repeat.AFTER_ANSWER]} resent after the answer), "
            f"seed {self.config.seed}, {'own stack' if self.own_stack else 'running stack'}",
            f"  requests    {o.requests:,} answered ({statuses}); {o.abandoned} abandoned before the answer "
            f"({_known(self.dropped_answers)} answers the gateway could not deliver); "
            f"transport errors {sum(o.transport_errors.values())}; listen queue overflows "
            f"{_known(self.listen_overflows)}",
            f"  accepted    {self.accepted:,} distinct report ids answered 202 "
            f"({o.accepted_in_answers:,} in the answers, repeats included)",
            f"  stored      {s.distinct:,} distinct report ids in {s.objects:,} objects "
            f"({s.lines:,} lines: {s.duplicate_copies} duplicate copies; "
            f"other reports those days: {s.other_lines})",
            f"  aggregated  {a.reports:,} (manifest reports_aggregated {a.total('reports_aggregated'):,}, "
            f"duplicates_dropped {a.total('duplicates_dropped')}, days {', '.join(d['dt'] for d in a.days)})",
            f"  duplicates  {self.counted_twice} counted twice; lost {self.lost}; stored without a 202 "
            f"{self.unacknowledged}",
            f"  latency     p50 {self.latency_ms(0.5):.1f} ms, p99 {self.latency_ms(0.99):.1f} ms, "
            f"max {max(o.latencies_s, default=0) * 1000:.1f} ms",
            f"  throughput  {reports_per_s:,.0f} reports/s, {o.requests / o.wall_s if o.wall_s else 0:,.1f} "
            f"requests/s over {o.wall_s:.1f} s of sending",
            f"  wall time   generate {self.generate_s:.1f} s, send {o.wall_s:.1f} s, "
            f"audit {self.audit_s:.1f} s, aggregate {self.aggregate_s:.1f} s",
            f"  load avg    {_load(self.load_before)} before, {_load(self.load_after)} after "
            f"(nproc {len(os.sched_getaffinity(0))})",
            "PASS" if not verdict else "FAIL\n" + "\n".join(f"  - {line}" for line in verdict),
        ]
        return "\n".join(lines)


def listen_overflows() -> int | None:
    """The kernel's count of connections dropped because a listen queue was full (Linux, whole machine)."""
    try:
        header, values = (
            line.split()
            for line in Path("/proc/net/netstat").read_text().splitlines()
            if line.startswith("TcpExt:")
        )
    except (OSError, ValueError):
        return None
    return int(dict(zip(header, values, strict=True)).get("ListenOverflows", 0))


def _known(value: int | None) -> str:
    return "n/a" if value is None else str(value)


def _load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def days_between(first: datetime, last: datetime) -> list[date]:
    days, day = [], first.astimezone(UTC).date()
    while day <= last.astimezone(UTC).date():
        days.append(day)
        day += timedelta(days=1)
    return days


def run_load(config: LoadConfig, stack: Stack) -> LoadResult:
    load_before = os.getloadavg()
    tag = run_tag()
    clock = time.perf_counter()
    batches = make_batches(config.reports, config.batch_size, config.repeat_share, seed=config.seed, tag=tag)
    generate_s = time.perf_counter() - clock
    run_ids = {report_id for batch in batches for report_id in batch.report_ids}
    overflows_before = listen_overflows()
    first = datetime.now(UTC)
    outcome = send_all(stack.url, batches, concurrency=config.concurrency)
    last = datetime.now(UTC)
    overflows_after = listen_overflows()
    days = days_between(first, last)
    clock = time.perf_counter()
    stored = stored_reports(stack, days, run_ids)
    audit_s = time.perf_counter() - clock
    clock = time.perf_counter()
    aggregated = aggregate_days(stack, days, tag)
    aggregate_s = time.perf_counter() - clock
    return LoadResult(
        config=config,
        tag=tag,
        sent=len(run_ids),
        batches=len(batches),
        planned_repeats={kind: sum(1 for b in batches if b.repeat is kind) for kind in Repeat},
        outcome=outcome,
        stored=stored,
        aggregated=aggregated,
        own_stack=stack.own,
        handler_failures=stack.handler_failures(),
        dropped_answers=stack.dropped_answers(),
        listen_overflows=None
        if overflows_before is None or overflows_after is None
        else overflows_after - overflows_before,
        load_before=load_before,
        load_after=os.getloadavg(),
        generate_s=generate_s,
        audit_s=audit_s,
        aggregate_s=aggregate_s,
    )
