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
INBOX_BUCKET = "ceip-test-inbox"
TICKETS_TABLE = "ceip-test-tickets"
PRIVACY_MAIL_FROM = "privacy@example.com"
AGGREGATES_BUCKET = "ceip-test-aggregates"


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
    monkeypatch.setenv("INBOX_BUCKET", INBOX_BUCKET)
    monkeypatch.setenv("TICKETS_TABLE", TICKETS_TABLE)
    monkeypatch.setenv("PRIVACY_MAIL_FROM", PRIVACY_MAIL_FROM)
    # Tests file many requests from one address; the cap tests set their own, lower caps.
    monkeypatch.setenv("PRIVACY_AUTOMATIC_MAIL_PER_SENDER", "100")
    monkeypatch.setenv("AGGREGATES_BUCKET", AGGREGATES_BUCKET)
    _clear_caches()
    yield
    _clear_caches()


def _clear_caches() -> None:
    from ceip.aggregate.settings import aggregate_settings
    from ceip.datasubject.settings import datasubject_settings
    from ceip.ingest.settings import ingest_settings
    from ceip.machines.keyer import machine_keyer
    from ceip.machines.secret import machine_key_secret, secrets_client
    from ceip.machines.sketch_key import sketch_salt
    from ceip.machines.suppression import dynamodb_client
    from ceip.privacy.mailer import ses_client
    from ceip.privacy.settings import privacy_settings
    from ceip.privacy.ticket_table import dynamodb_client as tickets_dynamodb_client
    from ceip.storage.aggregate_s3 import aggregate_s3_client
    from ceip.storage.s3 import s3_client

    for cached in (
        ingest_settings,
        s3_client,
        datasubject_settings,
        machine_keyer,
        machine_key_secret,
        sketch_salt,
        secrets_client,
        dynamodb_client,
        privacy_settings,
        tickets_dynamodb_client,
        ses_client,
        aggregate_settings,
        aggregate_s3_client,
    ):
        cached.cache_clear()


def _hash_key_table(client: Any, name: str, key: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def create_api_resources() -> Any:
    """In a running moto: what the HTTP API's functions use. Returns the S3 client."""
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=REPORTS_BUCKET)
    client.put_bucket_versioning(Bucket=REPORTS_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    _hash_key_table(dynamodb, SUPPRESSION_TABLE, "machine_key")
    _hash_key_table(dynamodb, PRIVACY_REQUESTS_TABLE, "request_id")
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name=MACHINE_KEY_SECRET_ID, SecretString=MACHINE_KEY_SECRET
    )
    return client


@pytest.fixture
def s3() -> Iterator[Any]:
    """moto with the reports bucket (versioned, as deployed), the suppression list and its secret."""
    with mock_aws():
        yield create_api_resources()


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext("IngestFunction", timeout_seconds=15)


@pytest.fixture
def privacy_aws() -> Iterator[Any]:
    """moto with the privacy inbox bucket, the tickets table and the verified SES sender."""
    from tests.support.privacy import create_privacy_resources

    with mock_aws():
        yield create_privacy_resources(
            boto3.client("s3", region_name="us-east-1"),
            boto3.client("dynamodb", region_name="us-east-1"),
            boto3.client("ses", region_name="us-east-1"),
        )


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
