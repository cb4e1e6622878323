"""`make load` / `python -m benchmarks.load`: the zero-loss load test; exit status 1 on any broken
invariant (counts that differ, a report counted twice, a 5xx)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.load.run import LoadConfig, run_load
from benchmarks.load.stack import own_stack, running_stack


def main(argv: Sequence[str] | None = None) -> int:
    defaults = LoadConfig()
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--reports", type=int, default=defaults.reports, help="reports to send")
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency, help="client threads")
    parser.add_argument(
        "--batch-size", type=int, default=defaults.batch_size, help="reports per request (1..100)"
    )
    parser.add_argument(
        "--repeat-share", type=float, default=defaults.repeat_share, help="share of batches resent (0..1)"
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the report content")
    parser.add_argument(
        "--stack",
        type=Path,
        default=None,
        metavar="STATE_FILE",
        help="use a running stack (e.g. .ceip/local.json from `make run`) instead of starting one",
    )
    args = parser.parse_args(argv)
    config = LoadConfig(args.reports, args.concurrency, args.batch_size, args.repeat_share, args.seed)
    started = time.perf_counter()
    if args.stack is not None:
        result = run_load(config, running_stack(args.stack))
    else:
        with own_stack() as stack:
            result = run_load(config, stack)
    print(result.render())
    print(f"  total       {time.perf_counter() - started:.1f} s wall time, stack start-up included")
    return 0 if not result.failures() else 1


if __name__ == "__main__":
    sys.exit(main())
