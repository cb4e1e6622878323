"""Create the resources template.yaml declares inside a moto server.

Every resource type of the template is either created here (CREATORS) or skipped with its reason
(SKIPPED); tests/unit/test_local_provision.py keeps the two lists complete.

Encryption: the data key, its alias, and every reference to it (bucket default encryption, table SSE,
queue and topic KmsMasterKeyId, the secret's KmsKeyId) are created as declared, but moto stores those
settings without enforcing them: nothing locally proves that a role may use the key. The key policy
and the kms statements are checked statically instead (tests/unit/test_template.py, checkov).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

import boto3

from infra.local.template import Template

Creator = Callable[[Template, str, dict[str, Any]], str]


def _kms_key(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """The key, under the local alias that stands for its (random) id in every resolved reference."""
    props = template.resolve(props)
    kms = boto3.client("kms")
    key_id = kms.create_key(
        Description=str(props.get("Description", logical_id)), Policy=json.dumps(props["KeyPolicy"])
    )["KeyMetadata"]["KeyId"]
    if props.get("EnableKeyRotation"):
        kms.enable_key_rotation(KeyId=key_id)
    alias = template.physical_name(logical_id)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return alias


def _kms_alias(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    props = template.resolve(props)
    kms = boto3.client("kms")
    key_id = kms.describe_key(KeyId=props["TargetKeyId"])["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=props["AliasName"], TargetKeyId=key_id)
    return str(props["AliasName"])


def _bucket(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    name = template.physical_name(logical_id)
    props = template.resolve(props)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=name)
    if props.get("VersioningConfiguration", {}).get("Status") == "Enabled":
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if "BucketEncryption" in props:
        # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault.
        rules = [
            {
                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                "BucketKeyEnabled": bool(rule.get("BucketKeyEnabled", False)),
            }
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        configuration: Any = {"Rules": rules}  # the template's values, not the stubs' TypedDicts
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=configuration)
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "LifecycleConfiguration" in props:
        lifecycle: Any = {"Rules": lifecycle_rules(props["LifecycleConfiguration"]["Rules"])}
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=lifecycle)
    return name


def lifecycle_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CloudFormation's lifecycle rules (resolved) in the S3 API's shape. Moto stores them and never
    applies them; the local stack holds them so that it is configured like the deployed one."""
    known = {"Id", "Status", "Prefix", "ExpirationInDays", "NoncurrentVersionExpiration"}
    converted = []
    for rule in rules:
        unknown = set(rule) - known - {"AbortIncompleteMultipartUpload"}
        if unknown:
            raise ValueError(f"lifecycle rule {rule.get('Id')}: no local translation for {sorted(unknown)}")
        api: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
        if "NoncurrentVersionExpiration" in rule:
            days = int(rule["NoncurrentVersionExpiration"]["NoncurrentDays"])
            api["NoncurrentVersionExpiration"] = {"NoncurrentDays": days}
        if "AbortIncompleteMultipartUpload" in rule:
            days = int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"])
            api["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": days}
        converted.append(api)
    return converted


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
    sse = props.get("SSESpecification")
    if sse and sse.get("SSEEnabled"):
        args["SSESpecification"] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS")}
        if "KMSMasterKeyId" in sse:
            args["SSESpecification"]["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
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
    props = template.resolve(props)
    attributes = {k: str(props[k]) for k in ("KmsMasterKeyId", "MessageRetentionPeriod") if k in props}
    boto3.client("sqs").create_queue(QueueName=name, Attributes=attributes)
    return name


def _topic(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    props = template.resolve(props)
    attributes = {"KmsMasterKeyId": str(props["KmsMasterKeyId"])} if "KmsMasterKeyId" in props else {}
    created = boto3.client("sns").create_topic(Name=template.physical_name(logical_id), Attributes=attributes)
    return str(created["TopicArn"])


_ALARM_NUMBERS = {"Period": int, "EvaluationPeriods": int, "DatapointsToAlarm": int, "Threshold": float}


def _alarm(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """The alarm as declared; nothing evaluates it locally, but its metrics and actions must resolve."""
    props = template.resolve(props)
    args: dict[str, Any] = {k: _ALARM_NUMBERS.get(k, lambda v: v)(v) for k, v in props.items()}
    for query in args.get("Metrics", []):
        if "MetricStat" in query:
            query["MetricStat"]["Period"] = int(query["MetricStat"]["Period"])
    name = template.physical_name(logical_id)
    boto3.client("cloudwatch").put_metric_alarm(AlarmName=name, **args)
    return name


def _secret(template: Template, logical_id: str, props: dict[str, Any]) -> str:
    """A generated secret, as CloudFormation's GenerateSecretString would make it."""
    name = template.physical_name(logical_id)
    length = int(props.get("GenerateSecretString", {}).get("PasswordLength", 32))
    value = props.get("SecretString") or secrets.token_urlsafe(length)[:length]
    extra = {"KmsKeyId": str(template.resolve(props["KmsKeyId"]))} if "KmsKeyId" in props else {}
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=value, **extra)
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
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SES::EmailIdentity": _email_identity,
    "AWS::SES::ReceiptRuleSet": _receipt_rule_set,
    "AWS::SES::ReceiptRule": _receipt_rule,
    "AWS::SNS::Topic": _topic,
    "AWS::CloudWatch::Alarm": _alarm,
}

SKIPPED: dict[str, str] = {
    "AWS::Serverless::Function": "runs in-process behind the local gateway (infra/local/gateway.py)",
    "AWS::Serverless::HttpApi": "the local gateway serves its routes",
    "AWS::Logs::LogGroup": "functions log to the console locally",
    "AWS::IAM::Role": "moto does not enforce IAM; policies are checked by tests/unit/test_template.py",
    "AWS::S3::BucketPolicy": "moto does not enforce bucket policies; they are checked statically",
    "AWS::Lambda::Permission": "SES inbound is played by `ceip privacy deliver`, which invokes in-process",
    "AWS::SNS::Subscription": "no mail leaves the machine",
}

# Created first: everything else may name them (the data key above all).
_FIRST = ("AWS::KMS::Key", "AWS::KMS::Alias")


def provision(template: Template) -> dict[str, str]:
    """Create every supported resource; returns logical id -> local physical name."""
    created: dict[str, str] = {}
    resources = sorted(
        template.resources.items(),
        key=lambda item: _FIRST.index(item[1]["Type"]) if item[1].get("Type") in _FIRST else len(_FIRST),
    )
    for logical_id, resource in resources:
        creator = CREATORS.get(resource.get("Type", ""))
        if creator is not None:
            created[logical_id] = creator(template, logical_id, resource.get("Properties", {}) or {})
    return created
