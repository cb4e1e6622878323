"""PurgeFunction: scheduled daily ({"action": "purge"}) and every 15 minutes ({"action": "resume"}).

The daily run serves every pending erasure request in one pass; the frequent run only continues a
pass that stopped before the Lambda timeout, and returns at once when there is none.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.datasubject.purge import Deadline, PurgeOutcome, PurgeStatus
from ceip.datasubject.settings import datasubject_settings
from ceip.datasubject.wiring import build_purger
from ceip.runtime.clock import utc_now
from ceip.runtime.observability import observe

SERVICE = "ceip-purge"
observability = observe(SERVICE)
logger = observability.logger


def run_purge(resume_only: bool, deadline: Deadline) -> PurgeOutcome:
    outcome = build_purger(datasubject_settings(), deadline, now=utc_now).run(resume_only=resume_only)
    logger.info(
        "purge_finished",
        status=outcome.status,
        requests=outcome.served,
        objects_scanned=outcome.objects_scanned,
        reports_removed=outcome.reports_removed,
        unreadable_objects=outcome.unreadable_objects,
    )
    if outcome.status in (PurgeStatus.FULFILLED, PurgeStatus.UNVERIFIED):
        fulfilled = outcome.served if outcome.status is PurgeStatus.FULFILLED else 0
        observability.count("ErasureRequestsFulfilled", fulfilled)
        observability.count("ReportsPurged", outcome.reports_removed)
    if outcome.status is PurgeStatus.UNVERIFIED:
        # The re-scan still found lines: the requests stay open and the next run tries again.
        logger.error("purge_unverified", requests=outcome.served)
    return outcome


@observability.handler()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    resume_only = isinstance(event, dict) and event.get("action") == "resume"
    outcome = run_purge(resume_only, Deadline(context.get_remaining_time_in_millis))
    return {
        "status": outcome.status.value,
        "requests": outcome.served,
        "reports_removed": outcome.reports_removed,
    }
