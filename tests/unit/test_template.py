"""template.yaml: least privilege, no source IP in access logs, storage protections."""

from __future__ import annotations

import json
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


# ---------------------------------------------------------------- privacy inbox (PrivacyFunction)
def test_privacy_function_reads_and_retires_raw_mail_uses_its_table_and_sends_as_the_inbox(
    template: Template,
) -> None:
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-ticketstable"
    assert grants(template, "PrivacyFunction") == {
        ("s3:GetObject", "arn:aws:s3:::ceip-local-inboxbucket/inbox/*"),
        ("s3:DeleteObject", "arn:aws:s3:::ceip-local-inboxbucket/inbox/*"),
        *(
            (a, r)
            for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")
            for r in (table, f"{table}/index/ByStatus")
        ),
        ("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/example.com"),
    }
    (send,) = [
        s for s in statements(template.resources["PrivacyFunction"]) if s["Action"] == "ses:SendRawEmail"
    ]
    assert template.resolve(send["Condition"]["StringEquals"]["ses:FromAddress"]) == "privacy@example.com"


def test_privacy_function_environment_matches_its_settings(template: Template) -> None:
    from ceip.privacy.settings import read_settings

    (privacy,) = [f for f in template.functions() if f.logical_id == "PrivacyFunction"]
    settings = read_settings(privacy.environment)
    assert (settings.inbox_bucket, settings.tickets_table) == (
        "ceip-local-inboxbucket",
        "ceip-local-ticketstable",
    )
    assert (settings.mail_from, settings.internal_target_days, settings.closed_retention_days) == (
        "privacy@example.com",
        7,
        365,
    )
    assert [s["Input"] for s in privacy.schedules] == ['{"action": "retention"}']


def test_receipt_rule_stores_the_raw_message_first_then_invokes_the_function(template: Template) -> None:
    from ceip.storage.inbox_keys import INBOX_PREFIX

    rule = template.resolve(template.resources["PrivacyReceiptRule"]["Properties"]["Rule"])
    s3_action, lambda_action = rule["Actions"]
    assert s3_action["S3Action"] == {"BucketName": "ceip-local-inboxbucket", "ObjectKeyPrefix": INBOX_PREFIX}
    assert lambda_action["LambdaAction"]["InvocationType"] == "Event"
    assert rule["ScanEnabled"] is True and rule["Enabled"] is True
    assert rule["Recipients"] == ["privacy@example.com"]


def test_only_ses_of_this_account_may_invoke_the_function_or_write_the_inbox(template: Template) -> None:
    permission = template.resolve(template.resources["PrivacyFunctionSesPermission"]["Properties"])
    assert permission["Principal"] == "ses.amazonaws.com"
    assert permission["SourceAccount"] == "123456789012"
    # The rule's ARN, spelled from the names the rule set and the rule are given.
    rule = template.resolve(template.resources["PrivacyReceiptRule"]["Properties"]["Rule"])
    rule_set = template.resolve(template.resources["PrivacyReceiptRuleSet"]["Properties"]["RuleSetName"])
    rule_arn = f"arn:aws:ses:us-east-1:123456789012:receipt-rule-set/{rule_set}:receipt-rule/{rule['Name']}"
    assert permission["SourceArn"] == rule_arn
    policy = template.resolve(template.resources["InboxBucketPolicy"]["Properties"]["PolicyDocument"])
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"} and allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == "arn:aws:s3:::ceip-local-inboxbucket/inbox/*"
    assert allow["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    assert allow["Condition"]["ArnLike"]["aws:SourceArn"].startswith(
        "arn:aws:ses:us-east-1:123456789012:receipt-rule-set/ceip-local-privacy:"
    )
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_inbox_bucket_is_private_encrypted_and_expires_raw_mail(template: Template) -> None:
    bucket = template.resources["InboxBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["BucketKeyEnabled"] is True
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRawMessages"]["Prefix"] == "inbox/"
    assert template.resolve(rules["ExpireRawMessages"]["ExpirationInDays"]) == "1096"


def test_tickets_table_is_recoverable_encrypted_and_indexed_by_status(template: Template) -> None:
    table = template.resources["TicketsTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True
    assert "TimeToLiveSpecification" not in table
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByStatus"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["status", "status_since"]


def test_privacy_events_that_fail_their_retries_land_in_a_queue(template: Template) -> None:
    function = template.resources["PrivacyFunction"]["Properties"]
    assert function["DeadLetterQueue"]["Type"] == "SQS"
    assert template.resolve(function["DeadLetterQueue"]["TargetArn"]).endswith(
        ":ceip-local-privacydeadletterqueue"
    )


# ---------------------------------------------------------------- aggregation (AggregateFunction)
def test_aggregate_may_list_and_read_reports_and_write_only_the_aggregates_prefix(template: Template) -> None:
    assert grants(template, "AggregateFunction") == {
        ("s3:ListBucket", "arn:aws:s3:::ceip-local-reportsbucket"),
        ("s3:GetObject", "arn:aws:s3:::ceip-local-reportsbucket/reports/*"),
        ("s3:ListBucket", "arn:aws:s3:::ceip-local-aggregatesbucket"),
        ("s3:PutObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/*"),
        ("s3:DeleteObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/*"),
        ("s3:GetObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/internal/sketches/*"),
        ("dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-suppressiontable"),
        ("secretsmanager:GetSecretValue", "ceip-local-machinekeysecret"),
    }
    function = template.resources["AggregateFunction"]
    listings = [s for s in statements(function) if s["Action"] == "s3:ListBucket"]
    prefixes = sorted(s["Condition"]["StringLike"]["s3:prefix"] for s in listings)
    assert prefixes == ["aggregates/*", "reports/*"]


def test_aggregate_runs_daily_at_2_utc_for_the_scheduled_day_with_retries_and_a_dead_letter_queue(
    template: Template,
) -> None:
    (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    (schedule,) = function.schedules
    assert schedule["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert json.loads(schedule["Input"]) == {"scheduled_time": "<aws.scheduler.scheduled-time>"}
    assert schedule["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    queue = "arn:aws:sqs:us-east-1:123456789012:ceip-local-aggregatedeadletterqueue"
    assert schedule["DeadLetterConfig"]["Arn"] == queue
    properties = template.resources["AggregateFunction"]["Properties"]
    assert template.resolve(properties["DeadLetterQueue"]["TargetArn"]) == queue
    assert template.resources["AggregateDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    assert function.environment["PARTNER_MIN_MACHINES"] == "50"
    assert function.environment["AGGREGATES_BUCKET"] == "ceip-local-aggregatesbucket"


def test_aggregates_bucket_is_private_encrypted_tls_only_and_never_expires_tables(template: Template) -> None:
    bucket = template.resources["AggregatesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    assert not [r for r in rules if "ExpirationInDays" in r or "Expiration" in r]
    policy = template.resources["AggregatesBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    # the raw-report lifecycle lives on another bucket than the one the function writes tables to
    (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    assert function.environment["AGGREGATES_BUCKET"] != function.environment["REPORTS_BUCKET"]
