"""Configuration of the data-subject functions (requests API, purge), read once per container."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from ceip.datasubject.export import DEFAULT_LINK_HOURS, MAX_LINK_HOURS
from ceip.datasubject.model import DEFAULT_PURGE_HOUR_UTC
from ceip.runtime.settings import Settings


class DataSubjectSettings(Settings):
    requests_table: str = Field(alias="PRIVACY_REQUESTS_TABLE", min_length=3)
    suppression_table: str = Field(alias="SUPPRESSION_TABLE", min_length=3)
    machine_key_secret_id: str = Field(alias="MACHINE_KEY_SECRET_ID", min_length=1)
    reports_bucket: str | None = Field(default=None, alias="REPORTS_BUCKET", min_length=3, max_length=63)
    exports_bucket: str | None = Field(
        default=None, alias="EXPORTS_BUCKET", min_length=3, max_length=63, description="the CLI's exports"
    )
    export_signer_role_arn: str | None = Field(
        default=None,
        alias="EXPORT_SIGNER_ROLE_ARN",
        min_length=20,
        description="the CLI signs export links with a session of this role, assumed for the link's lifetime",
    )
    export_link_hours: int = Field(
        default=DEFAULT_LINK_HOURS, alias="EXPORT_LINK_HOURS", ge=1, le=MAX_LINK_HOURS
    )
    export_approval_max_age_hours: int = Field(
        default=72, alias="EXPORT_APPROVAL_MAX_AGE_HOURS", ge=1, le=24 * 30
    )
    export_two_person_rule: bool = Field(default=True, alias="EXPORT_TWO_PERSON_RULE")
    purge_hour_utc: int = Field(default=DEFAULT_PURGE_HOUR_UTC, alias="PURGE_HOUR_UTC", ge=0, le=23)


@cache
def datasubject_settings() -> DataSubjectSettings:
    return DataSubjectSettings.from_environment()
