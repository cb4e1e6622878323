"""template.yaml: least privilege, no source IP in access logs, storage protections."""

from __future__ import annotations

from typing import Any

import pytest
from infra.local.template import Template


@pytest.fixture(scope="module")
def template() -> Template:
    return Template.load()


def statements(function: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and "Statement" in policy, "only inline policies, no managed ones"
        found.extend(policy["Statement"])
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_every_function_policy_names_actions_and_resources_without_wildcards(template: Template) -> None:
    for logical_id, function in template.of_type("AWS::Serverless::Function").items():
        for statement in statements(function):
            for action in as_list(statement["Action"]):
                assert "*" not in action, f"{logical_id}: wildcard action {action}"
            for resource in as_list(template.resolve(statement["Resource"])):
                assert resource != "*", f"{logical_id}: wildcard resource"


def test_ingest_may_only_put_raw_reports(template: Template) -> None:
    ingest = template.resources["IngestFunction"]
    (statement,) = statements(ingest)
    assert statement["Effect"] == "Allow"
    assert as_list(statement["Action"]) == ["s3:PutObject"]
    assert template.resolve(statement["Resource"]) == "arn:aws:s3:::ceip-local-reportsbucket/reports/*"


def test_access_log_format_has_no_address_or_header_fields(template: Template) -> None:
    api = template.resources["ReportsApi"]["Properties"]
    log_format = api["AccessLogSettings"]["Format"]
    for field in ("sourceIp", "identity", "x-forwarded-for", "header"):
        assert field.lower() not in log_format.lower()


def test_event_logging_is_off_for_every_function(template: Template) -> None:
    for function in template.functions():
        assert function.environment.get("POWERTOOLS_LOGGER_LOG_EVENT") == "false"


def test_reports_bucket_is_private_encrypted_tls_only_and_expires_raw_reports(template: Template) -> None:
    bucket = template.resources["ReportsBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRawReports"]["Prefix"] == "reports/"
    assert template.resolve(rules["ExpireRawReports"]["ExpirationInDays"]) == "90"
    policy = template.resources["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_every_log_group_has_a_retention(template: Template) -> None:
    groups = template.of_type("AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    for function in template.of_type("AWS::Serverless::Function").values():
        assert "LoggingConfig" in function["Properties"], "each function logs to a group with retention"


def test_functions_deploy_on_arm64_with_python_312_or_newer(template: Template) -> None:
    function_globals = template.body["Globals"]["Function"]
    assert function_globals["Architectures"] == ["arm64"]
    major, minor = function_globals["Runtime"].removeprefix("python").split(".")
    assert (int(major), int(minor)) >= (3, 12)
