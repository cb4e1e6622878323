"""The messages we send (acknowledgements, replies, extension notices): the port, its error and its SES
adapter."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ceip.privacy.aws_errors import error_code
from ceip.runtime.lazy_client import LazyClient

if TYPE_CHECKING:
    from mypy_boto3_ses import SESClient

_CLIENT_CONFIG = Config(
    connect_timeout=2, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 3}
)


@cache
def ses_client() -> SESClient:
    return boto3.client("ses", config=_CLIENT_CONFIG)


class MailerUnavailable(Exception):
    """SES refused or could not be reached; the message was not sent."""


class Mailer(Protocol):
    def send(self, raw: bytes, *, source: str, destination: str) -> str:
        """Send a complete MIME message; returns the SES message id or raises MailerUnavailable."""


class SesMailer(LazyClient):
    client_factory = staticmethod(ses_client)

    def send(self, raw: bytes, *, source: str, destination: str) -> str:
        try:
            response = self.client.send_raw_email(
                Source=source, Destinations=[destination], RawMessage={"Data": raw}
            )
        except (ClientError, BotoCoreError) as error:
            raise MailerUnavailable(error_code(error)) from error
        return str(response["MessageId"])
