"""IngestFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    reports_bucket: str = Field(min_length=3, max_length=63)
    suppression_table: str = Field(min_length=3)
    machine_key_secret_id: str = Field(min_length=1)


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings(
        reports_bucket=os.environ["REPORTS_BUCKET"],
        suppression_table=os.environ["SUPPRESSION_TABLE"],
        machine_key_secret_id=os.environ["MACHINE_KEY_SECRET_ID"],
    )
