"""IngestFunction handler: adapts API Gateway HTTP API events to the ingest service.

The source address (requestContext.http.sourceIp, X-Forwarded-For) is never read here: the body is
decoded from the raw event, and nothing else from the request reaches storage, logs or metrics.
"""

from __future__ import annotations

import gc
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.api import body, problems
from ceip.api.problems import ProblemError
from ceip.api.responses import json_response, public_resolver
from ceip.ingest import service
from ceip.ingest.settings import ingest_settings
from ceip.ingest.wiring import build_ingest
from ceip.machines.secret import SecretUnavailable
from ceip.machines.suppression import SuppressionUnavailable
from ceip.runtime.clock import utc_now
from ceip.runtime.observability import count_by_reason, observe
from ceip.storage.s3 import StorageUnavailable

SERVICE = "ceip-ingest"

observability = observe(SERVICE)
logger = observability.logger
app = public_resolver(observability)


@app.post("/v1/reports")
def post_reports() -> Response[str]:
    payload = body.json_body(app.current_event.raw_event)
    try:
        result = build_ingest(ingest_settings())(payload, received_at=utc_now())
    except service.InvalidBatch as error:
        raise ProblemError(problems.INVALID_BATCH) from error
    except service.NoValidReport as error:
        count_by_reason("ReportsRejected", _reasons(error.rejected), SERVICE)
        raise ProblemError(
            problems.NO_VALID_REPORT, rejected=[r.as_dict() for r in error.rejected]
        ) from error
    except (StorageUnavailable, SuppressionUnavailable, SecretUnavailable) as error:
        # Without the suppression check we cannot keep the erasure promise: store nothing, ask to retry.
        logger.warning("storage_unavailable", dependency=type(error).__name__, error_type=str(error))
        raise problems.retry_later() from error
    observability.count("ReportsAccepted", result.accepted - result.suppressed)
    if result.suppressed:
        observability.count("ReportsSuppressed", result.suppressed)
    count_by_reason("ReportsRejected", _reasons(result.rejected), SERVICE)
    logger.info(
        "reports_stored", accepted=result.accepted, rejected=len(result.rejected), key=result.object_key
    )
    # Shape: ceip.api.schemas.BatchAccepted (a test holds the two together).
    rejected = [r.as_dict() for r in result.rejected]
    return json_response(202, {"accepted": result.accepted, "rejected": rejected})


def _reasons(rejected: tuple[Any, ...]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in rejected:
        reason = report.errors[0].type if report.errors else "invalid"
        counts[reason] = counts.get(reason, 0) + 1
    return counts


@observability.handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    observability.count("Requests")
    return app.resolve(event, context)


# The modules, models and clients built at import live as long as the container; keep them out of the
# collector's generations so each full collection does not walk them again (a warm-path saving).
gc.freeze()
