"""PrivacyRequestsFunction: POST /v1/privacy/requests and GET /v1/privacy/requests/{request_id}.

Like the ingest handler, it decodes bodies itself and never reads the source address. The machine
GUID is turned into its keyed hash at once; only the hash is stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ceip.api import body, problems
from ceip.api.metrics import NAMESPACE
from ceip.api.problems import ProblemError
from ceip.api.responses import install_fallbacks, json_response
from ceip.api.routes import PUBLIC_ROUTES
from ceip.datasubject.erasure import file_erasure
from ceip.datasubject.keyer import machine_keyer
from ceip.datasubject.model import ErasureRequest, iso
from ceip.datasubject.request_store import RequestStore, RequestStoreUnavailable
from ceip.datasubject.schemas import PrivacyRequestAccepted, PrivacyRequestIn, PrivacyRequestStatusOut
from ceip.datasubject.secret import SecretUnavailable
from ceip.datasubject.settings import datasubject_settings
from ceip.reports.validation import describe, field_names

SERVICE = "ceip-privacy-requests"
_REQUEST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_KNOWN_FIELDS = field_names(PrivacyRequestIn)

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
app = APIGatewayHttpResolver()


def utc_now() -> datetime:
    return datetime.now(UTC)


install_fallbacks(app, PUBLIC_ROUTES, logger, SERVICE)


def _store() -> RequestStore:
    settings = datasubject_settings()
    return RequestStore(settings.requests_table, settings.suppression_table)


@app.post("/v1/privacy/requests")
def post_privacy_request() -> Response[str]:
    payload = body.json_body(app.current_event.raw_event)
    try:
        incoming = PrivacyRequestIn.model_validate(payload)
    except ValidationError as error:
        raise ProblemError(
            problems.INVALID_REQUEST, errors=[e.as_dict() for e in describe(error, _KNOWN_FIELDS)]
        ) from error
    settings = datasubject_settings()
    try:
        key = machine_keyer(settings.machine_key_secret_id).key(str(incoming.machine_id))
        request = file_erasure(key, now=utc_now(), store=_store(), purge_hour_utc=settings.purge_hour_utc)
    except (RequestStoreUnavailable, SecretUnavailable) as error:
        # The message is the underlying error's type name (e.g. ReadTimeoutError), never input.
        logger.warning("storage_unavailable", dependency=type(error).__name__, error_type=str(error))
        raise problems.retry_later() from error
    metrics.add_metric(name="ErasureRequestsFiled", unit=MetricUnit.Count, value=1)
    logger.info("erasure_request_filed", request_id=request.request_id, status=request.status.value)
    accepted = PrivacyRequestAccepted(
        request_id=request.request_id, status=request.status.value, expected_by=iso(request.expected_by)
    )
    return json_response(202, accepted.model_dump(mode="json"))


@app.get("/v1/privacy/requests/<request_id>")
def get_privacy_request(request_id: str) -> Response[str]:
    if not _REQUEST_ID.match(request_id):
        raise ProblemError(problems.NOT_FOUND)
    try:
        request = _store().get(request_id)
    except RequestStoreUnavailable as error:
        raise problems.retry_later() from error
    if request is None:
        raise ProblemError(problems.NOT_FOUND)
    return json_response(200, status_view(request).model_dump(mode="json", exclude_none=True))


def status_view(request: ErasureRequest) -> PrivacyRequestStatusOut:
    return PrivacyRequestStatusOut.model_validate(
        {
            "request_id": request.request_id,
            "type": "erasure",
            "status": request.status.value,
            "received_at": iso(request.received_at),
            "expected_by": iso(request.expected_by),
            "receipt": request.receipt.as_dict() if request.receipt else None,
        }
    )


@logger.inject_lambda_context(
    log_event=False, correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True
)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
    return app.resolve(event, context)
