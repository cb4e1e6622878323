"""The local gateway takes a burst of new connections (found by `make load`: with socketserver's
backlog of 5, the kernel dropped SYNs and reset a connection while 16 clients connected at once)."""

from __future__ import annotations

import http.client
import socket
import threading

from infra.local.gateway import LISTEN_BACKLOG, Gateway, make_server

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
