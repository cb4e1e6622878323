"""SES adapter for the messages we send (acknowledgements, replies, extension notices)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.privacy.ports import MailerUnavailable

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}
)


@cache
def ses_client() -> SESClient:
    return boto3.client("ses", config=_CLIENT_CONFIG)


class SesMailer:
    def __init__(self, client: Any = None) -> None:
        self._client = client

    def send(self, raw: bytes, *, source: str, destination: str) -> str:
        client = self._client or ses_client()
        try:
            response = client.send_raw_email(
                Source=source, Destinations=[destination], RawMessage={"Data": raw}
            )
        except (ClientError, BotoCoreError) as error:
            raise MailerUnavailable(error_code(error)) from error
        return str(response["MessageId"])
