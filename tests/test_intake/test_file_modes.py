"""Nothing the service writes is readable by other local users: folder 0700, files 0600."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from servers import free_port
from servers.intake_config import ROOT, intake_env

SAMPLES = ROOT / "samples" / "maildir" / "new"


def shared(folder: Path) -> list[str]:
    """Everything under `folder` (itself included) that its group or others may use."""
    found = []
    for path in [folder, *sorted(folder.rglob("*"))]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(folder.parent)} {mode:o}")
    return found


def test_the_demo_writes_only_private_files(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    result = subprocess.run(
        [sys.executable, "-m", "intake", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = tmp_path / "var"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert (data / "intake.db").exists() and list((data / "outbox-mail").glob("*.eml"))
    assert list((data / "maildir").rglob("*.police*"))  # seeded, then moved by the worker
    assert shared(data) == []


def test_the_worker_and_review_server_write_only_private_files(tmp_path: Path) -> None:
    # The Maildir is delivered to by someone else (its files keep their mode when moved),
    # so it lies outside the data folder; the folders the worker adds to it are checked.
    maildir = tmp_path / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for sample in SAMPLES.iterdir():
        shutil.copyfile(sample, maildir / "new" / sample.name)
    data = tmp_path / "data"
    env = intake_env(data, maildir=maildir)
    port = free_port()
    with (tmp_path / "worker.log").open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "intake", "run", "--interval", "60"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with (tmp_path / "serve.log").open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "intake", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        answered = False
        while time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            if not answered:
                with contextlib.suppress(httpx.TransportError):
                    answered = httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
            done = not list((maildir / "new").iterdir())
            if answered and done and list((data / "outbox-mail").glob("*.eml")):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the worker did not process the mailbox, or the server did not answer")
        # Both still hold the database open, so its -wal and -shm files are there too.
        names = {p.name for p in data.iterdir()}
        assert {"intake.db", "intake.db-wal", "intake.db-shm", "review-secret"} <= names
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert shared(data) == []
        # The message files moved there keep the mode they were delivered with.
        made = [
            path
            for folder in maildir.glob(".*")
            for path in [folder, *folder.rglob("*")]
            if path.is_dir() or path.name == "maildirfolder"
        ]
        assert made and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in made)
    finally:
        for process in (worker, server):
            process.send_signal(signal.SIGTERM)
        for process in (worker, server):
            process.wait(timeout=30)
