"""Performance benchmarks for ceip; run with `make bench` (`python -m benchmarks`), never by pytest.

Each benchmark is a module here with a `run() -> Section` function and an entry in
`benchmarks.__main__.BENCHMARKS`; it measures its subject against a floor with the shared harness
(harness.py), feeds it from workloads/ (the one report generator, Lambda events, in-memory ports) and
renders its section with render.py. `__main__` prints the checks, rewrites that benchmark's block of
docs/benchmarks.md (other blocks are kept), and exits nonzero when a target is missed. Timings are
wall-clock on whatever machine runs them, so every section records the date, CPU count and Python
version next to its figures.
"""
