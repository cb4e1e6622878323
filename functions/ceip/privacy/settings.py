"""PrivacyFunction configuration, read once from the environment at the first invocation (the CLI reads
the same variables, from the local stack's state file or the operator's shell)."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.privacy import deadlines
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


@cache
def privacy_settings() -> PrivacySettings:
    return PrivacySettings.from_environment()
