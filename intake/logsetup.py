"""Logging for the worker: plain lines or one JSON object per line, never personal data.

What we log is chosen so it can be shared with an IT service desk: message and outbox ids,
references, outcomes, counts and exception class names. Never names, addresses, subjects,
email addresses or exception messages (they can quote the email).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, ensure_ascii=False)


class NoTracebackFormatter(logging.Formatter):
    """Plain lines; an exception shows as its class name only."""

    def formatException(self, ei: object) -> str:  # noqa: N802 - logging's own name
        exc_type = ei[0] if isinstance(ei, tuple) else None
        return f"  ({getattr(exc_type, '__name__', 'error')}; details are kept in the database)"


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Set up the root logger once for a command."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            NoTracebackFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic reports every check at INFO; only its warnings matter to an operator.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # Libraries that log message content at DEBUG are held at INFO whatever the level.
    for noisy in ("imapclient", "mail.log", "extract_msg", "pdfminer", "tnefparse"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))
