"""PurgeFunction: scheduled daily ({"action": "purge"}) and every 15 minutes ({"action": "resume"}).

The daily run serves every pending erasure request in one pass; the frequent run only continues a
pass that stopped before the Lambda timeout, and returns at once when there is none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.api.metrics import NAMESPACE
from ceip.datasubject.keyer import machine_keyer
from ceip.datasubject.purge import Deadline, PurgeOutcome, Purger
from ceip.datasubject.request_store import RequestStore
from ceip.datasubject.settings import DataSubjectSettings, datasubject_settings
from ceip.datasubject.suppression import scan_keys
from ceip.storage.report_objects import S3Checkpoint, S3ReportObjects

SERVICE = "ceip-purge"
logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_purger(settings: DataSubjectSettings, deadline: Deadline) -> Purger:
    if not settings.reports_bucket:
        raise ValueError("REPORTS_BUCKET is not set")
    return Purger(
        objects=S3ReportObjects(settings.reports_bucket),
        requests=RequestStore(settings.requests_table, settings.suppression_table),
        checkpoints=S3Checkpoint(settings.reports_bucket),
        keyer=machine_keyer(settings.machine_key_secret_id),
        suppressed_keys=scan_keys(settings.suppression_table),
        now=utc_now,
        deadline=deadline,
    )


def run_purge(resume_only: bool, deadline: Deadline) -> PurgeOutcome:
    outcome = build_purger(datasubject_settings(), deadline).run(resume_only=resume_only)
    logger.info(
        "purge_finished",
        status=outcome.status,
        requests=len(outcome.requests),
        objects_scanned=outcome.objects_scanned,
        reports_removed=outcome.reports_removed,
        unreadable_objects=outcome.unreadable_objects,
    )
    if outcome.status in ("fulfilled", "unverified"):
        metrics.add_metric(
            name="ErasureRequestsFulfilled",
            unit=MetricUnit.Count,
            value=len(outcome.requests) if outcome.status == "fulfilled" else 0,
        )
        metrics.add_metric(name="ReportsPurged", unit=MetricUnit.Count, value=outcome.reports_removed)
    if outcome.status == "unverified":
        # The re-scan still found lines: the requests stay open and the next run tries again.
        logger.error("purge_unverified", requests=len(outcome.requests))
    return outcome


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resume_only = isinstance(event, dict) and event.get("action") == "resume"
    outcome = run_purge(resume_only, Deadline(context.get_remaining_time_in_millis))
    return {
        "status": outcome.status,
        "requests": len(outcome.requests),
        "reports_removed": outcome.reports_removed,
    }
