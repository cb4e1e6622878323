"""IngestFunction handler: adapts API Gateway HTTP API events to the ingest service.

The source address (requestContext.http.sourceIp, X-Forwarded-For) is never read here: the body is
decoded from the raw event, and nothing else from the request reaches storage, logs or metrics.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.api import body, problems
from ceip.api.problems import Problem, ProblemError
from ceip.api.responses import install_fallbacks, json_response
from ceip.api.routes import RouteSpec
from ceip.api.schemas import BatchAccepted
from ceip.ingest import service
from ceip.ingest.settings import ingest_settings
from ceip.storage.s3 import S3ObjectWriter, StorageUnavailable

NAMESPACE = "ceip"
ROUTES = (RouteSpec("/v1/reports", frozenset({"POST"})),)

logger = Logger(service="ceip-ingest")
metrics = Metrics(namespace=NAMESPACE, service="ceip-ingest")
tracer = Tracer(service="ceip-ingest")
app = APIGatewayHttpResolver()


def utc_now() -> datetime:
    return datetime.now(UTC)


def count_rejections(reason_counts: dict[str, int], metric: str) -> None:
    """One EMF record per reason; reasons are our own fixed codes, never client input."""
    for reason, count in sorted(reason_counts.items()):
        with single_metric(name=metric, unit=MetricUnit.Count, value=count, namespace=NAMESPACE) as m:
            m.add_dimension(name="service", value="ceip-ingest")
            m.add_dimension(name="reason", value=reason)


def record_problem(problem: Problem) -> None:
    logger.info("request_rejected", code=problem.kind.code, status=problem.kind.status)
    count_rejections({problem.kind.code: 1}, "RequestsRejected")


install_fallbacks(app, ROUTES, logger, record_problem)


@app.post("/v1/reports")
def post_reports() -> Response[str]:
    payload = body.json_body(app.current_event.raw_event)
    writer = S3ObjectWriter(ingest_settings().reports_bucket)
    try:
        result = service.ingest(payload, received_at=utc_now(), writer=writer)
    except service.InvalidBatch as error:
        raise ProblemError(problems.INVALID_BATCH) from error
    except service.NoValidReport as error:
        count_rejections(_reasons(error.rejected), "ReportsRejected")
        raise ProblemError(
            problems.NO_VALID_REPORT, rejected=[r.as_dict() for r in error.rejected]
        ) from error
    except StorageUnavailable as error:
        logger.warning("storage_unavailable", error_type=str(error))
        raise problems.retry_later() from error
    metrics.add_metric(name="ReportsAccepted", unit=MetricUnit.Count, value=result.accepted)
    count_rejections(_reasons(result.rejected), "ReportsRejected")
    logger.info(
        "reports_stored", accepted=result.accepted, rejected=len(result.rejected), key=result.object_key
    )
    accepted = BatchAccepted.model_validate(
        {"accepted": result.accepted, "rejected": [r.as_dict() for r in result.rejected]}
    )
    return json_response(202, accepted.model_dump(mode="json"))


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
