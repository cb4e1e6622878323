"""The local gateway's connections under load (both found by `make load`): a burst of new connections
is queued, not dropped (socketserver's backlog of 5 made the kernel drop SYNs and reset a connection
while 16 clients connected at once), and an answer is not held back by Nagle's algorithm (the body
waited for the client's delayed ACK of the headers: 40 ms on every request)."""

from __future__ import annotations

import http.client
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from infra.local.gateway import LISTEN_BACKLOG, BoundRoute, Gateway, make_server
from infra.local.template import FunctionSpec, Route

BURST = 32


def test_a_burst_of_clients_is_queued_by_the_kernel_until_the_gateway_accepts_them() -> None:
    # Given a gateway that is not accepting yet (as when its accept thread waits for the GIL)
    server = make_server(Gateway([]), "127.0.0.1", 0)
    port = server.server_address[1]
    sockets: list[socket.socket] = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        # When 32 clients connect at once
        for _ in range(BURST):
            # A dropped SYN is retried after a second: a connection not made in 0.5 s was dropped.
            sockets.append(socket.create_connection(("127.0.0.1", port), timeout=0.5))
        # Then every connection was completed by the kernel, and each is served once the gateway runs
        assert server.request_queue_size == LISTEN_BACKLOG >= BURST
        thread.start()
        for sock in sockets:
            sock.settimeout(5)
            sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
            response = http.client.HTTPResponse(sock)
            response.begin()
            assert response.status == 404
            response.read()
    finally:
        for sock in sockets:
            sock.close()
        if thread.is_alive():
            server.shutdown()
        server.server_close()


DELAYED_ACK_S = 0.040
"""Linux's shortest delayed ACK: what a response held back by Nagle's algorithm waits for."""


def accept(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 202, "headers": {"content-type": "application/json"}, "body": '{"accepted":1}'}


@pytest.fixture
def gateway_port() -> Iterator[int]:
    gateway = Gateway([])
    spec = FunctionSpec("Accept", "tests.accept", {}, ())
    gateway.routes = [BoundRoute(Route("POST", "/v1/reports"), spec, accept, threading.Lock())]
    server = make_server(gateway, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_an_answer_is_not_held_back_until_the_client_acknowledges_its_headers(gateway_port: int) -> None:
    # Given a keep-alive client, as the load clients and SDKs are
    connection = http.client.HTTPConnection("127.0.0.1", gateway_port, timeout=5)
    latencies = []
    # When it sends 20 requests one after the other to a function that answers at once
    for _ in range(20):
        started = time.perf_counter()
        connection.request("POST", "/v1/reports", body=b"{}", headers={"content-type": "application/json"})
        response = connection.getresponse()
        response.read()
        latencies.append(time.perf_counter() - started)
        assert response.status == 202
    connection.close()
    # Then the typical answer takes far less than a delayed ACK (it took 40 ms more with Nagle on)
    assert statistics.median(latencies) < DELAYED_ACK_S / 2
