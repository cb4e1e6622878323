"""How much one machine may contribute to a day's tables, and how many distinct ids a day keeps.

Both are applied in DuckDB before any table is built (sql/over_bounds.sql, machine_problems.sql,
machine_features.sql, configuration.sql), so every table, internal and partner, counts bounded data.
The contribution bounds are what the partner release's sensitivities are computed from
(partner_budget.py); the caps bound what the Python side builds per id (sketches, rolling rows).
Defaults and the reasons for them: docs/privacy-model.md.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

OTHER = "(other)"
"""The id that ids beyond a cap are folded into: parentheses are not allowed in a client's ids
(reports.limits.IDENTIFIER_PATTERN), so it never collides with one."""


@dataclass(frozen=True, slots=True)
class ContributionBounds:
    """Per machine GUID and UTC day."""

    products: int = 3
    """Products a machine counts toward; its reports for others (fewest reports first) are dropped."""
    reports: int = 24
    """Reports counted per machine and product, earliest first by created_at; later ones are dropped."""
    problems: int = 16
    """Distinct (problem id, kind) per machine over all its products; the most hit are kept."""
    features: int = 48
    """Distinct feature ids per machine over all its products; the most used are kept."""
    hardware_features: int = 8
    """Hardware-feature names counted per machine and product, in name order."""
    hits: int = 20
    """A machine's hits of one problem in a day are clipped to this."""
    uses: int = 32
    """A machine's uses of one feature in a day are clipped to this."""

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"contribution bound {field.name} must be at least 1")


@dataclass(frozen=True, slots=True)
class CardinalityCaps:
    """Per product and UTC day (products: per day): distinct ids kept in any table or sketch, the most
    machines first (ties by id); the rest are folded into OTHER (problems, features) or dropped
    (hardware-feature names, whose union would mean nothing), and counted in the manifest."""

    problem_ids: int = 10_000
    feature_ids: int = 2_000
    hardware_features: int = 64
    products: int = 50
    """Per day: products counted, the most machines first (ties by id), besides those a data dictionary
    declares; the reports of the others are dropped. Product ids come from clients too, and each
    product brings caps of its own: this bounds the day's ids at products x (problem_ids + feature_ids)."""

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"cardinality cap {field.name} must be at least 1")
