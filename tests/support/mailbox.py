"""A mailbox for tests: the handler of a real SMTP server (aiosmtpd) keeping what it got."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any


@dataclass
class Mailbox:
    """Mail the server received: ``(envelope recipients, message)``, in arrival order."""

    host: str
    port: int
    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    @property
    def smtphost(self) -> str:
        """The ``smtphost`` value that reaches this server."""
        return f"{self.host}:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook for a message's data."""
        message = email.message_from_bytes(envelope.original_content,
                                           policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"
