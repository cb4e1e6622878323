"""Act as a named person on the local stack: `eval "$(.venv/bin/python -m infra.local.identity alice)"`.

Prints the AWS_* credentials of a session named after the person, issued by the local stack's STS
(moto), so that `ceip privacy ...` records that person's verified identity and the two-person export
rule can be tried locally: approve as one person, send as another. Local only: the deployed stack
trusts nothing this prints.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import boto3

from ceip.cli.environment import STATE_FILE, find_state_file

LOCAL_TEAM_ROLE = "arn:aws:iam::123456789012:role/PrivacyTeam"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.identity", description=__doc__.splitlines()[0]
    )
    parser.add_argument("person", help="a session name: letters, digits and +=,.@- (an e-mail address works)")
    parser.add_argument("--local-state", type=Path, default=None, help=f"default: the nearest {STATE_FILE}")
    args = parser.parse_args(argv)
    state_file = args.local_state or find_state_file(Path.cwd())
    if state_file is None or not state_file.is_file():
        print(f"no local stack state ({STATE_FILE}): is `make run` running?", file=sys.stderr)
        return 1
    env = json.loads(state_file.read_text(encoding="utf-8"))["environment"]
    sts = boto3.client(
        "sts",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    issued = sts.assume_role(RoleArn=LOCAL_TEAM_ROLE, RoleSessionName=args.person)["Credentials"]
    for name, key in (
        ("AWS_ACCESS_KEY_ID", "AccessKeyId"),
        ("AWS_SECRET_ACCESS_KEY", "SecretAccessKey"),
        ("AWS_SESSION_TOKEN", "SessionToken"),
    ):
        print(f"export {name}={shlex.quote(str(issued[key]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
