"""A newcomer's path: a fresh clone, `make demo`, then the README's next step, `make review`,
reaches a signed-in queue holding the demo's referrals (in a real browser).

The clone uses this checkout's virtual environment (`make -o` keeps make from installing
into it again): installing the project afresh takes minutes and the package index, which
CI's own `make test` has just done. Everything else is the newcomer's: the clone's files,
its `var/` folder, the Makefile's commands and what they print.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from test_review_browser import expect, shot

from servers import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv"
STAMP = VENV / ".installed"


def _make(clone: Path, *args: str) -> list[str]:
    # VENV: this checkout's environment; -o: its stamp counts as up to date.
    return ["make", "-o", str(STAMP), f"VENV={VENV}", *args]


def _env(clone: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env["PYTHONPATH"] = str(clone)  # the clone's code, not this checkout's
    return env


def _wait_for_port(port: int, proc: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"make review stopped early (exit {proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds:.0f} s")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    if not STAMP.exists():
        pytest.skip("no virtual environment in this checkout (run make test)")
    target = tmp_path / "main"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True, timeout=120)
    shared = ROOT.parent / "shared"
    if shared.exists() and not (tmp_path / "shared").exists():
        (tmp_path / "shared").symlink_to(shared)  # the clone sits beside it, as here
    return target


def test_make_demo_then_make_review_reaches_a_signed_in_queue(clone: Path, browser: Any) -> None:
    demo = subprocess.run(
        _make(clone, "demo"),
        cwd=clone,
        env=_env(clone),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    references = re.findall(r"SIRG-\d{4}-\d{4}", demo.stdout)
    assert references, demo.stdout[-2000:]
    assert "make review" in demo.stdout  # the demo says what to do next

    port = free_port()
    review = subprocess.Popen(
        _make(clone, "review", f"PORT={port}"),
        cwd=clone,
        env=_env(clone),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # make, intake serve and uvicorn stop together
    )
    try:
        assert review.stdout is not None
        password = ""
        for line in review.stdout:
            found = re.search(r"user demo\.officer, password (\S+)", line)
            if found:
                password = found.group(1)
                break
        assert password, "make review printed no password"
        _wait_for_port(port, review)

        page = browser.new_page()
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/")
        page.wait_for_url(re.compile(r"/login"))
        page.fill("#name", "demo.officer")
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/")
        for reference in references[:3]:
            expect(page.get_by_text(reference).first).to_be_visible()
        shot(page, "newcomer-queue.png")
    finally:
        os.killpg(review.pid, signal.SIGTERM)
        review.wait(timeout=30)
