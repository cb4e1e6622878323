"""Acting as a named person: credentials of a session of a privacy-team role, from moto's STS, so that
STS GetCallerIdentity (what the CLI records) names that person. In-process (moto's mock) and for a CLI
subprocess against the local stack (its endpoint)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

TEAM_ROLE = "arn:aws:iam::123456789012:role/PrivacyTeam"


def credentials_of(person: str, **client_options: Any) -> dict[str, str]:
    """The AWS_* variables of a PrivacyTeam session named after the person."""
    sts = boto3.client("sts", region_name="us-east-1", **client_options)
    issued = sts.assume_role(RoleArn=TEAM_ROLE, RoleSessionName=person)["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"],
        "AWS_SESSION_TOKEN": issued["SessionToken"],
    }


def principal_of(person: str) -> str:
    return f"arn:aws:sts::123456789012:assumed-role/PrivacyTeam/{person}"


def act_as(monkeypatch: pytest.MonkeyPatch, person: str) -> str:
    """Make this process's AWS calls (under moto's mock) those of `person`; returns their principal."""
    for name, value in credentials_of(person).items():
        monkeypatch.setenv(name, value)
    # The default session keeps the credentials it resolved first.
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    return principal_of(person)
