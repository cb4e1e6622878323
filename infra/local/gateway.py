"""A local stand-in for API Gateway HTTP API: real HTTP in, payload format 2.0 events to the handlers.

Routes come from the HttpApi events in template.yaml. Like a Lambda instance, each function serves
one request at a time (the Powertools resolver keeps the current event on a module-level object).
"""

from __future__ import annotations

import base64
import importlib
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.template import LOCAL_ACCOUNT, LOCAL_REGION, FunctionSpec, Route

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
MAX_REQUEST_BYTES = 10 * 1024 * 1024  # API Gateway's own payload limit
LISTEN_BACKLOG = 128
"""Connections the kernel completes before the gateway accepts them. socketserver's default of 5
overflows when a burst of clients connects: the kernel then drops their SYNs (a client waits a second
to retry) or resets a connection it completed with a SYN cookie; `make load` met both."""
CLIENT_GONE = "client closed the connection"
"""Logged (without the address) when a client hangs up before its request was read or answered."""
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")


def load_handler(dotted: str) -> Handler:
    module_name, _, attribute = dotted.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools reads."""

    function_name: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"
        )
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class BoundRoute:
    route: Route
    function: FunctionSpec
    handler: Handler
    lock: threading.Lock


def is_textual(content_type: str, content_encoding: str, body: bytes) -> bool:
    """API Gateway base64-encodes bodies that are binary or compressed."""
    if content_encoding and content_encoding.lower() != "identity":
        return False
    if content_type and not content_type.lower().startswith(_TEXT_TYPES) and "+json" not in content_type:
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    *,
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str,
    route: Route,
    path_parameters: dict[str, str],
    host: str,
) -> dict[str, Any]:
    """An API Gateway HTTP API payload format 2.0 event, as the real service builds it."""
    split = urlsplit(target)
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    # API Gateway appends the caller's address to X-Forwarded-For, as load balancers do.
    forwarded = merged.get("x-forwarded-for")
    merged["x-forwarded-for"] = f"{forwarded}, {source_ip}" if forwarded else source_ip
    merged.setdefault("x-forwarded-proto", "http")
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": merged,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=") + "=",
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if split.query:
        event["queryStringParameters"] = dict(parse_qsl(split.query, keep_blank_values=True))
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        if is_textual(merged.get("content-type", ""), merged.get("content-encoding", ""), body):
            event["body"] = body.decode("utf-8")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


class Gateway:
    def __init__(self, functions: list[FunctionSpec]) -> None:
        bound: list[BoundRoute] = []
        for function in functions:
            if not function.routes:
                continue
            handler = load_handler(function.handler)
            lock = threading.Lock()
            bound.extend(BoundRoute(route, function, handler, lock) for route in function.routes)
        # Explicit routes first, the $default route last, as API Gateway matches them.
        self.routes = sorted(bound, key=lambda b: b.route.path is None)

    def match(self, method: str, path: str) -> tuple[BoundRoute, dict[str, str]] | None:
        for bound in self.routes:
            params = bound.route.match(method, path)
            if params is not None:
                return bound, params
        return None

    def invoke(self, bound: BoundRoute, event: dict[str, Any]) -> dict[str, Any]:
        context = LambdaContext(bound.function.logical_id, bound.function.timeout_seconds)
        with bound.lock:
            return bound.handler(event, context)


def _request_handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "ceip-local-gateway"
        # Headers and body go out in two writes; with Nagle on, the body waits for the client's delayed
        # ACK of the headers (40 ms per request on Linux), which API Gateway does not add.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            # Like the API's access log: no client address.
            sys.stderr.write(
                f"gateway: {self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n"
            )

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_REQUEST_BYTES:
                self._send(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"content-type": "application/json"},
                    b'{"message":"Request Entity Too Large"}',
                    close=True,
                )
                return
            body = self._read_body(length)
            if body is None:
                return
            path = urlsplit(self.path).path
            matched = gateway.match(self.command, path)
            if matched is None:
                self._send(
                    HTTPStatus.NOT_FOUND, {"content-type": "application/json"}, b'{"message":"Not Found"}'
                )
                return
            bound, params = matched
            event = build_event(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                route=bound.route,
                path_parameters=params,
                host=self.headers.get("host", "127.0.0.1"),
            )
            try:
                result = gateway.invoke(bound, event)
            except Exception as error:
                sys.stderr.write(f"gateway: handler raised {type(error).__name__}\n")
                self._send(
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    {"content-type": "application/json"},
                    b'{"message":"Internal Server Error"}',
                )
                return
            payload = result.get("body") or ""
            data = (
                base64.b64decode(payload) if result.get("isBase64Encoded") else str(payload).encode("utf-8")
            )
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            for name, values in (result.get("multiValueHeaders") or {}).items():
                headers[str(name)] = ", ".join(str(v) for v in values)
            self._send(int(result.get("statusCode", 200)), headers, data)

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except ConnectionError:
                # A keep-alive client may reset its connection at any moment, between requests too.
                self.close_connection = True

        def _read_body(self, length: int) -> bytes | None:
            """The whole body, or None when the client hung up before sending it all: API Gateway
            invokes nothing for a request it never received whole."""
            try:
                body = self.rfile.read(length) if length else b""
            except ConnectionError:
                body = b""
            if len(body) < length:
                self.close_connection = True
                sys.stderr.write(f"gateway: {CLIENT_GONE} before sending the whole body\n")
                return None
            return body

        def _send(self, status: int, headers: dict[str, str], data: bytes, close: bool = False) -> None:
            try:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
            except ConnectionError:
                # The client gave up waiting (its timeout fired) and closed the connection. API Gateway
                # drops such an answer; what the function did stands. One line, not a traceback.
                self.close_connection = True
                sys.stderr.write(f"gateway: {CLIENT_GONE} before the answer ({status})\n")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

        def __getattr__(self, name: str) -> Any:
            # Any other method (TRACE, QUERY, ...) reaches the $default route too, whose function answers
            # 405 problem+json, instead of http.server's 501 HTML page.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

    return RequestHandler


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG


def make_server(gateway: Gateway, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    return GatewayServer((host, port), _request_handler(gateway))
