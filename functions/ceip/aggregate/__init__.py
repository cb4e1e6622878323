"""AggregateFunction: a day of raw reports in, prevalence tables (internal and partner) out."""

import os

# numpy (DuckDB's array exchange) starts one OpenBLAS thread per core on import, and those threads
# spin for a tenth of a second of CPU before they sleep. Nothing here does linear algebra, and on two
# cores the spin takes one from DuckDB at the start of every run. Set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
