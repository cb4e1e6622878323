"""The machine-key secret, from Secrets Manager, fetched once per container."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.machines.machine_key import MIN_KEY_BYTES

_CONFIG = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 2})


class SecretUnavailable(Exception):
    """The secret could not be read; callers answer 503 rather than guess."""


@cache
def secrets_client() -> Any:
    return boto3.client("secretsmanager", config=_CONFIG)


def decode_secret(text: str) -> bytes:
    """The key is the secret string's UTF-8 bytes (the template generates 64 random alphanumerics)."""
    data = text.encode("utf-8")
    if len(data) < MIN_KEY_BYTES:
        raise SecretUnavailable("secret too short")
    return data


@cache
def machine_key_secret(secret_id: str) -> bytes:
    try:
        value = secrets_client().get_secret_value(SecretId=secret_id)
    except (ClientError, BotoCoreError) as error:
        raise SecretUnavailable(type(error).__name__) from error
    return decode_secret(str(value["SecretString"]))
