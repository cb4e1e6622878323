"""PrivacyRequestsFunction: POST /v1/privacy/requests and GET /v1/privacy/requests/{request_id}.

Like the ingest handler, it decodes bodies itself and never reads the source address. The machine
GUID is turned into its keyed hash at once; only the hash is stored.
"""

from __future__ import annotations

import re
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ceip.api import body, problems
from ceip.api.problems import ProblemError
from ceip.api.responses import json_response, public_resolver
from ceip.datasubject.model import ErasureRequest, Receipt, iso
from ceip.datasubject.request_store import RequestStoreUnavailable
from ceip.datasubject.schemas import PrivacyRequestAccepted, PrivacyRequestIn, PrivacyRequestStatusOut
from ceip.datasubject.settings import datasubject_settings
from ceip.datasubject.wiring import build_desk
from ceip.machines.secret import SecretUnavailable
from ceip.reports.validation import describe, field_names
from ceip.runtime.clock import utc_now
from ceip.runtime.observability import observe

SERVICE = "ceip-privacy-requests"
_REQUEST_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_KNOWN_FIELDS = field_names(PrivacyRequestIn)

observability = observe(SERVICE)
logger = observability.logger
app = public_resolver(observability)


@app.post("/v1/privacy/requests")
def post_privacy_request() -> Response[str]:
    payload = body.json_body(app.current_event.raw_event)
    try:
        incoming = PrivacyRequestIn.model_validate(payload)
    except ValidationError as error:
        raise ProblemError(
            problems.INVALID_REQUEST, errors=[e.as_dict() for e in describe(error, _KNOWN_FIELDS)]
        ) from error
    try:
        request = build_desk(datasubject_settings()).file(str(incoming.machine_id), now=utc_now())
    except (RequestStoreUnavailable, SecretUnavailable) as error:
        # The message is the underlying error's type name (e.g. ReadTimeoutError), never input.
        logger.warning("storage_unavailable", dependency=type(error).__name__, error_type=str(error))
        raise problems.retry_later() from error
    observability.count("ErasureRequestsFiled")
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
        request = build_desk(datasubject_settings()).status(request_id)
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
            "status_reason": request.status_reason,
            "receipt": _public_receipt(request.receipt) if request.receipt else None,
        }
    )


def _public_receipt(receipt: Receipt) -> dict[str, Any]:
    """The receipt without the unreadable objects' keys: internal layout, for the team's CLI only."""
    view = receipt.as_dict()
    del view["unreadable_object_keys"]
    return view


@observability.handler(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    observability.count("Requests")
    return app.resolve(event, context)
