"""PrivacyFunction's composition root, which `ceip privacy` uses too: tickets on DynamoDB, raw mail in
the inbox bucket, mail out through SES. Powertools-free, so the CLI starts quickly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ceip.privacy.allowance import DynamoAllowance, MailAllowance
from ceip.privacy.inbox import RawMailStore, S3RawMailStore
from ceip.privacy.mailer import Mailer, SesMailer
from ceip.privacy.service import TicketService
from ceip.privacy.settings import PrivacySettings
from ceip.privacy.ticket_table import DynamoTicketStore, TicketStore
from ceip.runtime.clock import utc_now


@dataclass(frozen=True)
class PrivacyPorts:
    tickets: TicketStore
    inbox: RawMailStore
    mailer: Mailer
    allowance: MailAllowance


def build_ports(settings: PrivacySettings) -> PrivacyPorts:
    return PrivacyPorts(
        tickets=DynamoTicketStore(settings.tickets_table),
        inbox=S3RawMailStore(settings.inbox_bucket),
        mailer=SesMailer(),
        allowance=DynamoAllowance(settings.tickets_table),
    )


def build_ticket_service(settings: PrivacySettings, clock: Callable[[], datetime] = utc_now) -> TicketService:
    """The privacy team's service of tickets (the CLI, later the console)."""
    ports = build_ports(settings)
    return TicketService(
        store=ports.tickets,
        mailer=ports.mailer,
        inbox=ports.inbox,
        mail_from=settings.mail_from,
        internal_target_days=settings.internal_target_days,
        clock=clock,
    )
