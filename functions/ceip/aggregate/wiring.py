"""AggregateFunction's composition root, which `ceip aggregate` uses too: the day's aggregation on S3,
the suppression list read once per run, options from the settings. Powertools-free for the CLI."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ceip.aggregate import service
from ceip.aggregate.bounds import CardinalityCaps, ContributionBounds
from ceip.aggregate.partner_budget import PartnerPrivacy
from ceip.aggregate.settings import AggregateSettings
from ceip.machines.sketch_key import SketchSalt, sketch_salt
from ceip.machines.snapshot import suppression_snapshot
from ceip.machines.suppression import SuppressionCheck
from ceip.storage.aggregate_s3 import AggregateStore, ReportSource, S3AggregateStore, S3ReportSource


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def options_from(settings: AggregateSettings) -> service.AggregationOptions:
    return service.AggregationOptions(
        privacy=PartnerPrivacy(settings.partner_epsilon, settings.partner_delta, settings.min_machines),
        bounds=ContributionBounds(
            products=settings.bound_products,
            reports=settings.bound_reports,
            problems=settings.bound_problems,
            features=settings.bound_features,
            hardware_features=settings.bound_hardware_features,
            hits=settings.bound_hits,
            uses=settings.bound_uses,
        ),
        caps=CardinalityCaps(
            problem_ids=settings.cap_problem_ids,
            feature_ids=settings.cap_feature_ids,
            hardware_features=settings.cap_hardware_features,
            products=settings.cap_products,
        ),
        lookback_hours=settings.dedup_lookback_hours,
        memory_limit_mb=settings.memory_limit_mb,
        threads=available_cpus(),
        fetch_workers=settings.fetch_workers,
        work_dir=Path(settings.work_dir),
    )


@dataclass(frozen=True)
class Aggregation:
    """The aggregation service on its ports: one call per day."""

    source: ReportSource
    store: AggregateStore
    suppression: SuppressionCheck
    sketch_salt: SketchSalt
    options: service.AggregationOptions

    def run(self, day: date, *, new_partner_release: bool = False) -> service.DayResult:
        return service.aggregate_day(
            day,
            new_partner_release=new_partner_release,
            source=self.source,
            store=self.store,
            suppression=self.suppression,
            sketch_salt=self.sketch_salt,
            options=self.options,
        )


def build_aggregation(settings: AggregateSettings) -> Aggregation:
    """Reads the suppression list now: build one per run, so a machine erased since is left out."""
    return Aggregation(
        source=S3ReportSource(settings.reports_bucket),
        store=S3AggregateStore(settings.aggregates_bucket),
        suppression=suppression_snapshot(settings.suppression_table, settings.machine_key_secret_id),
        sketch_salt=sketch_salt(settings.machine_key_secret_id),
        options=options_from(settings),
    )
