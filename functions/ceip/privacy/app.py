"""PrivacyFunction handler: SES receipt-rule events (one per received message) and the daily run.

Logs carry ticket references, outcomes and counts only: never a sender, subject, body or GUID.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.privacy import intake, retention
from ceip.privacy.authentication import Verdicts
from ceip.privacy.ses_event import ScheduledAction, SesEvent, SesRecord, is_ses_event
from ceip.privacy.settings import privacy_settings
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
        results = [file_message(record) for record in SesEvent.model_validate(event).Records]
        return {"filed": [{"ref": r.ref, "outcome": r.outcome.value} for r in results]}
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
