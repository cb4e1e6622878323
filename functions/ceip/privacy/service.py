"""The privacy team's operations on tickets, for the CLI and for later request handlers (erasure,
export): every change goes through here, is checked against the transition table and lands in the
ticket's append-only history with who, when and why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ceip.machines.machine_key import canonical_guid
from ceip.privacy import classify, deadlines, letters, outbound, templates
from ceip.privacy.acknowledge import acknowledge, compose_acknowledgement, needs_acknowledgement
from ceip.privacy.changes import Change, RequestRefused, apply_change, load
from ceip.privacy.deadlines import Jurisdiction, Law
from ceip.privacy.inbox import RawMailStore
from ceip.privacy.mail import ParsedMail, parse
from ceip.privacy.mailer import Mailer, MailerUnavailable
from ceip.privacy.references import new_ref, normalize
from ceip.privacy.ticket_table import RefTaken, TicketStore
from ceip.privacy.tickets import (
    MAX_GUIDS_PER_TICKET,
    SYSTEM,
    Acknowledgement,
    AckState,
    DenyReason,
    ExportApproval,
    HistoryEntry,
    Hold,
    MessageRecord,
    Status,
    Ticket,
    changed,
    entry,
    transition,
    with_guids,
)
from ceip.runtime.clock import utc_now
from ceip.storage.inbox_keys import sent_key

MAX_REF_ATTEMPTS = 8
GUIDS_ATTACHED = "guids_attached"
GUIDS_DETACHED = "guids_detached"


@dataclass(frozen=True)
class ThreadMessage:
    record: MessageRecord
    mail: ParsedMail | None
    """The parsed message, or None when the raw message is gone (retention, lifecycle)."""


@dataclass
class TicketService:
    store: TicketStore
    mailer: Mailer
    inbox: RawMailStore
    mail_from: str
    internal_target_days: int = deadlines.DEFAULT_INTERNAL_TARGET_DAYS
    clock: Callable[[], datetime] = field(default=utc_now)

    # -- reading --------------------------------------------------------------------------------
    def get(self, ref: str) -> Ticket:
        return load(self.store, normalize(ref))

    def history(self, ref: str) -> list[HistoryEntry]:
        return self.store.history(normalize(ref))

    def tickets(self, statuses: Sequence[Status]) -> list[Ticket]:
        return list(self.store.by_status(statuses))

    def thread(self, ref: str) -> list[ThreadMessage]:
        """The ticket's messages with their text, read back from the inbox bucket; acknowledgements,
        which keep no copy, rendered again from their template as they were sent."""
        ticket = self.get(ref)
        history: list[HistoryEntry] | None = None
        messages = []
        for record in ticket.messages:
            raw = self.inbox.get(record.key) if record.key else None
            if raw is None and record.direction == "out" and record.kind == templates.Kind.ACKNOWLEDGEMENT:
                history = self.history(ticket.ref) if history is None else history
                raw = self._acknowledgement_as_sent(ticket, record, history)
            messages.append(ThreadMessage(record, parse(raw) if raw is not None else None))
        return messages

    def _acknowledgement_as_sent(
        self, ticket: Ticket, record: MessageRecord, history: Sequence[HistoryEntry]
    ) -> bytes | None:
        if ticket.sender is None or ticket.redacted_at is not None:
            return None
        sent = next(
            (
                h
                for h in history
                if h.action == "acknowledgement_sent"
                and h.details.get("ses_message_id") == record.ses_message_id
            ),
            None,
        )
        details = sent.details if sent else {}
        due = date.fromisoformat(details["answer_due"]) if details.get("answer_due") else None
        _, raw = compose_acknowledgement(
            ticket, mail_from=self.mail_from, at=record.at, due=due, language=details.get("language")
        )
        return raw

    # -- generic changes (also the API of other request handlers) --------------------------------
    def record(
        self,
        ref: str,
        *,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
        why: str | None = None,
    ) -> Ticket:
        """Append an entry to the history without changing the ticket otherwise."""
        _require(actor, "an actor")
        _require(action, "an action")
        at = self.clock()
        recorded = HistoryEntry(at=at, actor=actor, action=action, details=dict(details or {}), why=why)
        return self._change(ref, lambda t: (changed(t, at), [recorded]))

    def change_approvals(
        self,
        ref: str,
        approvals: Callable[[Ticket], tuple[ExportApproval, ...] | None],
        *,
        actor: str,
        action: str,
        details: dict[str, Any] | None = None,
        why: str | None = None,
    ) -> Ticket:
        """Replace the ticket's export approvals by what `approvals` makes of the current ticket, with
        one history entry, in one transaction; None from `approvals` changes and records nothing."""
        _require(actor, "an actor")
        at = self.clock()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
            updated = approvals(ticket)
            if updated is None:
                return None
            recorded = HistoryEntry(at=at, actor=actor, action=action, details=dict(details or {}), why=why)
            return changed(ticket, at, approvals=updated), [recorded]

        return self._change(ref, change)

    def transition(
        self,
        ref: str,
        target: Status,
        *,
        actor: str,
        why: str | None = None,
        deny_reason: DenyReason | None = None,
        duplicate_of: str | None = None,
    ) -> Ticket:
        _require(actor, "an actor")
        at = self.clock()
        original = normalize(duplicate_of) if duplicate_of else None
        if original is not None:
            if original == normalize(ref):
                raise RequestRefused(f"{original} cannot duplicate itself")
            load(self.store, original)

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            if ticket.hold is Hold.VIRUS and target is not Status.CLOSED:
                raise RequestRefused(f"{ticket.ref} holds a virus: it can only be closed")
            updated, moved = transition(
                ticket, target, actor=actor, at=at, why=why, deny_reason=deny_reason, duplicate_of=original
            )
            history = [moved]
            if target is Status.ACKNOWLEDGED and ticket.acknowledgement.state is not AckState.SENT:
                # Acknowledged by hand (a letter, a phone call): record that it was done and by whom.
                ack = Acknowledgement(state=AckState.SENT, reason=f"recorded by {actor}", sent_at=at)
                updated = changed(updated, at, acknowledgement=ack)
                history.append(entry(at, actor, "acknowledgement_recorded", why))
            return updated, history

        return self._change(ref, change)

    # -- the team's operations ---------------------------------------------------------------------
    def assign(self, ref: str, assignee: str | None, *, actor: str, why: str | None = None) -> Ticket:
        _require(actor, "an actor")
        at = self.clock()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
            if ticket.assignee == assignee:
                return None
            details = {"from": ticket.assignee, "to": assignee}
            return changed(ticket, at, assignee=assignee), [entry(at, actor, "assigned", why, **details)]

        return self._change(ref, change)

    def override_labels(self, ref: str, labels: Sequence[classify.Label], *, actor: str, why: str) -> Ticket:
        _require(actor, "an actor")
        _require(why, "a reason (--why)")
        if not labels:
            raise RequestRefused("give at least one label")
        at = self.clock()
        chosen = tuple(dict.fromkeys(labels))

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            details = {"from": [x.value for x in ticket.labels], "to": [x.value for x in chosen]}
            updated = changed(ticket, at, labels=chosen, labels_by=actor)
            return updated, [entry(at, actor, "labels_overridden", why, **details)]

        return self._change(ref, change)

    def set_jurisdiction(self, ref: str, jurisdiction: Jurisdiction, *, actor: str, why: str) -> Ticket:
        _require(actor, "an actor")
        _require(why, "a reason (--why)")
        at = self.clock()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
            if ticket.jurisdiction is jurisdiction:
                return None
            applicable = deadlines.LAWS_BY_JURISDICTION[jurisdiction]
            extended = frozenset(law for law in ticket.extended if law in applicable)
            computed = self._deadlines(ticket.received_at, jurisdiction, extended)
            updated = changed(
                ticket, at, jurisdiction=jurisdiction, extended=tuple(sorted(extended)), deadlines=computed
            )
            details = {
                "from": ticket.jurisdiction.value,
                "to": jurisdiction.value,
                "answer_due": computed.answer_due.isoformat(),
            }
            return updated, [entry(at, actor, "jurisdiction_set", why, **details)]

        return self._change(ref, change)

    def note(self, ref: str, text: str, *, actor: str) -> Ticket:
        _require(text, "the note's text")
        return self.record(ref, actor=actor, action="note", why=text.strip())

    def attach(self, ref: str, guids: Sequence[str], *, actor: str) -> Ticket:
        """Record machine GUIDs the requester gave later (a reply, a phone call); the history counts them,
        it never holds them. GUIDs already on the ticket change nothing."""
        _require(actor, "an actor")
        chosen = _canonical_guids(guids)
        at = self.clock()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
            if ticket.redacted_at is not None:
                raise RequestRefused(f"{ticket.ref} is redacted: nothing can be attached")
            result = with_guids(ticket.guids, chosen)
            if result.dropped:  # all or nothing: the person chooses which GUIDs the ticket keeps
                raise RequestRefused(
                    f"{ticket.ref} holds {len(ticket.guids)} machine GUID(s) and a ticket holds at most "
                    f"{MAX_GUIDS_PER_TICKET}: {result.added + result.dropped} more do not fit; detach some "
                    "or file the rest on another ticket"
                )
            if not result.added:
                return None
            updated = changed(ticket, at, guids=result.guids)
            return updated, [entry(at, actor, GUIDS_ATTACHED, guids_added=result.added)]

        return self._change(ref, change)

    def detach(self, ref: str, guids: Sequence[str], *, actor: str) -> Ticket:
        """Remove GUIDs recorded by mistake; GUIDs not on the ticket change nothing."""
        _require(actor, "an actor")
        chosen = set(_canonical_guids(guids))
        at = self.clock()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]] | None:
            kept = tuple(g for g in ticket.guids if g not in chosen)
            if len(kept) == len(ticket.guids):
                return None
            updated = changed(ticket, at, guids=kept)
            return updated, [entry(at, actor, GUIDS_DETACHED, guids_removed=len(ticket.guids) - len(kept))]

        return self._change(ref, change)

    def reply(
        self,
        ref: str,
        kind: templates.Kind,
        text: str,
        *,
        actor: str,
        then: Status | None = None,
    ) -> Ticket:
        """Send a templated message to the requester by SES and record it (and `then` a transition)."""
        if kind is templates.Kind.ACKNOWLEDGEMENT:
            _require(actor, "an actor")
            return self.acknowledge(ref, actor=actor)
        ticket, rendered, then = self._planned_reply(ref, kind, text, actor=actor, then=then)
        record, ses_id = self._send(ticket, rendered, kind)
        at = record.at

        def change(current: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            updated = changed(current, at, messages=(*current.messages, record))
            history = [
                entry(
                    at,
                    actor,
                    "reply_sent",
                    template=kind.value,
                    language=rendered.language,
                    ses_message_id=ses_id,
                )
            ]
            if then is not None and then is not updated.status:
                updated, moved = transition(updated, then, actor=actor, at=at)
                history.append(moved)
            return updated, history

        return self._change(ticket.ref, change, message_ids=[ses_id])

    def draft_reply(
        self, ref: str, kind: templates.Kind, text: str, *, actor: str, then: Status | None = None
    ) -> bytes:
        """The message `reply` would send, after the same checks; sends and records nothing."""
        if kind is templates.Kind.ACKNOWLEDGEMENT:
            return self.draft_acknowledgement(ref)
        ticket, rendered, _ = self._planned_reply(ref, kind, text, actor=actor, then=then)
        raw, _ = self._compose(ticket, rendered)
        return raw

    def _planned_reply(
        self, ref: str, kind: templates.Kind, text: str, *, actor: str, then: Status | None
    ) -> tuple[Ticket, templates.Rendered, Status | None]:
        _require(actor, "an actor")
        if kind is not templates.Kind.EXTENSION:
            _require(text, "the text of the reply")
        ticket = self.get(ref)
        if (
            then is None
            and kind is templates.Kind.NEED_INFO
            and ticket.status is not Status.AWAITING_REQUESTER
        ):
            then = Status.AWAITING_REQUESTER
        if then is not None and then is not ticket.status:
            transition(
                ticket, then, actor=actor, at=self.clock()
            )  # IllegalTransition before anything is sent
        rendered = templates.render(
            kind, ticket.language, ref=ticket.ref, due=ticket.deadlines.answer_due, text=text
        )
        return ticket, rendered, then

    def extend(self, ref: str, reason: str, *, actor: str, laws: Sequence[Law] = ()) -> Ticket:
        """Extend the answer deadline (GDPR by two months, CCPA once by 45 days) and notify the requester.

        The notice, with the reason, must go out within the first period; for letters the team sends it
        by post the same day (the history records which)."""
        ticket, chosen, extended, computed = self._planned_extension(ref, reason, actor=actor, laws=laws)
        notice: str
        message_ids: list[str] = []
        records: tuple[MessageRecord, ...] = ()
        if ticket.sender_is_email and ticket.sender:
            rendered = self._extension_notice(ticket, computed, reason)
            record, ses_id = self._send(ticket, rendered, templates.Kind.EXTENSION)
            notice, message_ids, records = f"e-mail {ses_id}", [ses_id], (record,)
        else:
            notice = "by post (send the letter today)"
        at = self.clock()

        def change(current: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            updated = changed(
                current,
                at,
                extended=tuple(sorted(extended)),
                deadlines=computed,
                messages=(*current.messages, *records),
            )
            details = {
                "laws": [law.value for law in chosen],
                "answer_due": computed.answer_due.isoformat(),
                "notice": notice,
            }
            return updated, [entry(at, actor, "deadline_extended", reason.strip(), **details)]

        return self._change(ticket.ref, change, message_ids=message_ids)

    def draft_extension(self, ref: str, reason: str, *, actor: str, laws: Sequence[Law] = ()) -> bytes | None:
        """The notice `extend` would e-mail (None when it goes by post); sends and records nothing."""
        ticket, _, _, computed = self._planned_extension(ref, reason, actor=actor, laws=laws)
        if not (ticket.sender_is_email and ticket.sender):
            return None
        raw, _ = self._compose(ticket, self._extension_notice(ticket, computed, reason))
        return raw

    def _extension_notice(
        self, ticket: Ticket, computed: deadlines.Deadlines, reason: str
    ) -> templates.Rendered:
        return templates.render(
            templates.Kind.EXTENSION, ticket.language, ref=ticket.ref, due=computed.answer_due, text=reason
        )

    def _planned_extension(
        self, ref: str, reason: str, *, actor: str, laws: Sequence[Law]
    ) -> tuple[Ticket, tuple[Law, ...], frozenset[Law], deadlines.Deadlines]:
        _require(actor, "an actor")
        _require(reason, "a reason (--reason)")
        ticket = self.get(ref)
        today = self.clock().astimezone(UTC).date()
        applicable = deadlines.LAWS_BY_JURISDICTION[ticket.jurisdiction]
        chosen = tuple(laws) or tuple(law for law in applicable if law not in ticket.extended)
        if not chosen:
            raise RequestRefused(f"{ticket.ref}: every applicable deadline is already extended")
        for law in chosen:
            deadlines.check_extension(
                law,
                received_at=ticket.received_at,
                jurisdiction=ticket.jurisdiction,
                extended=frozenset(ticket.extended),
                today=today,
            )
        extended = frozenset((*ticket.extended, *chosen))
        computed = self._deadlines(ticket.received_at, ticket.jurisdiction, extended)
        return ticket, chosen, extended, computed

    def acknowledge(self, ref: str, *, actor: str = SYSTEM) -> Ticket:
        """Send a pending or failed acknowledgement now; a person (any actor but `system`) also sends
        one that waits for a person (unverified sender, daily cap reached)."""
        by_person = actor != SYSTEM
        ticket = self._owing_acknowledgement(ref, by_person=by_person)
        return acknowledge(
            self.store,
            ticket.ref,
            mailer=self.mailer,
            mail_from=self.mail_from,
            now=self.clock,
            actor=actor,
            by_person=by_person,
        )

    def draft_acknowledgement(self, ref: str) -> bytes:
        """The acknowledgement `acknowledge` would send now; sends and records nothing."""
        ticket = self._owing_acknowledgement(ref, by_person=True)
        _, raw = compose_acknowledgement(ticket, mail_from=self.mail_from, at=self.clock())
        return raw

    def _owing_acknowledgement(self, ref: str, *, by_person: bool) -> Ticket:
        ticket = self.get(ref)
        if not needs_acknowledgement(ticket, by_person=by_person):
            raise RequestRefused(
                f"{ticket.ref} needs no acknowledgement by e-mail "
                f"(status {ticket.status.value}, acknowledgement {ticket.acknowledgement.state.value})"
            )
        return ticket

    def release(self, ref: str, *, actor: str, why: str) -> Ticket:
        """A human decides a quarantined (spam) or held (gray verdict) message is genuine: triage it and
        acknowledge it. Messages with a virus are never released."""
        _require(actor, "an actor")
        _require(why, "a reason (--why)")
        at = self.clock()
        ticket = self._change(ref, lambda held: _released(held, actor=actor, at=at, why=why))
        if needs_acknowledgement(ticket):
            ticket = acknowledge(
                self.store, ticket.ref, mailer=self.mailer, mail_from=self.mail_from, now=self.clock
            )
        return ticket

    def draft_release(self, ref: str, *, actor: str, why: str) -> bytes | None:
        """The acknowledgement `release` would send (None: it would send none); changes nothing."""
        _require(actor, "an actor")
        _require(why, "a reason (--why)")
        at = self.clock()
        released, _ = _released(self.get(ref), actor=actor, at=at, why=why)
        return self._draft_owed(released, at)

    def new_postal(self, letter: letters.Letter, *, actor: str) -> Ticket:
        """Record a letter by hand; from then on it is treated like an e-mail (classification, deadlines
        from the day it arrived, acknowledgement by e-mail when the letter gives an address)."""
        recorded = letters.record(letter, actor=actor, now=self.clock(), deadlines=self._deadlines)
        self.inbox.put(recorded.key, recorded.transcript)
        ticket = recorded.ticket
        for _ in range(MAX_REF_ATTEMPTS):
            try:
                stored = self.store.create(ticket, recorded.history)
                break
            except RefTaken:
                ticket = ticket.model_copy(update={"ref": new_ref()})
        else:
            raise RefTaken(ticket.ref)
        if needs_acknowledgement(stored):
            stored = acknowledge(
                self.store, stored.ref, mailer=self.mailer, mail_from=self.mail_from, now=self.clock
            )
        return stored

    def draft_postal(self, letter: letters.Letter, *, actor: str) -> bytes | None:
        """The acknowledgement `new_postal` would send (None: it would send none); stores nothing."""
        at = self.clock()
        recorded = letters.record(letter, actor=actor, now=at, deadlines=self._deadlines)
        return self._draft_owed(recorded.ticket, at)

    def _draft_owed(self, ticket: Ticket, at: datetime) -> bytes | None:
        if not needs_acknowledgement(ticket):
            return None
        _, raw = compose_acknowledgement(ticket, mail_from=self.mail_from, at=at)
        return raw

    # -- helpers ------------------------------------------------------------------------------------
    def _change(self, ref: str, change: Change, *, message_ids: Sequence[str] = ()) -> Ticket:
        return apply_change(self.store, normalize(ref), change, message_ids=message_ids)

    def _deadlines(
        self, received_at: datetime, jurisdiction: Jurisdiction, extended: frozenset[Law]
    ) -> deadlines.Deadlines:
        return deadlines.compute(
            received_at,
            jurisdiction=jurisdiction,
            extended=extended,
            internal_target_days=self.internal_target_days,
        )

    def _send(
        self, ticket: Ticket, rendered: templates.Rendered, kind: templates.Kind
    ) -> tuple[MessageRecord, str]:
        """Send a message of the team to the requester; keep a copy beside the thread."""
        raw, at = self._compose(ticket, rendered)
        assert ticket.sender is not None  # _compose refused a ticket without one
        key = sent_key(uuid.uuid4().hex)
        self.inbox.put(key, raw)
        try:
            ses_id = self.mailer.send(raw, source=self.mail_from, destination=ticket.sender)
        except MailerUnavailable as error:
            self.inbox.delete(key)
            raise RequestRefused(
                f"{ticket.ref}: SES did not send the message ({error}); nothing was recorded"
            ) from error
        record = MessageRecord(direction="out", kind=kind.value, at=at, key=key, ses_message_id=ses_id)
        return record, ses_id

    def _compose(self, ticket: Ticket, rendered: templates.Rendered) -> tuple[bytes, datetime]:
        """The MIME message to the requester, as sent now (and as a dry run shows it)."""
        if ticket.redacted_at is not None or not ticket.sender:
            raise RequestRefused(f"{ticket.ref} has no sender address any more")
        if not ticket.sender_is_email:
            raise RequestRefused(
                f"{ticket.ref} came by post without an e-mail address: answer by post and `note` it"
            )
        at = self.clock()
        in_reply_to = next(
            (m.message_id for m in reversed(ticket.messages) if m.direction == "in" and m.message_id), None
        )
        raw = outbound.compose(
            rendered,
            ref=ticket.ref,
            mail_from=self.mail_from,
            to=ticket.sender,
            at=at,
            in_reply_to=in_reply_to,
        )
        return raw, at


def _require(value: str | None, what: str) -> None:
    if value is None or not value.strip():
        raise RequestRefused(f"{what} is required")


def _canonical_guids(guids: Sequence[str]) -> tuple[str, ...]:
    if not guids:
        raise RequestRefused("give at least one machine GUID")
    chosen = []
    for guid in guids:
        try:
            chosen.append(canonical_guid(guid))
        except ValueError:
            shown = guid if len(guid) <= 40 else guid[:37] + "..."
            raise RequestRefused(f"not a machine GUID: {shown!r}") from None
    return tuple(dict.fromkeys(chosen))


def _released(ticket: Ticket, *, actor: str, at: datetime, why: str) -> tuple[Ticket, list[HistoryEntry]]:
    if ticket.hold is Hold.VIRUS:
        raise RequestRefused(f"{ticket.ref} holds a virus: it is never released, only closed")
    if ticket.hold is None:
        raise RequestRefused(f"{ticket.ref} is not quarantined or held")
    released, moved = transition(ticket, Status.TRIAGED, actor=actor, at=at, why=why)
    return released, [entry(at, actor, "released", why, hold=ticket.hold.value), moved]
