"""The attacks of issue 16 on the partner tables, run against the real release (OpenDP's noise).

An attacker controls any number of machine GUIDs (fake machines are free: a GUID is whatever a client
says) and reads every partner file of every day. The guarantee (docs/privacy-model.md) says what such
an attacker can still learn about one real machine; these tests run the attacks many times and check
that the estimates have the error the plan's noise promises, never zero.
"""

from __future__ import annotations

import math
import statistics as stats
from datetime import UTC, date, datetime

import pytest

from ceip.aggregate.bounds import ContributionBounds
from ceip.aggregate.engine import PARTNER_COLUMNS, USAGE_BUCKETS
from ceip.aggregate.partner_budget import PartnerPrivacy, Planned, plan
from ceip.aggregate.partner_release import OpenDPNoise, ReleaseInputs, WindowRow, release
from ceip.aggregate.service import AggregationOptions, aggregate_day
from ceip.machines.sketch_key import SketchSalt
from ceip.machines.suppression import MemorySuppression
from ceip.storage.aggregate_s3 import MemorySource, MemoryStore
from tests.support.aggregate_tables import read_table
from tests.support.population import StoredReport, at, build_population, guid, objects_of, report_of

PLAN = plan(ContributionBounds(), PartnerPrivacy())
DRAWS = 400
DAY = date(2026, 11, 28)
PRODUCT = "contoso.editor"
PROBLEM = ("crash.target", "program")


def day_with_fakes(fakes: int, fake_hits: int, real_hits: int) -> ReleaseInputs:
    """The internal counts of a day on which `fakes` attacker machines report the target problem with
    fake_hits each, beside one real machine with real_hits, in a product of 5,000 active machines."""
    return ReleaseInputs(
        active=[(PRODUCT, 5000 + fakes, 40_000)],
        problems=[(PRODUCT, *PROBLEM, fakes + 1, fakes * fake_hits + real_hits)],
        features=[],
        configuration=[],
        usage=[],
        performance_bins=[],
        windows=[],
        usage_buckets=USAGE_BUCKETS,
    )


def most_exact_guesses(sigma: float) -> int:
    """The most of DRAWS noisy values that may fall exactly on the truth, with discrete Gaussian noise of
    this sigma (P(0) ~ 1 / (sigma sqrt(2 pi))), but for a one-in-a-million chance: the Poisson tail.
    Without noise every draw would be exact."""
    mean = DRAWS / (sigma * math.sqrt(2 * math.pi))
    k, term, tail = 0, math.exp(-mean), 1.0
    while tail > 1e-6:
        tail -= term
        k += 1
        term *= mean / k
    return k


def target_row(inputs: ReleaseInputs) -> tuple[int, int] | None:
    """(hits, machines) of the target problem in one fresh release, None when it is not published."""
    for row in release(inputs, PLAN, OpenDPNoise()).rows["problems"]:
        if (row[1], row[2]) == PROBLEM:
            return row[3], row[4]
    return None


def test_49_fake_machines_around_one_real_one_do_not_get_the_cell_published() -> None:
    # Given the attack that defeated K = 50: 49 fakes with 0 hits each around one real machine
    inputs = day_with_fakes(fakes=49, fake_hits=1, real_hits=17)
    # When the day is released many times over
    published = [row for row in (target_row(inputs) for _ in range(DRAWS)) if row is not None]
    # Then the cell essentially never appears: 50 machines are far below the noisy threshold
    assert len(published) <= DRAWS // 100


def test_enough_fake_machines_to_publish_the_cell_leave_the_real_machines_count_as_noisy_as_promised() -> (
    None
):
    # Given an attacker with enough fakes to clear any threshold, each with one hit he knows of
    fakes, real_hits = 2000, 17
    inputs = day_with_fakes(fakes=fakes, fake_hits=1, real_hits=real_hits)
    sigma_hits = PLAN.get("problems.hits").sigma
    sigma_machines = PLAN.get("problems.machines").sigma
    # When he subtracts his own contribution from every release
    rows = [target_row(inputs) for _ in range(DRAWS)]
    assert all(row is not None for row in rows)
    hits_errors = [row[0] - fakes - real_hits for row in rows if row]
    presence_errors = [row[1] - fakes - 1 for row in rows if row]
    # Then his estimate of the real machine's hits is unbiased with the planned spread, not exact
    assert abs(stats.fmean(hits_errors)) < 4 * sigma_hits / math.sqrt(DRAWS)
    assert stats.pstdev(hits_errors) == pytest.approx(sigma_hits, rel=0.15)
    assert sum(1 for error in hits_errors if error == 0) <= most_exact_guesses(sigma_hits)
    # and whether the real machine is there at all is hidden in noise of the planned spread
    assert stats.pstdev(presence_errors) == pytest.approx(sigma_machines, rel=0.15)


def test_differencing_consecutive_windows_gives_a_noisy_difference_never_the_days_count() -> None:
    # Given a problem suppressed in the day's table (3 machines) but published in the 7-day windows of
    # the day and of the day before (1,000 machines before, 1,003 with the day)
    def windows(end: date, machines: float) -> ReleaseInputs:
        start = date.fromordinal(end.toordinal() - 6)
        return ReleaseInputs(
            active=[(PRODUCT, 5000, 40000)],
            problems=[(PRODUCT, *PROBLEM, 3, 3)],
            features=[],
            configuration=[],
            usage=[],
            performance_bins=[],
            windows=[
                WindowRow("active", PRODUCT, "", "", 7, start, 7, 20_000.0),
                WindowRow("problem", PRODUCT, *PROBLEM, 7, start, 7, machines),
            ],
            usage_buckets=USAGE_BUCKETS,
        )

    def window_machines(inputs: ReleaseInputs) -> int:
        (row,) = [
            r for r in release(inputs, PLAN, OpenDPNoise()).rows["problems_rolling"] if r[1] == PROBLEM[0]
        ]
        return int(row[-2])

    sigma = PLAN.get("problems_rolling.machines@7").sigma
    # When the partner subtracts W7(D-1) from W7(D), day after day
    differences = [
        window_machines(windows(DAY, 1003.0)) - window_machines(windows(date(2026, 11, 27), 1000.0))
        for _ in range(DRAWS)
    ]
    # Then the difference is the day's 3 machines plus noise of sqrt(2) sigma: not the count
    errors = [d - 3 for d in differences]
    assert stats.pstdev(errors) == pytest.approx(math.sqrt(2) * sigma, rel=0.15)
    assert sum(1 for e in errors if e == 0) <= most_exact_guesses(math.sqrt(2) * sigma)
    # and the windows publish no exact sums to difference: no hits, uses or reports in any rolling table
    for table in ("problems_rolling", "features_rolling", "active_rolling"):
        columns = {c.split()[0] for c in PARTNER_COLUMNS[table].split(", ")}
        assert not {"hits", "uses", "reports"} & columns


def test_partner_tables_never_carry_top_machine_share_or_extreme_percentiles() -> None:
    columns = {c.split()[0] for spec in PARTNER_COLUMNS.values() for c in spec.split(", ")}
    assert "top_machine_share" not in columns
    assert "p99" not in columns


# -- the whole aggregation ---------------------------------------------------------------------------------
SALT = SketchSalt.from_secret(b"attack-test-machine-key-secret-32b!!")
GENEROUS = AggregationOptions(
    privacy=PartnerPrivacy(epsilon=100, min_machines=10), threads=2, fetch_workers=4
)
"""The largest budget the parameters allow, so that a test-sized day publishes rows with real noise."""


def aggregate(objects: dict[str, bytes], store: MemoryStore, **kw: object) -> object:
    return aggregate_day(
        DAY,
        source=MemorySource(objects),
        store=store,
        suppression=MemorySuppression(set()),
        sketch_salt=SALT,
        options=kw.pop("options", GENEROUS),  # type: ignore[arg-type]
        now=datetime(2026, 11, 29, 2, tzinfo=UTC),
        **kw,  # type: ignore[arg-type]
    )


def partner_files(store: MemoryStore) -> dict[str, bytes]:
    return {k: v for k, v in store.objects.items() if k.startswith("aggregates/partner/")}


def test_a_rerun_republishes_the_release_byte_for_byte_and_a_forced_one_is_charged() -> None:
    # Given a day aggregated once, with real noise
    population = build_population(DAY, machines_per_product=80, seed=5)
    objects = objects_of(population.reports)
    store = MemoryStore()
    first = aggregate(objects, store)
    drawn = partner_files(store)
    assert read_table(store.objects, "partner", "active", DAY), "the day must publish something"
    # When it is rerun: the same partner files, not fresh noise that averaging would cancel
    second = aggregate(objects, store)
    assert partner_files(store) == drawn
    assert second.manifest.partner_release.republished  # type: ignore[attr-defined]
    assert second.manifest.partner_release.drawn_at == first.manifest.partner_release.drawn_at  # type: ignore[attr-defined]
    # When the operator forces a new release: fresh noise, counted and charged
    third = aggregate(objects, store, new_partner_release=True)
    release_info = third.manifest.partner_release  # type: ignore[attr-defined]
    assert partner_files(store) != drawn
    assert release_info.drawings == 2 and not release_info.republished
    assert release_info.rho_charged == pytest.approx(2 * release_info.rho_per_release)


def test_fake_machines_posted_as_reports_do_not_reveal_the_real_machine_end_to_end() -> None:
    # Given one real machine with a rare problem and 49 attacker GUIDs reporting the same problem,
    # beside an ordinary population, aggregated with the default budget
    population = build_population(DAY, machines_per_product=60, seed=9)
    rng = __import__("random").Random(1)
    extra = []
    real = report_of(population.machines[0], at(DAY, 10), rng, latest=True)
    real["performance"]["problems"] = [{"id": PROBLEM[0], "kind": PROBLEM[1], "count": 17}]
    extra.append(StoredReport(real, at(DAY, 10)))
    for _ in range(49):
        fake = report_of(population.machines[1], at(DAY, 11), rng, latest=True)
        fake["machine_id"] = guid(rng)
        fake["report_id"] = guid(rng)
        fake["performance"]["problems"] = [{"id": PROBLEM[0], "kind": PROBLEM[1], "count": 1}]
        extra.append(StoredReport(fake, at(DAY, 11)))
    store = MemoryStore()
    aggregate(objects_of([*population.reports, *extra]), store, options=AggregationOptions(threads=2))
    # Then the internal table counts the 50 machines exactly, and partners get nothing of the cell
    internal = [
        r for r in read_table(store.objects, "internal", "problems", DAY) if r["problem_id"] == PROBLEM[0]
    ]
    assert internal and internal[0]["machines"] == 50
    partner = read_table(store.objects, "partner", "problems", DAY)
    assert not [r for r in partner if r["problem_id"] == PROBLEM[0]]
    assert all("top_machine_share" not in r for r in partner)


def test_ids_made_up_by_one_machine_each_never_reach_the_sampler_end_to_end() -> None:
    # Given an ordinary population and 20 attacker GUIDs, each with 16 problem ids of its own
    population = build_population(DAY, machines_per_product=60, seed=11)
    rng = __import__("random").Random(3)
    extra = []
    for n in range(20):
        fake = report_of(population.machines[n], at(DAY, 12), rng, latest=True)
        fake["machine_id"] = guid(rng)
        fake["report_id"] = guid(rng)
        fake["performance"]["problems"] = [
            {"id": f"made.up.{n}.{i}", "kind": "program", "count": 1} for i in range(16)
        ]
        extra.append(StoredReport(fake, at(DAY, 12)))
    drawn: dict[str, set[str]] = {}

    class Recording(OpenDPNoise):
        def threshold(self, counts: dict[str, int], planned: Planned, floor: int) -> dict[str, int]:
            drawn.setdefault(planned.statistic.name, set()).update(counts)
            return super().threshold(counts, planned, floor)

    # When the day is aggregated with OpenDP's noise, recording every key offered to a threshold
    store = MemoryStore()
    aggregate(objects_of([*population.reports, *extra]), store, noise=Recording())
    # Then the internal tables keep the made-up ids, and none was offered to the partner release
    internal = {r["problem_id"] for r in read_table(store.objects, "internal", "problems", DAY)}
    assert {f"made.up.{n}.{i}" for n in range(20) for i in range(16)} <= internal
    offered = {key for keys in drawn.values() for key in keys}
    assert offered and not [key for key in offered if "made.up." in key]
