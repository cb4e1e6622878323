"""The timing harness every benchmark uses: targets, interleaved rounds, medians, profiles, peak RSS.

The machine is shared and its load drifts, so a subject is measured against its floor in rounds that
run both back to back, and a ratio is the median of the per-round ratios (not the ratio of medians).
"""

from __future__ import annotations

import contextlib
import cProfile
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    """One target of the issue: a measured figure against its bound."""

    name: str
    measured: float
    bound: float
    at_most: bool
    """True if measured must be <= bound, False if it must be >= bound."""

    @property
    def passed(self) -> bool:
        return self.measured <= self.bound if self.at_most else self.measured >= self.bound

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def describe(self) -> str:
        relation = "<=" if self.at_most else ">="
        return f"{self.verdict}  {self.name}: {self.measured:.2f} (target {relation} {self.bound:.2f})"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(subject: Sequence[float], floor: Sequence[float]) -> float:
    """Median of per-round ratios: a subject run and its floor run back to back share the machine's load."""
    return median([s / f for s, f in zip(subject, floor, strict=True)])


def interleave(rounds: int, *steps: Callable[[], float]) -> list[list[float]]:
    """Each step once per round, in the given order; one list of results per step."""
    results: list[list[float]] = [[] for _ in steps]
    for _ in range(rounds):
        for runs, step in zip(results, steps, strict=True):
            runs.append(step())
    return results


def seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def rate(step: Callable[[int], object], calls: int, units_per_call: int) -> float:
    """Units per second over `calls` calls of step(i)."""
    start = time.perf_counter()
    for i in range(calls):
        step(i)
    return calls * units_per_call / (time.perf_counter() - start)


class Profile:
    """One cProfile run; inclusive seconds per function (cProfile inflates per-call Python overhead)."""

    def __init__(self, call: Callable[[], object]) -> None:
        profiler = cProfile.Profile()
        profiler.runcall(call)
        self._entries = profiler.getstats()

    @property
    def total(self) -> float:
        """Seconds profiled in all."""
        return sum(entry.inlinetime for entry in self._entries)

    def seconds_in(self, file_suffix: str, function: str) -> float:
        """Seconds in a function and what it called; file_suffix "" names a builtin by its repr."""
        total = 0.0
        for entry in self._entries:
            code = entry.code
            if isinstance(code, str):
                found = not file_suffix and code == function
            else:
                found = (
                    bool(file_suffix) and code.co_name == function and code.co_filename.endswith(file_suffix)
                )
            if found:
                total += entry.totaltime
        return total

    def shares(
        self, total: float, stages: Sequence[tuple[str, str, str]], rest: str, at_least: float = 0.0
    ) -> list[tuple[str, float]]:
        """Share of `total` per (label, file suffix, function) stage at or above `at_least`, then the rest."""
        found = [(label, self.seconds_in(path, function) / total) for label, path, function in stages]
        found = [(label, share) for label, share in found if share >= at_least]
        return [*found, (rest, 1 - sum(share for _, share in found))]


@dataclass(frozen=True, slots=True)
class ChildRun:
    stdout: str
    peak_rss_mb: float
    """The child's maximum resident set size (os.wait4's ru_maxrss)."""


def spawn(command: Sequence[str], *, cwd: str | os.PathLike[str], env: dict[str, str]) -> ChildRun:
    """Run a command to completion; raises with its output's tail when it fails."""
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, cwd=cwd, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{command} failed ({process.returncode}): {text[-2000:]}")
    return ChildRun(text, usage.ru_maxrss / 1024)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """stdout to /dev/null: what a handler prints (EMF records) is still built and written."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        yield
