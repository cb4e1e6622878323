"""Intake of one e-mail SES received: quarantine, duplicate, reply to a ticket, or a new triaged ticket,
then the acknowledgement when one is due.

Forged mail must not act: an acknowledgement goes out automatically only to a sender SES's verdicts
authenticate (authentication.py), within the daily caps (allowance.py), never to list or robot mail
(automatic.py); a reply joins a ticket only when its authenticated sender is the ticket's requester,
otherwise it opens a new ticket that names the one it claimed. A message past the parsing limits
(mime_limits.py) is filed from its headers, with the limit's defect.

Idempotent: SES or Lambda delivering the same messageId again finds its ticket and only finishes what
the first attempt left undone (an acknowledgement). A failure of the ticket store propagates, so the
asynchronous invocation is retried; the ticket is written in one transaction, so a retry never makes
two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ceip.privacy import classify, deadlines
from ceip.privacy.acknowledge import acknowledge, needs_acknowledgement
from ceip.privacy.allowance import Caps, MailAllowance
from ceip.privacy.authentication import Authentication, Verdicts, authenticate
from ceip.privacy.automatic import LIST_MAIL, automatic_reason
from ceip.privacy.changes import apply_change, load
from ceip.privacy.mail import ParsedMail, parse
from ceip.privacy.mailer import Mailer
from ceip.privacy.mime_limits import Limits
from ceip.privacy.references import new_ref, refs_in_subject, ses_local_id
from ceip.privacy.ticket_table import DuplicateMessageId, DuplicateSesMessage, RefTaken, TicketStore
from ceip.privacy.tickets import (
    REOPENED_BY_REPLY,
    SYSTEM,
    Acknowledgement,
    AckState,
    Channel,
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

UNVERIFIED = "unverified-sender"
"""The acknowledgement's reason on a ticket whose sender SES's verdicts do not authenticate."""
MAX_THREAD_LOOKUPS = 10
MAX_REF_ATTEMPTS = 8
MAX_THREAD_MESSAGES = 300
"""Beyond this a ticket's thread stops growing (a flood of replies must not outgrow a DynamoDB item);
the history still records every delivery and the inbox bucket keeps every message until it expires."""


class Outcome(StrEnum):
    CREATED = "created"
    """A new ticket, triaged (and acknowledged when it may be)."""
    HELD = "held"
    """A new ticket waiting for a human: SES could not tell whether it is spam (GRAY, PROCESSING_FAILED)."""
    QUARANTINED = "quarantined"
    """Virus or spam: kept for a human, never acknowledged automatically."""
    JOINED = "joined"
    """A reply, added to its ticket."""
    LINKED = "linked"
    """A new ticket for a message that claimed another ticket's thread from someone else or without
    authentication: it names the ticket it claimed, for a person to merge."""
    DUPLICATE = "duplicate"
    """The same Message-ID as a message we have: noted on that ticket."""
    REDELIVERED = "redelivered"
    """The same SES messageId again (a retry): nothing new."""


@dataclass(frozen=True)
class Inbound:
    """What the SES event tells about one received message."""

    ses_message_id: str
    received_at: datetime
    key: str
    envelope_source: str | None = None
    spam: str = "PASS"
    virus: str = "PASS"
    verdicts: Verdicts = field(default_factory=Verdicts)
    """SPF, DKIM and DMARC (missing ones: not authenticated)."""


@dataclass(frozen=True)
class IntakeConfig:
    mail_from: str
    internal_target_days: int = deadlines.DEFAULT_INTERNAL_TARGET_DAYS
    limits: Limits = field(default_factory=Limits)
    caps: Caps = field(default_factory=Caps)


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    ref: str
    acknowledgement: AckState
    defects: int = 0
    labels: tuple[str, ...] = ()
    ack_attempted: bool = False
    """Whether this delivery tried to send the acknowledgement (see `acknowledgement` for the result)."""
    verified: bool | None = None
    withheld: str | None = None
    """The cap that stopped this delivery's automatic acknowledgement, if one did."""


def verdict_hold(spam: str, virus: str) -> Hold | None:
    """Virus FAIL and spam FAIL are quarantined; GRAY or PROCESSING_FAILED wait for a human review."""
    spam, virus = spam.upper(), virus.upper()
    if virus == "FAIL":
        return Hold.VIRUS
    if spam == "FAIL":
        return Hold.SPAM
    if "GRAY" in (spam, virus) or "PROCESSING_FAILED" in (spam, virus):
        return Hold.REVIEW
    return None


@dataclass
class _Intake:
    store: TicketStore
    mailer: Mailer
    allowance: MailAllowance
    config: IntakeConfig
    now: Callable[[], datetime]

    def receive(self, inbound: Inbound, raw: bytes) -> IntakeResult:
        known = self.store.ref_for_ses_message(inbound.ses_message_id)
        if known is not None:
            return self._finish(known, Outcome.REDELIVERED)
        mail = parse(raw, self.config.limits)
        hold = verdict_hold(inbound.spam, inbound.virus)
        automatic = automatic_reason(
            mail, envelope_source=inbound.envelope_source, own_address=self.config.mail_from
        )
        auth = authenticate(
            inbound.verdicts,
            sender=mail.sender,
            from_addresses=mail.from_addresses,
            envelope_source=inbound.envelope_source,
        )
        record = MessageRecord(
            at=inbound.received_at,
            key=inbound.key,
            ses_message_id=inbound.ses_message_id,
            message_id=mail.message_id,
            automatic=automatic,
            defects=mail.defects,
            attachments=mail.attachments,
            verdict=(
                f"spam={inbound.spam.upper()} virus={inbound.virus.upper()} {inbound.verdicts.summary()}"
            ),
        )
        if hold in (Hold.VIRUS, Hold.SPAM):
            # Quarantined mail never joins or reopens a ticket and is not found by its Message-ID.
            return self._create(inbound, mail, record, hold, automatic, auth=auth)
        if mail.message_id:
            earlier = self.store.ref_for_message_id(mail.message_id)
            if earlier is not None:
                return self._duplicate(earlier, inbound, record)
        thread = self._thread_of(mail)
        if thread is None:
            return self._create(inbound, mail, record, hold, automatic, auth=auth)
        requester = self.store.get(thread)
        if auth.authenticated and requester is not None and requester.sender == mail.sender:
            return self._join(thread, inbound, mail, record)
        # A reference or a message id is no proof of who writes: the claim is recorded, not obeyed.
        why = "sender-not-requester" if auth.authenticated else "sender-not-authenticated"
        return self._create(inbound, mail, record, hold, automatic, auth=auth, claimed=(thread, why))

    # -- a message of a known thread --------------------------------------------------------------
    def _thread_of(self, mail: ParsedMail) -> str | None:
        """The ticket whose thread the message names (In-Reply-To, References, then [CEIP-...] in the
        subject); whether it may join is decided by its sender."""
        candidates = [*mail.in_reply_to, *reversed(mail.references)]
        for message_id in list(dict.fromkeys(candidates))[:MAX_THREAD_LOOKUPS]:
            ref = self.store.ref_for_message_id(message_id)
            local = ses_local_id(message_id)
            if ref is None and local is not None:
                ref = self.store.ref_for_message_id(local)
            if ref is not None:
                return self._original(ref)
        for ref in refs_in_subject(mail.subject)[:MAX_THREAD_LOOKUPS]:
            if self.store.get(ref) is not None:
                return self._original(ref)
        return None

    def _original(self, ref: str) -> str:
        ticket = self.store.get(ref)
        return ticket.duplicate_of if ticket and ticket.duplicate_of else ref

    def _join(self, ref: str, inbound: Inbound, mail: ParsedMail, record: MessageRecord) -> IntakeResult:
        at = self.now()
        guids = classify.extract_guids(mail.subject, mail.text)

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            gained = with_guids(ticket.guids, guids if ticket.redacted_at is None else ())
            updated = changed(
                ticket,
                at,
                messages=_appended(ticket, record.model_copy(update={"kind": "reply"})),
                guids=gained.guids,
            )
            history = [
                entry(
                    at,
                    SYSTEM,
                    "reply_received",
                    ses_message_id=inbound.ses_message_id,
                    automatic=record.automatic,
                    defects=len(record.defects),
                    guids_added=gained.added,
                    # Past the ticket's bound: counted, never named; None (not shown) when none was.
                    guids_dropped=gained.dropped or None,
                )
            ]
            # Auto-replies are filed but never reopen a ticket.
            if record.automatic is None and updated.status in REOPENED_BY_REPLY:
                updated, moved = transition(
                    updated, Status.IN_PROGRESS, actor=SYSTEM, at=at, why="the requester replied"
                )
                history.append(moved)
            return updated, history

        message_ids = [mail.message_id] if mail.message_id else []
        try:
            ticket = apply_change(
                self.store, ref, change, ses_message_id=inbound.ses_message_id, message_ids=message_ids
            )
        except DuplicateSesMessage as known:
            return self._finish(known.ref or ref, Outcome.REDELIVERED)
        except DuplicateMessageId as earlier:
            return self._duplicate(earlier.ref or ref, inbound, record)
        return self._result(ticket, Outcome.JOINED, record)

    def _duplicate(self, ref: str, inbound: Inbound, record: MessageRecord) -> IntakeResult:
        at = self.now()

        def change(ticket: Ticket) -> tuple[Ticket, list[HistoryEntry]]:
            updated = changed(
                ticket, at, messages=_appended(ticket, record.model_copy(update={"kind": "duplicate"}))
            )
            return updated, [entry(at, SYSTEM, "duplicate_delivery", ses_message_id=inbound.ses_message_id)]

        try:
            ticket = apply_change(self.store, ref, change, ses_message_id=inbound.ses_message_id)
        except DuplicateSesMessage as known:
            return self._finish(known.ref or ref, Outcome.REDELIVERED)
        return self._result(ticket, Outcome.DUPLICATE, record)

    # -- a new ticket -----------------------------------------------------------------------------
    def _create(
        self,
        inbound: Inbound,
        mail: ParsedMail,
        record: MessageRecord,
        hold: Hold | None,
        automatic: str | None,
        *,
        auth: Authentication,
        claimed: tuple[str, str] | None = None,
    ) -> IntakeResult:
        at = self.now()
        hint = mail.headers.get("content-language")
        if automatic in LIST_MAIL:
            # A digest's footer ("to unsubscribe...") and other members' messages are not a request.
            triage = classify.untriaged(f"{mail.subject}\n{mail.text}", language_hint=hint)
        else:
            triage = classify.classify(mail.subject, mail.text, language_hint=hint)
        ticket, history = _new_ticket(
            new_ref(),
            inbound=inbound,
            mail=mail,
            record=record,
            hold=hold,
            automatic=automatic,
            auth=auth,
            claimed=claimed,
            triage=triage,
            config=self.config,
            at=at,
        )
        quarantined = hold in (Hold.VIRUS, Hold.SPAM)
        message_ids = [mail.message_id] if mail.message_id and not quarantined else []
        for _ in range(MAX_REF_ATTEMPTS):
            try:
                stored = self.store.create(
                    ticket, history, ses_message_id=inbound.ses_message_id, message_ids=message_ids
                )
                break
            except RefTaken:
                ticket = ticket.model_copy(update={"ref": new_ref()})
            except DuplicateSesMessage as known:
                return self._finish(known.ref, Outcome.REDELIVERED)
            except DuplicateMessageId as earlier:
                return self._duplicate(earlier.ref, inbound, record)
        else:
            raise RefTaken(ticket.ref)
        outcome = (
            Outcome.QUARANTINED
            if quarantined
            else Outcome.HELD
            if hold is Hold.REVIEW
            else Outcome.LINKED
            if claimed
            else Outcome.CREATED
        )
        return self._finish(stored.ref, outcome, record)

    # -- acknowledgement ---------------------------------------------------------------------------
    def _finish(self, ref: str, outcome: Outcome, record: MessageRecord | None = None) -> IntakeResult:
        ticket = load(self.store, ref)
        attempted = needs_acknowledgement(ticket)
        withheld = None
        # Only a first attempt counts against the caps: retrying a failed send was counted already.
        if attempted and ticket.acknowledgement.attempts == 0 and ticket.sender:
            day = self.now().astimezone(UTC).date()
            withheld = self.allowance.take(ticket.sender, day, self.config.caps)
            if withheld is not None:
                ticket = apply_change(self.store, ref, lambda t: _withheld(t, self.now(), withheld))
                attempted = False
        if attempted:
            ticket = acknowledge(
                self.store, ref, mailer=self.mailer, mail_from=self.config.mail_from, now=self.now
            )
        return self._result(ticket, outcome, record, ack_attempted=attempted, withheld=withheld)

    @staticmethod
    def _result(
        ticket: Ticket,
        outcome: Outcome,
        record: MessageRecord | None,
        *,
        ack_attempted: bool = False,
        withheld: str | None = None,
    ) -> IntakeResult:
        return IntakeResult(
            ack_attempted=ack_attempted,
            outcome=outcome,
            ref=ticket.ref,
            acknowledgement=ticket.acknowledgement.state,
            defects=len(record.defects) if record else 0,
            labels=tuple(label.value for label in ticket.labels),
            verified=ticket.sender_verified,
            withheld=withheld,
        )


def _withheld(ticket: Ticket, at: datetime, cap: str) -> tuple[Ticket, list[HistoryEntry]] | None:
    """Past a daily cap the acknowledgement waits for a person, and the ticket says which cap."""
    if ticket.acknowledgement.state is not AckState.PENDING:
        return None
    ack = Acknowledgement(state=AckState.BY_PERSON, reason=cap)
    return changed(ticket, at, acknowledgement=ack), [
        entry(at, SYSTEM, "automatic_mail_withheld", f"daily cap reached: {cap}", cap=cap)
    ]


def _appended(ticket: Ticket, record: MessageRecord) -> tuple[MessageRecord, ...]:
    if len(ticket.messages) >= MAX_THREAD_MESSAGES:
        return ticket.messages
    return (*ticket.messages, record)


def _new_ticket(
    ref: str,
    *,
    inbound: Inbound,
    mail: ParsedMail,
    record: MessageRecord,
    hold: Hold | None,
    automatic: str | None,
    auth: Authentication,
    claimed: tuple[str, str] | None,
    triage: classify.Classification,
    config: IntakeConfig,
    at: datetime,
) -> tuple[Ticket, list[HistoryEntry]]:
    if hold is Hold.VIRUS:
        ack = Acknowledgement(state=AckState.NOT_REQUIRED, reason="virus")
    elif automatic is not None:
        ack = Acknowledgement(state=AckState.NOT_REQUIRED, reason=automatic)
    elif mail.sender is None:
        ack = Acknowledgement(state=AckState.NOT_REQUIRED, reason="no-sender-address")
    elif not auth.authenticated:
        ack = Acknowledgement(state=AckState.BY_PERSON, reason=UNVERIFIED)
    else:
        ack = Acknowledgement()
    ticket = Ticket(
        ref=ref,
        channel=Channel.EMAIL,
        status=Status.RECEIVED,
        received_at=inbound.received_at,
        created_at=at,
        updated_at=at,
        status_since=at,
        hold=hold,
        sender=mail.sender,
        sender_is_email=True,
        sender_verified=auth.authenticated,
        authentication=auth.basis,
        claimed_ref=claimed[0] if claimed else None,
        language=triage.language,
        labels=triage.labels,
        scores=triage.scores,
        guids=triage.guids,
        deadlines=deadlines.compute(inbound.received_at, internal_target_days=config.internal_target_days),
        acknowledgement=ack,
        automatic=automatic,
        messages=(record,),
    )
    history = [
        entry(
            at,
            SYSTEM,
            "received",
            channel=Channel.EMAIL.value,
            ses_message_id=inbound.ses_message_id,
            verdict=record.verdict,
            defects=list(mail.defects),
            html_only=mail.html_only,
            attachments=mail.attachments,
            automatic=automatic,
            verified=auth.authenticated,
            authentication=auth.basis,
        ),
        entry(
            at,
            SYSTEM,
            "classified",
            labels=[label.value for label in triage.labels],
            confidence={s.label.value: s.confidence for s in triage.scores},
            phrases={s.label.value: list(s.phrases) for s in triage.scores if s.phrases},
            language=triage.language,
            guids=len(triage.guids),
            answer_due=ticket.deadlines.answer_due.isoformat(),
        ),
    ]
    if claimed is not None:
        history.append(
            entry(
                at,
                SYSTEM,
                "claimed_thread",
                "a reply to another ticket, not from its authenticated requester: check, then merge",
                claimed_ref=claimed[0],
                reason=claimed[1],
            )
        )
    if hold in (Hold.VIRUS, Hold.SPAM):
        ticket, moved = transition(
            ticket, Status.QUARANTINED, actor=SYSTEM, at=at, why=f"{hold.value} verdict FAIL"
        )
        history.append(moved)
    elif hold is Hold.REVIEW:
        history.append(entry(at, SYSTEM, "held_for_review", why=f"SES verdict {record.verdict}"))
    else:
        ticket, moved = transition(ticket, Status.TRIAGED, actor=SYSTEM, at=at)
        history.append(moved)
    return ticket, history


def receive(
    inbound: Inbound,
    raw: bytes,
    *,
    store: TicketStore,
    mailer: Mailer,
    allowance: MailAllowance,
    config: IntakeConfig,
    now: Callable[[], datetime],
) -> IntakeResult:
    """File one received message; see the module docstring for the guarantees."""
    return _Intake(store, mailer, allowance, config, now).receive(inbound, raw)
