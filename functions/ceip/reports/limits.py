"""Limits of the public wire format. One place, so the models, docs and tests agree."""

from __future__ import annotations

from datetime import timedelta

MAX_BODY_BYTES = 1024 * 1024
"""Request body limit, after decompression (1 MiB)."""

MAX_REPORTS_PER_BATCH = 100
MAX_SAMPLES = 256
MAX_LIST_ITEMS = 256
MAX_HARDWARE_FEATURES = 64
MAX_COUNT = 1_000_000
MAX_PROCESSOR_COUNT = 4096
MAX_NETWORK_CONNECTIONS = 1024
MAX_UI_RESPONSE_MS = 3_600_000
"""One hour: a sample above it is a broken clock, not a slow UI."""
MAX_NETWORK_KBPS = 1_000_000_000
"""1 Tbit/s."""
MAX_ERRORS_LISTED = 20
"""Errors listed per rejected report (or request); past this, one too_many_errors error stands for all.
Without it, 1 MiB of unknown keys or bad samples would be answered with megabytes of errors."""
MAX_FUTURE_SKEW = timedelta(days=1)
"""created_at may run ahead of the server clock by at most this much."""

IDENTIFIER_PATTERN = r"^[a-z0-9][a-z0-9._:-]{0,127}$"
VERSION_PATTERN = r"^[0-9A-Za-z.+-]{1,32}$"
UUID4_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-4[0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$"
