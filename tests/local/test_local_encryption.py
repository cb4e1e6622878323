"""The local stack creates the data key and points every store at it, as template.yaml declares.

Moto records these settings without enforcing them (see infra/local/provision.py): these tests prove the
local stack is provisioned like the real one, not that KMS permissions hold.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from infra.local.template import Template

from ceip.storage.exports import S3ExportWriter
from tests.local.conftest import RunningStack

pytestmark = pytest.mark.local

KEY_ALIAS = "alias/ceip-local-datakey"


def client(stack: RunningStack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=stack.state["endpoint"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_the_data_key_exists_rotates_and_has_the_template_alias(local_stack: RunningStack) -> None:
    kms = client(local_stack, "kms")
    key_id = kms.describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["KeyId"]
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases(KeyId=key_id)["Aliases"]}
    assert aliases == {KEY_ALIAS: key_id, "alias/ceip-local/data": key_id}


def test_every_bucket_defaults_to_sse_kms_with_the_data_key_and_blocks_public_access(
    local_stack: RunningStack,
) -> None:
    s3 = client(local_stack, "s3")
    buckets = [name for key, name in local_stack.state["resources"].items() if key.endswith("Bucket")]
    assert len(buckets) == 4
    for bucket in buckets:
        (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"].endswith(KEY_ALIAS)
        assert rule["BucketKeyEnabled"] is True
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert set(block.values()) == {True}


def test_tables_and_queues_name_the_data_key(local_stack: RunningStack) -> None:
    resources = local_stack.state["resources"]
    dynamodb, sqs = client(local_stack, "dynamodb"), client(local_stack, "sqs")
    for table in (name for key, name in resources.items() if key.endswith("Table")):
        assert (
            dynamodb.describe_table(TableName=table)["Table"]["SSEDescription"]["KMSMasterKeyArn"]
            == KEY_ALIAS
        )
    for queue in (name for key, name in resources.items() if key.endswith("DeadLetterQueue")):
        url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["KmsMasterKeyId"])["Attributes"]
        assert attributes["KmsMasterKeyId"] == KEY_ALIAS


def test_alarms_exist_locally_and_notify_the_alarm_topic(local_stack: RunningStack) -> None:
    alarms = client(local_stack, "cloudwatch").describe_alarms()["MetricAlarms"]
    topic = local_stack.state["resources"]["AlarmTopic"]
    # every alarm the template declares, no more and no fewer
    assert len(alarms) == len(Template.load().of_type("AWS::CloudWatch::Alarm")) >= 15
    assert {tuple(a["AlarmActions"]) for a in alarms} == {(topic,)}


def test_an_export_is_stored_under_the_buckets_data_key_not_an_s3_managed_one(
    local_stack: RunningStack,
) -> None:
    # Given the exports bucket of the local stack
    s3 = client(local_stack, "s3")
    bucket = local_stack.state["resources"]["ExportsBucket"]
    # When an export is written the way the CLI writes it
    S3ExportWriter(bucket, client=s3).put_json("exports/encryption-check.json", b"{}")
    # Then the bucket's default encryption applied, with the data key
    head = s3.head_object(Bucket=bucket, Key="exports/encryption-check.json")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(KEY_ALIAS)
