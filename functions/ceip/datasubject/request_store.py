"""Erasure requests and the suppression entries they create: the port the data-subject services need,
its DynamoDB adapter and its in-memory twin.

One transaction writes both, so from the moment a request exists its machine is suppressed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from ceip.datasubject.model import ErasureRequest, Receipt, RequestStatus, iso
from ceip.machines.suppression import KEY_ATTRIBUTE, dynamodb_client
from ceip.runtime.lazy_client import LazyClient


class ConcurrentFiling(Exception):
    """Another request for the same machine was filed at the same moment; read it again."""


class RequestStoreUnavailable(Exception):
    """DynamoDB failed; the caller answers 503 (API) or stops and is retried (purge)."""


class RequestPort(Protocol):
    def latest_request_id(self, machine_key: str) -> str | None: ...
    def get(self, request_id: str) -> ErasureRequest | None: ...
    def create(self, request: ErasureRequest, replaces: str | None) -> None:
        """Raise ConcurrentFiling when the machine's entry no longer points at `replaces`."""

    def open_requests(self) -> list[ErasureRequest]: ...
    def all_requests(self) -> list[ErasureRequest]: ...
    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None: ...

    def open_requests_page(self, cursor: str | None, limit: int) -> tuple[list[ErasureRequest], str | None]:
        """Up to about `limit` open requests after `cursor` (None: from the start), and the cursor to go
        on from (None: that was the last page). A request changed behind the cursor is not read again."""

    def pass_cutoff(self) -> datetime | None:
        """The running purge pass's cutoff: open requests received before it are being served."""

    def set_pass_cutoff(self, cutoff: datetime | None) -> None:
        """Record the pass that takes the open requests received before `cutoff` (None: no pass)."""


PASS_ITEM_ID = "purge-pass"  # noqa: S105 (an item id, no secret)
"""The requests table's one item that is not a request: the running pass's cutoff (type purge_pass)."""
_REQUEST_TYPE = "erasure"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


class RequestStore(LazyClient):
    client_factory = staticmethod(dynamodb_client)

    def __init__(self, requests_table: str, suppression_table: str, client: Any = None) -> None:
        super().__init__(client)
        self._requests = requests_table
        self._suppression = suppression_table

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            if _lost_a_race(error):
                raise ConcurrentFiling from error
            raise RequestStoreUnavailable(type(error).__name__) from error
        except BotoCoreError as error:
            raise RequestStoreUnavailable(type(error).__name__) from error

    def latest_request_id(self, machine_key: str) -> str | None:
        item = self._call(
            "get_item", TableName=self._suppression, Key={KEY_ATTRIBUTE: _s(machine_key)}, ConsistentRead=True
        ).get("Item")
        return item["request_id"]["S"] if item else None

    def get(self, request_id: str) -> ErasureRequest | None:
        item = self._call(
            "get_item", TableName=self._requests, Key={"request_id": _s(request_id)}, ConsistentRead=True
        ).get("Item")
        return _from_item(item) if item and _is_request(item) else None

    def create(self, request: ErasureRequest, replaces: str | None) -> None:
        """Write the request and point the machine's suppression entry at it, atomically.

        `replaces` is the request id the entry held when we read it (None: no entry); if another
        filing changed it meanwhile the transaction fails with ConcurrentFiling.
        """
        if replaces is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(machine_key)"}
        else:
            condition = {
                "ConditionExpression": "request_id = :previous",
                "ExpressionAttributeValues": {":previous": _s(replaces)},
            }
        self._call(
            "transact_write_items",
            TransactItems=[
                {
                    "Put": {
                        "TableName": self._requests,
                        "Item": _to_item(request),
                        "ConditionExpression": "attribute_not_exists(request_id)",
                    }
                },
                {
                    "Put": {
                        "TableName": self._suppression,
                        "Item": {
                            KEY_ATTRIBUTE: _s(request.machine_key),
                            "request_id": _s(request.request_id),
                            "suppressed_at": _s(iso(request.received_at)),
                        },
                        **condition,
                    }
                },
            ],
        )

    def open_requests(self) -> list[ErasureRequest]:
        return self._scan(**_OPEN)

    def all_requests(self) -> list[ErasureRequest]:
        return self._scan(
            FilterExpression="#t = :erasure",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues={":erasure": _s(_REQUEST_TYPE)},
        )

    def _scan(self, **filters: Any) -> list[ErasureRequest]:
        """A Scan: the table holds one small item per request, read by the daily purge and the team."""
        items: list[ErasureRequest] = []
        try:
            pages = self.client.get_paginator("scan").paginate(
                TableName=self._requests, ConsistentRead=True, **filters
            )
            for page in pages:
                items.extend(_from_item(item) for item in page.get("Items", []))
        except (ClientError, BotoCoreError) as error:
            raise RequestStoreUnavailable(type(error).__name__) from error
        return items

    def open_requests_page(self, cursor: str | None, limit: int) -> tuple[list[ErasureRequest], str | None]:
        """One Scan call (Limit counts items read before the filter, so a page may hold fewer)."""
        start = {"ExclusiveStartKey": {"request_id": _s(cursor)}} if cursor else {}
        page = self._call(
            "scan", TableName=self._requests, ConsistentRead=True, Limit=limit, **_OPEN, **start
        )
        last = page.get("LastEvaluatedKey")
        return [_from_item(item) for item in page.get("Items", [])], last["request_id"]["S"] if last else None

    def pass_cutoff(self) -> datetime | None:
        item = self._call(
            "get_item", TableName=self._requests, Key={"request_id": _s(PASS_ITEM_ID)}, ConsistentRead=True
        ).get("Item")
        cutoff = (item or {}).get("cutoff", {}).get("S")
        return datetime.fromisoformat(cutoff) if cutoff else None

    def set_pass_cutoff(self, cutoff: datetime | None) -> None:
        # UpdateItem creates the item the first time: the function needs no other write action.
        if cutoff is None:
            update: dict[str, Any] = {"UpdateExpression": "REMOVE cutoff"}
        else:
            update = {
                "UpdateExpression": "SET #t = :t, cutoff = :c",
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": {":t": _s("purge_pass"), ":c": _s(iso(cutoff))},
            }
        self._call("update_item", TableName=self._requests, Key={"request_id": _s(PASS_ITEM_ID)}, **update)

    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None:
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": _s(status.value)}
        update = "SET #s = :s"
        if receipt is not None:
            update += ", receipt = :r"
            values[":r"] = {"M": {k: _attr(v) for k, v in receipt.as_dict().items()}}
        self._call(
            "update_item",
            TableName=self._requests,
            Key={"request_id": _s(request_id)},
            UpdateExpression=update,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


_OPEN: dict[str, Any] = {
    "FilterExpression": "#t = :erasure AND #s <> :fulfilled",
    "ExpressionAttributeNames": {"#s": "status", "#t": "type"},
    "ExpressionAttributeValues": {
        ":fulfilled": _s(RequestStatus.FULFILLED.value),
        ":erasure": _s(_REQUEST_TYPE),
    },
}


def _is_request(item: dict[str, Any]) -> bool:
    return bool(item.get("type", {}).get("S", _REQUEST_TYPE) == _REQUEST_TYPE)


_RACE_REASONS = {"ConditionalCheckFailed", "TransactionConflict"}


def _lost_a_race(error: ClientError) -> bool:
    """A condition or a concurrent transaction on the same items: read again and retry the filing.

    A transaction cancelled for another reason (ThrottlingError, ProvisionedThroughputExceeded, ...)
    is an outage, answered 503 like any other DynamoDB failure.
    """
    code = error.response.get("Error", {}).get("Code")
    if code == "ConditionalCheckFailedException":
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
    return bool(reasons & _RACE_REASONS)


def _attr(value: Any) -> dict[str, Any]:
    if isinstance(value, list | tuple):
        return {"L": [_attr(v) for v in value]}
    return {"N": str(value)} if isinstance(value, int) else {"S": str(value)}


def _plain(value: dict[str, Any]) -> Any:
    """A receipt attribute's value without DynamoDB's type wrapper (lists of strings included)."""
    inner = next(iter(value.values()))
    return [_plain(v) for v in inner] if "L" in value else inner


def _to_item(request: ErasureRequest) -> dict[str, Any]:
    item: dict[str, Any] = {
        "request_id": _s(request.request_id),
        "type": _s(_REQUEST_TYPE),
        "machine_key": _s(request.machine_key),
        "status": _s(request.status.value),
        "received_at": _s(iso(request.received_at)),
        "expected_by": _s(iso(request.expected_by)),
        "origin": _s(request.origin),
    }
    return item


def _from_item(item: dict[str, Any]) -> ErasureRequest:
    receipt = item.get("receipt", {}).get("M")
    return ErasureRequest(
        request_id=item["request_id"]["S"],
        machine_key=item["machine_key"]["S"],
        status=RequestStatus(item["status"]["S"]),
        received_at=datetime.fromisoformat(item["received_at"]["S"]),
        expected_by=datetime.fromisoformat(item["expected_by"]["S"]),
        origin=item.get("origin", {}).get("S", "client"),
        receipt=Receipt.from_dict({k: _plain(v) for k, v in receipt.items()}) if receipt else None,
    )


class MemoryRequestStore:
    """RequestPort over lists and dicts, holding what the tables hold: each request as filed, the status
    and receipt the purge wrote, and the suppression entry (latest request) per machine key.

    As RequestStore: create refuses with ConcurrentFiling when the machine's entry no longer points at
    `replaces` or the request id exists; unknown ids read as None. A read builds the request as it is now
    (as RequestStore builds it from an item), so a million receipts leave data behind, not a million
    objects for the garbage collector to walk: a benchmark of a flood times the purge, not the twin.
    """

    def __init__(self, requests: Iterable[ErasureRequest] = ()) -> None:
        self._filed: list[ErasureRequest] = []
        """In the order filed: what open_requests_page walks (its cursor is a position)."""
        self._written: list[RequestStatus | None] = []
        """Beside each request, the status set_status wrote (None: as filed)."""
        self._status: list[RequestStatus] = []
        """Beside each request, its status now: a page is filtered without touching the requests."""
        self._receipts: list[Receipt | None] = []
        """Beside each request, the receipt set_status wrote, if any."""
        self._position: dict[str, int] = {}
        self.latest: dict[str, str] = {}
        self.cutoff: datetime | None = None
        for request in sorted(requests, key=lambda r: r.received_at):
            self._add(request)

    @property
    def by_id(self) -> Mapping[str, ErasureRequest]:
        """Every request as it is now, by id (a view: built as it is read)."""
        return _RequestsNow(self)

    def _add(self, request: ErasureRequest) -> None:
        self._position[request.request_id] = len(self._filed)
        self._filed.append(request)
        self._written.append(None)
        self._status.append(request.status)
        self._receipts.append(None)
        self.latest[request.machine_key] = request.request_id

    def _now(self, position: int) -> ErasureRequest:
        filed, written = self._filed[position], self._written[position]
        if written is None:
            return filed
        return dataclasses.replace(filed, status=written, receipt=self._receipts[position] or filed.receipt)

    def latest_request_id(self, machine_key: str) -> str | None:
        return self.latest.get(machine_key)

    def get(self, request_id: str) -> ErasureRequest | None:
        position = self._position.get(request_id)
        return None if position is None else self._now(position)

    def create(self, request: ErasureRequest, replaces: str | None) -> None:
        if self.latest.get(request.machine_key) != replaces or request.request_id in self._position:
            raise ConcurrentFiling
        self._add(request)

    def open_requests(self) -> list[ErasureRequest]:
        return self._open(0, len(self._filed))

    def open_requests_page(self, cursor: str | None, limit: int) -> tuple[list[ErasureRequest], str | None]:
        start = int(cursor) if cursor else 0
        end = start + limit
        return self._open(start, end), str(end) if end < len(self._filed) else None

    def _open(self, start: int, end: int) -> list[ErasureRequest]:
        fulfilled, status = RequestStatus.FULFILLED, self._status
        end = min(end, len(self._filed))
        return [self._now(position) for position in range(start, end) if status[position] is not fulfilled]

    def pass_cutoff(self) -> datetime | None:
        return self.cutoff

    def set_pass_cutoff(self, cutoff: datetime | None) -> None:
        self.cutoff = cutoff

    def all_requests(self) -> list[ErasureRequest]:
        return [self._now(position) for position in range(len(self._filed))]

    def set_status(self, request_id: str, status: RequestStatus, receipt: Receipt | None = None) -> None:
        position = self._position[request_id]
        self._written[position] = self._status[position] = status
        if receipt is not None:
            self._receipts[position] = receipt


class _RequestsNow(Mapping[str, ErasureRequest]):
    """The twin's requests as they are now, by id."""

    def __init__(self, store: MemoryRequestStore) -> None:
        self._store = store

    def __getitem__(self, request_id: str) -> ErasureRequest:
        request = self._store.get(request_id)
        if request is None:
            raise KeyError(request_id)
        return request

    def __iter__(self) -> Iterator[str]:
        return iter(self._store._position)

    def __len__(self) -> int:
        return len(self._store._position)
