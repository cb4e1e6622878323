"""Performance benchmarks for ceip; run with `make bench` (`python -m benchmarks`), never by pytest.

Each benchmark is a module here with a `run() -> Section` function and an entry in
`benchmarks.__main__.BENCHMARKS`. A Section carries its markdown and its pass/fail checks;
`__main__` prints the checks, rewrites that benchmark's block of docs/benchmarks.md (other blocks are
kept), and exits nonzero when a target is missed. Timings are wall-clock on whatever machine runs
them, so every section records the date, CPU count and Python version next to its figures.
"""
