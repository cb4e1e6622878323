"""Shared fixtures: dummy AWS credentials, moto, a Lambda context, and capture of logs and metrics."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from infra.local.gateway import LambdaContext
from moto import mock_aws

REPORTS_BUCKET = "ceip-test-reports"


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test ever reaches real AWS; cached settings and clients are rebuilt for each test."""
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ceip")
    monkeypatch.setenv("REPORTS_BUCKET", REPORTS_BUCKET)
    _clear_caches()
    yield
    _clear_caches()


def _clear_caches() -> None:
    from ceip.ingest.settings import ingest_settings
    from ceip.storage.s3 import s3_client

    ingest_settings.cache_clear()
    s3_client.cache_clear()


@pytest.fixture
def s3() -> Iterator[Any]:
    """moto S3 with the reports bucket."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORTS_BUCKET)
        yield client


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext("IngestFunction", timeout_seconds=15)


@dataclass
class Captured:
    logs: io.StringIO
    capsys: pytest.CaptureFixture[str]

    def text(self) -> str:
        """Everything the function printed: Powertools log lines and EMF metric records."""
        out, err = self.capsys.readouterr()
        self._seen = getattr(self, "_seen", "") + out + err
        return self.logs.getvalue() + self._seen


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> Iterator[Captured]:
    """Point the Powertools loggers at a buffer; EMF metrics are printed to stdout (capsys)."""
    from ceip.ingest.app import logger as ingest_logger

    buffer = io.StringIO()
    handler = ingest_logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(buffer)
    yield Captured(buffer, capsys)
    if previous is not None:
        handler.setStream(previous)
