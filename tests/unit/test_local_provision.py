"""infra/local/provision.py: each resource type of template.yaml is created locally or skipped."""

from __future__ import annotations

from infra.local.provision import CREATORS, SKIPPED
from infra.local.template import Template


def test_every_resource_type_of_the_template_is_created_or_skipped_with_a_reason() -> None:
    # Given the types template.yaml declares
    kinds = {resource["Type"] for resource in Template.load().resources.values()}
    # Then the local stack knows what to do with each, and never both creates and skips one
    assert kinds - CREATORS.keys() - SKIPPED.keys() == set()
    assert not CREATORS.keys() & SKIPPED.keys()
    assert all(len(reason) > 10 for reason in SKIPPED.values())


def test_the_data_key_resolves_to_a_local_alias_wherever_the_template_names_it() -> None:
    # Given the template, When the key is referenced by Ref and by Arn
    template = Template.load()
    # Then both name the alias the local stack creates for moto's random key id
    assert template.resolve({"Ref": "DataKey"}) == "alias/ceip-local-datakey"
    assert template.resolve({"Fn::GetAtt": ["DataKey", "Arn"]}) == (
        "arn:aws:kms:us-east-1:123456789012:alias/ceip-local-datakey"
    )
    # and an SNS topic's Ref is its ARN, as on AWS
    assert (
        template.resolve({"Ref": "AlarmTopic"}) == "arn:aws:sns:us-east-1:123456789012:ceip-local-alarmtopic"
    )
