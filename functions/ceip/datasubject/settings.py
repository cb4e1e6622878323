"""Configuration of the data-subject functions (requests API, purge), read once per container."""

from __future__ import annotations

from functools import cache

from pydantic import Field

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
    purge_hour_utc: int = Field(default=DEFAULT_PURGE_HOUR_UTC, alias="PURGE_HOUR_UTC", ge=0, le=23)


@cache
def datasubject_settings() -> DataSubjectSettings:
    return DataSubjectSettings.from_environment()
