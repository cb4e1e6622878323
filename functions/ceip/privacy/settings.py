"""PrivacyFunction configuration, read once from the environment at the first invocation (the CLI reads
the same variables, from the local stack's state file or the operator's shell)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.privacy import allowance, deadlines, mime_limits
from ceip.runtime.settings import Settings


class PrivacySettings(Settings):
    inbox_bucket: str = Field(alias="INBOX_BUCKET", min_length=3, max_length=63)
    tickets_table: str = Field(alias="TICKETS_TABLE", min_length=3, max_length=255)
    mail_from: str = Field(
        alias="PRIVACY_MAIL_FROM", pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="verified SES sender"
    )
    internal_target_days: int = Field(
        default=deadlines.DEFAULT_INTERNAL_TARGET_DAYS, alias="PRIVACY_INTERNAL_TARGET_DAYS", ge=1, le=30
    )
    closed_retention_days: int = Field(default=365, alias="PRIVACY_CLOSED_RETENTION_DAYS", ge=1, le=3650)
    max_message_bytes: int = Field(
        default=mime_limits.DEFAULT_MAX_BYTES,
        alias="PRIVACY_MAX_MESSAGE_BYTES",
        ge=64 * 1024,
        le=40 * 1024 * 1024,
        description="larger messages are filed from their headers only (SES accepts up to 40 MB)",
    )
    max_mime_parts: int = Field(
        default=mime_limits.DEFAULT_MAX_PARTS, alias="PRIVACY_MAX_MIME_PARTS", ge=10, le=10_000
    )
    max_mime_depth: int = Field(
        default=mime_limits.DEFAULT_MAX_DEPTH, alias="PRIVACY_MAX_MIME_DEPTH", ge=2, le=50
    )
    automatic_mail_per_sender: int = Field(
        default=allowance.DEFAULT_PER_SENDER_PER_DAY,
        alias="PRIVACY_AUTOMATIC_MAIL_PER_SENDER",
        ge=0,
        le=100,
        description="automatic acknowledgements to one address per UTC day",
    )
    automatic_mail_per_day: int = Field(
        default=allowance.DEFAULT_PER_DAY,
        alias="PRIVACY_AUTOMATIC_MAIL_PER_DAY",
        ge=0,
        le=50_000,
        description="automatic acknowledgements in total per UTC day",
    )

    # The function's own dead letters (ceip.privacy.dead_letters); unset (the CLI), a failure just fails.
    dead_letter_queue_url: str | None = Field(
        default=None, alias="PRIVACY_DEAD_LETTER_QUEUE_URL", min_length=1
    )
    delivery_attempts_table: str | None = Field(
        default=None, alias="PRIVACY_DELIVERY_ATTEMPTS_TABLE", min_length=3, max_length=255
    )
    delivery_attempts: int = Field(
        default=3,
        alias="PRIVACY_DELIVERY_ATTEMPTS",
        ge=1,
        le=3,
        description="1 + Lambda's MaximumRetryAttempts",
    )

    @property
    def limits(self) -> mime_limits.Limits:
        return mime_limits.Limits(self.max_message_bytes, self.max_mime_parts, self.max_mime_depth)

    @property
    def caps(self) -> allowance.Caps:
        return allowance.Caps(self.automatic_mail_per_sender, self.automatic_mail_per_day)


@cache
def privacy_settings() -> PrivacySettings:
    return PrivacySettings.from_environment()
