"""IngestFunction configuration, read once from the environment at the first invocation."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field


class IngestSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    reports_bucket: str = Field(min_length=3, max_length=63)


@cache
def ingest_settings() -> IngestSettings:
    return IngestSettings(reports_bucket=os.environ["REPORTS_BUCKET"])
