"""Composition roots of the data-subject functions (PrivacyRequestsFunction, PurgeFunction), which the
CLI, tests and benchmarks use too. Powertools-free, so the CLI starts quickly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ceip.datasubject.erasure import ErasureDesk
from ceip.datasubject.purge import Deadline, Purger
from ceip.datasubject.purge_checkpoint import S3Checkpoint
from ceip.datasubject.request_store import RequestStore
from ceip.datasubject.settings import DataSubjectSettings
from ceip.machines.keyer import machine_keyer
from ceip.machines.suppression import read_key_set
from ceip.runtime.clock import utc_now
from ceip.storage.report_objects import S3ReportObjects


def build_desk(settings: DataSubjectSettings) -> ErasureDesk:
    """Erasure filing and status on DynamoDB; the keyer is built on first use, so a status query never
    waits for Secrets Manager."""
    return ErasureDesk(
        store=RequestStore(settings.requests_table, settings.suppression_table),
        keyer=lambda: machine_keyer(settings.machine_key_secret_id),
        purge_hour_utc=settings.purge_hour_utc,
    )


def build_purger(
    settings: DataSubjectSettings, deadline: Deadline, now: Callable[[], datetime] = utc_now
) -> Purger:
    if not settings.reports_bucket:
        raise ValueError("REPORTS_BUCKET is not set")
    return Purger(
        objects=S3ReportObjects(settings.reports_bucket),
        requests=RequestStore(settings.requests_table, settings.suppression_table),
        checkpoints=S3Checkpoint(settings.reports_bucket),
        keyer=machine_keyer(settings.machine_key_secret_id),
        suppressed_keys=read_key_set(settings.suppression_table),
        now=now,
        deadline=deadline,
    )
