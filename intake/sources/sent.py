"""The mailbox's Sent folder, asked after an interrupted hand-over to SMTP.

Microsoft 365 files every message it accepts by SMTP submission in the sending mailbox's
Sent Items (Gmail does the same in "[Gmail]/Sent Mail"). So when our sender died between
handing a message over and recording it, looking there for its Message-ID tells whether
the server already has it, and the recipient is not sent a second copy.
"""

from __future__ import annotations

from intake.settings import Settings
from intake.sources.imap import ImapSource


class SentFolder:
    """`notifications.transport.SentCopies` over IMAP: one short connection per question
    (they are rare: only after a crash in the middle of sending)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings.model_copy(update={"imap_folder": settings.smtp_sent_folder})

    def holds(self, message_id: str) -> bool:
        """True when a message with this Message-ID is in the Sent folder."""
        source = ImapSource(self._settings)
        try:
            return source.holds(message_id)
        finally:
            source.close()
