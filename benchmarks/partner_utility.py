"""Partner utility: what the differentially private partner tables keep of a cell, by its size.

Not a speed benchmark: the figures the issue asks for (relative error of partner counts at 50, 500 and
5,000 machines with the defaults), measured by releasing the same exact counts many times with
OpenDP's noise (`ceip.aggregate.partner_release.release`, the default PartnerPrivacy and
ContributionBounds) and reading back what partners would see. Per cell size: how often the cell is
published, and the relative error (root mean square over the releases that published it) of its
machines and of its totals, for a product of 20,000 active machines whose machines each hit the
problem twice and use the feature five times a day; rolling cells are 7- and 28-day windows of that
many distinct machines. Its one target is a check of the release itself: the RMS error of 5,000-machine
daily problem counts stays within 10 % of the plan's sigma (the noise is what the plan says).
"""

from __future__ import annotations

import math
from datetime import date

from benchmarks.harness import Check
from benchmarks.render import Section, machine_line, markdown_table
from ceip.aggregate.bounds import ContributionBounds
from ceip.aggregate.engine import USAGE_BUCKETS
from ceip.aggregate.partner_budget import PartnerPrivacy, plan
from ceip.aggregate.partner_release import OpenDPNoise, ReleaseInputs, WindowRow, release

SIZES = (50, 500, 5_000)
RELEASES = 200
ACTIVE = 20_000
PRODUCT = "contoso.editor"
HITS_PER_MACHINE, USES_PER_MACHINE = 2, 5
START = date(2026, 11, 1)


def inputs(machines: int) -> ReleaseInputs:
    return ReleaseInputs(
        active=[(PRODUCT, ACTIVE, 8 * ACTIVE)],
        problems=[(PRODUCT, "crash.p", "program", machines, HITS_PER_MACHINE * machines)],
        features=[(PRODUCT, "editor.f", machines, USES_PER_MACHINE * machines)],
        configuration=[(PRODUCT, "os_version", "10.0.1", machines)],
        usage=[],
        performance_bins=[],
        windows=[
            row
            for days in (7, 28)
            for row in (
                WindowRow("active", PRODUCT, "", "", days, START, days, float(ACTIVE)),
                WindowRow("problem", PRODUCT, "crash.p", "program", days, START, days, float(machines)),
                WindowRow("feature", PRODUCT, "editor.f", "", days, START, days, float(machines)),
            )
        ],
        usage_buckets=USAGE_BUCKETS,
    )


CELLS: dict[str, tuple[str, int, int | None]] = {
    # label: (table, index of machines in the row, index of the total or None)
    "problems (daily)": ("problems", 4, 3),
    "features (daily)": ("features", 3, 2),
    "configuration value (daily)": ("configuration", 3, None),
    "problems, 7 days": ("problems_rolling", 6, None),
    "problems, 28 days": ("problems_rolling", 6, None),
    "features, 28 days": ("features_rolling", 5, None),
}


def _window(label: str) -> int | None:
    return 28 if "28 days" in label else 7 if "7 days" in label else None


def measure() -> dict[tuple[str, int], tuple[float, float, float | None]]:
    """(published share, RMS relative error of machines, of the total) per cell and size."""
    release_plan = plan(ContributionBounds(), PartnerPrivacy())
    noise = OpenDPNoise()
    found: dict[tuple[str, int], tuple[float, float, float | None]] = {}
    for machines in SIZES:
        draws = [release(inputs(machines), release_plan, noise) for _ in range(RELEASES)]
        for label, (table, machines_at, total_at) in CELLS.items():
            window = _window(label)
            days_at = 2 if table == "features_rolling" else 3
            rows = [
                next((r for r in d.rows[table] if window is None or r[days_at] == window), None)
                for d in draws
            ]
            published = [r for r in rows if r is not None]
            share = len(published) / RELEASES
            machine_error = _rms([(r[machines_at] - machines) / machines for r in published])
            total = HITS_PER_MACHINE * machines if table == "problems" else USES_PER_MACHINE * machines
            total_error = (
                _rms([(r[total_at] - total) / total for r in published]) if total_at is not None else None
            )
            found[(label, machines)] = (share, machine_error, total_error)
    return found


def _rms(values: list[float]) -> float:
    return math.sqrt(sum(v * v for v in values) / len(values)) if values else math.nan


def _cell(share: float, machine_error: float, total_error: float | None) -> str:
    if share == 0:
        return "never published"
    text = f"{share:.0%} published; machines {machine_error:.1%}"
    return text + (f", total {total_error:.1%}" if total_error is not None else "")


def run() -> Section:
    found = measure()
    release_plan = plan(ContributionBounds(), PartnerPrivacy())
    sigma = release_plan.get("problems.machines").sigma
    rms_5000 = found[("problems (daily)", 5_000)][1] * 5_000
    check = Check("RMS error of 5,000-machine problem counts / planned sigma", rms_5000 / sigma, 1.10, True)
    rows = [(label, *(_cell(*found[(label, size)]) for size in SIZES)) for label in CELLS]
    table = markdown_table(("Cell", *(f"{size:,} machines" for size in SIZES)), rows)
    markdown = f"""## Partner utility

{machine_line()}

What partners get of a cell by its size, with the default guarantee (epsilon {release_plan.privacy.epsilon:g},
delta {release_plan.privacy.delta:g} per machine over 28 days) and contribution bounds: {RELEASES} releases of
the same exact counts through `partner_release.release` with OpenDP's noise, in a product of
{ACTIVE:,} active machines; a machine hits the problem {HITS_PER_MACHINE} times and uses the feature
{USES_PER_MACHINE} times a day. Errors are root mean square relative errors over the releases that
published the cell. Rerun with `.venv/bin/python -m benchmarks partner_utility`; the reasons and the
per-statistic noise are in [privacy-model.md](privacy-model.md#noise-and-thresholds-with-the-defaults).

{table}

{check.describe()}
"""
    return Section("partner_utility", markdown, table, (check,))
