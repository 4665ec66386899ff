"""Review-queue fixtures: a database filled by the real pipeline, users, an app per test."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from review_support import PASSWORD, SAMPLES, USERS, Clock, Site

from intake.runner import run_once
from intake.settings import Settings
from intake.sources.maildir import MaildirSource
from intake.wiring import open_database
from notifications.transport import FolderTransport
from review.app import create_app
from review.users import add_user
from servers import free_port, unavailable
from storage.db import make_engine


@pytest.fixture(scope="session")
def pipeline_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database made by the real pipeline from the sample mailbox, with a user of
    each role (once a session; each test gets a copy)."""
    data = tmp_path_factory.mktemp("pipeline")
    settings = Settings(data_dir=data, database_url="", mail_source="maildir", smtp_host="")
    source = MaildirSource(settings.resolved_maildir)
    for eml in sorted(SAMPLES.iterdir()):
        shutil.copyfile(eml, settings.resolved_maildir / "new" / eml.name)
    engine = open_database(settings)
    report = run_once(engine, settings, source, FolderTransport(settings.outbox_mail_dir))
    assert report.errors == 0
    for name, role in USERS.items():  # hashing is slow on purpose: once, not per test
        add_user(engine, name, role, PASSWORD)
    engine.dispose()  # checkpoints the WAL into the file, so a copy is complete
    return data / "intake.db"


@pytest.fixture
def site(pipeline_db: Path, tmp_path: Path) -> Iterator[Site]:
    """A fresh review app for one test."""
    db = tmp_path / "intake.db"
    shutil.copyfile(pipeline_db, db)
    # Plain http here: a Secure cookie would never be sent back to the test client.
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{db}", review_secure_cookies=False
    )
    engine = make_engine(settings.resolved_database_url)
    clock = Clock()
    app = create_app(settings, engine=engine, clock=clock)
    yield Site(app, engine, clock, settings)
    engine.dispose()


CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def live(site: Site) -> Iterator[str]:
    """The site served by uvicorn on a free loopback port, in a thread."""
    port = free_port()
    config = uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian chromium; missing: skipped here, a failure in CI."""
    if not CHROMIUM.exists():
        unavailable("chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
