"""Reading one message in a child process, under a time and a memory limit.

A hostile email (a PDF that draws millions of lines, a document that unpacks to
gigabytes) must never stop the service. The deciding stages run in a forked child with
an address-space limit; the parent waits at most the time limit, kills the child on
breach and reports the reason, so the message is quarantined and the next one goes on.
Forking shares the already-imported readers, warmed up in the parent by deciding an
email with the blank forms attached; the child's answer is taken as soon as it is
written, not after the kernel has freed the child's memory.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import resource
import selectors
import signal
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cache
from importlib import import_module
from pathlib import Path

from intake.pipeline import DECIDE, decide
from intake.pipeline.context import MessageContext, MustWait

MIB = 1024 * 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadLimits:
    """How long, and with how much more memory, one message may be read."""

    seconds: float = 30.0
    memory_bytes: int = 512 * MIB
    isolate: bool = True  # False: read in this process (no limits), for tools and tests


class ReadingStopped(Exception):
    """Reading the message broke a limit; the message is quarantined with this reason."""


def _current_address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


# The child's answers that need no memory to make: made before the limit is set.
MEMORY_ANSWER = pickle.dumps(("memory", ""))
DEPTH_ANSWER = pickle.dumps(("depth", ""))
EXIT_OUT_OF_MEMORY = 3  # the child could not even say what happened
_NO_MESSAGE = EmailMessage()  # stands in for the email on its way back to the parent


def _child(ctx: MessageContext, limits: ReadLimits, write_fd: int) -> None:
    """In the child: read under the memory limit, send the outcome back, never return."""
    code = 0
    try:
        # Should the machine itself run short of memory, the kernel kills this reader, not
        # the worker (raising one's own score needs no privilege).
        with (
            contextlib.suppress(OSError),
            open("/proc/self/oom_score_adj", "w", encoding="ascii") as score,
        ):
            score.write("1000")
        ceiling = _current_address_space() + limits.memory_bytes
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        try:
            decide(ctx)
            ctx.scanner = None  # a connection, not part of the result
            # The parent holds the email and its parsed form already: only what the
            # stages decided goes back (a parsed email pickles to several times its size).
            ctx.raw, ctx.message = b"", _NO_MESSAGE
            payload = pickle.dumps(("ok", ctx), protocol=pickle.HIGHEST_PROTOCOL)
        except MustWait as exc:
            payload = pickle.dumps(("wait", str(exc)))
        except MemoryError:
            payload = MEMORY_ANSWER
        except RecursionError:
            payload = DEPTH_ANSWER
        except Exception as exc:
            # lxml and pdfium report a failed allocation as their own error.
            if "memory" in str(exc).lower() or "alloc" in str(exc).lower():
                payload = MEMORY_ANSWER
            else:
                payload = pickle.dumps(("error", traceback.format_exc()))
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view) :]
        # Closed now, not by the exit: the parent has its answer while the kernel still
        # frees this process's pages (several milliseconds of a hundred megabytes).
        os.close(write_fd)
    except MemoryError:
        code = EXIT_OUT_OF_MEMORY
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no cleanup handlers: the parent's database and sockets are not ours


def _collect(read_fd: int, pid: int, limits: ReadLimits) -> bytes:
    """The child's answer, or ReadingStopped when it is late or died."""
    deadline = time.monotonic() + limits.seconds
    chunks: list[bytes] = []
    with selectors.DefaultSelector() as sel:
        sel.register(read_fd, selectors.EVENT_READ)
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise ReadingStopped(
                    f"reading the email took longer than {limits.seconds:g} seconds"
                )
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    if chunks:
        _EXITING.append(pid)  # collected later: its answer does not wait for its exit
        return b"".join(chunks)
    _pid, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_OUT_OF_MEMORY:
        mib = limits.memory_bytes // MIB
        raise ReadingStopped(f"reading the email needed more than {mib} MB of memory")
    if os.WIFSIGNALED(status):
        raise ReadingStopped(
            "reading the email was stopped by the system (signal "
            f"{os.WTERMSIG(status)}), most likely for using too much memory"
        )
    raise ReadingStopped("reading the email stopped without an answer")


_EXITING: list[int] = []  # children that have answered, not yet collected


def _collect_exited() -> None:
    """Collect the children that have answered and exited since (no zombies left)."""
    for pid in list(_EXITING):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue  # still exiting: next time
        _EXITING.remove(pid)


# The blank form as shipped (Word and PDF): read once in the parent to warm the readers.
BLANK_FORMS = Path(__file__).resolve().parents[2] / "samples" / "blank"


@cache
def warm_up() -> None:
    """Import the stages and readers, load the form definitions and read an email with
    the blank forms attached through the stages once, in the parent: each child then
    starts with them (fork shares the memory), instead of paying for the imports, the
    definitions, cold label caches and first-use set-up again for every message (a form
    read cold takes about three times as long as one read warm)."""
    for name in DECIDE:
        import_module(f"intake.pipeline.{name}")
    from parsers.formdef import available_forms, load_form

    for form_id in available_forms():
        load_form(form_id)
    _rehearse()


def _rehearse() -> MessageContext | None:
    """Decide an email carrying the blank forms (Word and PDF), here, without limits: the
    email parsing, stages and readers do their first-use work once, not in every child."""
    from parsers.mime import parse_message

    raw = _rehearsal_email()
    ctx = MessageContext(
        raw=raw,
        message=parse_message(raw),
        received_at=datetime.now(UTC),
        max_message_bytes=len(raw) + 1,
        our_message_id_domain="warm-up.invalid",
    )
    try:
        return decide(ctx)
    except Exception as exc:  # noqa: BLE001 - only slower reading follows; never a stop
        log.warning("warm-up email could not be read (%s)", type(exc).__name__)
        return None


@cache
def _rehearsal_email() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Warm Up <warm-up@sender.invalid>"
    mail["To"] = "referrals@warm-up.invalid"
    mail["Subject"] = "SIRG referral"
    mail["Message-ID"] = "<rehearsal@sender.invalid>"
    mail.set_content("Please find the referral form attached.\n")
    for blank in sorted(BLANK_FORMS.glob("*")) if BLANK_FORMS.is_dir() else []:
        if blank.suffix.lower() in (".docx", ".pdf"):
            mail.add_attachment(
                blank.read_bytes(), "application", "octet-stream", filename=blank.name
            )
    return mail.as_bytes()


def decide_limited(ctx: MessageContext, limits: ReadLimits) -> MessageContext:
    """Run the deciding stages on `ctx` under `limits`; the decided context comes back."""
    if not limits.isolate:
        return decide(ctx)
    warm_up()
    _collect_exited()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child's coverage is not collected
        os.close(read_fd)
        _child(ctx, limits, write_fd)
    os.close(write_fd)
    try:
        payload = _collect(read_fd, pid, limits)
    finally:
        os.close(read_fd)
    kind, value = pickle.loads(payload)  # noqa: S301 - our own child's bytes, via a pipe
    if kind == "ok":
        decided: MessageContext = value
        decided.scanner = ctx.scanner
        decided.raw, decided.message = ctx.raw, ctx.message
        return decided
    if kind == "wait":
        raise MustWait(value)
    if kind == "memory":
        mib = limits.memory_bytes // MIB
        raise ReadingStopped(f"reading the email needed more than {mib} MB of memory")
    if kind == "depth":
        raise ReadingStopped("the email is nested too deeply to read")
    raise RuntimeError(f"reading failed in the child process:\n{value}")
