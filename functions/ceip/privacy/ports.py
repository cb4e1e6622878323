"""What the privacy services need from the outside world, and the errors those ports raise."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Protocol

from ceip.privacy.tickets import HistoryEntry, Status, Ticket


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


class MailerUnavailable(Exception):
    """SES refused or could not be reached; the message was not sent."""


class InboxUnavailable(Exception):
    """The inbox bucket could not be read or written."""


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


class RawMailStore(Protocol):
    def get(self, key: str) -> bytes | None:
        """The stored message, or None when it no longer exists; InboxUnavailable on failure."""

    def put(self, key: str, body: bytes) -> None: ...

    def delete(self, key: str) -> None: ...


class Mailer(Protocol):
    def send(self, raw: bytes, *, source: str, destination: str) -> str:
        """Send a complete MIME message; returns the SES message id or raises MailerUnavailable."""
