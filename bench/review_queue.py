"""Review-queue benchmark: the queue page's server time over thousands of referrals.

It prints figures; it is not a test. Steps:

1. make a temporary SQLite database (or use --database-url, an empty PostgreSQL database)
   at the newest schema and fill it with N referrals (default 5,000), each with a full
   record taken from the sample forms, received over the last year: about a fifth
   urgent, statuses spread along the workflow, 25 agencies, some assigned;
2. sign in to the review app in-process (FastAPI TestClient: no network in the figures)
   and request each page R times (default 30), after one warm-up request;
3. print median and p95 milliseconds per page (first page of the queue, a filtered and
   searched page, the overdue filter, a late page, and one referral's page) against the
   issue's target of 300 ms;
4. put 20 of the referrals on a SIRG meeting's agenda and print the time to build its
   meeting pack (Word), in-process and as a download through the app.

Run from the project root:

    .venv/bin/python bench/review_queue.py
    .venv/bin/python bench/review_queue.py --n 20000 --repeat 50
    .venv/bin/python bench/review_queue.py --database-url postgresql+psycopg://root@127.0.0.1:5432/queue_bench

Each request also writes its audit line (every view is audited), so that cost is counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/review_queue.py, and Python puts a script's folder first on the path: the
# standard library's `queue` (which asyncio and anyio import) would be this file. Take
# the folder off the path before anything imports it; put the project root on instead.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, insert  # noqa: E402

from intake.settings import Settings  # noqa: E402
from parsers.statutory import due_dates  # noqa: E402
from review.app import create_app  # noqa: E402
from review.meeting_pack import meeting_pack  # noqa: E402
from review.users import add_user  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from storage.meeting_papers import papers  # noqa: E402
from storage.queue import agencies  # noqa: E402
from storage.tables import (  # noqa: E402
    AgendaItem,
    Attachment,
    InboundMessage,
    Referral,
    SirgMeeting,
)

TARGET_MS = 300.0
PASSWORD = "benchmark password"
STATUSES = [
    ("new", 30),
    ("needs_info", 15),
    ("ready_for_sirg", 15),
    ("decision_rapid_review", 5),
    ("decision_cspr", 3),
    ("decision_plr", 5),
    ("decision_single_agency", 5),
    ("decision_nfa", 7),
    ("closed", 15),
]
FIRST = ["Lily", "Noah", "Amelia", "Oliver", "Isla", "Jack", "Ava", "Leo", "Mia", "Alfie"]
LAST = ["Kavanagh", "Brathwaite", "Nowak", "Hughes", "Okafor", "Doyle", "Patel", "Jones"]


def sample_records() -> list[dict[str, Any]]:
    """Realistic records: the expected results of the sample forms."""
    out = []
    for path in sorted((ROOT / "samples" / "forms").glob("*.expected.json")):
        data = json.loads(path.read_text())
        record = data.get("record", data) if isinstance(data, dict) else None
        if isinstance(record, dict) and "child.name" in record:
            out.append(record)
    if not out:
        raise SystemExit("no sample records under samples/forms/")
    return out


def fill(engine: Engine, n: int, seed: int = 7) -> None:
    """Insert n referrals (with their message and attachment rows) in bulk."""
    rng = random.Random(seed)
    records = sample_records()
    agencies = [
        f"Agency {i:02d} – {rng.choice(['Police', 'NHS Trust', 'School', 'Council'])}"
        for i in range(25)
    ]
    codes = [c for c, w in STATUSES for _ in range(w)]
    now = datetime.now(UTC)
    messages, attachments, referrals = [], [], []
    for i in range(1, n + 1):
        received = now - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        panel, rapid = due_dates(received)
        record = dict(rng.choice(records))
        child = f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i}"
        record["child.name"] = child
        messages.append(
            {
                "id": i,
                "source": "bench",
                "folder": "INBOX",
                "uidvalidity": 0,
                "uid": str(i),
                "sha256": f"{i:064d}",
                "message_id": None,
                "size": 1000,
                "received_at": received,
                "stored_at": received,
                "state": "processed",
                "outcome": "referral",
                "server_done": True,
            }
        )
        attachments.append(
            {
                "id": i,
                "message_id": i,
                "position": 0,
                "filename": f"form-{i}.docx",
                "content_type": "application/octet-stream",
                "sha256": f"{i:064d}",
                "size": 4,
                "outcome": "referral",
                "reason": "bench",
                "content": b"PK..",
            }
        )
        referrals.append(
            {
                "id": i,
                "reference": f"SIRG-{received.year}-{i:05d}",
                "message_id": i,
                "attachment_id": i,
                "status": rng.choice(codes),
                "complete": rng.random() > 0.15,
                "urgent": rng.random() < 0.2,
                "child_name": child,
                "referrer_name": record.get("referrer.name"),
                "referrer_email": record.get("referrer.email"),
                "referrer_agency": rng.choice(agencies),
                "received_at": received,
                "panel_due": panel,
                "rapid_review_due": rapid,
                "record": record,
                "problems": [],
                "provenance": {},
                "form_id": "sirg-2024",
                "created_at": received,
                "assigned_to": rng.choice([None, None, "olly", "ada"]),
            }
        )
    with engine.begin() as connection:
        for table, rows in (
            (InboundMessage, messages),
            (Attachment, attachments),
            (Referral, referrals),
        ):
            for start in range(0, len(rows), 1000):
                connection.execute(insert(table), rows[start : start + 1000])


def timed(client: TestClient, path: str, repeat: int) -> list[float]:
    """Milliseconds per request, after one warm-up request."""
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return times


def meeting_of(engine: Engine, size: int) -> int:
    """A meeting today with `size` referrals on its agenda (straight in: the pack reads any)."""
    now = datetime.now(UTC)
    with session_scope(engine) as db:
        meeting = SirgMeeting(meeting_date=now.date(), created_by="bench", created_at=now)
        db.add(meeting)
        db.flush()
        assert meeting.id is not None
        for position in range(1, size + 1):
            db.add(
                AgendaItem(
                    meeting_id=meeting.id,
                    referral_id=position,
                    position=position,
                    added_by="bench",
                    added_at=now,
                )
            )
        return meeting.id


def pack_times(engine: Engine, meeting_id: int, repeat: int) -> list[float]:
    """Milliseconds to read a meeting's papers and write its Word pack, in-process."""
    times = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        with session_scope(engine) as db:
            meeting = db.get(SirgMeeting, meeting_id)
            assert meeting is not None
            found = papers(db, meeting)
        content = meeting_pack(found)
        times.append((time.perf_counter() - started) * 1000)
        assert content.startswith(b"PK")
    return times[1:]  # the first builds python-docx's caches: a warm-up


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="referrals to create")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument("--database-url", default="", help="an empty database (default SQLite)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="queue-bench-") as tmp:
        url = args.database_url or f"sqlite:///{tmp}/intake.db"
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        fill(engine, args.n)
        where = url.split("@")[-1]  # never a password in the output
        print(f"{args.n} referrals created in {time.perf_counter() - started:.1f} s ({where})")
        add_user(engine, "olly", "officer", PASSWORD)
        add_user(engine, "ada", "admin", PASSWORD)
        app = create_app(
            Settings(data_dir=Path(tmp), database_url=url, review_secure_cookies=False),
            engine=engine,
        )
        client = TestClient(app)
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        client.post(
            "/login", data={"name": "olly", "password": PASSWORD, "csrf_token": token.group(1)}
        )
        first_ref = re.search(r'href="/referrals/([^"]+)"', client.get("/").text)
        assert first_ref is not None
        with session_scope(engine) as db:
            agency = agencies(db)[3]
        pages = {
            "queue, first page (default order)": "/",
            "queue, filtered + searched": "/?status=new&urgency=urgent&q=lily&sort=due",
            "queue, overdue only": "/?overdue=1",
            "queue, one agency, all statuses": "/?status=all&" + urlencode({"agency": agency}),
            "queue, page 40 of all": "/?status=all&page=40",
            "one referral's page": f"/referrals/{first_ref.group(1)}",
            "dashboard: work list and 12 months": "/dashboard",
            "queue, due today (from the work list)": "/?due=today",
            "quarantine": "/quarantine",
            "meetings": "/meetings",
        }
        print(f"{'page':<38} {'median ms':>10} {'p95 ms':>8}  target {TARGET_MS:.0f} ms")
        worst = 0.0
        for name, path in pages.items():
            times = timed(client, path, args.repeat)
            median, high = statistics.median(times), p95(times)
            worst = max(worst, high)
            mark = "ok" if high <= TARGET_MS else "OVER"
            print(f"{name:<38} {median:>10.1f} {high:>8.1f}  {mark}")
        print(f"worst p95 {worst:.1f} ms: {'within' if worst <= TARGET_MS else 'OVER'} target")
        size = min(20, args.n)
        meeting_id = meeting_of(engine, size)
        built = pack_times(engine, meeting_id, args.repeat)
        fetched = timed(client, f"/meetings/{meeting_id}/pack.docx", args.repeat)
        print(f"meeting pack of {size} referrals (Word)  {'median ms':>10} {'p95 ms':>8}")
        for name, times in (("built in-process", built), ("downloaded through the app", fetched)):
            print(f"  {name:<36} {statistics.median(times):>10.1f} {p95(times):>8.1f}")
        engine.dispose()


if __name__ == "__main__":
    main()
