"""Text-message backends: a small interface, a logging default, and one HTTP provider.

`CASELOAD_SMS_BACKEND` names the class (dotted path). Every backend receives the reminder's
idempotency key: a provider that supports one drops a repeated send of the same message.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.parse
import urllib.request
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider refused or could not be reached; the send may be retried."""


class SmsBackend(Protocol):
    def send(self, *, to: str, body: str, idempotency_key: str) -> None: ...


class ConsoleSmsBackend:
    """Logs that a message was sent, without its text or number (the default)."""

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        logger.info("sms sent (key %s, %d characters)", idempotency_key, len(body))


class TwilioSmsBackend:
    """Twilio's Messages API over HTTPS (settings CASELOAD_SMS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN,
    _FROM). The idempotency key goes in the `I-Twilio-Idempotency-Token` header."""

    url = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(self) -> None:
        self.sid = settings.CASELOAD_SMS_TWILIO_ACCOUNT_SID
        self.token = settings.CASELOAD_SMS_TWILIO_AUTH_TOKEN
        self.sender = settings.CASELOAD_SMS_TWILIO_FROM

    def build_request(self, *, to: str, body: str, idempotency_key: str) -> urllib.request.Request:
        data = urllib.parse.urlencode({"To": to, "From": self.sender, "Body": body}).encode()
        auth = base64.b64encode(f"{self.sid}:{self.token}".encode()).decode()
        return urllib.request.Request(  # noqa: S310 - a fixed https URL
            self.url.format(sid=urllib.parse.quote(self.sid, safe="")),
            data=data,
            method="POST",
            headers={
                "Authorization": f"Basic {auth}",
                "Content-Type": "application/x-www-form-urlencoded",
                "I-Twilio-Idempotency-Token": idempotency_key,
            },
        )

    def send(self, *, to: str, body: str, idempotency_key: str) -> None:
        request = self.build_request(to=to, body=body, idempotency_key=idempotency_key)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - fixed https URL
                json.load(response)
        except (OSError, ValueError) as exc:
            raise SmsError(f"SMS provider: {type(exc).__name__}") from exc


def sms_backend() -> SmsBackend:
    return import_string(settings.CASELOAD_SMS_BACKEND)()
