"""The privacy statement's promise, end to end: the source IP is never stored or logged.

The whole system runs in this process on the local stack (moto server, every resource template.yaml
declares, the gateway's own event builder and routes, the real handlers, the `ceip` CLI), so every log
line and EMF record it prints can be captured. Requests carry canary addresses where API Gateway puts
the caller's address (requestContext.http.sourceIp, IPv4 and IPv6, appended to X-Forwarded-For) and
where clients and proxies add more (X-Forwarded-For, Forwarded, X-Real-IP); the inbox mail carries other
canaries in Received, X-Originating-IP, Received-SPF and Authentication-Results.

Raw mail counts as kept, and is the one place a mail canary may be: the receipt rule stores the message
as SES received it (its Received headers included), because that message is what the privacy team must
answer and it expires with the ticket's retention. The test asserts that the mail canaries are found in
those raw inbound objects, and nowhere else: not in tickets, history, acknowledgements, replies, the
export, logs or metrics. The API canaries must be found nowhere at all.
"""

from __future__ import annotations

import base64
import copy
import gzip
import json
import logging
import os
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from infra.local.gateway import Gateway, LambdaContext, build_event, load_handler
from infra.local.stack import LocalStack
from infra.local.template import Template
from moto.core.base_backend import BackendDict
from moto.core.models import reset_model_data

from ceip.aggregate import app as aggregate_app
from ceip.cli import main as ceip
from ceip.cli.environment import CREDENTIALS
from ceip.datasubject import purge_app
from ceip.ingest import app as ingest_app
from ceip.privacy import app as privacy_app
from ceip.storage.inbox_keys import inbound_key
from ceip.storage.keys import REPORTS_PREFIX
from tests.support.canary_scan import (
    Canary,
    Scan,
    scan_buckets,
    scan_moto_state,
    scan_output,
    scan_queues,
    scan_secrets,
    scan_tables,
)
from tests.support.events import CANARY_FORWARDED, CANARY_IP, load_event
from tests.support.identities import credentials_of
from tests.support.output_capture import OutputCapture
from tests.support.privacy import mail, new_message_id, ses_event
from tests.support.reports import make_batch, make_report

pytestmark = pytest.mark.local

# Every handler the template names is imported now, at collection, as the other test modules import
# theirs: a Powertools logger binds the sys.stdout of the moment it is built, and a fixture's stdout is
# closed when its phase ends.
for _function in Template.load().functions():
    load_handler(_function.handler)

SOURCE_V4 = CANARY_IP  # 203.0.113.77, TEST-NET-3
FORWARDED_V4 = CANARY_FORWARDED  # 198.51.100.23, TEST-NET-2
SOURCE_V6 = "2001:db8:cafe::77"  # RFC 3849 documentation prefix
API_CANARIES = (SOURCE_V4, FORWARDED_V4, SOURCE_V6)
MAIL_V4 = "192.0.2.55"  # TEST-NET-1: the sender's MTA and client, as mail headers record them
MAIL_V6 = "2001:db8:beef::55"
MAIL_CANARIES = (MAIL_V4, MAIL_V6)
SENDER = "robin@example.org"
CLIENT_HEADERS = {
    "content-type": "application/json",
    "user-agent": "contoso-ceip/12.0.4471",
    # A proxy chain in front of the client; API Gateway appends the caller's address to it.
    "x-forwarded-for": f"{FORWARDED_V4}, {SOURCE_V4}",
    "forwarded": f'for={FORWARDED_V4};proto=https, for="[{SOURCE_V6}]:51234"',
    "x-real-ip": f"{FORWARDED_V4}",
}


# -- the local stack, in this process -----------------------------------------------------------------
@pytest.fixture
def output(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Iterator[OutputCapture]:
    with OutputCapture(capsys, caplog) as capture:
        yield capture


@pytest.fixture
def stack(output: OutputCapture, tmp_path: Path) -> Iterator[LocalStack]:
    """The stack `make run` starts, here in-process so that its output is captured from the start;
    moto's state and the environment the stack sets are put back afterwards for the tests that follow."""
    saved = dict(os.environ)
    reset_moto()
    local = LocalStack(port=0, state_file=tmp_path / "local.json")
    try:
        local.start()
        output.redirect_handlers()  # the loggers of the handlers the gateway just imported
        yield local
    finally:
        local.stop()
        reset_moto()
        os.environ.clear()
        os.environ.update(saved)


def reset_moto() -> None:
    """What moto's /moto-api/reset does: empty every backend and the model registry its API lists."""
    BackendDict.reset()
    reset_model_data()


@dataclass
class Client:
    """A caller of the HTTP API at `source_ip`: events built by the local gateway, as API Gateway would."""

    gateway: Gateway
    source_ip: str

    def send(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        matched = self.gateway.match(method, path)
        assert matched is not None, path
        bound, params = matched
        event = build_event(
            method=method,
            target=path,
            headers=list({**CLIENT_HEADERS, **(headers or {})}.items()),
            body=body,
            source_ip=self.source_ip,
            route=bound.route,
            path_parameters=params,
            host="a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        )
        # The canaries reach the handler where AWS puts them.
        assert event["requestContext"]["http"]["sourceIp"] == self.source_ip
        assert event["headers"]["x-forwarded-for"].endswith(f"{SOURCE_V4}, {self.source_ip}")
        answer = self.gateway.invoke(bound, event)
        return int(answer["statusCode"]), json.loads(answer.get("body") or "{}")

    def post_json(self, path: str, body: Any, *, gzip_body: bool = False) -> tuple[int, dict[str, Any]]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if gzip_body:
            return self.send("POST", path, gzip.compress(data), {"content-encoding": "gzip"})
        return self.send("POST", path, data)


def inbound_mail(*, subject: str, body: str) -> bytes:
    """A message as SES stores it: the MTAs' Received headers (with the sender's addresses) on top."""
    stamp = "Sun, 29 Nov 2026 09:00:00 +0000"
    trace = (
        f"Received: from mail.example.org (mail.example.org [{MAIL_V4}]) by inbound-smtp.us-east-1."
        f"amazonaws.com with SMTP id 9ngqfd0example for privacy@example.com; {stamp}\r\n"
        f"Received: from [IPv6:{MAIL_V6}] (port=51234 helo=[{MAIL_V6}]) by mail.example.org with "
        f"esmtpsa (TLS1.3) id 1kexample; {stamp}\r\n"
        f"Received-SPF: pass (spfCheck: domain of example.org designates {MAIL_V4} as permitted sender) "
        f"client-ip={MAIL_V4}; envelope-from={SENDER}; helo=mail.example.org;\r\n"
        f"Authentication-Results: amazonses.com; spf=pass (spfCheck: domain of example.org designates "
        f"{MAIL_V4} as permitted sender) client-ip={MAIL_V4}; smtp.remote-ip={MAIL_V6};\r\n"
    )
    extra = {"X-Originating-IP": f"[{MAIL_V4}]", "X-Forwarded-For": f"{MAIL_V6}, {MAIL_V4}"}
    return trace.encode() + mail(sender=SENDER, subject=subject, body=body, extra=extra)


def receive_mail(raw: bytes, *, spam: str = "PASS") -> tuple[str, dict[str, Any]]:
    """The receipt rule: the S3 action stores the message, then the Lambda action invokes the function."""
    message_id = new_message_id()
    key = inbound_key(message_id)
    boto3.client("s3").put_object(Bucket=os.environ["INBOX_BUCKET"], Key=key, Body=raw)
    event = ses_event(raw, message_id=message_id, received_at=datetime.now(UTC), spam=spam)
    headers = json.dumps(event["Records"][0]["ses"]["mail"]["headers"])
    assert MAIL_V4 in headers and MAIL_V6 in headers  # SES hands the headers to the function too
    result: dict[str, Any] = privacy_app.lambda_handler(event, LambdaContext("PrivacyFunction", 60))
    (filed,) = result["filed"]
    return key, filed


def cli(state_file: Path, *args: str) -> None:
    """`ceip ...` as the privacy team runs it next to `make run`."""
    assert ceip(["--local-state", str(state_file), *args]) == 0, args


def cli_as(person: str, state_file: Path, *args: str) -> None:
    """`ceip ...` as a named person of the privacy team (a session of its role on the stack's STS)."""
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(credentials_of(person))
    boto3.DEFAULT_SESSION = None  # it keeps the credentials it resolved first
    try:
        cli(state_file, *args)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        boto3.DEFAULT_SESSION = None


def logged_messages(lines: list[tuple[str, str]]) -> set[str]:
    """The `message` of every structured (Powertools) log line."""
    found = set()
    for source, line in lines:
        if source == "log-handler" and line.startswith("{"):
            found.add(str(json.loads(line).get("message")))
    return found


def metric_names(lines: list[tuple[str, str]]) -> set[str]:
    """The names of the metrics in every EMF record printed."""
    found = set()
    for source, line in lines:
        if source == "stdout" and line.startswith('{"_aws"'):
            for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
                found.update(metric["Name"] for metric in directive["Metrics"])
    return found


def scan_everything(stack: LocalStack, output: OutputCapture, *addresses: str) -> Scan:
    scan = Scan(tuple(Canary(a) for a in addresses))
    scan_buckets(scan, boto3.client("s3"))
    scan_tables(scan, boto3.client("dynamodb"))
    scan_secrets(scan, boto3.client("secretsmanager"))
    scan_queues(scan, boto3.client("sqs"))
    scan_moto_state(scan, stack.endpoint, skip=("s3", "dynamodb", "secretsmanager", "sqs"))
    scan_output(scan, output.lines())
    return scan


# -- the promise ----------------------------------------------------------------------------------------
def test_no_source_address_is_kept_or_logged_anywhere(stack: LocalStack, output: OutputCapture) -> None:
    # Given callers at canary addresses (IPv4 and IPv6) behind a canary proxy chain
    assert stack.state_file is not None
    gateway = Gateway(stack.template.functions())
    v4, v6 = Client(gateway, SOURCE_V4), Client(gateway, SOURCE_V6)
    erased, exported, other, over_tcp = (str(uuid.uuid4()) for _ in range(4))

    # When they post reports: plain, gzip, partly and wholly rejected, malformed, a wrong method
    assert v4.post_json("/v1/reports", make_batch(3, machine_id=erased))[0] == 202
    assert v6.post_json("/v1/reports", make_batch(2, machine_id=exported), gzip_body=True)[0] == 202
    mixed = {
        "reports": [
            make_report(machine_id=other),
            make_report(machine_id=SOURCE_V4),
            make_report(report_id=f"{SOURCE_V4}:51234"),
        ]
    }
    status, answer = v6.post_json("/v1/reports", mixed)
    assert (status, answer["accepted"], len(answer["rejected"])) == (202, 1, 2)
    bad = {"reports": [{"schema_version": 1, "machine_id": SOURCE_V6}]}
    status, answer = v4.post_json("/v1/reports", bad)
    assert (status, answer["code"]) == (400, "no-valid-report")
    malformed = f'{{"reports": [{{"machine_id": "{SOURCE_V4}"'.encode()
    assert v6.post_json("/v1/reports", malformed)[1]["code"] == "malformed-json"
    assert v6.send("GET", "/v1/reports")[0] == 405
    # and one batch over real HTTP through the gateway's server (its own log lines included)
    request = urllib.request.Request(
        stack.url + "/v1/reports",
        data=json.dumps(make_batch(2, machine_id=over_tcp)).encode(),
        headers={**CLIENT_HEADERS, "x-forwarded-for": f"{FORWARDED_V4}, {SOURCE_V4}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202

    # When a machine asks for erasure through the API, and checks its status
    status, filed = v6.post_json("/v1/privacy/requests", {"type": "erasure", "machine_id": erased})
    assert status == 202
    invalid = v4.post_json("/v1/privacy/requests", {"type": "erasure", "machine_id": SOURCE_V4})
    assert invalid[1]["code"] == "invalid-request"
    assert v4.send("GET", f"/v1/privacy/requests/{filed['request_id']}")[1]["status"] == "received"
    assert v6.send("GET", f"/v1/privacy/requests/{uuid.uuid4()}")[0] == 404

    # When the day is aggregated (the erased machine already left out)
    s3 = boto3.client("s3")
    report_keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=os.environ["REPORTS_BUCKET"], Prefix=REPORTS_PREFIX
        )
        for o in page.get("Contents", [])
    ]
    days = sorted({key.split("dt=", 1)[1][:10] for key in report_keys})
    aggregated = [
        aggregate_app.lambda_handler({"date": day}, LambdaContext("AggregateFunction", 900))["reports"]
        for day in days
    ]
    assert sum(aggregated) == 5  # exported 2 + other 1 + over_tcp 2

    # When the scheduled purge serves the API's request
    purged = purge_app.lambda_handler({"action": "purge"}, LambdaContext("PurgeFunction", 900))
    assert (purged["status"], purged["reports_removed"]) == ("fulfilled", 3)

    # When the owner of another machine writes (and replies), and spam arrives, all with canary headers
    first_key, first = receive_mail(
        inbound_mail(
            subject="My data",
            body=f"Please send me a copy of all data you hold for my machine {exported}, then delete it.",
        )
    )
    assert first["outcome"] == "created"
    ref = first["ref"]
    reply_key, reply = receive_mail(
        inbound_mail(subject=f"Re: [{ref}] My data", body="The GUID is on the settings page.")
    )
    assert (reply["outcome"], reply["ref"]) == ("joined", ref)
    spam_key, spam = receive_mail(inbound_mail(subject="WIN", body="Cheap watches"), spam="FAIL")
    assert spam["outcome"] == "quarantined"

    # When the team approves and sends the export, files the erasure and purges through the CLI
    state = stack.state_file
    cli_as("alex", state, "privacy", "approve-export", ref, "--why", "GUID shown on a screenshot")
    cli_as("sam", state, "privacy", "export", ref)
    cli_as("alex", state, "privacy", "erase", ref)
    cli(state, "privacy", "purge")
    cli(state, "privacy", "show", ref, "--json")
    cli(state, "privacy", "requests", "--json")
    # and the inbox's daily run and a last status check happen
    privacy_app.lambda_handler(
        load_event("privacy_daily_schedule.json"), LambdaContext("PrivacyFunction", 60)
    )
    status, shown = v4.send("GET", f"/v1/privacy/requests/{filed['request_id']}")
    assert (status, shown["status"]) == (200, "fulfilled")

    # Then no canary of the API is in any object version, item, secret, queue, sent mail, log line or
    # EMF record
    scan = scan_everything(stack, output, *API_CANARIES, *MAIL_CANARIES)
    leaks = [f for f in scan.findings if f.canary in API_CANARIES]
    assert leaks == [], "\n".join(map(str, leaks))
    # and the mail canaries are in the raw inbound messages only, each of them (the scan's own proof
    # that it reaches the inbox bucket and finds what is there)
    inbox = os.environ["INBOX_BUCKET"]
    raw_objects = {f"s3://{inbox}/{key}" for key in (first_key, reply_key, spam_key)}
    mail_places = {place.split("?versionId=", 1)[0] for place in scan.places(*MAIL_CANARIES)}
    assert mail_places == raw_objects, "\n".join(map(str, scan.findings))
    # and the scan looked at everything the run produced: each function's log lines and metrics
    lines = output.lines()
    assert {
        "reports_stored",
        "request_rejected",
        "erasure_request_filed",
        "day_aggregated",
        "purge_finished",
        "message_filed",
        "daily_run",
    } <= logged_messages(lines)
    assert {
        "ReportsAccepted",
        "RequestsRejected",
        "ErasureRequestsFiled",
        "ReportsAggregated",
        "ReportsPurged",
        "TicketsCreated",
        "AcknowledgementsSent",
    } <= metric_names(lines)
    assert ("stderr", "gateway: POST /v1/reports 202") in lines
    assert scan.scanned["s3-object-version"] >= len(report_keys) + 3 + 1 + 10  # reports, mail, export, tables
    assert scan.scanned["dynamodb-item"] >= 3  # tickets, requests, suppression entries
    assert scan.scanned["ses-sent-mail"] >= 2  # the acknowledgement and the export's reply
    assert scan.scanned["emf-record"] >= 10
    assert scan.scanned["log-line"] >= 40


# -- the scan can fail ------------------------------------------------------------------------------------
def test_the_scan_finds_a_canary_planted_in_each_place_and_form(
    stack: LocalStack, output: OutputCapture, tmp_path: Path
) -> None:
    # Given canaries written where a careless change would put them, each in another form
    s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
    reports, aggregates = os.environ["REPORTS_BUCKET"], os.environ["AGGREGATES_BUCKET"]
    # a gzip report object whose canary survives only in a noncurrent version (with a port)
    key = "reports/dt=2026-11-29/hr=09/planted.ndjson.gz"
    s3.put_object(Bucket=reports, Key=key, Body=gzip.compress(f'{{"ip":"{SOURCE_V4}:51234"}}\n'.encode()))
    s3.put_object(Bucket=reports, Key=key, Body=gzip.compress(b'{"ip":null}\n'))
    # a zstd-compressed Parquet table, large enough that the raw bytes do not show it
    table = tmp_path / "planted.parquet"
    with duckdb.connect() as connection:
        connection.execute(
            f"COPY (SELECT md5(i::VARCHAR) AS client FROM range(2000) t(i) UNION ALL SELECT '{SOURCE_V6}') "
            f"TO '{table}' (FORMAT parquet, COMPRESSION zstd)"
        )
    assert SOURCE_V6.encode() not in table.read_bytes()
    s3.put_object(Bucket=aggregates, Key="aggregates/planted.parquet", Body=table.read_bytes())
    # a DynamoDB item with the IPv6 address URL-encoded
    dynamodb.put_item(
        TableName=os.environ["PRIVACY_REQUESTS_TABLE"],
        Item={
            "request_id": {"S": "planted"},
            "referer": {"S": "https://x.test/?ip=2001%3Adb8%3Acafe%3A%3A77"},
        },
    )
    # a sent mail whose body is base64
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = os.environ["PRIVACY_MAIL_FROM"], SENDER, "Ack"
    message.set_content(f"We saw you at {FORWARDED_V4}.", cte="base64")
    assert FORWARDED_V4.encode() not in message.as_bytes()
    boto3.client("ses").send_raw_email(RawMessage={"Data": message.as_bytes()})
    # a function's log line, an EMF dimension (exploded IPv6) and a stdlib warning (the integer form)
    ingest_app.logger.info("request_seen", forwarded=FORWARDED_V4)
    with single_metric(name="Seen", unit=MetricUnit.Count, value=1, namespace="ceip") as metric:
        metric.add_dimension(name="client", value="2001:0db8:cafe:0000:0000:0000:0000:0077")
    logging.getLogger("ceip.planted").warning("client %s", 3405803853)  # int(203.0.113.77)

    # When everything is scanned
    scan = scan_everything(stack, output, *API_CANARIES)

    # Then each planted canary is found where it was put, in its form
    # (sent mails are numbered in moto's order: other tests in the process may have sent some before)
    found = {
        (re.sub(r"#\d+$", "", f.place.split("?versionId=")[0].split(": ")[0]), f.canary, f.form)
        for f in scan.findings
    }
    expected = {
        (f"s3://{reports}/{key}", SOURCE_V4, "text"),
        (f"s3://{aggregates}/aggregates/planted.parquet", SOURCE_V6, "text"),
        (f"dynamodb://{os.environ['PRIVACY_REQUESTS_TABLE']}/planted", SOURCE_V6, "url-encoded"),
        ("moto://ses/RawMessage", FORWARDED_V4, "text"),
        ("log-handler", FORWARDED_V4, "text"),
        ("stdout", SOURCE_V6, "exploded"),
        ("log-record", SOURCE_V4, "integer"),
    }
    assert expected <= found, sorted(found)
    # and the gzip canary is only in the old version, which the scan read as well
    versions = {f.place for f in scan.findings if f.place.startswith(f"s3://{reports}/{key}")}
    assert len(versions) == 1


# -- queues, dead-letter queues included ------------------------------------------------------------------
def stack_queues(stack: LocalStack) -> dict[str, str]:
    """Logical id -> local name of every queue the template declares."""
    return {lid: stack.template.physical_name(lid) for lid in stack.template.of_type("AWS::SQS::Queue")}


def test_a_mail_that_fails_every_attempt_leaves_its_identifiers_and_no_canary_in_any_queue(
    stack: LocalStack, output: OutputCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given filing fails for a mail whose headers carry the canaries, with an error that quotes them
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"cannot parse Received: from [{MAIL_V4}] ([{MAIL_V6}]) for <{SENDER}>")

    monkeypatch.setattr(privacy_app.intake, "receive", broken)
    raw = inbound_mail(subject="My data", body="Please delete my data.")
    message_id = new_message_id()
    key = inbound_key(message_id)
    boto3.client("s3").put_object(Bucket=os.environ["INBOX_BUCKET"], Key=key, Body=raw)
    event = ses_event(raw, message_id=message_id, received_at=datetime.now(UTC))
    assert MAIL_V4 in json.dumps(event)  # the event SES hands over carries them

    # When SES's asynchronous event is delivered as Lambda would: the first try and its two retries
    for _ in range(2):
        # (the error leaves the handler without its message: Lambda and the tracer log it)
        with pytest.raises(ValueError, match=r"^ValueError$"):
            privacy_app.lambda_handler(copy.deepcopy(event), LambdaContext("PrivacyFunction", 60))
    result = privacy_app.lambda_handler(copy.deepcopy(event), LambdaContext("PrivacyFunction", 60))
    assert result["dead_lettered"] == [message_id]

    # Then every queue of the stack is read, and the privacy dead-letter queue holds the one record
    scan = scan_everything(stack, output, *MAIL_CANARIES)
    queues = stack_queues(stack)
    assert set(scan.queues) == set(queues.values()) and len(queues) == 3
    assert scan.queues[queues["PrivacyDeadLetterQueue"]] == 1
    # and no mail canary is in any queue, table, log line (the failures' included) or metric: only in
    # the raw message itself
    places = {place.split("?versionId=", 1)[0] for place in scan.places(*MAIL_CANARIES)}
    assert places == {f"s3://{os.environ['INBOX_BUCKET']}/{key}"}, "\n".join(map(str, scan.findings))
    # and the record is what the team needs to find that raw message again
    sqs = boto3.client("sqs")
    url = stack.template.reference("PrivacyDeadLetterQueue")
    (letter,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(letter["Body"])
    assert (body["ses_message_id"], body["key"], body["attempts"], body["failure"]) == (
        message_id,
        key,
        3,
        "ValueError",
    )
    assert SENDER not in letter["Body"] and "Received" not in letter["Body"]


def test_the_scan_reads_every_message_of_every_queue_finds_a_planted_canary_and_consumes_nothing(
    stack: LocalStack, output: OutputCapture
) -> None:
    # Given a dead-letter queue with more messages than one receive returns, the canary in the last
    # (in the body as base64) and in a message attribute of another queue's only message
    sqs = boto3.client("sqs")
    queues = stack_queues(stack)
    privacy = stack.template.reference("PrivacyDeadLetterQueue")
    purge = stack.template.reference("PurgeDeadLetterQueue")
    for index in range(23):
        sqs.send_message(QueueUrl=privacy, MessageBody=json.dumps({"filler": index}))
    encoded = base64.b64encode(f'{{"Received": "from [{MAIL_V4}]"}}'.encode()).decode()
    assert MAIL_V4 not in encoded
    sqs.send_message(QueueUrl=privacy, MessageBody=encoded)
    sqs.send_message(
        QueueUrl=purge,
        MessageBody='{"action": "purge"}',
        MessageAttributes={"ErrorMessage": {"DataType": "String", "StringValue": f"from {MAIL_V6}"}},
    )

    # When everything is scanned
    scan = scan_everything(stack, output, *MAIL_CANARIES)

    # Then both canaries are found, in their queues and forms
    found = {(f.place.split("/")[2], f.canary, f.form) for f in scan.findings if f.place.startswith("sqs://")}
    assert (queues["PrivacyDeadLetterQueue"], MAIL_V4, "base64+0") in found or any(
        q == queues["PrivacyDeadLetterQueue"] and c == MAIL_V4 and form.startswith("base64")
        for q, c, form in found
    ), found
    assert (queues["PurgeDeadLetterQueue"], MAIL_V6, "text") in found, found
    # and every message was read
    assert scan.queues[queues["PrivacyDeadLetterQueue"]] == 24
    assert scan.queues[queues["PurgeDeadLetterQueue"]] == 1
    assert scan.queues[queues["AggregateDeadLetterQueue"]] == 0
    # and none was consumed: all are visible again at once
    attributes = sqs.get_queue_attributes(
        QueueUrl=privacy,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert (
        attributes["ApproximateNumberOfMessages"],
        attributes["ApproximateNumberOfMessagesNotVisible"],
    ) == (
        "24",
        "0",
    )
    again = Scan(tuple(Canary(a) for a in MAIL_CANARIES))
    scan_queues(again, sqs)
    assert again.queues == scan.queues
