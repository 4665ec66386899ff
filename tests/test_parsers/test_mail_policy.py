"""The email policy with parsed header fields kept reads every email as the standard one."""

from __future__ import annotations

import email
import pickle
from email.policy import default as standard
from pathlib import Path

import pytest

from parsers.mail_policy import CachedHeaders, default_policy

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "mail-corpus"
SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "maildir" / "new"


def _emails() -> list[Path]:
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in ("", ".eml", ".txt"))
    # Small ones: header fields are the point, and the big ones are big in their bodies.
    small = [p for p in files if p.stat().st_size < 100_000]
    return [p for p in small if p.name not in ("INDEX.tsv", "SOURCES.md")] + sorted(
        SAMPLES.glob("*")
    )


def _fields(raw: bytes, policy: object) -> list[tuple[str, str, str, str | None]]:
    """Every part's header fields as read (twice, as the unpacking reads them), its
    content type and file name; where the standard library fails, how it failed."""
    message = email.message_from_bytes(raw, policy=policy)  # type: ignore[arg-type]
    out: list[tuple[str, str, str, str | None]] = []
    for part in message.walk():
        for _ in range(2):
            for name in part:
                try:
                    value = part[name]
                    out.append((name, str(value), type(value).__name__, None))
                except Exception as exc:  # noqa: BLE001 - the standard library's own bugs
                    out.append((name, "", type(exc).__name__, str(exc)))
        out.append(("type", part.get_content_type(), "", part.get_filename()))
    return out


def test_every_email_reads_the_same_with_fields_kept() -> None:
    emails = _emails()
    assert len(emails) > 100  # the shared corpus is there: else this proves nothing
    for path in emails:
        raw = path.read_bytes()
        assert _fields(raw, default_policy) == _fields(raw, standard), path


def test_a_field_is_parsed_once_and_shared() -> None:
    factory = CachedHeaders()
    first = factory("Content-Type", 'text/plain; charset="utf-8"')
    assert factory("Content-Type", 'text/plain; charset="utf-8"') is first
    assert factory("content-type", 'text/plain; charset="utf-8"') is not first  # name kept
    assert first.params["charset"] == "utf-8"


def test_the_kept_fields_are_bounded() -> None:
    factory = CachedHeaders()
    for n in range(CachedHeaders.LIMIT + 10):
        factory("Subject", f"message {n}")
    assert len(factory._parsed) <= CachedHeaders.LIMIT
    long_value = "x" * (CachedHeaders.LONGEST + 1)
    assert factory("Subject", long_value) == long_value
    assert ("Subject", long_value) not in factory._parsed


def test_the_policy_pickles_without_its_fields() -> None:
    email.message_from_bytes(b"Subject: kept\r\n\r\nbody", policy=default_policy)["Subject"]
    copied = pickle.loads(pickle.dumps(default_policy))
    assert copied.header_factory._parsed == {}
    assert len(pickle.dumps(default_policy)) < 1000


def test_a_message_made_with_the_policy_checks_its_fields_as_the_standard_one() -> None:
    from email.message import EmailMessage

    made = EmailMessage(policy=default_policy)
    made["Subject"] = "one"
    with pytest.raises(ValueError):
        made["Subject"] = "two"  # at most one Subject: the registry's max_count
    assert default_policy.header_max_count("subject") == standard.header_max_count("subject")
