"""The local gateway when a client hangs up early, as a client whose timeout fired does (found by
`make load`: each such request printed a BrokenPipeError traceback, and a half-sent body would have
reached the function truncated)."""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from infra.local.gateway import CLIENT_GONE, BoundRoute, Gateway, make_server
from infra.local.template import FunctionSpec, Route


class SlowFunction:
    """Answers only once the test lets it, so the client can hang up first."""

    def __init__(self) -> None:
        self.invoked = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()
        self.bodies: list[str] = []
        self.answer = "x" * 65536
        """Large, so a client that hangs up early leaves the gateway writing."""

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.bodies.append(event.get("body", ""))
        self.invoked.set()
        self.release.wait(5)
        self.answered.set()
        return {"statusCode": 202, "headers": {"content-type": "application/json"}, "body": self.answer}


@pytest.fixture
def served() -> Iterator[tuple[int, SlowFunction]]:
    function = SlowFunction()
    gateway = Gateway([])
    spec = FunctionSpec("Slow", "tests.slow", {}, ())
    gateway.routes = [BoundRoute(Route("POST", "/v1/reports"), spec, function, threading.Lock())]
    server = make_server(gateway, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], function
    finally:
        function.release.set()
        server.shutdown()
        server.server_close()


REQUEST = b"POST /v1/reports HTTP/1.1\r\nHost: x\r\ncontent-length: 2\r\n\r\n{}"


def hang_up(sock: socket.socket) -> None:
    """Close with a reset, so the gateway's next write fails at once instead of some writes later."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def connections_closed(timeout_s: float = 5.0) -> None:
    """Wait until the server's per-connection threads have ended (and printed whatever they print)."""
    deadline = time.monotonic() + timeout_s
    while any("process_request" in t.name for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a gateway connection thread is still running"
        time.sleep(0.01)


def post(port: int, body: bytes) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("POST", "/v1/reports", body=body, headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_client_gone_before_the_answer_costs_one_log_line_and_the_gateway_serves_on(
    served: tuple[int, SlowFunction], capsys: pytest.CaptureFixture[str]
) -> None:
    port, function = served
    # Given a client that sent a whole request and hung up while the function was still working
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(REQUEST)
    assert function.invoked.wait(5)
    hang_up(sock)
    # When the function answers
    function.release.set()
    assert function.answered.wait(5)
    # Then the next client is served, and the lost answer left one line and no traceback
    assert post(port, b"{}") == 202
    connections_closed()
    err = capsys.readouterr().err
    assert f"gateway: {CLIENT_GONE} before the answer (202)" in err
    assert "Traceback" not in err
    assert "BrokenPipeError" not in err and "ConnectionResetError" not in err


def test_a_body_cut_short_by_a_hang_up_never_reaches_the_function(
    served: tuple[int, SlowFunction], capsys: pytest.CaptureFixture[str]
) -> None:
    port, function = served
    function.release.set()
    # Given a client that announced 100 bytes, sent 10 and hung up
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\ncontent-length: 100\r\n\r\n" + b'{"reports"')
    sock.shutdown(socket.SHUT_WR)
    # When the gateway has dealt with it (the connection is closed without an answer)
    assert sock.recv(1024) == b""
    sock.close()
    # Then the function was never invoked with the fragment, and the gateway still serves
    assert post(port, b'{"reports":[1]}') == 202
    assert function.bodies == ['{"reports":[1]}']
    connections_closed()
    err = capsys.readouterr().err
    assert f"gateway: {CLIENT_GONE} before sending the whole body" in err
    assert "Traceback" not in err


def test_a_reset_after_the_answer_ends_the_connection_quietly(
    served: tuple[int, SlowFunction], capsys: pytest.CaptureFixture[str]
) -> None:
    port, function = served
    function.release.set()
    function.answer = "{}"
    # Given a keep-alive client that read its whole answer, then reset the connection
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(REQUEST)
    answer = b""
    while not answer.endswith(b"\r\n\r\n{}"):
        answer += sock.recv(4096)
    hang_up(sock)
    # When the next client comes
    status = post(port, b"{}")
    # Then it is served, and the gateway, waiting for the first client's next request, printed no traceback
    assert status == 202
    connections_closed()
    assert "Traceback" not in capsys.readouterr().err
