"""IngestFunction handler: adapts API Gateway HTTP API events to the ingest service.

The source address (requestContext.http.sourceIp, X-Forwarded-For) is never read here: the body is
decoded from the raw event, and nothing else from the request reaches storage, logs or metrics.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.api import body, problems
from ceip.api.metrics import NAMESPACE, count_by_reason
from ceip.api.problems import ProblemError
from ceip.api.responses import install_fallbacks, json_response
from ceip.api.routes import PUBLIC_ROUTES
from ceip.datasubject.keyer import machine_keyer
from ceip.datasubject.secret import SecretUnavailable
from ceip.datasubject.suppression import SuppressionLookup, SuppressionUnavailable
from ceip.ingest import service
from ceip.ingest.settings import ingest_settings
from ceip.storage.s3 import S3ObjectWriter, StorageUnavailable

SERVICE = "ceip-ingest"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
app = APIGatewayHttpResolver()


def utc_now() -> datetime:
    return datetime.now(UTC)


install_fallbacks(app, PUBLIC_ROUTES, logger, SERVICE)


@app.post("/v1/reports")
def post_reports() -> Response[str]:
    payload = body.json_body(app.current_event.raw_event)
    settings = ingest_settings()
    try:
        result = service.ingest(
            payload,
            received_at=utc_now(),
            writer=S3ObjectWriter(settings.reports_bucket),
            suppression=SuppressionLookup(
                settings.suppression_table, machine_keyer(settings.machine_key_secret_id)
            ),
        )
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
    metrics.add_metric(
        name="ReportsAccepted", unit=MetricUnit.Count, value=result.accepted - result.suppressed
    )
    if result.suppressed:
        metrics.add_metric(name="ReportsSuppressed", unit=MetricUnit.Count, value=result.suppressed)
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


@logger.inject_lambda_context(
    log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    return app.resolve(event, context)


# The modules, models and clients built at import live as long as the container; keep them out of the
# collector's generations so each full collection does not walk them again (a warm-path saving).
gc.freeze()
