"""The load clients: threads with keep-alive connections that post batches and resend some of them.

Each thread takes the next batch from a shared iterator. A batch marked ABANDONED is first sent on a
throwaway connection that is closed after a short random wait without reading the answer, as a client
whose timeout fired; then it is sent again like any batch. A batch marked AFTER_ANSWER is sent again
once its 202 arrived. A 5xx or a broken connection is recorded and the batch retried (as a real client
would, honouring Retry-After up to a second), so one failure does not hide what else goes wrong.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from benchmarks.load.traffic import Batch, Repeat

PATH = "/v1/reports"
HEADERS = {"content-type": "application/json"}
MAX_ATTEMPTS = 4
ABANDON_AFTER_S = (0.0, 0.05)
"""Range of the wait between sending an abandoned attempt whole and hanging up: from while it is still
queued at the gateway to well into the handler's run (about 35 ms unloaded)."""


@dataclass
class SendOutcome:
    """What the clients saw. Report ids count as accepted only through a 202 the client read."""

    accepted_ids: set[str] = field(default_factory=set)
    accepted_in_answers: int = 0
    """Sum of the 202 answers' `accepted` fields: repeats included."""
    statuses: Counter[int] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)
    """Per answered request, from sending the request to reading the whole answer."""
    abandoned: int = 0
    repeats_after_answer: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)
    unexpected_answers: list[str] = field(default_factory=list)
    """202 answers that rejected a valid report, or any other 4xx; at most a few kept."""
    failed_batches: int = 0
    """Batches that never got a 202 within MAX_ATTEMPTS."""
    wall_s: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


class _Client:
    def __init__(self, host: str, port: int, timeout_s: float, outcome: SendOutcome, lock: threading.Lock):
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self.outcome, self.lock = outcome, lock
        self.connection: http.client.HTTPConnection | None = None
        self.rng = random.Random()

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        return self.connection

    def _reset(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None

    def abandon(self, batch: Batch) -> None:
        """Send the batch and hang up without reading the answer."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            connection.request("POST", PATH, body=batch.body, headers=HEADERS)
            time.sleep(self.rng.uniform(*ABANDON_AFTER_S))
        except OSError as error:
            self._record_transport("abandoned attempt", error)
        finally:
            connection.close()
        with self.lock:
            self.outcome.abandoned += 1

    def post(self, batch: Batch) -> bool:
        """Send until a 202 arrives (at most MAX_ATTEMPTS); True when one did."""
        for _ in range(MAX_ATTEMPTS):
            started = time.perf_counter()
            try:
                connection = self._connection()
                connection.request("POST", PATH, body=batch.body, headers=HEADERS)
                response = connection.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException) as error:
                self._record_transport("request", error)
                self._reset()
                continue
            elapsed = time.perf_counter() - started
            if response.will_close:
                self._reset()
            self._record(batch, response.status, data, elapsed)
            if response.status == 202:
                return True
            if response.status < 500:
                return False  # a valid batch refused: recorded; resending it would not change the answer
            time.sleep(min(1.0, float(response.getheader("retry-after") or 0.2)))
        return False

    def _record(self, batch: Batch, status: int, data: bytes, elapsed: float) -> None:
        accepted = 0
        problem = None
        if status == 202:
            answer = json.loads(data)
            accepted = int(answer["accepted"])
            if answer["rejected"] or accepted != len(batch.report_ids):
                problem = f"batch {batch.index}: 202 with {accepted} accepted, rejected {answer['rejected']}"
        elif status < 500:
            problem = f"batch {batch.index}: {status} {data[:300]!r}"
        with self.lock:
            self.outcome.statuses[status] += 1
            self.outcome.latencies_s.append(elapsed)
            if status == 202:
                self.outcome.accepted_in_answers += accepted
                if problem is None:
                    self.outcome.accepted_ids.update(batch.report_ids)
            if problem is not None and len(self.outcome.unexpected_answers) < 10:
                self.outcome.unexpected_answers.append(problem)

    def _record_transport(self, phase: str, error: BaseException) -> None:
        with self.lock:
            self.outcome.transport_errors[f"{phase}: {type(error).__name__}"] += 1

    def run(self, batches: Iterator[Batch], take: threading.Lock) -> None:
        while True:
            with take:
                batch = next(batches, None)
            if batch is None:
                break
            if batch.repeat is Repeat.ABANDONED:
                self.abandon(batch)
            answered = self.post(batch)
            if answered and batch.repeat is Repeat.AFTER_ANSWER:
                with self.lock:
                    self.outcome.repeats_after_answer += 1
                answered = self.post(batch)
            if not answered:
                with self.lock:
                    self.outcome.failed_batches += 1
        self._reset()


def send_all(url: str, batches: Sequence[Batch], *, concurrency: int, timeout_s: float = 30.0) -> SendOutcome:
    """Post every batch with `concurrency` clients; returns once all are done."""
    split = urlsplit(url)
    if split.hostname is None or split.port is None:
        raise ValueError(f"need http://host:port, got {url}")
    outcome = SendOutcome()
    lock, take = threading.Lock(), threading.Lock()
    pending = iter(batches)
    clients = [_Client(split.hostname, split.port, timeout_s, outcome, lock) for _ in range(concurrency)]
    threads = [
        threading.Thread(target=c.run, args=(pending, take), name=f"load-client-{n}", daemon=True)
        for n, c in enumerate(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.wall_s = time.perf_counter() - started
    return outcome
