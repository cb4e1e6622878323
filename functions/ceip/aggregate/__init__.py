"""AggregateFunction: a day of raw reports in, prevalence tables (internal and partner) out."""

import os

# numpy's OpenBLAS threads, one per core, would spin beside DuckDB at the start of every run, and
# nothing here does linear algebra (docs/adr/0005). Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
