"""The purge's S3 adapter under moto: every version read, in the order asked, while reading ahead."""

from __future__ import annotations

from typing import Any

from ceip.storage.report_objects import READ_BATCH, READ_WORKERS, S3ReportObjects
from tests.conftest import REPORTS_BUCKET


def test_read_each_hands_over_every_asked_version_in_the_order_asked(s3: Any) -> None:
    # Given more objects than the read-ahead holds at once, each written twice (two versions)
    count = READ_WORKERS * READ_BATCH * 2 + 5
    keys = [f"reports/dt=2026-11-28/hr=03/{n:05d}.ndjson.gz" for n in range(count)]
    for key in keys:
        for round_ in ("first", "second"):
            s3.put_object(Bucket=REPORTS_BUCKET, Key=key, Body=f"{key} {round_}".encode())
    objects = S3ReportObjects(REPORTS_BUCKET, client=s3)
    listed = list(objects.objects("reports/", None))
    assert [stored.key for stored in listed] == keys
    # When the current versions, and then every version, are read through read_each
    current = list(objects.read_each((stored, (stored.latest_version,)) for stored in listed))
    every = list(
        objects.read_each((stored, (stored.latest_version, *stored.noncurrent_versions)) for stored in listed)
    )
    # Then each object comes back in listing order with the bytes of exactly the versions asked
    assert [(stored.key, bodies) for stored, bodies in current] == [
        (key, [f"{key} second".encode()]) for key in keys
    ]
    assert [(stored.key, bodies) for stored, bodies in every] == [
        (key, [f"{key} second".encode(), f"{key} first".encode()]) for key in keys
    ]
