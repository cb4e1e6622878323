"""Every aggregate table computed in plain Python from a list of unique reports: the tests' truth.

Written from the definitions in docs/aggregates.md, not from the SQL, so the two can disagree.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ceip.aggregate.bounds import ContributionBounds

Row = dict[str, Any]
BOUNDS = ContributionBounds()
BUCKETS = (("0", 0, 0), ("1", 1, 1), ("2-4", 2, 4), ("5-9", 5, 9), ("10-19", 10, 19), ("20-49", 20, 49))
BUCKETS += (("50-99", 50, 99), ("100+", 100, None))


def quantile_cont(values: Iterable[float], q: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _created(report: Row) -> datetime:
    return datetime.fromisoformat(report["created_at"].replace("Z", "+00:00"))


def _machines_by_product(reports: list[Row]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        found[report["product"]["id"]].add(report["machine_id"])
    return found


def within_bounds(reports: list[Row], bounds: ContributionBounds = BOUNDS) -> list[Row]:
    """The reports a day counts: per machine its `products` products with the most reports (ties by
    product id), and per machine and product its first `reports` reports by created_at."""
    by_machine: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for report in reports:
        by_machine[report["machine_id"]][report["product"]["id"]].append(report)
    kept = []
    for products in by_machine.values():
        ranked = sorted(products.items(), key=lambda item: (-len(item[1]), item[0]))
        for _, sent in ranked[: bounds.products]:
            kept.extend(sorted(sent, key=lambda r: (_created(r), r["report_id"]))[: bounds.reports])
    return kept


def _bounded_per_machine(
    counts: dict[tuple[str, ...], dict[str, int]], keep: int, clip: int
) -> dict[tuple[str, ...], dict[str, int]]:
    """Per machine, its `keep` items with the highest counts (ties by key), each clipped to `clip`."""
    per_machine: dict[str, list[tuple[tuple[str, ...], int]]] = defaultdict(list)
    for key, machines in counts.items():
        for machine, count in machines.items():
            per_machine[machine].append((key, count))
    bounded: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    for machine, items in per_machine.items():
        for key, count in sorted(items, key=lambda item: (-item[1], item[0]))[:keep]:
            bounded[key][machine] = min(count, clip)
    return bounded


def active(reports: list[Row]) -> dict[str, Row]:
    counts: dict[str, int] = defaultdict(int)
    for report in reports:
        counts[report["product"]["id"]] += 1
    return {
        product: {"machines": len(machines), "reports": counts[product]}
        for product, machines in _machines_by_product(reports).items()
    }


def problems(reports: list[Row]) -> dict[tuple[str, str, str], Row]:
    hits: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for report in reports:
        for problem in report.get("performance", {}).get("problems", []):
            if problem["count"] > 0:
                key = (report["product"]["id"], problem["id"], problem["kind"])
                hits[key][report["machine_id"]] += problem["count"]
    actives = _machines_by_product(reports)
    table = {}
    for key, per_machine in _bounded_per_machine(hits, BOUNDS.problems, BOUNDS.hits).items():
        total = sum(per_machine.values())
        table[key] = {
            "hits": total,
            "machines": len(per_machine),
            "prevalence": len(per_machine) / len(actives[key[0]]),
            "hits_per_machine": total / len(per_machine),
            "top_machine_share": max(per_machine.values()) / total,
        }
    return table


def features(reports: list[Row]) -> dict[tuple[str, str], Row]:
    uses: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for report in reports:
        for feature in report.get("usage", {}).get("features", []):
            if feature["count"] > 0:
                uses[(report["product"]["id"], feature["id"])][report["machine_id"]] += feature["count"]
    actives = _machines_by_product(reports)
    return {
        key: {
            "uses": sum(per_machine.values()),
            "machines": len(per_machine),
            "prevalence": len(per_machine) / len(actives[key[0]]),
        }
        for key, per_machine in _bounded_per_machine(uses, BOUNDS.features, BOUNDS.uses).items()
    }


def latest_configurations(reports: list[Row]) -> dict[tuple[str, str], Row]:
    latest: dict[tuple[str, str], Row] = {}
    for report in reports:
        if "configuration" not in report:
            continue
        key = (report["product"]["id"], report["machine_id"])
        if key not in latest or _created(report) > _created(latest[key]):
            latest[key] = report
    return {key: report["configuration"] for key, report in latest.items()}


def configuration(reports: list[Row]) -> dict[tuple[str, str, str], Row]:
    counts: dict[tuple[str, str, str], int] = defaultdict(int)
    for (product, _), config in latest_configurations(reports).items():
        facts = {
            "processor_count": config.get("processor_count"),
            "network_connection_count": config.get("network_connection_count"),
            "os_family": config.get("os", {}).get("family"),
            "os_version": config.get("os", {}).get("version"),
        }
        for name, on in sorted(config.get("hardware_features", {}).items())[: BOUNDS.hardware_features]:
            facts[f"hardware_features.{name}"] = "true" if on else "false"
        for dimension, value in facts.items():
            if value is not None:
                counts[(product, dimension, str(value))] += 1
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for (product, dimension, _), machines in counts.items():
        totals[(product, dimension)] += machines
    return {
        key: {"machines": machines, "share": machines / totals[key[:2]]} for key, machines in counts.items()
    }


METRICS = {
    "ui_response_ms": lambda p: p.get("ui_response_ms", []),
    "network_send_kbps": lambda p: p.get("network_kbps", {}).get("send", []),
    "network_receive_kbps": lambda p: p.get("network_kbps", {}).get("receive", []),
}


def performance(reports: list[Row]) -> dict[tuple[str, str], Row]:
    samples: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for report in reports:
        for metric, pick in METRICS.items():
            values = pick(report.get("performance", {}))
            if values:
                samples[(report["product"]["id"], metric)][report["machine_id"]].extend(values)
    table = {}
    for key, per_machine in samples.items():
        medians = [quantile_cont(values, 0.5) for values in per_machine.values()]
        table[key] = {
            "machines": len(medians),
            "p50": quantile_cont(medians, 0.5),
            "p90": quantile_cont(medians, 0.9),
            "p99": quantile_cont(medians, 0.99),
        }
    return table


def _bucket(value: int) -> tuple[str, int, int | None]:
    for label, low, high in BUCKETS:
        if value >= low and (high is None or value <= high):
            return label, low, high
    raise AssertionError(value)


def usage(reports: list[Row]) -> dict[tuple[str, str, str], Row]:
    help_sum: dict[tuple[str, str], int] = defaultdict(int)
    folders: dict[tuple[str, str], tuple[datetime, int]] = {}
    for report in reports:
        key = (report["product"]["id"], report["machine_id"])
        usage_part = report.get("usage", {})
        if "help_center_opens" in usage_part:
            help_sum[key] += usage_part["help_center_opens"]
        if "desktop_folder_count" in usage_part:
            stamp = _created(report)
            if key not in folders or stamp > folders[key][0]:
                folders[key] = (stamp, usage_part["desktop_folder_count"])
    values: dict[tuple[str, str], list[int]] = defaultdict(list)
    for (product, _), total in help_sum.items():
        values[(product, "help_center_opens")].append(total)
    for (product, _), (_, count) in folders.items():
        values[(product, "desktop_folder_count")].append(count)
    table = {}
    for (product, metric), per_machine in values.items():
        median = quantile_cont(per_machine, 0.5)
        counts: dict[tuple[str, int, int | None], int] = defaultdict(int)
        for value in per_machine:
            counts[_bucket(value)] += 1
        for (label, low, high), machines in counts.items():
            table[(product, metric, label)] = {
                "bucket_min": low,
                "bucket_max": high,
                "machines": machines,
                "share": machines / len(per_machine),
                "median": median,
            }
    return table


# -- partner rules ------------------------------------------------------------------------------------
