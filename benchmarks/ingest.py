"""Ingest benchmark: cold import of the handler against its dependencies, warm reports/s against a floor.

Targets (from the issue): cold import of `ceip.ingest.app` at most 1.2x importing its third-party
dependencies alone; warm throughput through `lambda_handler` at least 1/3 of the floor (json parsing
plus gzip of the same request bodies).

Cold import runs in fresh interpreters, interleaving handler and dependencies, and times the import
statements in-process with perf_counter, so interpreter start-up is not part of either figure. The
dependency list is derived, not typed (the handler keeps changing): the third-party import statements
that run when the handler's own modules are imported (module level, `TYPE_CHECKING` blocks excluded),
read from their source.

Warm throughput runs the real handler in this process with the AWS adapters it builds per request
swapped for in-memory ones (no moto, no network; see in_memory_adapters), Powertools at log level
WARNING and stdout sent to /dev/null, so the EMF record is still built and written, but not to a
terminal. Handler and floor rounds alternate, and ratios are medians of per-round ratios, because this
machine is shared and its load drifts.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

from benchmarks.harness import Check, Profile, interleave, median, paired_ratio, quiet, rate
from benchmarks.render import (
    PROJECT_ROOT,
    Section,
    checks_markdown,
    machine_line,
    markdown_table,
    shares_table,
)
from benchmarks.workloads.lambda_events import BenchContext, http_event
from benchmarks.workloads.ports import WRITER, MemoryDynamoDB
from benchmarks.workloads.reports import client_bodies

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

HANDLER_MODULE = "ceip.ingest.app"
OWN_PACKAGE = "ceip"
FUNCTIONS_ROOT = PROJECT_ROOT / "functions"

BENCH_ENV: dict[str, str] = {
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "ceip",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "REPORTS_BUCKET": "bench-bucket",
    "SUPPRESSION_TABLE": "bench-suppression",
    "MACHINE_KEY_SECRET_ID": "bench-machine-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BENCH_SECRET = b"bench-machine-key-secret-0123456789abcdefghijklmnopqrstuvwxyz0123"
SUPPRESSED_MACHINES = 1000
"""Keys in the in-memory suppression table; none belongs to a machine in the batches."""

COLD_RUNS = 11
COLD_IMPORT_MAX_RATIO = 1.2

REPORTS_PER_BATCH = 100
DISTINCT_BATCHES = 40
WARM_REQUESTS = 120
"""Requests per timed round (cycling over the distinct batches)."""
WARM_ROUNDS = 9
WARM_MIN_FLOOR_RATIO = 1 / 3
GC_FROZEN_ROUNDS = 5
GZIP_LEVEL = 6
"""Same level as ceip.storage.report_codec."""
SEED = 20261129


# --- dependencies of the handler, derived from the source -------------------------------------------


def module_file(name: str) -> Path | None:
    base = FUNCTIONS_ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_time_statements(body: Sequence[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: not in functions, TYPE_CHECKING or except blocks."""
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield stmt
        elif isinstance(stmt, ast.If):
            if not _is_type_checking(stmt.test):
                yield from import_time_statements(stmt.body)
            yield from import_time_statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            yield from import_time_statements(stmt.body)
            yield from import_time_statements(stmt.orelse)
            yield from import_time_statements(stmt.finalbody)
        elif isinstance(stmt, ast.With):
            yield from import_time_statements(stmt.body)


def _absolute(stmt: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not stmt.level:
        return stmt.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[: len(parts) - (stmt.level - 1)]
    return ".".join([*base, stmt.module] if stmt.module else base)


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def third_party_imports(root_module: str = HANDLER_MODULE) -> list[str]:
    """The third-party import statements executed by importing root_module, in first-seen order."""
    statements: dict[str, None] = {}
    seen: set[str] = set()
    pending = _with_parents(root_module)
    while pending:
        module = pending.pop(0)
        path = module_file(module)
        if module in seen or path is None:
            continue
        seen.add(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for stmt in import_time_statements(tree.body):
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    _classify(alias.name, ast.unparse(ast.Import(names=[alias])), [], statements, pending)
            else:
                target = _absolute(stmt, module, path.name == "__init__.py")
                submodules = [f"{target}.{alias.name}" for alias in stmt.names]
                _classify(target, ast.unparse(stmt), submodules, statements, pending)
    return list(statements)


def _top(module: str) -> str:
    return module.partition(".")[0]


def _third_party(module: str) -> bool:
    return _top(module) != OWN_PACKAGE and _top(module) not in sys.stdlib_module_names


def _classify(
    target: str, source: str, submodules: list[str], statements: dict[str, None], pending: list[str]
) -> None:
    if _top(target) == OWN_PACKAGE:
        pending.extend([*_with_parents(target), *submodules])
    elif _third_party(target):
        statements[source] = None


# --- cold import ------------------------------------------------------------------------------------

_TIMED_SCRIPT = "import time\n_t0 = time.perf_counter()\n{body}\nprint(time.perf_counter() - _t0)\n"


def _child_env(pycache: str) -> dict[str, str]:
    """Bytecode is cached for every module alike, in a private tree (PYTHONPYCACHEPREFIX).

    Without this, a PYTHONDONTWRITEBYTECODE=1 environment makes the children compile ceip's sources on
    every run while the installed dependencies come with .pyc files: an unequal comparison.
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **BENCH_ENV, "PYTHONPYCACHEPREFIX": pycache}


def time_import(body: str, pycache: str) -> float:
    """Seconds spent in the import statements of a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _TIMED_SCRIPT.format(body=body)],
        cwd=PROJECT_ROOT,
        env=_child_env(pycache),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


_IMPORTTIME_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class ImportTrace:
    """One `python -X importtime` run: self time and importer of every module loaded."""

    self_times: dict[str, float]
    importers: dict[str, str | None]


def trace_imports(body: str, pycache: str) -> ImportTrace:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", body],
        cwd=PROJECT_ROOT,
        env=_child_env(pycache),
        capture_output=True,
        text=True,
        check=True,
    )
    entries = [match for line in result.stderr.splitlines() if (match := _IMPORTTIME_LINE.match(line))]
    self_times = {match[4]: int(match[1]) / 1e6 for match in entries}
    # A module is printed after the modules it imports, one level shallower: walk backwards.
    importers: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for match in reversed(entries):
        depth = len(match[3])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        importers[match[4]] = stack[-1][1] if stack else None
        stack.append((depth, match[4]))
    return ImportTrace(self_times, importers)


@dataclass(frozen=True, slots=True)
class ExtraImports:
    group: str
    modules: int
    seconds: float


def extra_imports(handler: ImportTrace, deps: ImportTrace, top: int = 6) -> list[ExtraImports]:
    """What the handler import loads beyond its dependencies, by top-level package (self time)."""
    groups: dict[str, list[float]] = {}
    for module, seconds in handler.self_times.items():
        if module not in deps.self_times:
            groups.setdefault(_top(module), []).append(seconds)
    ranked = sorted(groups.items(), key=lambda item: -sum(item[1]))
    return [ExtraImports(name, len(values), sum(values)) for name, values in ranked[:top]]


def indirect_imports(handler: ImportTrace, deps: ImportTrace) -> list[str]:
    """Third-party modules that the handler's own code loads at import time beyond its import statements.

    Only the roots, whose importer is not itself an extra third-party module (e.g. aws_xray_sdk.core,
    loaded by the Tracer() constructor in a ceip module body): importing a root loads the rest.
    """
    extra = {
        module for module in handler.self_times if module not in deps.self_times and _third_party(module)
    }
    return [
        module for module in handler.self_times if module in extra and handler.importers[module] not in extra
    ]


@dataclass(frozen=True, slots=True)
class ColdImport:
    dependencies: tuple[str, ...]
    indirect: tuple[str, ...]
    handler_runs: tuple[float, ...]
    deps_runs: tuple[float, ...]
    wider_runs: tuple[float, ...]
    extras: tuple[ExtraImports, ...]

    @property
    def handler(self) -> float:
        return median(self.handler_runs)

    @property
    def deps(self) -> float:
        return median(self.deps_runs)

    @property
    def wider(self) -> float:
        return median(self.wider_runs)

    @property
    def ratio(self) -> float:
        """Median of the per-iteration ratios: runs of one iteration share the machine's load."""
        return paired_ratio(self.handler_runs, self.deps_runs)

    @property
    def wider_ratio(self) -> float:
        return paired_ratio(self.handler_runs, self.wider_runs)


def measure_cold_import(runs: int = COLD_RUNS) -> ColdImport:
    with tempfile.TemporaryDirectory(prefix="ceip-bench-pycache-") as pycache:
        return _measure_cold_import(runs, pycache)


FIRST_MODEL = "import pydantic\nclass _FirstModel(pydantic.BaseModel):\n    x: int"
"""pydantic loads its schema machinery when the first model class is built, whatever the model: that
one-time cost belongs to the dependency, so the baseline builds a one-field model (and no more)."""


def _measure_cold_import(runs: int, pycache: str) -> ColdImport:
    dependencies = third_party_imports()
    handler_body = f"import {HANDLER_MODULE}"
    deps_body = "\n".join(dependencies)
    # Untimed first: bytecode caches written, files in the page cache; then the per-module traces.
    time_import(handler_body, pycache)
    time_import(deps_body, pycache)
    handler_trace = trace_imports(handler_body, pycache)
    deps_trace = trace_imports(deps_body, pycache)
    indirect = indirect_imports(handler_trace, deps_trace)
    wider_body = "\n".join([deps_body, *(f"import {module}" for module in indirect), FIRST_MODEL])
    time_import(wider_body, pycache)
    handler_runs: list[float] = []
    deps_runs: list[float] = []
    wider_runs: list[float] = []
    for _ in range(runs):  # interleaved, so drift on the machine hits all alike
        handler_runs.append(time_import(handler_body, pycache))
        deps_runs.append(time_import(deps_body, pycache))
        wider_runs.append(time_import(wider_body, pycache))
    return ColdImport(
        tuple(dependencies),
        tuple(indirect),
        tuple(handler_runs),
        tuple(deps_runs),
        tuple(wider_runs),
        tuple(extra_imports(handler_trace, deps_trace)),
    )


@contextlib.contextmanager
def in_memory_adapters(handler_module: Any) -> Iterator[None]:
    """The handler's composition root, swapped for one on in-memory adapters; the ceip logic stays real.

    S3ObjectWriter becomes WRITER, its in-memory twin; SuppressionLookup keeps its own code (keying, request
    building) with an in-memory DynamoDB client; the keyer is a real MachineKeyer over a fixed secret
    instead of reading Secrets Manager. A missing name fails loudly: the handler changed.
    """
    from ceip.ingest.service import Ingest  # noqa: PLC0415 (after the environment is set)
    from ceip.ingest.settings import IngestSettings  # noqa: PLC0415
    from ceip.machines import suppression  # noqa: PLC0415
    from ceip.machines.machine_key import MachineKeyer  # noqa: PLC0415

    keyer = MachineKeyer(BENCH_SECRET)
    table = {keyer.key(str(uuid.UUID(int=n, version=4))) for n in range(SUPPRESSED_MACHINES)}
    client = MemoryDynamoDB(table, suppression.KEY_ATTRIBUTE)

    def build_ingest(settings: IngestSettings) -> Ingest:
        return Ingest(
            writer=WRITER,
            suppression=suppression.SuppressionLookup(settings.suppression_table, keyer, client=client),
        )

    with mock.patch.object(handler_module, "build_ingest", build_ingest):
        yield


# --- warm throughput --------------------------------------------------------------------------------


def floor_once(body: str) -> bytes:
    """The least any ingest must do: parse the body, serialize each report as a line, gzip."""
    reports = json.loads(body)["reports"]
    text = "".join(json.dumps(report, sort_keys=True, separators=(",", ":")) + "\n" for report in reports)
    return gzip.compress(text.encode("utf-8"), compresslevel=GZIP_LEVEL, mtime=0)


def timed_round(step: Callable[[int], None], requests: int) -> float:
    """Reports per second over `requests` calls of step(i)."""
    return rate(step, requests, REPORTS_PER_BATCH)


STAGES: tuple[tuple[str, str, str], ...] = (
    ("parse body: strict json.loads with hooks", "ceip/api/body.py", "json_body"),
    ("validate reports: pydantic", "ceip/reports/validation.py", "validate_reports"),
    ("suppression: keyed hashes + BatchGetItem (in memory)", "ceip/machines/suppression.py", "suppressed"),
    ("canonical lines: model_dump + json.dumps", "ceip/storage/report_codec.py", "canonical_line"),
    ("digest: sha256", "ceip/storage/report_codec.py", "content_digest"),
    ("stored object: gzip", "ceip/storage/report_codec.py", "encode_lines"),
)
"""Where a request's time goes: (label, file, function); the rest is routing, decorators, metrics,
logging and the response. A function that has been renamed simply falls into the rest."""


def profile_stages(call: Callable[[], None]) -> list[tuple[str, float]]:
    """Share of profiled time per stage (cProfile inflates pure-Python parts such as the JSON hooks)."""
    profile = Profile(call)
    return profile.shares(profile.total, STAGES, "rest: Powertools, routing, metrics, response")


@dataclass(frozen=True, slots=True)
class WarmThroughput:
    handler_rates: tuple[float, ...]
    floor_rates: tuple[float, ...]
    body_bytes: int
    stored_bytes: int
    stages: tuple[tuple[str, float], ...]
    frozen_ratios: tuple[float, ...]
    """Handler / floor per round with gc.freeze() after warm-up: what the garbage collector costs."""

    @property
    def handler(self) -> float:
        return median(self.handler_rates)

    @property
    def floor(self) -> float:
        return median(self.floor_rates)

    @property
    def ratio(self) -> float:
        """Median of the per-round ratios: a handler round and its floor round run back to back."""
        return paired_ratio(self.handler_rates, self.floor_rates)


def gc_frozen_ratios(
    handle: Callable[[int], None], floor: Callable[[int], None], requests: int, rounds: int
) -> list[float]:
    """The ratio again with every live object moved out of the collector's reach (gc.freeze()).

    For information only: the handler does not do this. Validation allocates many container objects,
    so full collections, which walk every imported module's objects, run often; cProfile hides that.
    """
    gc.collect()
    gc.freeze()
    try:
        return [timed_round(handle, requests) / timed_round(floor, requests) for _ in range(rounds)]
    finally:
        gc.unfreeze()


def _check_response(response: dict[str, Any]) -> None:
    if response.get("statusCode") != 202:
        raise RuntimeError(f"handler answered {response.get('statusCode')}: {response.get('body')}")


def measure_warm(requests: int = WARM_REQUESTS, rounds: int = WARM_ROUNDS) -> WarmThroughput:
    os.environ.update(BENCH_ENV)  # before the import: Powertools and settings read them then
    from ceip.ingest import app as handler_module  # noqa: PLC0415 (environment first)

    handler_module.logger.setLevel("WARNING")  # in case another benchmark imported it earlier
    bodies = client_bodies(DISTINCT_BATCHES, REPORTS_PER_BATCH, SEED, datetime.now(UTC))
    events = [http_event(body, i) for i, body in enumerate(bodies)]
    context = cast("LambdaContext", BenchContext())
    WRITER.objects.clear()

    def handle(i: int) -> None:
        _check_response(handler_module.lambda_handler(events[i % len(events)], context))

    def floor(i: int) -> None:
        floor_once(bodies[i % len(bodies)])

    with in_memory_adapters(handler_module), quiet():
        for event in events:  # warm-up, and proof that every report is accepted
            response = handler_module.lambda_handler(event, context)
            _check_response(response)
            answer = json.loads(response["body"])
            if answer["accepted"] != REPORTS_PER_BATCH or answer["rejected"]:
                raise RuntimeError(f"not every report was accepted: {answer}")
        for event in events:
            floor_once(event["body"])
        handler_rates, floor_rates = interleave(
            rounds, lambda: timed_round(handle, requests), lambda: timed_round(floor, requests)
        )
        frozen_ratios = gc_frozen_ratios(handle, floor, requests, GC_FROZEN_ROUNDS)

        def one_pass() -> None:
            for i in range(len(events)):
                handle(i)

        stages = profile_stages(one_pass)
    stored = list(WRITER.objects.values())
    if len(gzip.decompress(stored[0]).splitlines()) != REPORTS_PER_BATCH:
        raise RuntimeError("stored object does not hold one line per report")
    return WarmThroughput(
        tuple(handler_rates),
        tuple(floor_rates),
        body_bytes=sum(len(body.encode()) for body in bodies) // len(bodies),
        stored_bytes=sum(len(data) for data in stored) // len(stored),
        stages=tuple(stages),
        frozen_ratios=tuple(frozen_ratios),
    )


# --- section ----------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _rate(rate: float) -> str:
    return f"{rate:,.0f} reports/s"


def _runs(runs: Sequence[float]) -> str:
    return ", ".join(f"{run * 1000:.0f}" for run in runs)


def _per_request(rate: float) -> str:
    return f"{REPORTS_PER_BATCH / rate * 1000:.2f} ms/request"


def render(cold: ColdImport, warm: WarmThroughput) -> Section:
    checks = (
        Check("cold import, handler / dependencies", cold.wider_ratio, COLD_IMPORT_MAX_RATIO, at_most=True),
        Check("warm throughput, handler / floor", warm.ratio, WARM_MIN_FLOOR_RATIO, at_most=False),
    )
    verdict = [check.verdict for check in checks]
    rows = (
        (
            "Cold import (median)",
            f"{_ms(cold.handler)}",
            f"{_ms(cold.wider)} (dependencies alone, incl. the X-Ray SDK the Tracer loads)",
            f"{cold.wider_ratio:.2f}x",
            f"<= {COLD_IMPORT_MAX_RATIO:.1f}x: {verdict[0]}",
        ),
        (
            "Warm throughput (median)",
            f"{_rate(warm.handler)} ({_per_request(warm.handler)})",
            f"{_rate(warm.floor)} (floor, {_per_request(warm.floor)})",
            f"{warm.ratio:.2f}",
            f">= 0.33: {verdict[1]}",
        ),
    )
    indirect = ", ".join(f"`{module}`" for module in cold.indirect) or "none"
    extras = markdown_table(
        ("Package", "Modules", "Self time"),
        [(f"`{extra.group}`", str(extra.modules), _ms(extra.seconds)) for extra in cold.extras],
    )
    stages = shares_table("Stage", warm.stages)
    env = ", ".join(f"`{key}={value}`" for key, value in BENCH_ENV.items())
    handler_rounds = ", ".join(f"{rate:,.0f}" for rate in warm.handler_rates)
    floor_rounds = ", ".join(f"{rate:,.0f}" for rate in warm.floor_rates)
    markdown = f"""## Ingest

{machine_line()}

{markdown_table(("Measure", "Handler", "Baseline", "Ratio", "Target"), rows)}

{checks_markdown(checks)}

Ratios are medians of per-iteration ratios (handler and baseline measured back to back share the
machine's load at the time), so they need not equal the ratio of the medians.

### Cold import

`import {HANDLER_MODULE}` against its dependencies alone, in fresh interpreters: untimed runs first,
then {len(cold.handler_runs)} interleaved iterations. Every module's bytecode is cached alike, in a
private `PYTHONPYCACHEPREFIX` tree written by the untimed runs (`PYTHONDONTWRITEBYTECODE` is dropped
for the children: with it, ceip's sources would be compiled on every run while the installed
dependencies ship .pyc files). Only the import
statements are timed, with `time.perf_counter()` inside the child, so interpreter start-up is in
neither figure. Environment: {env}.

The dependencies are the third-party import statements that run when `{HANDLER_MODULE}` and the ceip
modules it imports are loaded, read from their source (module level, `TYPE_CHECKING` blocks excluded):

```python
{chr(10).join(cold.dependencies)}
```

- Handler runs (ms): {_runs(cold.handler_runs)}
- Dependency runs (ms): {_runs(cold.deps_runs)}
- Third-party modules that the dependencies load when the handler uses them as documented, beyond
  those statements: {indirect} (the Powertools `Tracer()` constructor imports the X-Ray SDK even when
  tracing is disabled; it is a declared dependency, `aws-lambda-powertools[tracer]`), plus a one-field
  pydantic model (pydantic loads its schema machinery when the first model class is built, whatever
  the model; building ceip's own models stays on the handler's side). **The target is
  checked against this full dependency set**: median {_ms(cold.wider)} (runs {_runs(cold.wider_runs)}),
  ratio {cold.wider_ratio:.2f}x. Against the import statements alone the ratio is {cold.ratio:.2f}x.

What importing the handler loads beyond the dependency statements (one `python -X importtime` run
each; modules absent from the dependency run, self time grouped by top-level package; `ceip` self time
is its module bodies: building Logger, Metrics, Tracer, the resolver and the pydantic models):

{extras}

### Warm throughput

`lambda_handler` is called in-process with {REPORTS_PER_BATCH}-report batches: {DISTINCT_BATCHES} distinct
request bodies of about {warm.body_bytes:,} bytes (random uuid4 ids, created_at up to six hours in the
past, contents like docs/examples/batch.json, all valid), in minimal API Gateway HTTP API 2.0 events.

- Adapters: no moto, no network. `S3ObjectWriter` is replaced by its in-memory twin,
  `MemoryObjectWriter` (stored objects average {warm.stored_bytes:,} bytes);
  `SuppressionLookup` runs its own code against an in-memory DynamoDB client holding
  {SUPPRESSED_MACHINES:,} keys of other machines (so nothing is suppressed); `machine_keyer` returns a
  real `MachineKeyer` over a fixed secret instead of reading Secrets Manager. Its per-machine cache
  is warm after the first pass, as for machines that report again.
- Output: `POWERTOOLS_LOG_LEVEL=WARNING`, and stdout goes to `/dev/null` during the runs, so the EMF
  metrics are still serialized and written, only not to a terminal.
- Floor: the least any ingest must do with the same bodies: `json.loads` of the body, `json.dumps` of
  each report as a line (sorted keys, compact, as stored), `gzip.compress(..., compresslevel={GZIP_LEVEL})`.
- Procedure: one warm-up pass over every body (each answer checked: 202, all {REPORTS_PER_BATCH}
  accepted), then {len(warm.handler_rates)} rounds of {WARM_REQUESTS} requests, handler and floor alternating.
- Handler rounds (reports/s): {handler_rounds}
- Floor rounds (reports/s): {floor_rounds}

With `gc.freeze()` after the warm-up (not something the handler does; for information) the ratio is
{median(warm.frozen_ratios):.2f} (rounds: {", ".join(f"{r:.2f}" for r in warm.frozen_ratios)}). The
difference from the ratio above estimates what the cyclic garbage collector costs: validation allocates
many objects, and each full collection walks every object the imports created. cProfile does not show
this time.

Where a request's time goes (one cProfile pass over the {DISTINCT_BATCHES} bodies; the profiler inflates
pure-Python code such as the JSON parsing hooks, so read the shares as rough):

{stages}
"""
    table = "\n".join(
        [
            f"cold import  handler {_ms(cold.handler):>8}  deps {_ms(cold.deps):>8}  ratio {cold.ratio:.2f}x"
            f"  (deps + {', '.join(cold.indirect) or 'nothing'}: {_ms(cold.wider)}, {cold.wider_ratio:.2f}x)",
            f"warm         handler {_rate(warm.handler):>20}  floor {_rate(warm.floor):>20}"
            f"  ratio {warm.ratio:.2f}  (gc frozen: {median(warm.frozen_ratios):.2f})",
            "extra imports: " + ", ".join(f"{e.group} {_ms(e.seconds)}" for e in cold.extras),
            "handler time: "
            + ", ".join(f"{label.split(':')[0]} {share:.0%}" for label, share in warm.stages),
        ]
    )
    return Section("ingest", markdown, table, checks)


def run() -> Section:
    cold = measure_cold_import()
    warm = measure_warm()
    return render(cold, warm)
