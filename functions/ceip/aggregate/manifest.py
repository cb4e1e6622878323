"""manifest.json: what one run read, dropped and wrote for one day. Counts only, never ids."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputCounts(_Frozen):
    objects_listed: int = Field(description="Objects under the day's partition.")
    objects_read: int = Field(description="Objects fetched (corrupt ones included).")
    objects_corrupt: int = Field(description="Objects that are not complete gzip: skipped whole.")
    objects_vanished: int = Field(description="Objects listed but gone when fetched: skipped.")
    bytes_read: int = Field(description="Compressed bytes fetched.")
    lines_read: int = Field(description="Non-empty lines in the objects that could be read.")
    corrupt_lines_skipped: int = Field(description="Lines that are not a report.")
    reports_read: int = Field(description="lines_read - corrupt_lines_skipped.")
    duplicates_dropped: int = Field(description="Copies of a report_id already counted (both kinds below).")
    duplicates_within_day: int
    duplicates_from_previous_day: int = Field(
        description="Reports whose id was stored in the previous day's last hours (retries across midnight)."
    )
    previous_day_objects_read: int
    suppressed_machines_dropped: int
    suppressed_reports_dropped: int
    over_product_cap_reports_dropped: int = Field(
        default=0,
        description="Reports of products beyond the day's product cap (bounds.CardinalityCaps.products).",
    )
    over_products_reports_dropped: int = Field(
        description="Reports of a machine for products beyond its daily bound (bounds.ContributionBounds)."
    )
    over_reports_dropped: int = Field(description="Reports of a machine and product beyond its daily bound.")
    reports_aggregated: int
    machines: int = Field(description="Distinct machines among the aggregated reports (all products).")


class Parameters(_Frozen):
    dedup_lookback_hours: int
    hll_lg_k: int
    sketch_key_version: int = Field(
        description="How the sketches key machines (2: a keyed hash under the machine-key secret)."
    )
    bounds: dict[str, int] = Field(description="Per machine and day (bounds.ContributionBounds).")
    caps: dict[str, int] = Field(
        description="Distinct ids kept per product and day, and products per day (bounds.CardinalityCaps)."
    )


class DictionarySummary(_Frozen):
    """The products' data dictionaries the run read (aggregates/dictionary/products/)."""

    products: int
    invalid: int = Field(description="Left out: not valid, or stored under another product's key.")
    declared_problem_ids: int
    declared_feature_ids: int


class Folded(_Frozen):
    """Distinct ids beyond the caps, summed over products."""

    problem_ids: int = Field(description="Folded into problem id '(other)'.")
    feature_ids: int = Field(description="Folded into feature id '(other)'.")
    hardware_features: int = Field(description="Hardware-feature names dropped from the configuration table.")
    products: int = Field(default=0, description="Products beyond the day's cap: their reports were dropped.")


class PartnerStatistic(_Frozen):
    name: str
    window_days: int
    keys_per_machine: int = Field(description="L0 sensitivity: entries one machine can change.")
    per_key: int = Field(description="Linf sensitivity: by how much one machine can change an entry.")
    sigma: float = Field(description="Standard deviation of the discrete Gaussian noise per entry.")
    rho: float = Field(description="zCDP cost of this statistic in one release.")
    delta: float = Field(description="What its partition selection may spend in one release (0: none).")
    threshold: int | None = Field(
        description="Noisy machine count a key needs to be published (partition selection and K floor)."
    )


class PartnerRelease(_Frozen):
    """The day's partner release: drawn once, republished unchanged by later runs unless forced."""

    drawings: int = Field(description="Releases drawn for this day so far: each is charged to the budget.")
    drawn_at: datetime = Field(description="When the published release was drawn.")
    republished: bool = Field(description="True when this run republished an earlier run's release.")
    epsilon: float = Field(description="The guarantee for one machine's reports over period_days days.")
    delta: float
    period_days: int
    min_machines: int = Field(description="K: floor on the noisy machine count of any published row.")
    rho_per_release: float
    rho_charged: float = Field(description="drawings x rho_per_release: what this day costs the period.")
    statistics: list[PartnerStatistic]


class ReleaseRecord(_Frozen):
    """aggregates/manifest/dt=D/partner-release.json: the release a rerun republishes."""

    status: Literal["drawing", "published"] = Field(
        description="drawing: written before the first partner file; published: every file is in place."
    )
    release: PartnerRelease
    files: list[str]
    rows: dict[str, int]


class WindowSummary(_Frozen):
    days: int
    start: date
    end: date
    days_with_data: int
    missing_days: list[date] = Field(
        description="Days of the window without usable sketches (not aggregated, or keyed under an "
        "earlier sketch_key_version): their machines are not counted."
    )


class Engine(_Frozen):
    name: Literal["duckdb"] = "duckdb"
    version: str
    sketches: str = Field(description="Apache DataSketches (Python) version.")


class Manifest(_Frozen):
    schema_version: Literal[1] = 1
    dt: date
    generated_at: datetime = Field(
        description="When this run finished (UTC); the tables hold nothing finer than dt."
    )
    input: InputCounts
    parameters: Parameters
    folded: Folded
    dictionaries: DictionarySummary
    partner_release: PartnerRelease
    rows: dict[str, int] = Field(description="Rows per table, keyed audience/table.")
    files: list[str] = Field(description="Every object this run wrote, manifest excluded.")
    stale_files_deleted: int
    windows: list[WindowSummary]
    engine: Engine
