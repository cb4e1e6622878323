"""PrivacyFunction handler: SES receipt-rule events (one per received message) and the daily run.

Logs carry ticket references, outcomes and counts only: never a sender, subject, body or GUID.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ceip.privacy import intake, retention
from ceip.privacy.inbox import S3RawMailStore
from ceip.privacy.mailer import SesMailer
from ceip.privacy.ses_event import ScheduledAction, SesEvent, SesRecord, is_ses_event
from ceip.privacy.settings import privacy_settings
from ceip.privacy.ticket_table import DynamoTicketStore
from ceip.storage.inbox_keys import inbound_key

NAMESPACE = "ceip"
SERVICE = "ceip-privacy"
OUTCOME_METRICS = {
    intake.Outcome.CREATED: "TicketsCreated",
    intake.Outcome.HELD: "MessagesHeldForReview",
    intake.Outcome.QUARANTINED: "MessagesQuarantined",
    intake.Outcome.JOINED: "RepliesJoined",
    intake.Outcome.DUPLICATE: "DuplicatesFiled",
    intake.Outcome.REDELIVERED: "RedeliveriesIgnored",
}

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)


class RawMessageMissing(Exception):
    """The receipt rule's S3 action did not store the message (yet): fail so the invocation is retried."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def file_message(record: SesRecord) -> intake.IntakeResult:
    settings = privacy_settings()
    mail, receipt = record.ses.mail, record.ses.receipt
    key = inbound_key(mail.messageId)
    inbox = S3RawMailStore(settings.inbox_bucket)
    raw = inbox.get(key)
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
    )
    result = intake.receive(
        inbound,
        raw,
        store=DynamoTicketStore(settings.tickets_table),
        mailer=SesMailer(),
        config=intake.IntakeConfig(settings.mail_from, settings.internal_target_days),
        now=utc_now,
    )
    metrics.add_metric(name=OUTCOME_METRICS[result.outcome], unit=MetricUnit.Count, value=1)
    if result.defects:
        metrics.add_metric(name="MessagesWithDefects", unit=MetricUnit.Count, value=1)
    if result.ack_attempted:
        sent = result.acknowledgement.value == "sent"
        name = "AcknowledgementsSent" if sent else "AcknowledgementsFailed"
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger.info(
        "message_filed",
        ref=result.ref,
        outcome=result.outcome.value,
        acknowledgement=result.acknowledgement.value,
        labels=list(result.labels),
        defects=result.defects,
    )
    return result


def daily_run() -> retention.DailyResult:
    settings = privacy_settings()
    result = retention.run_daily(
        store=DynamoTicketStore(settings.tickets_table),
        inbox=S3RawMailStore(settings.inbox_bucket),
        mailer=SesMailer(),
        mail_from=settings.mail_from,
        retention_days=settings.closed_retention_days,
        now=utc_now,
    )
    metrics.add_metric(name="AcknowledgementsSent", unit=MetricUnit.Count, value=result.acknowledged)
    metrics.add_metric(
        name="AcknowledgementsFailed", unit=MetricUnit.Count, value=result.acknowledgements_failed
    )
    metrics.add_metric(name="TicketsRedacted", unit=MetricUnit.Count, value=result.redacted)
    logger.info(
        "daily_run",
        acknowledged=result.acknowledged,
        acknowledgements_failed=result.acknowledgements_failed,
        redacted=result.redacted,
        messages_deleted=result.messages_deleted,
    )
    return result


@logger.inject_lambda_context(log_event=False, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
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
