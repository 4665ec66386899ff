"""Settings: every one documented in the README table; read from INTAKE_* variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intake.settings import Settings, settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
REQUIRED = [
    "INTAKE_DATABASE_URL",
    "INTAKE_DATA_DIR",
    "INTAKE_MAIL_SOURCE",
    "INTAKE_MAILDIR",
    "INTAKE_IMAP_HOST",
    "INTAKE_IMAP_PORT",
    "INTAKE_IMAP_SECURITY",
    "INTAKE_IMAP_USER",
    "INTAKE_IMAP_PASSWORD",
    "INTAKE_IMAP_FOLDER",
    "INTAKE_SMTP_HOST",
    "INTAKE_SMTP_PORT",
    "INTAKE_SMTP_SECURITY",
    "INTAKE_SMTP_USER",
    "INTAKE_SMTP_PASSWORD",
    "INTAKE_MAIL_FROM",
]


def documented() -> set[str]:
    rows = re.findall(r"^\|\s*`(INTAKE_[A-Z0-9_]+)`\s*\|", README.read_text(), re.MULTILINE)
    return set(rows)


def test_every_setting_is_documented_in_the_readme_table() -> None:
    names = {name for name, _default, _help in settings_table()}
    assert names - documented() == set(), "add these to the README's configuration table"
    assert documented() - names == set(), "the README documents settings that do not exist"


def test_the_names_operators_rely_on_exist() -> None:
    names = {name for name, _default, _help in settings_table()}
    assert set(REQUIRED) <= names


def test_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("INTAKE_MAIL_SOURCE", "imap")
    monkeypatch.setenv("INTAKE_IMAP_PORT", "1143")
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.mail_source == "imap"
    assert settings.imap_port == 1143
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'intake.db'}"
    assert settings.outbox_mail_dir == tmp_path / "outbox-mail"


def test_a_wrong_value_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_IMAP_SECURITY", "maybe")
    with pytest.raises(ValueError, match="imap_security"):
        Settings()


def test_the_placeholders_of_the_example_environment_are_refused() -> None:
    import pytest
    from pydantic import ValidationError

    example = README.parent / "deploy" / "intake.env.example"
    values = dict(
        line.split("=", 1)
        for line in example.read_text().splitlines()
        if line.startswith(("INTAKE_ENCRYPTION_KEYS=", "INTAKE_REVIEW_SECRET="))
    )
    assert len(values) == 2  # the example sets both, so a deployment cannot forget them
    for name, placeholder in values.items():
        with pytest.raises(ValidationError, match="placeholder"):
            Settings(**{name.removeprefix("INTAKE_").lower(): placeholder})
