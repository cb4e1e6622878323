"""Who is acting: the caller's AWS principal as STS GetCallerIdentity states it.

A ticket's history records this, never a name typed on the command line: a person cannot act as
someone else without their credentials, and the two-person export rule compares principals. An
assumed-role principal is named by its role and session (`assumed-role/PrivacyTeam/alice@example.com`):
with IAM Identity Center the session name is the signed-in user's, set by AWS (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from ceip.cli.failures import Refused


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    arn: str
    user_id: str
    account: str


def whoami() -> VerifiedIdentity:
    """The caller's principal; Refused when STS cannot say (no credentials, no network)."""
    import boto3  # noqa: PLC0415 - only for commands that record an action, after any mock has started
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    try:
        caller = boto3.client("sts").get_caller_identity()
    except (BotoCoreError, ClientError) as error:
        raise Refused(
            f"cannot verify who you are (STS GetCallerIdentity: {type(error).__name__}); "
            "every action is recorded under your AWS identity: sign in first"
        ) from None
    return VerifiedIdentity(str(caller["Arn"]), str(caller["UserId"]), str(caller["Account"]))
