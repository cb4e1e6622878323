"""Tickets: the port the privacy services need, the errors it raises, and its DynamoDB adapter (one
table, conditional writes, transactions, an index by status).

Items (pk / sk):
- T#<ref> / TICKET: the ticket as a JSON document, with status, status_since and version beside it for
  the ByStatus index and for optimistic locking.
- T#<ref> / H#<version>#<n>: history entries, written once (attribute_not_exists), never changed.
- SES#<messageId> / SES and MID#<digest of Message-ID> / MID: which ticket a delivery or a message id
  belongs to. They make a repeated delivery find its ticket, also under concurrency.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.privacy.references import message_id_key
from ceip.privacy.tickets import HistoryEntry, Status, Ticket
from ceip.runtime.lazy_client import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class DuplicateSesMessage(Exception):
    """SES delivered this messageId before (a retry): the ticket that has it is `ref`."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class DuplicateMessageId(Exception):
    """A message with this Message-ID is already on ticket `ref`."""

    def __init__(self, ref: str) -> None:
        super().__init__(ref)
        self.ref = ref


class RefTaken(Exception):
    """The randomly drawn ticket reference exists already; draw another."""


class ConcurrentUpdate(Exception):
    """The ticket changed since it was read; read it again and reapply the change."""


class TicketStoreUnavailable(Exception):
    """The ticket table could not be reached; the whole operation may be retried."""


class TicketStore(Protocol):
    def create(
        self,
        ticket: Ticket,
        history: Sequence[HistoryEntry],
        *,
        ses_message_id: str | None = None,
        message_ids: Sequence[str] = (),
    ) -> Ticket:
        """Store a new ticket (version 1) with its first history entries and the ids that find it again,
        all or nothing. Raises DuplicateSesMessage, DuplicateMessageId or RefTaken."""

    def save(
        self,
        ticket: Ticket,
        history: Sequence[HistoryEntry],
        *,
        ses_message_id: str | None = None,
        message_ids: Sequence[str] = (),
    ) -> Ticket:
        """Store a changed ticket (with the version it was read at) and append its history entries.
        Raises ConcurrentUpdate, DuplicateSesMessage or DuplicateMessageId."""

    def get(self, ref: str) -> Ticket | None: ...

    def history(self, ref: str) -> list[HistoryEntry]: ...

    def ref_for_ses_message(self, ses_message_id: str) -> str | None: ...

    def ref_for_message_id(self, message_id: str) -> str | None: ...

    def by_status(self, statuses: Iterable[Status]) -> Iterator[Ticket]: ...

    def closed_before(self, cutoff: datetime) -> Iterator[Ticket]:
        """Closed tickets not yet redacted whose closing is older than cutoff."""


BY_STATUS_INDEX = "ByStatus"
TICKET_SK = "TICKET"
_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 4}
)


@cache
def dynamodb_client() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_CLIENT_CONFIG)


def ticket_pk(ref: str) -> str:
    return f"T#{ref}"


def ses_pk(ses_message_id: str) -> str:
    return f"SES#{ses_message_id}"


def message_id_pk(message_id: str) -> str:
    return f"MID#{message_id_key(message_id)}"


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


class DynamoTicketStore(LazyClient):
    client_factory = staticmethod(dynamodb_client)

    def __init__(self, table: str, client: Any = None) -> None:
        super().__init__(client)
        self._table = table

    # -- writes ---------------------------------------------------------------------------------
    def create(
        self,
        ticket: Ticket,
        history: Sequence[HistoryEntry],
        *,
        ses_message_id: str | None = None,
        message_ids: Sequence[str] = (),
    ) -> Ticket:
        stored = ticket.model_copy(update={"version": 1})
        items = [self._put(self._ticket_item(stored), "attribute_not_exists(pk)")]
        items += self._links(stored.ref, ses_message_id, message_ids)
        items += self._history_items(stored, history)
        failed = self._transact(items)
        if failed is not None:
            self._raise_conflict(items, failed)
            raise RefTaken(stored.ref)
        return stored

    def save(
        self,
        ticket: Ticket,
        history: Sequence[HistoryEntry],
        *,
        ses_message_id: str | None = None,
        message_ids: Sequence[str] = (),
    ) -> Ticket:
        stored = ticket.model_copy(update={"version": ticket.version + 1})
        item = self._put(self._ticket_item(stored), "version = :expected")
        item["Put"]["ExpressionAttributeValues"] = {":expected": {"N": str(ticket.version)}}
        items = [item, *self._links(stored.ref, ses_message_id, message_ids)]
        items += self._history_items(stored, history)
        failed = self._transact(items)
        if failed is not None:
            self._raise_conflict(items, failed)
            raise ConcurrentUpdate(stored.ref)
        return stored

    def _transact(self, items: list[dict[str, Any]]) -> int | None:
        """Index of the item whose condition failed, or None when the transaction was written."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise TicketStoreUnavailable(error_code(error)) from error
            reasons = error.response.get("CancellationReasons", [])
            for index, reason in enumerate(reasons):
                if reason.get("Code") == "ConditionalCheckFailed":
                    return index
            raise TicketStoreUnavailable("TransactionCanceled") from error
        except BotoCoreError as error:
            raise TicketStoreUnavailable(error_code(error)) from error
        return None

    def _raise_conflict(self, items: list[dict[str, Any]], failed: int) -> None:
        """Turn a failed link condition into the duplicate it reveals (the ticket item is index 0)."""
        if failed == 0:
            return
        pk = items[failed]["Put"]["Item"]["pk"]["S"]
        existing = self._link_ref(pk)
        if pk.startswith("SES#"):
            raise DuplicateSesMessage(existing or "")
        raise DuplicateMessageId(existing or "")

    def _put(self, item: dict[str, Any], condition: str) -> dict[str, Any]:
        return {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": condition}}

    def _links(
        self, ref: str, ses_message_id: str | None, message_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        links = [ses_pk(ses_message_id)] if ses_message_id else []
        links += dict.fromkeys(message_id_pk(m) for m in message_ids)
        items = []
        for pk in links:
            item = self._put({"pk": {"S": pk}, "sk": {"S": pk.split("#", 1)[0]}, "ref": {"S": ref}}, "")
            # Idempotent for the same ticket, a conflict for any other.
            item["Put"]["ConditionExpression"] = "attribute_not_exists(pk) OR #ref = :ref"
            item["Put"]["ExpressionAttributeNames"] = {"#ref": "ref"}
            item["Put"]["ExpressionAttributeValues"] = {":ref": {"S": ref}}
            items.append(item)
        return items

    def _ticket_item(self, ticket: Ticket) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": ticket_pk(ticket.ref)},
            "sk": {"S": TICKET_SK},
            "status": {"S": ticket.status.value},
            "status_since": {"S": _iso(ticket.status_since)},
            "version": {"N": str(ticket.version)},
            "doc": {"S": ticket.model_dump_json()},
        }
        if ticket.redacted_at is not None:
            item["redacted"] = {"BOOL": True}
        return item

    def _history_items(self, ticket: Ticket, history: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
        return [
            self._put(
                {
                    "pk": {"S": ticket_pk(ticket.ref)},
                    "sk": {"S": f"H#{ticket.version:08d}#{index:02d}"},
                    "doc": {"S": entry.model_dump_json()},
                },
                "attribute_not_exists(pk)",
            )
            for index, entry in enumerate(history)
        ]

    # -- reads ----------------------------------------------------------------------------------
    def get(self, ref: str) -> Ticket | None:
        item = self._get_item(ticket_pk(ref), TICKET_SK)
        return _ticket(item) if item else None

    def history(self, ref: str) -> list[HistoryEntry]:
        entries = []
        for item in self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :h)",
            ExpressionAttributeValues={":pk": {"S": ticket_pk(ref)}, ":h": {"S": "H#"}},
        ):
            entries.append(HistoryEntry.model_validate_json(item["doc"]["S"]))
        return entries

    def ref_for_ses_message(self, ses_message_id: str) -> str | None:
        return self._link_ref(ses_pk(ses_message_id))

    def ref_for_message_id(self, message_id: str) -> str | None:
        return self._link_ref(message_id_pk(message_id))

    def by_status(self, statuses: Iterable[Status]) -> Iterator[Ticket]:
        for status in dict.fromkeys(statuses):
            for item in self._query(
                IndexName=BY_STATUS_INDEX,
                KeyConditionExpression="#status = :status",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": {"S": status.value}},
            ):
                yield _ticket(item)

    def closed_before(self, cutoff: datetime) -> Iterator[Ticket]:
        for item in self._query(
            IndexName=BY_STATUS_INDEX,
            KeyConditionExpression="#status = :status AND status_since < :cutoff",
            FilterExpression="attribute_not_exists(redacted)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": Status.CLOSED.value}, ":cutoff": {"S": _iso(cutoff)}},
        ):
            yield _ticket(item)

    def _link_ref(self, pk: str) -> str | None:
        item = self._get_item(pk, pk.split("#", 1)[0])
        return str(item["ref"]["S"]) if item else None

    def _get_item(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            response = self.client.get_item(
                TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as error:
            raise TicketStoreUnavailable(error_code(error)) from error
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _query(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        try:
            for page in self.client.get_paginator("query").paginate(TableName=self._table, **arguments):
                yield from page.get("Items", [])
        except (ClientError, BotoCoreError) as error:
            raise TicketStoreUnavailable(error_code(error)) from error


def _ticket(item: dict[str, Any]) -> Ticket:
    ticket = Ticket.model_validate_json(item["doc"]["S"])
    return ticket.model_copy(update={"version": int(item["version"]["N"])})
