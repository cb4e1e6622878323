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
SUPPRESSION_TABLE = "ceip-test-suppression"
PRIVACY_REQUESTS_TABLE = "ceip-test-privacy-requests"
MACHINE_KEY_SECRET_ID = "ceip-test-machine-key"
MACHINE_KEY_SECRET = "k" * 48


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
    monkeypatch.setenv("SUPPRESSION_TABLE", SUPPRESSION_TABLE)
    monkeypatch.setenv("PRIVACY_REQUESTS_TABLE", PRIVACY_REQUESTS_TABLE)
    monkeypatch.setenv("MACHINE_KEY_SECRET_ID", MACHINE_KEY_SECRET_ID)
    _clear_caches()
    yield
    _clear_caches()


def _clear_caches() -> None:
    from ceip.datasubject.keyer import machine_keyer
    from ceip.datasubject.secret import machine_key_secret, secrets_client
    from ceip.datasubject.settings import datasubject_settings
    from ceip.datasubject.suppression import dynamodb_client
    from ceip.ingest.settings import ingest_settings
    from ceip.storage.s3 import s3_client

    for cached in (
        ingest_settings,
        s3_client,
        datasubject_settings,
        machine_keyer,
        machine_key_secret,
        secrets_client,
        dynamodb_client,
    ):
        cached.cache_clear()


def _hash_key_table(client: Any, name: str, key: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def s3() -> Iterator[Any]:
    """moto with the reports bucket (versioned, as deployed), the suppression list and its secret."""
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=REPORTS_BUCKET)
        client.put_bucket_versioning(Bucket=REPORTS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _hash_key_table(dynamodb, SUPPRESSION_TABLE, "machine_key")
        _hash_key_table(dynamodb, PRIVACY_REQUESTS_TABLE, "request_id")
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=MACHINE_KEY_SECRET_ID, SecretString=MACHINE_KEY_SECRET
        )
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
