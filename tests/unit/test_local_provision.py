"""infra/local/provision.py: each resource type of template.yaml is created locally or skipped."""

from __future__ import annotations

import pytest
from infra.local.provision import CREATORS, SKIPPED
from infra.local.stack import LOCAL_PARAMETERS, LocalStack
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


def test_the_local_stack_runs_the_aggregation_on_a_demo_budget_and_the_template_keeps_its_defaults() -> None:
    # Given the template the local stack builds by default, and the template as deployed
    local = LocalStack().template
    deployed = Template.load()

    def aggregation(template: Template) -> dict[str, str]:
        (function,) = [f for f in template.functions() if f.logical_id == "AggregateFunction"]
        return function.environment

    local_env, deployed_env = aggregation(local), aggregation(deployed)
    floor = deployed.body["Parameters"]["PartnerMinMachines"]["MinValue"]
    # Then the local aggregation has the demo epsilon and the template's floor on K
    assert local.parameter_overrides == LOCAL_PARAMETERS
    assert (local_env["PARTNER_EPSILON"], local_env["PARTNER_MIN_MACHINES"]) == ("100", str(floor))
    # while the deployed defaults stay 16 and 50, and every other variable is the same
    assert (deployed_env["PARTNER_EPSILON"], deployed_env["PARTNER_MIN_MACHINES"]) == ("16", "50")
    differing = {k for k in local_env if local_env[k] != deployed_env[k]}
    assert differing == {"PARTNER_EPSILON", "PARTNER_MIN_MACHINES"}


def test_a_parameter_override_the_template_does_not_declare_is_refused() -> None:
    with pytest.raises(KeyError, match="PartnerEpsilonn"):
        Template.load().with_parameters({"PartnerEpsilonn": "100"})
