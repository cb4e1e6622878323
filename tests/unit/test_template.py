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


def grants(template: Template, logical_id: str) -> set[tuple[str, str]]:
    """(action, resolved resource) pairs of a function's inline policy."""
    pairs = set()
    for statement in statements(template.resources[logical_id]):
        assert statement["Effect"] == "Allow"
        for action in as_list(statement["Action"]):
            for resource in as_list(template.resolve(statement["Resource"])):
                pairs.add((action, resource))
    return pairs


def test_ingest_may_put_raw_reports_and_check_suppression_but_not_list_or_read_reports(
    template: Template,
) -> None:
    assert grants(template, "IngestFunction") == {
        ("s3:PutObject", "arn:aws:s3:::ceip-local-reportsbucket/reports/*"),
        (
            "dynamodb:BatchGetItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-suppressiontable",
        ),
        ("secretsmanager:GetSecretValue", "ceip-local-machinekeysecret"),
    }


def test_privacy_requests_api_only_reads_and_files_requests(template: Template) -> None:
    tables = {
        f"arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-{name}"
        for name in ("privacyrequeststable", "suppressiontable")
    }
    assert grants(template, "PrivacyRequestsFunction") == {
        *((action, table) for action in ("dynamodb:GetItem", "dynamodb:PutItem") for table in tables),
        ("secretsmanager:GetSecretValue", "ceip-local-machinekeysecret"),
    }


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


def test_only_the_purge_may_rewrite_or_delete_reports(template: Template) -> None:
    rewriting = {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObjectVersion", "s3:ListBucketVersions"}
    for logical_id in template.of_type("AWS::Serverless::Function"):
        touching_reports = {
            action
            for action, resource in grants(template, logical_id)
            if "reportsbucket" in resource and "/purge-state/" not in resource
        }
        if logical_id != "PurgeFunction":
            assert not touching_reports & rewriting, logical_id
    purge = grants(template, "PurgeFunction")
    assert ("s3:DeleteObjectVersion", "arn:aws:s3:::ceip-local-reportsbucket/reports/*") in purge
    assert all("reportsbucket" in r or "table/" in r or "secret" in r for _, r in purge)


def test_purge_runs_daily_at_the_configured_hour_and_resumes_every_15_minutes(template: Template) -> None:
    (purge,) = [f for f in template.functions() if f.logical_id == "PurgeFunction"]
    expressions = {s["ScheduleExpression"] for s in purge.schedules}
    assert expressions == {"cron(0 3 * * ? *)", "rate(15 minutes)"}
