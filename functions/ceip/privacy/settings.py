"""PrivacyFunction configuration, read once from the environment at the first invocation (the CLI reads
the same variables, from the local stack's state file or the operator's shell)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from ceip.privacy import deadlines

ENVIRONMENT = {
    "inbox_bucket": "INBOX_BUCKET",
    "tickets_table": "TICKETS_TABLE",
    "mail_from": "PRIVACY_MAIL_FROM",
    "internal_target_days": "PRIVACY_INTERNAL_TARGET_DAYS",
    "closed_retention_days": "PRIVACY_CLOSED_RETENTION_DAYS",
}
REQUIRED = ("INBOX_BUCKET", "TICKETS_TABLE", "PRIVACY_MAIL_FROM")


class PrivacySettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    inbox_bucket: str = Field(min_length=3, max_length=63)
    tickets_table: str = Field(min_length=3, max_length=255)
    mail_from: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="verified SES sender")
    internal_target_days: int = Field(default=deadlines.DEFAULT_INTERNAL_TARGET_DAYS, ge=1, le=30)
    closed_retention_days: int = Field(default=365, ge=1, le=3650)


def read_settings(environment: Mapping[str, str]) -> PrivacySettings:
    values = {field: environment[name] for field, name in ENVIRONMENT.items() if environment.get(name)}
    return PrivacySettings.model_validate(values)


@cache
def privacy_settings() -> PrivacySettings:
    return read_settings(os.environ)
