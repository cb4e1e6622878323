"""template.yaml: least privilege, no source IP in access logs, storage protections."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from infra.local.template import Template

from ceip.aggregate.settings import AggregateSettings
from ceip.aggregate.tables import ROLLING_WINDOWS
from ceip.storage import aggregate_keys

ROOT = Path(__file__).resolve().parents[2]
DATA_KEY = "arn:aws:kms:us-east-1:123456789012:alias/ceip-local-datakey"
"""The data key's ARN as the local stack resolves it (a local alias stands for moto's random key id)."""


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
        ("kms:GenerateDataKey", DATA_KEY),
        ("kms:Decrypt", DATA_KEY),
    }


def test_privacy_requests_api_only_reads_and_files_requests(template: Template) -> None:
    tables = {
        f"arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-{name}"
        for name in ("privacyrequeststable", "suppressiontable")
    }
    assert grants(template, "PrivacyRequestsFunction") == {
        *((action, table) for action in ("dynamodb:GetItem", "dynamodb:PutItem") for table in tables),
        ("secretsmanager:GetSecretValue", "ceip-local-machinekeysecret"),
        ("kms:Decrypt", DATA_KEY),
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
    # the purge's often-overwritten checkpoint leaves no pile of old versions
    assert rules["ExpireOldPurgeState"]["Prefix"] == "purge-state/"
    assert rules["ExpireOldPurgeState"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    policy = template.resources["ReportsBucketPolicy"]["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny and deny[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_every_log_group_has_a_retention(template: Template) -> None:
    groups = template.of_type("AWS::Logs::LogGroup")
    assert groups
    assert all("RetentionInDays" in g["Properties"] for g in groups.values())
    for function in template.of_type("AWS::Serverless::Function").values():
        assert "LoggingConfig" in function["Properties"], "each function logs to a group with retention"


def zip_functions(template: Template) -> dict[str, dict[str, Any]]:
    functions = template.of_type("AWS::Serverless::Function")
    return {lid: f for lid, f in functions.items() if f["Properties"].get("PackageType", "Zip") == "Zip"}


def test_functions_deploy_on_arm64_with_python_312_or_newer(template: Template) -> None:
    # Given the functions' shared settings and the zip functions
    function_globals = template.body["Globals"]["Function"]
    assert function_globals["Architectures"] == ["arm64"]
    # SAM refuses Runtime and Handler on an image function even from Globals
    assert not {"Runtime", "Handler"} & function_globals.keys()
    zips = zip_functions(template)
    assert zips.keys() == {"IngestFunction", "PrivacyRequestsFunction", "PurgeFunction", "PrivacyFunction"}
    runtimes = set()
    for logical_id, function in zips.items():
        # Then each zip function states its runtime, its code and a handler of the ceip package
        props = function["Properties"]
        assert props["CodeUri"] == "functions/", logical_id
        assert re.fullmatch(r"ceip\.[a-z_.]+\.lambda_handler", props["Handler"]), logical_id
        assert "Architectures" not in props, logical_id
        major, minor = props["Runtime"].removeprefix("python").split(".")
        assert (int(major), int(minor)) >= (3, 12), logical_id
        runtimes.add(props["Runtime"])
    # and they all run one Python, the one the aggregation image is built on (test_packaging.py)
    assert runtimes == {"python3.12"}


def test_the_aggregate_function_is_an_image_built_from_its_dockerfile_running_the_aggregate_handler(
    template: Template,
) -> None:
    # Given AggregateFunction, too big for a zip with OpenDP
    function = template.resources["AggregateFunction"]
    props, metadata = function["Properties"], function["Metadata"]
    # Then it is an image built from functions/aggregate.Dockerfile, with no zip-only property
    assert props["PackageType"] == "Image"
    assert not {"Runtime", "Handler", "CodeUri", "Layers", "Architectures"} & props.keys()
    assert (metadata["DockerContext"], metadata["Dockerfile"]) == ("./functions", "aggregate.Dockerfile")
    assert metadata["DockerTag"]
    dockerfile = ROOT / "functions" / metadata["Dockerfile"]
    assert dockerfile.is_file()
    # and the command the template gives is the image's own CMD, which the local stack runs in-process
    (cmd,) = [line for line in dockerfile.read_text(encoding="utf-8").splitlines() if line.startswith("CMD ")]
    assert props["ImageConfig"]["Command"] == json.loads(cmd.removeprefix("CMD "))
    (spec,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    assert spec.handler == "ceip.aggregate.app.lambda_handler"
    # and it keeps its checkov skips beside the image's build metadata
    assert {s["id"] for s in metadata["checkov"]["skip"]} == {"CKV_AWS_117", "CKV_AWS_173"}


def test_make_sam_build_excludes_exactly_the_image_functions(template: Template) -> None:
    # Given the functions `make sam-build` leaves to a machine with Docker
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (listed,) = re.findall(r"^IMAGE_FUNCTIONS := (.+)$", makefile, flags=re.MULTILINE)
    functions = template.of_type("AWS::Serverless::Function")
    # Then they are the template's image functions: every zip function is built, no image is attempted
    assert set(listed.split()) == set(functions) - zip_functions(template).keys() == {"AggregateFunction"}
    assert "$(addprefix --exclude ,$(IMAGE_FUNCTIONS))" in makefile


def test_the_local_stack_finds_every_handler_and_refuses_an_image_function_without_a_command() -> None:
    # Given one zip and one image function
    body = {
        "Resources": {
            "Zip": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "ceip.a.app.h"}},
            "Image": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"PackageType": "Image", "ImageConfig": {"Command": ["ceip.b.app.h"]}},
            },
        }
    }
    # Then their handlers are the Handler and the image's command
    assert {f.logical_id: f.handler for f in Template(body).functions()} == {
        "Zip": "ceip.a.app.h",
        "Image": "ceip.b.app.h",
    }
    # and an image function that names no command is an error, not a guess
    del body["Resources"]["Image"]["Properties"]["ImageConfig"]
    with pytest.raises(ValueError, match=r"ImageConfig\.Command"):
        Template(body).functions()


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
    assert all("reportsbucket" in r or "table/" in r or "secret" in r or r == DATA_KEY for _, r in purge)


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
        ("dynamodb:UpdateItem", table),
        ("ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/example.com"),
        (
            "dynamodb:UpdateItem",
            "arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-privacydeliveryattemptstable",
        ),
        ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:ceip-local-privacydeadletterqueue"),
        ("kms:Decrypt", DATA_KEY),
        ("kms:GenerateDataKey", DATA_KEY),
    }
    # UpdateItem only for the daily counters of automatic mail, never for a ticket
    (update,) = [
        s
        for s in statements(template.resources["PrivacyFunction"])
        if s["Action"] == "dynamodb:UpdateItem" and template.resolve(s["Resource"]) == table
    ]
    assert update["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CAP#*"]}}
    (send,) = [
        s for s in statements(template.resources["PrivacyFunction"]) if s["Action"] == "ses:SendRawEmail"
    ]
    assert template.resolve(send["Condition"]["StringEquals"]["ses:FromAddress"]) == "privacy@example.com"


def test_privacy_function_environment_matches_its_settings(template: Template) -> None:
    from ceip.privacy.settings import PrivacySettings

    (privacy,) = [f for f in template.functions() if f.logical_id == "PrivacyFunction"]
    settings = PrivacySettings.from_environment(privacy.environment)
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
    # Only the automatic-mail counters carry the TTL attribute (tickets never expire: the functional
    # tests check that no ticket or history item has it)
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "ByStatus"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["status", "status_since"]


def test_no_whole_ses_event_can_reach_a_queue_the_handler_sends_identifiers_on_the_last_attempt(
    template: Template, transformed: Template
) -> None:
    from ceip.privacy.settings import PrivacySettings

    # Given PrivacyFunction as declared and as SAM deploys it
    declared = template.resources["PrivacyFunction"]["Properties"]
    deployed = transformed.resources["PrivacyFunction"]["Properties"]
    # Then Lambda keeps no failed event anywhere: no dead-letter queue, no destination
    assert "DeadLetterQueue" not in declared and "DeadLetterConfig" not in deployed
    assert "DestinationConfig" not in declared["EventInvokeConfig"]
    invoke_configs = [
        c["Properties"]
        for c in transformed.of_type("AWS::Lambda::EventInvokeConfig").values()
        if c["Properties"]["FunctionName"] == {"Ref": "PrivacyFunction"}
    ]
    assert [bool(c.get("DestinationConfig")) for c in invoke_configs] == [False]  # SAM writes {}
    # and the handler gives up on the attempt after Lambda's last retry, into the privacy queue
    (privacy,) = [f for f in template.functions() if f.logical_id == "PrivacyFunction"]
    settings = PrivacySettings.from_environment(privacy.environment)
    assert settings.delivery_attempts == declared["EventInvokeConfig"]["MaximumRetryAttempts"] + 1 == 3
    assert settings.dead_letter_queue_url == (
        "https://sqs.us-east-1.amazonaws.com/123456789012/ceip-local-privacydeadletterqueue"
    )
    assert settings.delivery_attempts_table == "ceip-local-privacydeliveryattemptstable"
    # and the attempts table holds counts that expire
    table = template.resources["PrivacyDeliveryAttemptsTable"]["Properties"]
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["ses_message_id"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_every_other_lambda_dead_letter_receives_a_scheduler_input_without_personal_data(
    template: Template,
) -> None:
    # Given every function that keeps Lambda's own dead-letter queue (which stores the whole event)
    with_queue = {
        logical_id: function["Properties"]
        for logical_id, function in template.of_type("AWS::Serverless::Function").items()
        if "DeadLetterQueue" in function["Properties"]
    }
    assert with_queue.keys() == {"PurgeFunction", "AggregateFunction"}
    for logical_id, props in with_queue.items():
        # Then its only invokers are its schedules, whose inputs are fixed and name no person or machine
        inputs = [e["Properties"]["Input"] for e in props["Events"].values()]
        assert all(e["Type"] == "ScheduleV2" for e in props["Events"].values()), logical_id
        assert set(inputs) <= {
            '{"action": "purge"}',
            '{"action": "resume"}',
            '{"scheduled_time": "<aws.scheduler.scheduled-time>"}',
        }, logical_id
    # and no permission lets anything else invoke them
    permitted = {
        p["Properties"]["FunctionName"]["Ref"] for p in template.of_type("AWS::Lambda::Permission").values()
    }
    assert not permitted & with_queue.keys()


# ---------------------------------------------------------------- aggregation (AggregateFunction)
def test_aggregate_may_list_and_read_reports_and_write_only_the_aggregates_prefix(template: Template) -> None:
    assert grants(template, "AggregateFunction") == {
        ("s3:ListBucket", "arn:aws:s3:::ceip-local-reportsbucket"),
        ("s3:GetObject", "arn:aws:s3:::ceip-local-reportsbucket/reports/*"),
        ("s3:ListBucket", "arn:aws:s3:::ceip-local-aggregatesbucket"),
        ("s3:PutObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/*"),
        ("s3:DeleteObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/*"),
        ("s3:GetObject", "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/internal/sketches/*"),
        (
            "s3:GetObject",
            "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/manifest/dt=*/partner-release.json",
        ),
        (
            "s3:GetObject",
            "arn:aws:s3:::ceip-local-aggregatesbucket/aggregates/dictionary/products/*",
        ),
        ("dynamodb:Scan", "arn:aws:dynamodb:us-east-1:123456789012:table/ceip-local-suppressiontable"),
        ("secretsmanager:GetSecretValue", "ceip-local-machinekeysecret"),
        ("kms:GenerateDataKey", DATA_KEY),
        ("kms:Decrypt", DATA_KEY),
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
    assert template.resources["AggregateDeadLetterQueue"]["Properties"]["KmsMasterKeyId"] == {
        "Ref": "DataKey"
    }
    assert function.environment["AGGREGATES_BUCKET"] == "ceip-local-aggregatesbucket"


ANY_ABOVE_0 = "any MinValue above 0"
PARTNER_PARAMETERS: dict[str, tuple[str, str, Any, Any]] = {
    # parameter: (variable, default, MinValue, MaxValue or None for none); defaults are the settings' own
    "PartnerMinMachines": ("PARTNER_MIN_MACHINES", "50", 10, None),
    "PartnerEpsilon": ("PARTNER_EPSILON", "16", ANY_ABOVE_0, 100),
    "PartnerDelta": ("PARTNER_DELTA", "0.000001", ANY_ABOVE_0, 0.001),
    "BoundProductsPerMachine": ("BOUND_PRODUCTS_PER_MACHINE", "3", 1, 64),
    "BoundReportsPerMachine": ("BOUND_REPORTS_PER_MACHINE", "24", 1, 10_000),
    "BoundProblemsPerMachine": ("BOUND_PROBLEMS_PER_MACHINE", "16", 1, 256),
    "BoundFeaturesPerMachine": ("BOUND_FEATURES_PER_MACHINE", "48", 1, 256),
    "BoundHardwareFeaturesPerMachine": ("BOUND_HARDWARE_FEATURES_PER_MACHINE", "8", 1, 64),
    "BoundHitsPerProblem": ("BOUND_HITS_PER_PROBLEM", "20", 1, 1_000_000),
    "BoundUsesPerFeature": ("BOUND_USES_PER_FEATURE", "32", 1, 1_000_000),
    "CapProblemIds": ("CAP_PROBLEM_IDS", "10000", 1, 1_000_000),
    "CapFeatureIds": ("CAP_FEATURE_IDS", "2000", 1, 1_000_000),
    "CapHardwareFeatures": ("CAP_HARDWARE_FEATURES", "64", 1, 10_000),
}


SETTINGS_DEFAULTS = {field.alias: field.default for field in AggregateSettings.model_fields.values()}


def test_the_partner_release_parameters_reach_the_aggregate_function_with_their_defaults(
    template: Template,
) -> None:
    # Given the aggregation's environment as deployed with every parameter left at its default
    (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    environment = template.resources["AggregateFunction"]["Properties"]["Environment"]["Variables"]
    for parameter, (variable, default, low, high) in PARTNER_PARAMETERS.items():
        declared = template.body["Parameters"][parameter]
        # Then each parameter is a documented, bounded number passed as its variable
        assert declared["Type"] == "Number" and len(declared["Description"]) > 20, parameter
        assert environment[variable] == {"Ref": parameter}, variable
        assert function.environment[variable] == default, variable
        assert float(default) == float(SETTINGS_DEFAULTS[variable]), variable  # one default, two places
        # within its range (an epsilon or a delta need only stay above 0; K has a floor, no ceiling)
        assert 0 < float(declared["MinValue"]) <= float(default), parameter
        if low is not ANY_ABOVE_0:
            assert declared["MinValue"] == low, parameter
        assert declared.get("MaxValue") == high, parameter
        assert high is None or float(default) <= high, parameter
    # and the folding share that DP partition selection replaced is gone
    assert "PartnerFoldShare" not in template.body["Parameters"]
    assert "PARTNER_FOLD_SHARE" not in function.environment


def test_the_aggregate_settings_read_every_partner_variable_the_template_sets_with_the_same_default(
    template: Template,
) -> None:
    from ceip.aggregate.settings import AggregateSettings

    # Given the variables the settings model reads and those the template sets
    (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    read = {variable: name for name, variable in AggregateSettings.variables().items()}
    defaults = {variable: default for variable, default, _, _ in PARTNER_PARAMETERS.values()}
    settings = AggregateSettings.from_environment(function.environment)
    # Then wherever the model reads one, the template's default is the model's own default
    for variable, name in read.items():
        if variable in defaults:
            field = AggregateSettings.model_fields[name]
            assert float(defaults[variable]) == float(field.default), variable
            assert float(getattr(settings, name)) == float(defaults[variable]), variable


def test_aggregates_bucket_is_private_encrypted_tls_only_and_never_expires_tables(template: Template) -> None:
    bucket = template.resources["AggregatesBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = bucket.get("LifecycleConfiguration", {}).get("Rules", [])
    # the one expiring rule is the sketches' (issue 16), scoped to their prefix: no table ever expires
    expiring = [r for r in rules if "ExpirationInDays" in r or "Expiration" in r]
    assert [r["Prefix"] for r in expiring] == ["aggregates/internal/sketches/"]
    assert not [r for r in rules if "Prefix" not in r and ("ExpirationInDays" in r or "Expiration" in r)]
    policy = template.resources["AggregatesBucketPolicy"]["Properties"]["PolicyDocument"]
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"]["Bool"]["aws:SecureTransport"] == "false"
    # the raw-report lifecycle lives on another bucket than the one the function writes tables to
    (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
    assert function.environment["AGGREGATES_BUCKET"] != function.environment["REPORTS_BUCKET"]


def test_sketches_expire_after_the_longest_window_plus_a_margin_and_their_old_versions_a_day_later(
    template: Template,
) -> None:
    # Given the aggregates bucket's rules and the windows the sketches serve
    bucket = template.resources["AggregatesBucket"]["Properties"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    rule = rules["ExpireSketches"]
    longest = max(ROLLING_WINDOWS)
    # Then the rule covers exactly the sketches' prefix, after a parameter's days
    assert rule["Status"] == "Enabled"
    assert rule["Prefix"] == aggregate_keys.table_prefix("internal", aggregate_keys.SKETCHES_TABLE)
    assert rule["ExpirationInDays"] == {"Ref": "SketchRetentionDays"}
    parameter = template.body["Parameters"]["SketchRetentionDays"]
    # which can never be set so short that a window loses a day it needs, and defaults to a week more
    assert parameter["MinValue"] > longest
    assert parameter["Default"] == longest + 7
    assert int(template.resolve(rule["ExpirationInDays"])) == longest + 7
    # and a replaced or expired sketch does not linger for the tables' 30 days of versions
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1


def test_erasure_requests_have_their_own_lower_throttling_than_the_default_route(template: Template) -> None:
    # Given the privacy-requests function's routes and the API's default limits
    events = template.resources["PrivacyRequestsFunction"]["Properties"]["Events"]
    post = events["PostPrivacyRequest"]["Properties"]
    assert (post["Method"], post["Path"]) == ("POST", "/v1/privacy/requests")
    settings = post["RouteSettings"]
    # Then POST has limits of its own from parameters, lower than the default route's
    assert settings == {
        "ThrottlingBurstLimit": {"Ref": "PrivacyRequestsThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "PrivacyRequestsThrottlingRateLimit"},
    }
    limits = ("ThrottlingBurstLimit", "ThrottlingRateLimit")
    burst, rate = (int(template.resolve(settings[k])) for k in limits)
    assert (burst, rate) == (20, 10)
    assert burst < int(template.parameter("ThrottlingBurstLimit"))
    assert rate < int(template.parameter("ThrottlingRateLimit"))
    # and the status route (a read) keeps the default
    assert "RouteSettings" not in events["GetPrivacyRequest"]["Properties"]


def test_sam_puts_the_erasure_route_limits_on_the_stage_under_its_route_key(transformed: Template) -> None:
    (stage,) = transformed.of_type("AWS::ApiGatewayV2::Stage").values()
    route_settings = stage["Properties"]["RouteSettings"]
    assert set(route_settings) == {"POST /v1/privacy/requests"}
    assert route_settings["POST /v1/privacy/requests"] == {
        "ThrottlingBurstLimit": {"Ref": "PrivacyRequestsThrottlingBurstLimit"},
        "ThrottlingRateLimit": {"Ref": "PrivacyRequestsThrottlingRateLimit"},
    }
    default = stage["Properties"]["DefaultRouteSettings"]
    assert default["ThrottlingRateLimit"] == {"Ref": "ThrottlingRateLimit"}


# ---------------------------------------------------------------- every IAM policy (docs/security.md)
# Actions AWS authorizes only on "*": no narrower resource exists for them.
ACTIONS_ONLY_ON_ANY_RESOURCE: dict[str, str] = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions for sending segments",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions for telemetry",
    "xray:GetSamplingRules": "sampling rules are read account-wide",
    "xray:GetSamplingTargets": "sampling targets are read account-wide",
    "xray:GetSamplingStatisticSummaries": "sampling statistics are read account-wide",
    "cloudwatch:PutMetricData": "metrics have no ARN; a cloudwatch:namespace condition narrows it instead",
}
# AWS managed policies SAM attaches to the roles it generates (their statements are not in the template).
MANAGED_POLICIES: dict[str, str] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "SAM attaches it to every function role: logs:CreateLogStream/PutLogEvents into the function's "
        "log group (LoggingConfig names our group, encrypted and with retention)"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "SAM attaches it for Tracing: Active; its actions are all in ACTIONS_ONLY_ON_ANY_RESOURCE"
    ),
}


def policy_documents(body: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(where, kind, document) of every policy a template declares: function and role policies, trust
    policies, bucket, queue and topic policies, key policies."""
    found: list[tuple[str, str, dict[str, Any]]] = []
    for logical_id, resource in body["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Serverless::Function":
            for policy in props.get("Policies", []):
                assert isinstance(policy, dict) and "Statement" in policy, (
                    f"{logical_id}: inline policies only"
                )
                found.append((logical_id, "identity", policy))
        elif kind == "AWS::IAM::Role":
            found.append((logical_id, "trust", props["AssumeRolePolicyDocument"]))
            found.extend((logical_id, "identity", p["PolicyDocument"]) for p in props.get("Policies", []))
        elif kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy"):
            found.append((logical_id, "resource", props["PolicyDocument"]))
        elif kind == "AWS::KMS::Key":
            found.append((logical_id, "key", props["KeyPolicy"]))
        elif kind == "AWS::IAM::Policy" or kind == "AWS::IAM::ManagedPolicy":
            found.append((logical_id, "identity", props["PolicyDocument"]))
    return found


def too_broad(resource: Any) -> bool:
    """True for "*" and for ARNs that leave the account, the region or the resource name open."""
    if not isinstance(resource, str):
        return False
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return False
    region, account, name = parts[3], parts[4], parts[5]
    # "table/*", "function:*": every resource of a type
    return "*" in (region, account, name) or re.fullmatch(r"[A-Za-z-]+[/:]\*", name) is not None


def wildcard_findings(template: Template) -> list[str]:
    findings = []
    for where, kind, document in policy_documents(template.body):
        for statement in as_list(document["Statement"]):
            if statement["Effect"] == "Deny":
                continue  # a broader deny only denies more
            principal = statement.get("Principal")
            if principal == "*" or (isinstance(principal, dict) and "*" in as_list(principal.get("AWS", []))):
                findings.append(f"{where}: allows any principal")
            actions = as_list(statement.get("Action", []))
            findings += [f"{where}: wildcard action {a}" for a in actions if "*" in a]
            if kind in ("trust", "key"):
                continue  # a trust policy has no Resource; in a key policy "*" means this key
            for resource in as_list(template.resolve(statement.get("Resource", []))):
                if too_broad(resource) and not set(actions) <= ACTIONS_ONLY_ON_ANY_RESOURCE.keys():
                    findings.append(f"{where}: {actions} on {resource}")
    return findings


def test_no_policy_in_the_template_allows_a_wildcard_action_or_a_resource_broader_than_needed(
    template: Template,
) -> None:
    documents = policy_documents(template.body)
    kinds = {kind for _, kind, _ in documents}
    assert kinds == {"identity", "trust", "resource", "key"}, "every kind of policy is looked at"
    assert wildcard_findings(template) == []


@pytest.mark.parametrize(
    ("statement", "finding"),
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/k"}, "wildcard action s3:*"),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, "on *"),
        (
            {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "arn:aws:dynamodb:r:1:table/*"},
            "table/*",
        ),
        ({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:*:1:key/k"}, "kms:*:1"),
        (
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"},
            "any",
        ),
    ],
)
def test_the_wildcard_check_catches_what_it_is_for(statement: dict[str, Any], finding: str) -> None:
    # Given a template with one over-broad statement
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Policies": [{"Version": "2012-10-17", "Statement": [statement]}]},
            }
        }
    }
    # When it is checked, Then the statement is reported
    (reported,) = wildcard_findings(Template(body))
    assert finding in reported


def test_actions_that_only_take_any_resource_are_allowed_on_it_and_nothing_else_is() -> None:
    statement = {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}
    body = {
        "Resources": {
            "R": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {"Statement": []},
                    "Policies": [{"PolicyName": "p", "PolicyDocument": {"Statement": [statement]}}],
                },
            }
        }
    }
    assert wildcard_findings(Template(body)) == []
    statement["Action"].append("s3:GetObject")
    assert len(wildcard_findings(Template(body))) == 1


@pytest.fixture(scope="module")
def transformed() -> Template:
    """The template after SAM's transform (tools/sam_transform.py in .tools/sam, which `make lint` builds;
    CEIP_SAM_PYTHON names another interpreter with aws-sam-translator, say a checkout's that shares one)."""
    python = Path(os.environ.get("CEIP_SAM_PYTHON") or ROOT / ".tools" / "sam" / "bin" / "python")
    if not python.exists():
        pytest.skip("no .tools/sam: run `make sam-transform` (make test builds it) to check SAM's roles")
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run(
        [str(python), str(ROOT / "tools" / "sam_transform.py"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    return Template(json.loads(done.stdout))


def test_the_roles_sam_generates_add_no_wildcard_and_only_known_managed_policies(
    transformed: Template,
) -> None:
    # Given the deployed shape of the stack: a role per function, per schedule, with SAM's own statements
    roles = transformed.of_type("AWS::IAM::Role")
    assert len(roles) >= len(transformed.of_type("AWS::Lambda::Function"))
    # Then none of their inline statements is broader than the template's own
    assert wildcard_findings(transformed) == []
    # And the only managed policies are the two SAM attaches, each with its reason above
    attached = {arn for role in roles.values() for arn in role["Properties"].get("ManagedPolicyArns", [])}
    resolved = {transformed.resolve(arn) for arn in attached}
    assert resolved <= MANAGED_POLICIES.keys(), resolved - MANAGED_POLICIES.keys()


def test_lambda_and_scheduler_may_encrypt_into_every_dead_letter_queue_they_send_to(
    transformed: Template,
) -> None:
    roles = transformed.of_type("AWS::IAM::Role")

    def allowed(role_id: str) -> set[tuple[str, str]]:
        pairs = set()
        for policy in roles[role_id]["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                for action in as_list(statement["Action"]):
                    for resource in as_list(transformed.resolve(statement["Resource"])):
                        pairs.add((action, resource))
        return pairs

    senders: list[tuple[str, str]] = []  # (role, queue ARN)
    for function in transformed.of_type("AWS::Lambda::Function").values():
        props = function["Properties"]
        if "DeadLetterConfig" in props:
            senders.append(
                (props["Role"]["Fn::GetAtt"][0], transformed.resolve(props["DeadLetterConfig"]["TargetArn"]))
            )
    for schedule in transformed.of_type("AWS::Scheduler::Schedule").values():
        target = schedule["Properties"]["Target"]
        if "DeadLetterConfig" in target:
            senders.append(
                (target["RoleArn"]["Fn::GetAtt"][0], transformed.resolve(target["DeadLetterConfig"]["Arn"]))
            )
    # PrivacyFunction has none: its handler sends its own dead letters (test above, grants test).
    assert len(senders) == 4, "purge and aggregate functions; daily purge and aggregation schedules"
    for role_id, queue in senders:
        grants_of_role = allowed(role_id)
        assert ("sqs:SendMessage", queue) in grants_of_role, role_id
        assert {("kms:GenerateDataKey", DATA_KEY), ("kms:Decrypt", DATA_KEY)} <= grants_of_role, role_id


# ---------------------------------------------------------------- one customer-managed key
def test_one_rotating_customer_managed_key_encrypts_everything_the_stack_stores(template: Template) -> None:
    (key_id,) = template.of_type("AWS::KMS::Key")
    key = template.resources[key_id]["Properties"]
    assert key["EnableKeyRotation"] is True
    aliases = [a["Properties"] for a in template.of_type("AWS::KMS::Alias").values()]
    assert [a["TargetKeyId"] for a in aliases] == [{"Ref": key_id}]
    key_refs = ({"Ref": key_id}, {"Fn::GetAtt": [key_id, "Arn"]})

    def encrypted(kind: str, path: tuple[str, ...]) -> None:
        resources = template.of_type(kind)
        assert resources, kind
        for logical_id, resource in resources.items():
            value: Any = resource["Properties"]
            for step in path:
                value = value[0] if isinstance(value, list) else value
                value = value.get(step)
            assert value in key_refs, f"{logical_id} is not encrypted with {key_id}"

    encrypted(
        "AWS::S3::Bucket",
        (
            "BucketEncryption",
            "ServerSideEncryptionConfiguration",
            "ServerSideEncryptionByDefault",
            "KMSMasterKeyID",
        ),
    )
    encrypted("AWS::DynamoDB::Table", ("SSESpecification", "KMSMasterKeyId"))
    encrypted("AWS::SQS::Queue", ("KmsMasterKeyId",))
    encrypted("AWS::SNS::Topic", ("KmsMasterKeyId",))
    encrypted("AWS::SecretsManager::Secret", ("KmsKeyId",))
    encrypted("AWS::Logs::LogGroup", ("KmsKeyId",))


def test_the_key_policy_admits_the_account_and_three_services_each_bound_to_what_it_writes(
    template: Template,
) -> None:
    policy = template.resolve(template.resources["DataKey"]["Properties"]["KeyPolicy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    root = {"AWS": "arn:aws:iam::123456789012:root"}
    # The account administers the key; its principals use it only through IAM policies.
    assert by_sid["AccountAdministersKey"]["Principal"] == root
    assert not {"kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"} & set(
        by_sid["AccountAdministersKey"]["Action"]
    )
    assert by_sid["NamedRolesUseKey"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    grants_ = by_sid["DynamoDbGrantsForTables"]
    assert grants_["Condition"]["StringEquals"]["kms:ViaService"] == "dynamodb.us-east-1.amazonaws.com"
    assert grants_["Condition"]["Bool"]["kms:GrantIsForAWSResource"] is True
    services = {
        s["Principal"]["Service"]: s["Condition"] for s in policy["Statement"] if "Service" in s["Principal"]
    }
    assert services.keys() == {
        "logs.us-east-1.amazonaws.com",
        "ses.amazonaws.com",
        "cloudwatch.amazonaws.com",
    }
    logs_context = services["logs.us-east-1.amazonaws.com"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert logs_context == "arn:aws:logs:us-east-1:123456789012:log-group:*"
    assert services["ses.amazonaws.com"]["StringEquals"] == {
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "aws:SourceAccount": "123456789012",
    }
    assert services["cloudwatch.amazonaws.com"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


CRYPTO_ACTIONS = {
    "kms:Decrypt",
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:CreateGrant",
}
ROLE = "arn:aws:iam::123456789012:role/"


def key_statements(template: Template) -> list[dict[str, Any]]:
    policy = template.resolve(template.resources["DataKey"]["Properties"]["KeyPolicy"])
    return list(policy["Statement"])


def decrypting_roles(template: Template) -> list[str]:
    """The role ARNs (patterns) the key policy lets decrypt; every other statement that allows kms:Decrypt
    must be a service's, bound by a condition."""
    roles: list[str] = []
    for statement in key_statements(template):
        actions = set(as_list(statement["Action"]))
        assert not any(a.endswith("*") for a in actions), statement["Sid"]
        if statement["Effect"] != "Allow" or "kms:Decrypt" not in actions:
            continue
        principal = statement["Principal"]
        if "Service" in principal:
            assert statement["Condition"], statement["Sid"]
            continue
        assert principal == {"AWS": "arn:aws:iam::123456789012:root"}, statement["Sid"]
        assert set(statement["Condition"]) == {"ArnLike"}, statement["Sid"]
        (names,) = statement["Condition"]["ArnLike"].values()
        assert list(statement["Condition"]["ArnLike"]) == ["aws:PrincipalArn"]
        roles.extend(as_list(names))
    return roles


def test_only_the_stacks_roles_decrypt_with_the_key_and_no_person_by_default(template: Template) -> None:
    # Given the key policy with the template's defaults (no privacy-team or operator role)
    roles = decrypting_roles(template)
    # Then Decrypt goes to the function and schedule roles of this stack and its export link signer only,
    # each by its own name
    assert sorted(roles) == sorted(
        f"{ROLE}ceip-local-{name}Role-*"
        for name in (
            "ExportLinkSigner",
            "IngestFunction",
            "PrivacyRequestsFunction",
            "PurgeFunction",
            "AggregateFunction",
            "PrivacyFunction",
            "PurgeSchedule",
            "AggregateSchedule",
        )
    )
    assert not any(r.endswith(":root") or r == "" for r in roles)
    # and the account's administrators keep the key manageable without any cryptographic action
    (admin,) = [s for s in key_statements(template) if s["Sid"] == "AccountAdministersKey"]
    assert {"kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:ScheduleKeyDeletion"} <= set(admin["Action"])
    assert not CRYPTO_ACTIONS & set(admin["Action"])
    # and the one other account-wide statement is DynamoDB's grants for its tables, nothing to decrypt with
    root = [
        s for s in key_statements(template) if s["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    ]
    assert sorted(s["Sid"] for s in root) == [
        "AccountAdministersKey",
        "DynamoDbGrantsForTables",
        "NamedRolesUseKey",
    ]


def test_the_privacy_team_and_operator_roles_decrypt_when_named(template: Template) -> None:
    # Given a deployment naming the two roles
    team, operator = f"{ROLE}ceip-privacy-team", f"{ROLE}ops/ceip-operator"
    named = template.with_parameters({"PrivacyTeamRoleArn": team, "OperatorRoleArn": operator})
    # Then both, and only they, join the stack's roles
    assert set(decrypting_roles(named)) - set(decrypting_roles(template)) == {team, operator}
    assert len(decrypting_roles(named)) == len(decrypting_roles(template)) + 2
    # and each parameter accepts a role ARN only
    for name in ("PrivacyTeamRoleArn", "OperatorRoleArn"):
        pattern = template.body["Parameters"][name]["AllowedPattern"]
        assert re.fullmatch(pattern, team) and re.fullmatch(pattern, "")
        assert not re.fullmatch(pattern, "arn:aws:iam::123456789012:root")
        assert not re.fullmatch(pattern, "arn:aws:iam::123456789012:user/alex")


def test_the_key_policy_names_exactly_the_roles_sam_and_the_template_give_a_kms_statement(
    template: Template, transformed: Template
) -> None:
    # Given every role of the deployed stack whose own policy uses the data key
    users = set()
    for logical_id, role in transformed.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in as_list(policy["PolicyDocument"]["Statement"]):
                if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                    users.add(logical_id)
    # Then the key policy names each of them by its generated name, and no other role of the stack
    assert {f"{ROLE}ceip-local-{logical_id}-*" for logical_id in users} == set(decrypting_roles(template))
    # and each such name fits IAM's 64 characters untruncated for a stack name of 22 characters
    assert max(len(f"{'s' * 22}-{logical_id}-") + 13 for logical_id in users) <= 64


KMS_NEEDS = {
    # GenerateDataKey: S3 puts, SQS dead letters; Decrypt: S3 gets, the secret, SQS dead letters.
    "IngestFunction": {"kms:GenerateDataKey", "kms:Decrypt"},
    "PrivacyRequestsFunction": {"kms:Decrypt"},
    "PurgeFunction": {"kms:GenerateDataKey", "kms:Decrypt"},
    "AggregateFunction": {"kms:GenerateDataKey", "kms:Decrypt"},
    "PrivacyFunction": {"kms:GenerateDataKey", "kms:Decrypt"},
}


def test_each_function_may_use_the_data_key_only_for_what_it_needs(template: Template) -> None:
    functions = template.of_type("AWS::Serverless::Function")
    assert functions.keys() == KMS_NEEDS.keys()
    for logical_id in functions:
        kms = {(a, r) for a, r in grants(template, logical_id) if a.startswith("kms:")}
        assert kms == {(action, DATA_KEY) for action in KMS_NEEDS[logical_id]}, logical_id


# ---------------------------------------------------------------- storage protections
def test_every_bucket_is_private_tls_only_and_uses_s3_bucket_keys(template: Template) -> None:
    policies = {
        p["Properties"]["Bucket"]["Ref"]: p["Properties"]["PolicyDocument"]
        for p in template.of_type("AWS::S3::BucketPolicy").values()
    }
    for logical_id, bucket in template.of_type("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}, logical_id
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms", logical_id
        assert rule["BucketKeyEnabled"] is True, logical_id
        assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        deny = [s for s in policies[logical_id]["Statement"] if s.get("Sid") == "DenyInsecureTransport"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, logical_id


def test_every_table_is_recoverable_to_a_point_in_time(template: Template) -> None:
    for logical_id, table in template.of_type("AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, logical_id
        assert props["SSESpecification"]["SSEType"] == "KMS", logical_id


def test_replaced_aggregate_tables_stay_recoverable_for_30_days(template: Template) -> None:
    bucket = template.resources["AggregatesBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireReplacedTables"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30


def test_one_pass_at_a_time_for_the_purge_and_the_aggregation(template: Template) -> None:
    for logical_id in ("PurgeFunction", "AggregateFunction"):
        assert template.resources[logical_id]["Properties"]["ReservedConcurrentExecutions"] == 1


# ---------------------------------------------------------------- alarms
def alarm_targets(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """(metric name, dimension value) -> alarm properties, for single-metric alarms."""
    found = {}
    for alarm in template.of_type("AWS::CloudWatch::Alarm").values():
        props = template.resolve(alarm["Properties"])
        if "MetricName" in props:
            (dimension,) = props["Dimensions"]
            found[(props["MetricName"], dimension["Value"])] = props
    return found


def test_every_function_has_an_errors_and_a_throttles_alarm(template: Template) -> None:
    targets = alarm_targets(template)
    for logical_id in template.of_type("AWS::Serverless::Function"):
        name = template.physical_name(logical_id)
        for metric in ("Errors", "Throttles"):
            alarm = targets[(metric, name)]
            assert (alarm["Namespace"], alarm["Statistic"]) == ("AWS/Lambda", "Sum"), (logical_id, metric)
            assert alarm["ComparisonOperator"] == "GreaterThanThreshold" and alarm["Threshold"] == 0


def public_functions(template: Template) -> set[str]:
    """Functions reachable from outside the stack: behind the HTTP API, or invokable by a service
    through a permission (SES's receipt rule)."""
    behind_api = {
        logical_id
        for logical_id, function in template.of_type("AWS::Serverless::Function").items()
        if any(e["Type"] == "HttpApi" for e in function["Properties"].get("Events", {}).values())
    }
    permitted = {
        p["Properties"]["FunctionName"]["Ref"] for p in template.of_type("AWS::Lambda::Permission").values()
    }
    return behind_api | permitted


def test_each_public_function_has_its_reserved_concurrency_as_a_documented_parameter(
    template: Template,
) -> None:
    # Given the functions reachable from outside
    public = public_functions(template)
    assert public == {"IngestFunction", "PrivacyRequestsFunction", "PrivacyFunction"}
    parameters = template.body["Parameters"]
    reserved = {}
    for logical_id in public:
        # Then each reserves concurrency from a parameter of its own, with bounds and a description
        value = template.resources[logical_id]["Properties"]["ReservedConcurrentExecutions"]
        assert set(value) == {"Ref"}, logical_id
        parameter = parameters[value["Ref"]]
        assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1, logical_id
        assert len(parameter["Description"]) > 40, logical_id
        reserved[logical_id] = int(parameter["Default"])
    assert (
        len({template.resources[f]["Properties"]["ReservedConcurrentExecutions"]["Ref"] for f in public}) == 3
    )
    # and the defaults keep ingest's room for the API's steady rate and leave the account's unreserved
    # minimum (100 of the default 1000), the purge's and the aggregation's one each included
    assert reserved["IngestFunction"] >= int(parameters["ThrottlingRateLimit"]["Default"])
    assert reserved["PrivacyRequestsFunction"] >= int(
        parameters["PrivacyRequestsThrottlingBurstLimit"]["Default"]
    )
    assert sum(reserved.values()) + 2 <= 1000 - 100
    # and a flood of mail is capped below the API functions' share
    assert reserved["PrivacyFunction"] < reserved["PrivacyRequestsFunction"] < reserved["IngestFunction"]


def test_each_public_function_alarms_on_any_throttle_into_the_alarm_topic(template: Template) -> None:
    targets = alarm_targets(template)
    for logical_id in public_functions(template):
        alarm = targets[("Throttles", template.physical_name(logical_id))]
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Period"]) == ("AWS/Lambda", "Sum", 300)
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0), logical_id
        assert alarm["AlarmActions"] == [template.reference("AlarmTopic")], logical_id


def test_an_event_the_privacy_function_drops_without_a_dead_letter_alarms(template: Template) -> None:
    alarm = alarm_targets(template)[("AsyncEventsDropped", template.physical_name("PrivacyFunction"))]
    assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == ("AWS/Lambda", "Sum", 0)
    assert alarm["AlarmActions"] == [template.reference("AlarmTopic")]


def test_every_dead_letter_queue_alarms_as_soon_as_it_holds_a_message(template: Template) -> None:
    targets = alarm_targets(template)
    for logical_id in template.of_type("AWS::SQS::Queue"):
        alarm = targets[("ApproximateNumberOfMessagesVisible", template.physical_name(logical_id))]
        assert (alarm["Namespace"], alarm["Statistic"], alarm["Threshold"]) == ("AWS/SQS", "Maximum", 0)


def test_the_api_alarms_on_its_5xx_rate_not_its_5xx_count(template: Template) -> None:
    alarm = template.resolve(template.resources["ApiServerErrorRateAlarm"]["Properties"])
    queries = {q["Id"]: q for q in alarm["Metrics"]}
    assert [q["Id"] for q in alarm["Metrics"] if q["ReturnData"]] == ["rate"]
    assert "errors / requests" in queries["rate"]["Expression"]
    for query_id, metric in (("errors", "5xx"), ("requests", "Count")):
        stat = queries[query_id]["MetricStat"]
        assert stat["Metric"]["MetricName"] == metric and stat["Stat"] == "Sum"
        assert stat["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": "ceip-local-reportsapi"}]


def test_every_alarm_notifies_the_encrypted_topic_and_mail_is_optional(template: Template) -> None:
    topic = template.reference("AlarmTopic")
    for logical_id, alarm in template.of_type("AWS::CloudWatch::Alarm").items():
        props = template.resolve(alarm["Properties"])
        assert props["AlarmActions"] == [topic] and props["OKActions"] == [topic], logical_id
    (subscription,) = template.of_type("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail"
    assert template.body["Conditions"]["HasAlarmEmail"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]
    }
    assert template.parameter("AlarmEmail") == ""


# ---------------------------------------------------------------- checkov skips
def test_every_checkov_skip_gives_a_one_line_reason_and_is_documented(template: Template) -> None:
    security = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    skips = [
        (logical_id, skip)
        for logical_id, resource in template.resources.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips
    for logical_id, skip in skips:
        assert skip["id"].startswith("CKV_"), logical_id
        comment = skip.get("comment", "")
        assert 20 <= len(comment) <= 120 and "\n" not in comment, (logical_id, skip["id"])
        assert skip["id"] in security, f"docs/security.md does not explain {skip['id']}"


def test_every_parameter_has_a_row_in_the_readme_configuration_table(template: Template) -> None:
    # Given the README's table of template parameters
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([A-Za-z0-9]+)` \| ([^|]+) \|", readme, flags=re.MULTILINE)
    documented = {name: default.strip() for name, default in rows}
    # Then each parameter has a row, with the template's default
    for name, declared in template.body["Parameters"].items():
        assert name in documented, f"README.md's configuration table has no row for {name}"
        assert documented[name] == (str(declared.get("Default", "")) or "(empty)"), name
