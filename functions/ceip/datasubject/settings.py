"""Configuration of the data-subject functions (requests API, purge), read once per container."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class DataSubjectSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    requests_table: str = Field(min_length=3)
    suppression_table: str = Field(min_length=3)
    machine_key_secret_id: str = Field(min_length=1)
    reports_bucket: str | None = Field(default=None, min_length=3, max_length=63)
    purge_hour_utc: int = Field(default=3, ge=0, le=23)


@cache
def datasubject_settings() -> DataSubjectSettings:
    return DataSubjectSettings(
        requests_table=os.environ["PRIVACY_REQUESTS_TABLE"],
        suppression_table=os.environ["SUPPRESSION_TABLE"],
        machine_key_secret_id=os.environ["MACHINE_KEY_SECRET_ID"],
        reports_bucket=os.environ.get("REPORTS_BUCKET") or None,
        purge_hour_utc=int(os.environ.get("PURGE_HOUR_UTC", "3")),
    )
