"""Every hostile email of issue #12 in one Maildir, ahead of three good referrals: one pass
of the real worker (`intake run --once`, its own process, SQLite) gets through all of them.

What the pass must show:

* it ends within ``WALL_BOUND_SECONDS``: every hostile email may at worst be read until the
  read time limit cuts it off (``READ_TIMEOUT_SECONDS``, set to 5 s here through
  ``INTAKE_READ_TIMEOUT_SECONDS``), plus ``STARTUP_SLACK_SECONDS`` for starting Python,
  creating the database and filing the good referrals: with 18 hostile emails that is
  18 x 5 s + 30 s = 120 s. A pass that waits out the limit on every message still
  passes; one that hangs on any message does not;
* its peak memory stays under ``MEMORY_BOUND_MB`` (600 MB). The worker runs from a small
  launcher that reports, as ``/usr/bin/time -v`` does, the largest peak resident memory of
  any one process (the worker or a reader child it forked); while it runs, the peaks so
  far (VmHWM) of the worker and its live children are read from /proc every 50 ms. What
  is asserted is an upper bound of the whole tree at any moment: the worker's own peak
  plus the largest process's peak (one reader child at a time), or the largest sum
  sampled if that is more. Shared copy-on-write pages are counted in each process, so
  this over-estimates;
* the three good referrals behind the hostile emails become referrals in the same pass;
* every hostile email is quarantined or rejected with a reason a person can read, and no
  message is left unprocessed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select

from intake.wiring import open_database
from servers.intake_config import DOCX, PDF, ROOT, intake_env, referrer_email, settings_for
from storage.db import session_scope
from storage.tables import InboundMessage, MessageState, Referral

sys.path.insert(0, str(ROOT / "tests" / "test_parsers"))
import hostile_inputs as hostile  # noqa: E402

READ_TIMEOUT_SECONDS = 5
STARTUP_SLACK_SECONDS = 30
MEMORY_BOUND_MB = 600
SAMPLE_EVERY_SECONDS = 0.05

FORMS = ROOT / "samples" / "forms"
GOOD_FORMS = ["cc-police-window-fall.docx", "cc-health-sudi.docx", "cc-school-overdose.docx"]


def _pdf_email(uid: str, data: bytes) -> bytes:
    return referrer_email(uid, [("referral.pdf", data, PDF)])


def _docx_email(uid: str, data: bytes) -> bytes:
    return referrer_email(uid, [("referral.docx", data, DOCX)])


def _slow_tables(count: int = 20, pages: int = 10) -> bytes:
    """`count` different PDFs of `pages` densely ruled pages each (a big real table on
    every page, under every drawing limit): each is read honestly in about two seconds,
    so the email as a whole outlasts the read time limit many times over."""
    pdf = hostile.tiny_pdf([hostile.PdfPage(hostile.ruling_grid(12.5)) for _ in range(pages)])
    files = [(f"table-{n}.pdf", pdf + b"\n%% copy %d\n" % n, PDF) for n in range(count)]
    return referrer_email("slow-tables", files)


def _oversized_package_part() -> bytes:
    """A Word file whose [Content_Types].xml carries 2 MB of comment (no zip bomb)."""
    import io
    import random
    import zipfile

    from parser_fixtures import minimal_docx, p

    src = zipfile.ZipFile(io.BytesIO(minimal_docx(p("hello"))))
    parts = {n: src.read(n) for n in src.namelist()}
    noise = random.Random(1).randbytes(1024 * 1024).hex().encode()
    types = parts["[Content_Types].xml"]
    parts["[Content_Types].xml"] = types.replace(b"<Types", b"<!-- " + noise + b" --><Types", 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts.items():
            zf.writestr(name, body)
    return buf.getvalue()


def _long_docx() -> bytes:
    """A Word document of 10,000 distinct paragraphs."""
    from parser_fixtures import minimal_docx, p

    lines = "".join(p(f"Line {i} about the family, visit {i * 7}") for i in range(10_000))
    return bytes(minimal_docx(lines))


def hostile_emails() -> dict[str, bytes]:
    """Every hostile input of the issue, each as the email that would bring it."""
    page, forms = hostile.nested_forms(levels=7, fan_out=10)
    twice = {"X": hostile.PdfForm(b"0 0 m 100 100 l S /Me Do /Me Do\n", {"Me": "X"})}
    return {
        "squares": _pdf_email(
            "squares", hostile.tiny_pdf([hostile.PdfPage(hostile.small_squares(40_000))])
        ),
        "pages-of-drawing": _pdf_email(
            "pages-of-drawing", hostile.tiny_pdf(hostile.ruled_pages(30, 15_000))
        ),
        "100000-pages": _pdf_email("100000-pages", hostile.many_pages(100_000)),
        "line-drawing": _pdf_email(
            "line-drawing", hostile.tiny_pdf([hostile.PdfPage(hostile.line_drawing(4_000_000))])
        ),
        "nested-xobjects": _pdf_email("nested-xobjects", hostile.tiny_pdf([page], forms)),
        "self-drawing": _pdf_email(
            "self-drawing",
            hostile.tiny_pdf([hostile.PdfPage(hostile.LABEL + b"/F Do\n", {"F": "X"})], twice),
        ),
        "ruled-grid": _pdf_email(
            "ruled-grid", hostile.tiny_pdf([hostile.PdfPage(hostile.ruling_grid(4.0))])
        ),
        "49mb-document-xml": _docx_email(
            "49mb-document-xml", hostile.padded_form(49 * 1024 * 1024)
        ),
        "100000-row-grid": _docx_email("100000-row-grid", hostile.form_with_household(100_000)),
        "grid-in-3-tables": _docx_email(
            "grid-in-3-tables", hostile.form_with_household(300, tables=3)
        ),
        "10000-paragraphs": _docx_email("10000-paragraphs", _long_docx()),
        "oversized-part": _docx_email("oversized-part", _oversized_package_part()),
        "2000-multiparts": hostile.nested_multiparts(2_000),
        "2000-forwards": hostile.nested_forwards(2_000),
        "5mb-subject": hostile.long_subject(5 * 1024 * 1024),
        "brackets": hostile.bracketed_header(1_000),
        "wide-parts": hostile.wide_parts(parts=1_000, field_size=2_000),
        "slow-tables": _slow_tables(),
    }


def good_emails() -> dict[str, bytes]:
    return {
        f"good-{n}": _docx_email(f"good-{n}", (FORMS / name).read_bytes())
        for n, name in enumerate(GOOD_FORMS)
    }


HOSTILE_COUNT = 18
WALL_BOUND_SECONDS = HOSTILE_COUNT * READ_TIMEOUT_SECONDS + STARTUP_SLACK_SECONDS


def _tree_peaks(root: int) -> dict[int, tuple[int, int]]:
    """The parent and the peak resident bytes so far (VmHWM) of `root` and of each of its
    live descendants, by process id."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= more
        grew = bool(more)
    peaks: dict[int, tuple[int, int]] = {}
    for pid in tree:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        peaks[pid] = (parents[pid], int(line.split()[1]) * 1024)
        except (OSError, ValueError):
            continue
    return peaks


@dataclass
class Pass:
    """How one measured run of the worker went."""

    code: int
    seconds: float
    worker_peak: int  # the worker process's own peak resident bytes
    largest_peak: int  # the largest peak of any one process of the tree (wait4)
    sampled_peak: int  # the largest sum of the live processes' peaks seen while sampling

    @property
    def tree_peak(self) -> int:
        """Upper bound of the tree's memory at any moment: the worker's peak plus the
        largest process's (one reader child at a time), or what was sampled if more."""
        return max(self.sampled_peak, self.worker_peak + self.largest_peak)


# Runs the worker and reports the largest peak resident memory of any one process of its
# tree (the worker or a reader child it forked and reaped), as `/usr/bin/time -v` does.
# From a fresh process: a child forked straight from the test process would inherit the
# test process's own peak (Linux copies it at fork and keeps it across exec).
LAUNCHER = """
import os, subprocess, sys
proc = subprocess.Popen(sys.argv[2:])
_pid, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss * 1024))
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def _run_measured(env: dict[str, str], out: Path) -> Pass:
    """`intake run --once` as its own process, its time and memory measured."""
    maxrss = out / "maxrss"
    command = [sys.executable, "-c", LAUNCHER, str(maxrss), sys.executable, "-m", "intake"]
    with (out / "stdout").open("wb") as stdout, (out / "stderr").open("wb") as stderr:
        started = time.monotonic()
        launcher = subprocess.Popen(
            [*command, "run", "--once"],
            env=env,
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
        sampled, worker, done = 0, 0, threading.Event()

        def sample() -> None:
            nonlocal sampled, worker
            while not done.is_set():
                peaks = _tree_peaks(launcher.pid)
                sampled = max(sampled, sum(hwm for _ppid, hwm in peaks.values()))
                for ppid, hwm in peaks.values():
                    if ppid == launcher.pid:  # the worker itself
                        worker = max(worker, hwm)
                done.wait(SAMPLE_EVERY_SECONDS)

        def hard_stop() -> None:  # a hung worker fails the test instead of the run
            if not done.wait(WALL_BOUND_SECONDS * 3):
                os.killpg(launcher.pid, signal.SIGKILL)

        threads = [threading.Thread(target=sample), threading.Thread(target=hard_stop)]
        for t in threads:
            t.start()
        try:
            code = launcher.wait()
        finally:
            took = time.monotonic() - started
            done.set()
            for t in threads:
                t.join()
    largest = int(maxrss.read_text()) if maxrss.exists() else 0
    return Pass(code, took, worker, largest, sampled)


def test_hostile_emails_ahead_of_good_referrals_are_all_settled_in_one_bounded_pass(
    tmp_path: Path,
) -> None:
    bad_mail = hostile_emails()
    assert len(bad_mail) == HOSTILE_COUNT
    good = good_emails()
    data = tmp_path / "data"
    settings = settings_for(data)
    new = settings.resolved_maildir / "new"
    new.mkdir(parents=True, exist_ok=True)
    # Maildir keys sort in delivery order: every bad_mail email is read before the good ones.
    for n, (name, raw) in enumerate([*bad_mail.items(), *good.items()]):
        (new / f"{n:03d}.{name}").write_bytes(raw)

    env = intake_env(data, read_timeout_seconds=READ_TIMEOUT_SECONDS)
    run = _run_measured(env, tmp_path)
    log = (tmp_path / "stdout").read_text() + (tmp_path / "stderr").read_text()
    mb = 2**20
    print(
        f"\nhostile mailbox pass: {run.seconds:.1f} s (bound {WALL_BOUND_SECONDS} s); peak "
        f"memory at most {run.tree_peak / mb:.0f} MB (bound {MEMORY_BOUND_MB} MB): worker "
        f"{run.worker_peak / mb:.0f} MB, largest process {run.largest_peak / mb:.0f} MB, "
        f"largest sum sampled {run.sampled_peak / mb:.0f} MB"
    )
    assert run.code == 0, log[-5000:]
    assert run.seconds < WALL_BOUND_SECONDS, log[-5000:]
    assert run.tree_peak < MEMORY_BOUND_MB * mb

    engine = open_database(settings)
    with session_scope(engine) as session:
        rows = {r.uid.split(".", 1)[1]: r for r in session.exec(select(InboundMessage)).all()}
        referral_messages = {r.message_id for r in session.exec(select(Referral)).all()}
        session.expunge_all()
    engine.dispose()

    assert set(rows) == set(bad_mail) | set(good)  # every email was taken in
    unsettled = {k: r.state for k, r in rows.items() if r.state == MessageState.RECEIVED}
    assert unsettled == {}, unsettled
    waiting = [f.name for sub in ("new", "cur") for f in (new.parent / sub).iterdir()]
    assert waiting == []  # every email was moved out of the inbox
    for name in good:
        row = rows[name]
        assert row.outcome == "referral", (name, row.outcome, row.outcome_reason)
        assert row.id in referral_messages, name
    verdicts = {name: (rows[name].outcome, rows[name].outcome_reason) for name in bad_mail}
    for name, (outcome, reason) in verdicts.items():
        print(f"  {name}: {outcome}: {reason}")
    for name, (outcome, reason) in verdicts.items():
        assert outcome in ("quarantined", "rejected"), (name, outcome, reason)
        assert reason and len(reason.strip()) > 10, (name, reason)
        assert "Traceback" not in reason, (name, reason)
    assert verdicts["slow-tables"][0] == "quarantined" == rows["slow-tables"].state
    assert f"longer than {READ_TIMEOUT_SECONDS} seconds" in str(verdicts["slow-tables"][1])
