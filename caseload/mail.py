"""An email backend that sends nothing and logs no message: the default when none is configured.

Django's console and file backends write each message whole (recipient, subject, text) to the
worker's output or a file, so a reminder's address and text would land in logs; production refuses
to start with either (config/settings/production.py). This backend logs only that messages were
not sent, by Message-ID and count, never an address or a body. Configure a real backend
(`EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend` and Django's `EMAIL_HOST` settings) to
send email reminders.
"""

from __future__ import annotations

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class LogOnlyEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        messages = list(email_messages or [])
        for message in messages:
            logger.info(
                "email not sent (no EMAIL_BACKEND configured): %s, %d characters",
                message.extra_headers.get("Message-ID", "no Message-ID"),
                len(message.body or ""),
            )
        return len(messages)
