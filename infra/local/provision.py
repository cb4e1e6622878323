"""Create the resources template.yaml declares inside a moto server.

Only the resource types the local stack can emulate are created; the rest (API, log groups, alarms,
IAM) have no local meaning and are listed as skipped.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import boto3

from infra.local.template import Template

Creator = Callable[[Template, str, dict[str, Any]], str]


def _bucket(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    name = template.physical_name(logical_id)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def _table(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    name = template.physical_name(logical_id)
    props = template.resolve(props)
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = [
            {k: v for k, v in index.items() if k in ("IndexName", "KeySchema", "Projection")}
            for index in props["GlobalSecondaryIndexes"]
        ]
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]}
        )
    return name


def _queue(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    name = template.physical_name(logical_id)
    boto3.client("sqs").create_queue(QueueName=name)
    return name


def _secret(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """A generated secret, as CloudFormation's GenerateSecretString would make it."""
    name = template.physical_name(logical_id)
    length = int(props.get("GenerateSecretString", {}).get("PasswordLength", 32))
    value = props.get("SecretString") or secrets.token_urlsafe(length)[:length]
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=value)
    return name


def _email_identity(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """A verified SES identity (moto refuses to send from any other)."""
    identity = str(template.resolve(props["EmailIdentity"]))
    ses = boto3.client("ses")
    if "@" in identity:
        ses.verify_email_identity(EmailAddress=identity)
    else:
        ses.verify_domain_identity(Domain=identity)
    return identity


def _receipt_rule_set(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    name = template.physical_name(logical_id)
    boto3.client("ses").create_receipt_rule_set(RuleSetName=name)
    return name


def _receipt_rule(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """The rule with the actions moto can check. Moto has no inbound mail: `ceip privacy deliver` plays
    the rule locally (S3 action, then the Lambda action in-process), so the Lambda action is left out."""
    props = template.resolve(props)
    rule: Any = dict(props["Rule"])
    rule["Actions"] = [a for a in rule.get("Actions", []) if "LambdaAction" not in a]
    boto3.client("ses").create_receipt_rule(RuleSetName=props["RuleSetName"], Rule=rule)
    return str(rule["Name"])


CREATORS: dict[str, Creator] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SES::ReceiptRuleSet": _receipt_rule_set,
    "AWS::SES::ReceiptRule": _receipt_rule,
}


def provision(template: Template) -> dict[str, str]:
    """Create every supported resource; returns logical id -> local physical name."""
    created: dict[str, str] = {}
    for logical_id, resource in template.resources.items():
        creator = CREATORS.get(resource.get("Type", ""))
        if creator is not None:
            created[logical_id] = creator(template, logical_id, resource.get("Properties", {}) or {})
    return created
