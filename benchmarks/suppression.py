"""Suppression benchmark: ingest latency per request with and without the suppression check.

No target: the issue asks for the figures. `ceip.ingest.app.lambda_handler` runs in this process (as in
the ingest benchmark: in-memory S3 writer, a MachineKeyer over a fixed secret, Powertools at WARNING,
stdout to /dev/null) in three variants that differ only in the suppression check:

- disabled: `SuppressionLookup` replaced by its in-memory twin with nothing suppressed;
- in-memory: the real `SuppressionLookup` against an in-memory DynamoDB client, which isolates our own
  CPU cost (keyed hashes, request building, response parsing);
- moto: the real `SuppressionLookup` with a boto3 client built by `dynamodb_client`'s own factory, inside
  moto's `mock_aws`, table created as in template.yaml with 1,000 keys. This adds botocore's client-side
  work (serialize, sign, parse), which AWS would also cost, and moto's emulation, which it would not.

Each request body runs under the three variants back to back (order rotated per request), so they share
the machine's load at that moment. A fresh MachineKeyer per variant and round means every machine is
hashed once, as for a machine the container has not seen; a machine reporting again skips its HMAC.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

from benchmarks.harness import Profile, quiet
from benchmarks.ingest import BENCH_ENV, BENCH_SECRET
from benchmarks.render import Section, machine_line, markdown_table, shares_table
from benchmarks.workloads.lambda_events import BenchContext, http_event
from benchmarks.workloads.ports import WRITER, MemoryDynamoDB
from benchmarks.workloads.reports import batch_body, client_report

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from ceip.machines.machine_key import MachineKeyer

SUPPRESSED_MACHINES = 1_000
"""Keys in the table (in memory and in moto); none belongs to a machine of the timed batches."""
ROUNDS = 5
SEED = 20261130


@dataclass(frozen=True, slots=True)
class Shape:
    label: str
    reports: int
    machines: int
    requests_per_round: int


SHAPES: tuple[Shape, ...] = (
    Shape("10 reports, 1 machine", 10, 1, 200),
    Shape("100 reports, 100 machines", 100, 100, 100),
)
"""A client sends its own machine's reports (10 a day); 100 machines is the worst case of one request
for the check: the BatchGetItem limit, 100 keys to hash and look up."""
VARIANTS: tuple[str, ...] = ("disabled", "in-memory", "moto")
VARIANT_LABELS: dict[str, str] = {
    "disabled": "(a) check disabled (stub)",
    "in-memory": "(b) SuppressionLookup, in-memory DynamoDB",
    "moto": "(c) SuppressionLookup, moto mock_aws",
}
DIRECT_CALLS = 300
"""Calls of SuppressionLookup.suppressed() alone per variant and shape (the check without the handler)."""


def make_bodies(shape: Shape, count: int, rng: random.Random) -> list[str]:
    """Valid request bodies (reports shaped like docs/examples/batch.json), `shape.machines` per body."""
    now = datetime.now(UTC)
    bodies = []
    for _ in range(count):
        machines = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(shape.machines)]
        reports = []
        for index in range(shape.reports):
            report = client_report(rng, now)
            report["machine_id"] = machines[index % shape.machines]
            reports.append(report)
        bodies.append(batch_body(reports))
    return bodies


def table_machines() -> list[str]:
    return [str(uuid.UUID(int=n, version=4)) for n in range(SUPPRESSED_MACHINES)]


def moto_client(keys: Sequence[str]) -> Any:
    """A DynamoDB client from ceip's own factory (its retry and timeout config), table as in the template.

    Must be called inside mock_aws.
    """
    from ceip.machines import suppression  # noqa: PLC0415 (after the environment is set)

    client = suppression.dynamodb_client.__wrapped__()
    table = BENCH_ENV["SUPPRESSION_TABLE"]
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": suppression.KEY_ATTRIBUTE, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": suppression.KEY_ATTRIBUTE, "AttributeType": "S"}],
    )
    for start in range(0, len(keys), 25):
        items = [
            {"PutRequest": {"Item": {suppression.KEY_ATTRIBUTE: {"S": k}}}} for k in keys[start : start + 25]
        ]
        client.batch_write_item(RequestItems={table: items})
    return client


@dataclass
class Switch:
    """What the patched handler builds for the current variant; changed between timed blocks."""

    variant: str
    keyer: MachineKeyer
    clients: dict[str, Any]


def patched_handler(handler_module: Any, switch: Switch) -> contextlib.ExitStack:
    """Swap the handler's composition root once; `switch` chooses the variant without re-patching."""
    from ceip.ingest.service import Ingest  # noqa: PLC0415 (after the environment is set)
    from ceip.ingest.settings import IngestSettings  # noqa: PLC0415
    from ceip.machines.suppression import MemorySuppression, SuppressionLookup  # noqa: PLC0415

    def build_ingest(settings: IngestSettings) -> Ingest:
        table = settings.suppression_table
        lookup: Any = (
            MemorySuppression()
            if switch.variant == "disabled"
            else SuppressionLookup(table, switch.keyer, client=switch.clients[switch.variant])
        )
        return Ingest(writer=WRITER, suppression=lookup)

    stack = contextlib.ExitStack()
    stack.enter_context(mock.patch.object(handler_module, "build_ingest", build_ingest))
    return stack


def _check_accepted(response: dict[str, Any], reports: int) -> None:
    if response.get("statusCode") != 202:
        raise RuntimeError(f"handler answered {response.get('statusCode')}: {response.get('body')}")
    answer = json.loads(response["body"])
    if answer["accepted"] != reports or answer["rejected"]:
        raise RuntimeError(f"not every report was accepted: {answer}")


def quantile(samples: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method: within the observed range)."""
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True, slots=True)
class Latencies:
    shape: Shape
    samples: dict[str, tuple[float, ...]]
    """Variant -> seconds per request."""

    def p(self, variant: str, q: int) -> float:
        return quantile(self.samples[variant], q)

    def added(self, variant: str, q: int) -> float:
        return self.p(variant, q) - self.p("disabled", q)

    def paired(self, variant: str) -> float:
        """Median of per-request differences: each body ran under every variant back to back."""
        pairs = zip(self.samples[variant], self.samples["disabled"], strict=True)
        return statistics.median(value - base for value, base in pairs)


def measure_handler(
    handler_module: Any, switch: Switch, shape: Shape, rng: random.Random, suppressed_machine: str
) -> Latencies:
    bodies = make_bodies(shape, shape.requests_per_round, rng)
    events = [http_event(body, index) for index, body in enumerate(bodies)]
    context = cast("LambdaContext", BenchContext())
    from ceip.machines.machine_key import MachineKeyer  # noqa: PLC0415

    for variant in VARIANTS:  # warm-up, and proof that every variant accepts the batches
        switch.variant, switch.keyer = variant, MachineKeyer(BENCH_SECRET)
        for event in events[:10]:
            _check_accepted(handler_module.lambda_handler(event, context), shape.reports)
        _check_suppression(handler_module, switch, context, suppressed_machine)
    # As the handler does for what its import builds: keep long-lived objects (moto's modules and
    # backend, this harness) out of the collector's reach, so full collections walk only new objects.
    gc.collect()
    gc.freeze()
    samples: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for round_index in range(ROUNDS):
        keyers = {variant: MachineKeyer(BENCH_SECRET) for variant in VARIANTS}
        WRITER.objects.clear()
        for index, event in enumerate(events):
            shift = (index + round_index) % len(VARIANTS)
            for variant in VARIANTS[shift:] + VARIANTS[:shift]:
                switch.variant, switch.keyer = variant, keyers[variant]
                start = time.perf_counter()
                response = handler_module.lambda_handler(event, context)
                samples[variant].append(time.perf_counter() - start)
                if response["statusCode"] != 202:
                    raise RuntimeError(f"{variant}: handler answered {response['statusCode']}")
    return Latencies(shape, {variant: tuple(values) for variant, values in samples.items()})


def _check_suppression(handler_module: Any, switch: Switch, context: LambdaContext, machine: str) -> None:
    """With the check on, a batch of a suppressed machine is accepted and not stored; with it off, stored."""
    report = client_report(random.Random(0), datetime.now(UTC))
    report["machine_id"] = machine
    WRITER.objects.clear()
    response = handler_module.lambda_handler(http_event(batch_body([report]), 0), context)
    _check_accepted(response, 1)
    stored = bool(WRITER.objects)
    if stored != (switch.variant == "disabled"):
        raise RuntimeError(
            f"{switch.variant}: suppressed machine's report {'stored' if stored else 'dropped'}"
        )


@dataclass(frozen=True, slots=True)
class DirectCost:
    """SuppressionLookup.suppressed() alone: median seconds per call, per variant and shape."""

    medians: dict[tuple[str, str], float]
    moto_shares: tuple[tuple[str, float], ...]
    """Share of the profiled lookup time under moto per kind of work (100 machines per call)."""


def measure_direct(clients: dict[str, Any], rng: random.Random) -> DirectCost:
    from ceip.machines.machine_key import MachineKeyer  # noqa: PLC0415
    from ceip.machines.suppression import SuppressionLookup  # noqa: PLC0415

    table = BENCH_ENV["SUPPRESSION_TABLE"]
    medians: dict[tuple[str, str], float] = {}
    for shape in SHAPES:
        calls = [
            [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(shape.machines)]
            for _ in range(DIRECT_CALLS)
        ]
        for variant in ("in-memory", "moto"):
            lookup = SuppressionLookup(table, MachineKeyer(BENCH_SECRET), client=clients[variant])
            timings = []
            for machines in calls:
                start = time.perf_counter()
                found = lookup.suppressed(machines)
                timings.append(time.perf_counter() - start)
                if found:
                    raise RuntimeError(f"{variant}: unexpected suppressed machines")
            medians[(variant, shape.label)] = statistics.median(timings)
    lookup = SuppressionLookup(table, MachineKeyer(BENCH_SECRET), client=clients["moto"])
    machines_per_call = [
        [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(100)] for _ in range(100)
    ]

    def profiled() -> None:
        for machines in machines_per_call:
            lookup.suppressed(machines)

    return DirectCost(medians, tuple(moto_breakdown(profiled)))


def moto_breakdown(call: Callable[[], None]) -> list[tuple[str, float]]:
    """Where SuppressionLookup.suppressed() spends its time under moto (rough: cProfile inflates Python)."""
    profile = Profile(call)
    total = profile.seconds_in("ceip/machines/suppression.py", "suppressed")
    api = profile.seconds_in("botocore/client.py", "_api_call")
    emulation = profile.seconds_in("moto/core/botocore_stubber.py", "__call__")
    hashes = profile.seconds_in("ceip/machines/machine_key.py", "key")
    return [
        ("moto's emulation of DynamoDB (BotocoreStubber): not in AWS", emulation / total),
        ("botocore client: validate, serialize, sign, parse (also in AWS)", (api - emulation) / total),
        ("keyed hashes: MachineKeyer.key", hashes / total),
        ("SuppressionLookup: request building, response reading", (total - api - hashes) / total),
    ]


@contextlib.contextmanager
def _unfreeze_after() -> Iterator[None]:
    try:
        yield
    finally:
        gc.unfreeze()


def measure() -> tuple[list[Latencies], DirectCost]:
    os.environ.update(BENCH_ENV)  # before the import: Powertools and settings read them then
    from moto import mock_aws  # noqa: PLC0415 (dev dependency, only here)

    from ceip.ingest import app as handler_module  # noqa: PLC0415 (environment first)
    from ceip.machines.machine_key import MachineKeyer  # noqa: PLC0415
    from ceip.machines.suppression import KEY_ATTRIBUTE  # noqa: PLC0415

    handler_module.logger.setLevel("WARNING")
    rng = random.Random(SEED)
    machines = table_machines()
    keys = [MachineKeyer(BENCH_SECRET).key(machine) for machine in machines]
    with mock_aws(), quiet(), _unfreeze_after():
        clients = {"in-memory": MemoryDynamoDB(set(keys), KEY_ATTRIBUTE), "moto": moto_client(keys)}
        switch = Switch("disabled", MachineKeyer(BENCH_SECRET), clients)
        with patched_handler(handler_module, switch):
            results = [measure_handler(handler_module, switch, shape, rng, machines[0]) for shape in SHAPES]
        direct = measure_direct(clients, rng)
    return results, direct


# --- section ----------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    if abs(seconds) < 1e-4:
        return f"{seconds * 1e6:.1f} µs"
    return f"{seconds * 1000:.2f} ms"


def _added(seconds: float) -> str:
    return f"{seconds * 1000:+.2f} ms"


def render(results: list[Latencies], direct: DirectCost) -> Section:
    rows = []
    for result in results:
        for variant in VARIANTS:
            rows.append(
                (
                    result.shape.label,
                    VARIANT_LABELS[variant],
                    _ms(result.p(variant, 50)),
                    _ms(result.p(variant, 99)),
                    "-" if variant == "disabled" else _added(result.added(variant, 50)),
                    "-" if variant == "disabled" else _added(result.added(variant, 99)),
                    "-" if variant == "disabled" else _added(result.paired(variant)),
                )
            )
    direct_rows = [
        (
            shape.label,
            _ms(direct.medians[("in-memory", shape.label)]),
            _ms(direct.medians[("moto", shape.label)]),
        )
        for shape in SHAPES
    ]
    shares = shares_table("Work", direct.moto_shares)
    samples = ", ".join(
        f"{len(result.samples['disabled']):,} per variant for {result.shape.label}" for result in results
    )
    markdown = f"""## Suppression check

{machine_line()}

Ingest latency per request, `lambda_handler` in-process, with and without the suppression check (no
target: the figures are for information).

{markdown_table(("Batch", "Variant", "p50", "p99", "Added p50", "Added p99", "Added, paired"), rows)}

Added p50 and p99: the variant's percentile minus that of (a) for the same batch shape. Added, paired:
the median over requests of (variant - (a)) for the same body run back to back, the steadiest estimate
of the check's own cost. p99 differences are noisy (the tail is where the shared machine's other work
lands). For one machine the check's own cost, {_ms(direct.medians[("in-memory", SHAPES[0].label)])} per
call measured alone (below), is under what whole-request timings resolve, so (b) - (a) is noise there.

**In AWS the check adds one BatchGetItem round trip per request** (for up to 100 distinct machines),
on the request's critical path: DynamoDB answers in single-digit milliseconds in-region according to
AWS's documentation ([What is Amazon DynamoDB?](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Introduction.html)).
That round trip is not measured here: no variant talks to AWS.

- (a) `SuppressionLookup` replaced by its in-memory twin holding no machine, whose `suppressed()`
  returns an empty set: the handler without the check.
- (b) the real `SuppressionLookup` with an in-memory DynamoDB client ({SUPPRESSED_MACHINES:,} keys, none
  of a timed machine): our own CPU cost, i.e. one HMAC-SHA256 per distinct machine, building the
  `BatchGetItem` request and reading the response.
- (c) the real `SuppressionLookup` with a client from ceip's `dynamodb_client` factory inside moto's
  `mock_aws`, table created as in template.yaml and filled with the same keys. This adds botocore's
  client-side work, which AWS requests also cost, and **moto's own emulation, which is not AWS
  latency** (nor a stand-in for it: moto answers in-process, without network, TLS or DynamoDB).
- Both checks are proven before timing: a report of a machine in the table is answered 202 and not
  stored with (b) and (c), and stored with (a).
- Batches: {"; ".join(s.label for s in SHAPES)}; every request a distinct valid body (reports shaped
  like docs/examples/batch.json). Each variant and round gets a fresh `MachineKeyer`, so every machine
  is hashed once, as for a machine the container has not seen yet.
- Procedure: in-memory S3 writer, `POWERTOOLS_LOG_LEVEL=WARNING`, stdout to `/dev/null` (the EMF record
  is still built and written); 10 untimed requests per variant, then `gc.collect()` and `gc.freeze()`
  (as the handler does at import; without it, full collections walking moto's modules and backend put
  60-80 ms into every variant's p99), then {ROUNDS} rounds over the bodies, each body run under the
  three variants back to back in an order rotated per request. Samples: {samples}.

The check alone (`SuppressionLookup.suppressed()`, median per call over {DIRECT_CALLS} calls, cold
keyer, nothing suppressed):

{markdown_table(("Batch", "(b) in-memory DynamoDB", "(c) moto"), direct_rows)}

Where the time of the check goes under moto, 100 machines per call (one cProfile run over 100 calls,
cumulative time; the profiler inflates pure-Python code, which all of this is, so read it as rough):

{shares}
"""
    table = "\n".join(
        f"{result.shape.label:<26} "
        + "  ".join(
            f"{variant} p50 {_ms(result.p(variant, 50))} p99 {_ms(result.p(variant, 99))}"
            for variant in VARIANTS
        )
        + f"  added (paired) b-a {_added(result.paired('in-memory'))} c-a {_added(result.paired('moto'))}"
        for result in results
    )
    return Section("suppression", markdown, table)


def run() -> Section:
    results, direct = measure()
    return render(results, direct)
