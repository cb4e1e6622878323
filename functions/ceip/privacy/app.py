"""PrivacyFunction handler: SES receipt-rule events (one per received message) and the daily run.

Logs carry ticket references, outcomes and counts only: never a sender, subject, body or GUID.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.privacy import dead_letters, intake, retention
from ceip.privacy.authentication import Verdicts
from ceip.privacy.ses_event import ScheduledAction, SesEvent, SesRecord, is_ses_event
from ceip.privacy.settings import PrivacySettings, privacy_settings
from ceip.privacy.wiring import build_ports
from ceip.runtime.clock import utc_now
from ceip.runtime.observability import observe
from ceip.storage.inbox_keys import inbound_key

SERVICE = "ceip-privacy"
OUTCOME_METRICS = {
    intake.Outcome.CREATED: "TicketsCreated",
    intake.Outcome.HELD: "MessagesHeldForReview",
    intake.Outcome.QUARANTINED: "MessagesQuarantined",
    intake.Outcome.JOINED: "RepliesJoined",
    intake.Outcome.LINKED: "RepliesLinked",
    intake.Outcome.DUPLICATE: "DuplicatesFiled",
    intake.Outcome.REDELIVERED: "RedeliveriesIgnored",
}

observability = observe(SERVICE)
logger = observability.logger


class RawMessageMissing(Exception):
    """The receipt rule's S3 action did not store the message (yet): fail so the invocation is retried."""


def file_message(record: SesRecord) -> intake.IntakeResult:
    settings = privacy_settings()
    mail, receipt = record.ses.mail, record.ses.receipt
    key = inbound_key(mail.messageId)
    ports = build_ports(settings)
    raw = ports.inbox.get(key)
    if raw is None:
        logger.error("raw_message_missing", ses_message_id=mail.messageId)
        raise RawMessageMissing(mail.messageId)
    inbound = intake.Inbound(
        ses_message_id=mail.messageId,
        received_at=mail.timestamp,
        key=key,
        envelope_source=mail.source,
        spam=receipt.spamVerdict.status,
        virus=receipt.virusVerdict.status,
        verdicts=Verdicts(
            spf=receipt.spfVerdict.status.upper(),
            dkim=receipt.dkimVerdict.status.upper(),
            dmarc=receipt.dmarcVerdict.status.upper(),
        ),
    )
    result = intake.receive(
        inbound,
        raw,
        store=ports.tickets,
        mailer=ports.mailer,
        allowance=ports.allowance,
        config=intake.IntakeConfig(
            settings.mail_from, settings.internal_target_days, limits=settings.limits, caps=settings.caps
        ),
        now=utc_now,
    )
    observability.count(OUTCOME_METRICS[result.outcome])
    if result.defects:
        observability.count("MessagesWithDefects")
    if result.verified is False and result.outcome is not intake.Outcome.REDELIVERED:
        observability.count("UnverifiedSenders")
    if result.withheld:
        observability.count("AutomaticMailWithheld")
    if result.ack_attempted:
        sent = result.acknowledgement.value == "sent"
        name = "AcknowledgementsSent" if sent else "AcknowledgementsFailed"
        observability.count(name)
    logger.info(
        "message_filed",
        ref=result.ref,
        outcome=result.outcome.value,
        acknowledgement=result.acknowledgement.value,
        labels=list(result.labels),
        defects=result.defects,
        verified=result.verified,
        withheld=result.withheld,
    )
    return result


DEADLINE_MARGIN_SECONDS = 5.0
"""Time left, at the deadline, to count the failure and send the dead letter before Lambda's timeout."""


def deliver(record: SesRecord, context: LambdaContext) -> intake.IntakeResult | dead_letters.DeadLetter:
    """File one message; on its last failed attempt, a dead letter (identifiers only) instead of an error.

    Earlier failures propagate, so Lambda retries the event (docs/security.md, "Dead letters")."""
    settings = privacy_settings()
    remaining = context.get_remaining_time_in_millis() / 1000 - DEADLINE_MARGIN_SECONDS
    try:
        with dead_letters.deadline(remaining):
            return file_message(record)
    except Exception as failure:
        dead_letters.redact(failure)
        try:
            letter = _give_up(settings, record, failure)
        except Exception as unsent:
            # The invocation fails with the message's own error: Lambda retries, or drops the event
            # after its last retry (AsyncEventsDropped alarms). The whole event never reaches a queue.
            logger.error("dead_letter_failed", error=type(unsent).__name__)
            raise failure from None
        if letter is None:
            raise
        observability.count("MessagesDeadLettered")
        logger.error(
            "message_dead_lettered",
            ses_message_id=letter.ses_message_id,
            attempts=letter.attempts,
            failure=letter.failure,
        )
        return letter


def _give_up(
    settings: PrivacySettings, record: SesRecord, failure: Exception
) -> dead_letters.DeadLetter | None:
    if settings.dead_letter_queue_url is None or settings.delivery_attempts_table is None:
        return None
    message_id = record.ses.mail.messageId
    return dead_letters.give_up(
        ses_message_id=message_id,
        key=inbound_key(message_id),
        failure=failure,
        attempts=dead_letters.DynamoDeliveryAttempts(settings.delivery_attempts_table),
        queue=dead_letters.SqsDeadLetterQueue(settings.dead_letter_queue_url),
        max_attempts=settings.delivery_attempts,
        now=utc_now(),
    )


def daily_run() -> retention.DailyResult:
    settings = privacy_settings()
    ports = build_ports(settings)
    result = retention.run_daily(
        store=ports.tickets,
        inbox=ports.inbox,
        mailer=ports.mailer,
        mail_from=settings.mail_from,
        retention_days=settings.closed_retention_days,
        now=utc_now,
    )
    observability.count("AcknowledgementsSent", result.acknowledged)
    observability.count("AcknowledgementsFailed", result.acknowledgements_failed)
    observability.count("TicketsRedacted", result.redacted)
    logger.info(
        "daily_run",
        acknowledged=result.acknowledged,
        acknowledgements_failed=result.acknowledgements_failed,
        redacted=result.redacted,
        messages_deleted=result.messages_deleted,
    )
    return result


@observability.handler()
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_ses_event(event):
        results = [deliver(record, context) for record in SesEvent.model_validate(event).Records]
        return {
            "filed": [
                {"ref": r.ref, "outcome": r.outcome.value}
                for r in results
                if isinstance(r, intake.IntakeResult)
            ],
            "dead_lettered": [r.ses_message_id for r in results if isinstance(r, dead_letters.DeadLetter)],
        }
    if event.get("action") is not None:
        ScheduledAction.model_validate(event)
        result = daily_run()
        return {
            "acknowledged": result.acknowledged,
            "acknowledgements_failed": result.acknowledgements_failed,
            "redacted": result.redacted,
        }
    logger.warning("unknown_event")
    raise ValueError("PrivacyFunction handles SES receipt events and {'action': 'retention'} only")
