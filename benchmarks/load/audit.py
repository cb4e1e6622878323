"""What the stack holds after the load: report ids in the stored objects, and the aggregation's counts.

The stored side is read independently of ceip's own readers: every current object under the days'
partitions is fetched, gunzipped and parsed line by line here. Aggregation runs through `ceip aggregate
--json`, the operator's command, in its own process.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import boto3
from botocore.config import Config

from benchmarks.load.stack import Stack, run_cli

FETCH_WORKERS = 8


@dataclass
class StoredCounts:
    objects: int = 0
    lines: int = 0
    """This run's report lines, every copy."""
    ids: Counter[str] = field(default_factory=Counter)
    """This run's report ids and how many stored copies each has."""
    other_lines: int = 0
    """Lines of anything else stored those days (only on a stack shared with other work)."""
    unreadable_objects: int = 0

    @property
    def distinct(self) -> int:
        return len(self.ids)

    @property
    def duplicate_copies(self) -> int:
        """Copies beyond the first: a retry that landed in another hour is stored twice by design."""
        return self.lines - self.distinct


@dataclass(frozen=True, slots=True)
class AggregatedCounts:
    days: tuple[dict[str, Any], ...]
    """The `ceip aggregate --json` summary of each day."""
    tag: str

    @property
    def reports(self) -> int:
        """This run's reports in the active tables (products carry the run's tag)."""
        return sum(
            int(a["reports"])
            for d in self.days
            for a in d["active"]
            if a["product_id"].startswith(f"{self.tag}.")
        )

    def total(self, name: str) -> int:
        """A manifest input count summed over the days (all reports of the days, not only this run's)."""
        return sum(int(d["input"][name]) for d in self.days)


def s3_client(stack: Stack) -> Any:
    env = stack.environment
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
        config=Config(max_pool_connections=FETCH_WORKERS, retries={"mode": "standard", "max_attempts": 5}),
    )


def stored_reports(stack: Stack, days: Sequence[date], run_ids: Collection[str]) -> StoredCounts:
    client = s3_client(stack)
    bucket = stack.environment["REPORTS_BUCKET"]
    keys = [
        item["Key"]
        for day in days
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=f"reports/dt={day.isoformat()}/"
        )
        for item in page.get("Contents", [])
    ]

    def fetch(key: str) -> bytes:
        body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    counts = StoredCounts(objects=len(keys))
    with ThreadPoolExecutor(FETCH_WORKERS) as pool:
        for data in pool.map(fetch, keys):
            try:
                lines = [json.loads(raw) for raw in gzip.decompress(data).splitlines() if raw.strip()]
            except (OSError, EOFError, ValueError):
                counts.unreadable_objects += 1
                continue
            for line in lines:
                report_id = line.get("report_id")
                if report_id in run_ids:
                    counts.lines += 1
                    counts.ids[report_id] += 1
                else:
                    counts.other_lines += 1
    return counts


def aggregate_days(stack: Stack, days: Sequence[date], tag: str) -> AggregatedCounts:
    """`ceip aggregate --date FIRST --until LAST --json` against the stack."""
    result = run_cli(
        stack, "aggregate", "--date", days[0].isoformat(), "--until", days[-1].isoformat(), "--json"
    )
    if result.returncode != 0:
        raise RuntimeError(f"ceip aggregate failed ({result.returncode}):\n{result.stderr[-3000:]}")
    summaries = tuple(json.loads(line) for line in result.stdout.splitlines() if line.strip())
    return AggregatedCounts(summaries, tag)
