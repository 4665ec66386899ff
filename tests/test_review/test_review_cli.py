"""`intake users ...` and `intake serve`: the real commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from review_support import PASSWORD, csrf_of
from sqlmodel import select
from typer.testing import CliRunner

from intake.cli import app
from servers import free_port
from storage.db import make_engine, session_scope
from storage.tables import ReviewUser


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INTAKE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("INTAKE_DATABASE_URL", raising=False)
    return tmp_path


def user(data_dir: Path, name: str) -> ReviewUser | None:
    engine = make_engine(f"sqlite:///{data_dir / 'intake.db'}")
    with session_scope(engine) as db:
        found = db.exec(select(ReviewUser).where(ReviewUser.name == name)).first()
    engine.dispose()
    return found


def test_users_add_disable_reset(env: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["users", "add", "A.Smith", "--role", "officer", "--password-stdin"]
        + ["--email", "A.Smith@Liverpool.gov.uk"],
        input=PASSWORD,
    )
    assert result.exit_code == 0, result.output
    added = user(env, "a.smith")
    assert added is not None and added.role == "officer" and added.active
    assert added.email == "a.smith@liverpool.gov.uk"  # where notes of new mail go
    no_address = runner.invoke(
        app,
        ["users", "add", "e.fox", "--email", "not an address", "--password-stdin"],
        input=PASSWORD,
    )
    assert no_address.exit_code == 2 and "not an email address" in no_address.output
    assert user(env, "e.fox") is None  # refused whole, not added without its address
    assert added.password_hash.startswith("$argon2id$")

    again = runner.invoke(app, ["users", "add", "a.smith", "--password-stdin"], input=PASSWORD)
    assert again.exit_code == 2 and "already a user" in again.output

    short = runner.invoke(app, ["users", "add", "b.jones", "--password-stdin"], input="short\n")
    assert short.exit_code == 2 and "at least 12" in short.output

    bad_role = runner.invoke(
        app, ["users", "add", "c.lee", "--role", "root", "--password-stdin"], input=PASSWORD
    )
    assert bad_role.exit_code == 2 and "role must be" in bad_role.output

    # Without --password-stdin the password is asked for twice, hidden.
    prompted = runner.invoke(app, ["users", "add", "d.khan"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output

    assert runner.invoke(app, ["users", "disable", "a.smith"]).exit_code == 0
    disabled = user(env, "a.smith")
    assert disabled is not None and not disabled.active

    before = disabled.password_hash
    reset = runner.invoke(
        app, ["users", "reset", "a.smith", "--password-stdin"], input="a new long password\n"
    )
    assert reset.exit_code == 0
    after = user(env, "a.smith")
    assert after is not None and after.password_hash != before
    assert after.session_version > disabled.session_version

    missing = runner.invoke(app, ["users", "disable", "nobody"])
    assert missing.exit_code == 2 and "no user called nobody" in missing.output


def test_serve_answers_and_logs_no_personal_data(env: Path) -> None:
    runner = CliRunner()
    runner.invoke(
        app, ["users", "add", "ann", "--role", "admin", "--password-stdin"], input=PASSWORD
    )
    port = free_port()
    log = env / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake", "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            # Plain http on loopback: Secure cookies would not come back from httpx.
            env={
                **os.environ,
                "INTAKE_DATA_DIR": str(env),
                "INTAKE_REVIEW_SECURE_COOKIES": "false",
            },
        )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health").json()["status"] == "ok":
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("intake serve did not answer")
        with httpx.Client(base_url=base) as client:
            page = client.get("/login")
            client.post(
                "/login",
                data={"name": "ann", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            )
            searched = client.get("/", params={"q": "Lily-Mae Kavanagh"})
            assert searched.status_code == 200 and "ann" in searched.text
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    text = log.read_text()
    assert "GET / 200" in text  # our access log: method, path, status
    assert "Kavanagh" not in text and "q=" not in text
    assert PASSWORD not in text
    secret = env / "review-secret"
    assert secret.stat().st_mode & 0o777 == 0o600
