"""Deterministic AWS failures injected into one boto3 client at the botocore level.

The client's `before-send` handler (in place of moto's, which it calls for the attempts that go
through) answers chosen HTTP attempts of an operation with what AWS sends when it is throttled or
failing (an error response in the service's own protocol), or raises what botocore raises when the
network fails (read timeout, reset connection, no route). The adapters' own retry
configuration (mode, attempts) and their error handling therefore run exactly as in production;
`skip_backoff` only removes the wait between botocore's retries and records it.

Attempts are counted per operation, retries included: `nth=2, times=1` fails the second HTTP attempt
only; `times=None` keeps failing until `clear()` (an outage).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from moto.core.models import botocore_stubber

Raised = Callable[[AWSPreparedRequest], Exception]


@dataclass(frozen=True)
class ErrorReply:
    """An error answer from the service: HTTP status and error code, spelled in its protocol."""

    status: int
    code: str
    fields: tuple[tuple[str, Any], ...] = ()
    """Modeled error fields beside the code (JSON protocol), such as CancellationReasons."""

    def response(self, request: AWSPreparedRequest, protocol: str) -> AWSResponse:
        message = "injected fault"
        if protocol == "rest-xml":  # S3
            body = f"<Error><Code>{self.code}</Code><Message>{message}</Message></Error>"
            content_type = "application/xml"
        elif protocol == "query":  # SES
            kind = "Receiver" if self.status >= 500 else "Sender"
            body = (
                f"<ErrorResponse><Error><Type>{kind}</Type><Code>{self.code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
            )
            content_type = "text/xml"
        elif protocol == "json":  # DynamoDB, Secrets Manager
            body = json.dumps(
                {"__type": f"com.amazonaws#{self.code}", "message": message, **dict(self.fields)}
            )
            content_type = "application/x-amz-json-1.0"
        else:
            raise ValueError(f"no error shape for protocol {protocol}")
        headers = HTTPHeaders()
        headers["Content-Type"] = content_type
        return AWSResponse(request.url, self.status, headers, _RawBody(body.encode()))


class _RawBody(BytesIO):
    """The urllib3-like raw body AWSResponse reads."""

    def stream(self, **_: Any) -> Any:
        while chunk := self.read(65536):
            yield chunk


# What AWS answers when it sheds load or fails.
SLOW_DOWN = ErrorReply(503, "SlowDown")
S3_INTERNAL_ERROR = ErrorReply(500, "InternalError")
THROUGHPUT_EXCEEDED = ErrorReply(400, "ProvisionedThroughputExceededException")
THROTTLING_EXCEPTION = ErrorReply(400, "ThrottlingException")
DYNAMODB_INTERNAL_ERROR = ErrorReply(500, "InternalServerError")
TRANSACTION_THROTTLED = ErrorReply(
    400,
    "TransactionCanceledException",
    (("CancellationReasons", [{"Code": "ThrottlingError", "Message": "injected"}, {"Code": "None"}]),),
)
"""DynamoDB cancels a transaction whose item is throttled: not retried by botocore, not a conflict."""
SES_THROTTLED = ErrorReply(400, "Throttling")
SES_INTERNAL_FAILURE = ErrorReply(500, "InternalFailure")
SECRETS_INTERNAL_ERROR = ErrorReply(500, "InternalServiceError")


# What botocore raises when the network fails.
def read_timeout(request: AWSPreparedRequest) -> Exception:
    return ReadTimeoutError(endpoint_url=request.url)


def connection_reset(request: AWSPreparedRequest) -> Exception:
    """urllib3's ProtocolError(ConnectionResetError), as botocore wraps it."""
    return ConnectionClosedError(endpoint_url=request.url)


def no_connection(request: AWSPreparedRequest) -> Exception:
    return EndpointConnectionError(endpoint_url=request.url)


Failure = ErrorReply | Raised
ANY_OPERATION = "*"
_HANDLER_ID = "tests.support.faults"


@dataclass
class _Rule:
    operation: str
    failure: Failure
    nth: int
    times: int | None
    after_service: bool
    matches: Callable[[AWSPreparedRequest], bool]
    seen: int = 0

    def hits(self, request: AWSPreparedRequest) -> bool:
        if not self.matches(request):
            return False
        self.seen += 1
        last = None if self.times is None else self.nth + self.times - 1
        return self.seen >= self.nth and (last is None or self.seen <= last)


@dataclass
class Faults:
    """Failures planned for one client; `attempts` counts every HTTP attempt per operation."""

    client: Any
    attempts: Counter[str] = field(default_factory=Counter)
    injected: list[str] = field(default_factory=list)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    """Aggregation fetches from many threads: the Nth attempt is counted exactly once."""

    def __post_init__(self) -> None:
        # Every before-send handler runs (botocore takes the first answer), so moto would carry out a
        # request we fail; put this client's sends through one handler that decides whether moto sees it.
        # One Faults per client at a time: a new one replaces the handler of an earlier one.
        events = self.client.meta.events
        events.unregister("before-send", botocore_stubber)
        events.unregister("before-send", unique_id=_HANDLER_ID)
        events.register("before-send", self._send, unique_id=_HANDLER_ID)

    def fail(
        self,
        operation: str,
        failure: Failure,
        *,
        nth: int = 1,
        times: int | None = None,
        after_service: bool = False,
        when: Callable[[AWSPreparedRequest], bool] = lambda _: True,
    ) -> Faults:
        """Fail attempts nth .. nth+times-1 of `operation` (ANY_OPERATION: of all of them, counted
        together; `when` narrows the requests counted); times=None: until clear().

        after_service: the service carries the request out and only its answer is replaced (an
        ambiguous failure: a write that happened although the caller saw an error).
        """
        self._rules.append(_Rule(operation, failure, nth, times, after_service, when))
        return self

    def clear(self) -> None:
        self._rules.clear()

    @property
    def total(self) -> int:
        """HTTP attempts of every operation so far."""
        return sum(self.attempts.values())

    def _send(self, request: AWSPreparedRequest, event_name: str, **kwargs: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            self.attempts[operation] += 1
            before = self._due(operation, request, after_service=False)
        if before is not None:
            return self._failed(operation, before, request)
        answer: AWSResponse | None = botocore_stubber(event_name=event_name, request=request, **kwargs)
        with self._lock:
            after = self._due(operation, request, after_service=True)
        if after is not None:
            return self._failed(operation, after, request)
        return answer

    def _due(self, operation: str, request: AWSPreparedRequest, *, after_service: bool) -> Failure | None:
        for rule in self._rules:
            if (
                rule.operation in (operation, ANY_OPERATION)
                and rule.after_service is after_service
                and rule.hits(request)
            ):
                return rule.failure
        return None

    def _failed(self, operation: str, failure: Failure, request: AWSPreparedRequest) -> AWSResponse:
        with self._lock:
            self.injected.append(operation)
        if isinstance(failure, ErrorReply):
            return failure.response(request, self.client.meta.service_model.protocol)
        raise failure(request)


@dataclass
class Backoff:
    """The waits botocore's retry handler asked for, not slept."""

    delays: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.delays.append(seconds)


def skip_backoff(monkeypatch: pytest.MonkeyPatch) -> Backoff:
    """Make botocore's retry sleeps instant (recorded instead), so a test of many retries stays fast."""
    backoff = Backoff()
    monkeypatch.setattr(botocore.endpoint, "time", backoff)
    return backoff


def object_key_is(key: str) -> Callable[[AWSPreparedRequest], bool]:
    """Select S3 requests for one object key (virtual-host or path style URL)."""

    def matches(request: AWSPreparedRequest) -> bool:
        path = unquote(urlsplit(request.url).path)
        return path.endswith("/" + key)

    return matches
