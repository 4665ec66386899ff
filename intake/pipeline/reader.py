"""A reader process, forked once from the warmed worker, that reads message after message.

Forking a reader for every message cost more than most readings (a 180 MB worker takes
about 25 ms to fork and touch again; a Word form takes 5 ms to read). This reader is forked
once and kept: the parent sends it a message, waits at most the time limit for the answer,
and kills it on a breach. Each reading has its own memory limit (the soft address-space
limit, set afresh from where the reader stands). A reader retires, and the next message
gets a fresh one, after a limit was broken, after an unexpected error, once it has grown
or after `MAX_READINGS`: so one message's leftovers never weigh on many others.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import resource
import selectors
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

from intake.pipeline.context import MessageContext, MustWait

MIB = 1024 * 1024
MAX_READINGS = 1000  # then a fresh heap, forked from the worker's warm one
MAX_GROWTH = 256 * MIB  # a reader grown this much since its start retires
EXIT_OUT_OF_MEMORY = 3  # the reader could not even say what happened
ANSWER_GRACE = 10.0  # seconds for the rest of an answer once its start has come
_HEADER = 9  # 8 bytes of length, 1 byte: the reader retires after this answer
# The reader's answers that need no memory to make: made before any reading.
MEMORY_ANSWER = pickle.dumps(("memory", ""))
DEPTH_ANSWER = pickle.dumps(("depth", ""))
_NO_MESSAGE = EmailMessage()  # stands in for the email on its way between the processes


class ReaderGone(Exception):
    """The reader stopped without an answer; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReaderLate(Exception):
    """The reader did not answer within the time limit (it has been killed)."""


@dataclass
class Answer:
    """What the reader sent back: the pickled (kind, value), and whether it retired."""

    payload: bytes
    retired: bool


def _address_space() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        pages = int(f.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


class Reader:
    """One reader process and the two pipes to it."""

    def __init__(self, memory_bytes: int, read: Callable[[MessageContext], MessageContext]):
        self.memory_bytes = memory_bytes
        requests_r, self._requests = os.pipe()
        self._answers, answers_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the reader's coverage is not collected
            _serve(requests_r, answers_w, memory_bytes, read)
        self.pid = pid
        self.owner = os.getpid()  # a process forked from the worker must not use this one
        os.close(requests_r)
        os.close(answers_w)
        self.alive = True

    def send(self, ctx: MessageContext) -> None:
        """Hand `ctx` (without its parsed email) to the reader, which starts at once.
        Raises ReaderGone when the reader has died since `usable`."""
        message = ctx.message
        ctx.message = _NO_MESSAGE  # parsed again in the reader: pickling it costs more
        try:
            request = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            ctx.message = message
        try:
            _write_frame(self._requests, request, retire=False)
        except OSError:
            raise ReaderGone(self._death()) from None

    def answer(self, deadline: float) -> Answer:
        """The answer to what was sent, waited for until `deadline` (time.monotonic).
        Raises ReaderLate or ReaderGone; after either, and after a retiring answer, the
        reader is done."""
        answer = self._receive(deadline)
        if answer.retired:
            self.close()
        return answer

    def _receive(self, deadline: float) -> Answer:
        buf = bytearray()
        need = -1
        with selectors.DefaultSelector() as sel:
            sel.register(self._answers, selectors.EVENT_READ)
            while need < 0 or len(buf) < _HEADER + need:
                # An answer already begun counts, however late the worker comes for it:
                # the rest of it (larger than a pipe holds) follows at once.
                left = deadline - time.monotonic()
                if buf:
                    left = max(left, ANSWER_GRACE)
                if not sel.select(timeout=max(0.0, left)):
                    self.kill()
                    raise ReaderLate
                chunk = os.read(self._answers, 1 << 20)
                if not chunk:
                    raise ReaderGone(self._death())
                buf += chunk
                if need < 0 and len(buf) >= _HEADER:
                    need = int.from_bytes(buf[:8], "big")
        return Answer(bytes(buf[_HEADER : _HEADER + need]), retired=bool(buf[8]))

    def _death(self) -> str:
        """Why the reader stopped without answering (it is collected here)."""
        self._close_pipes()
        _pid, status = os.waitpid(self.pid, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == EXIT_OUT_OF_MEMORY:
            return f"needed more than {self.memory_bytes // MIB} MB of memory"
        if os.WIFSIGNALED(status):
            return (
                f"was stopped by the system (signal {os.WTERMSIG(status)}), most likely for "
                "using too much memory"
            )
        return "stopped without an answer"

    def usable(self) -> bool:
        """True while the reader is ours and waiting for work (it may have been killed
        between two messages, by the system or by hand: then it is collected here)."""
        if not self.alive or self.owner != os.getpid():
            return False
        if self.reaped():
            self._close_pipes()
            return False
        return True

    def kill(self) -> None:
        """Stop the reader now and collect it."""
        self._close_pipes()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def close(self) -> None:
        """Let the reader go: it exits on its own (collect it later with `reaped`)."""
        self._close_pipes()

    def reaped(self) -> bool:
        """True once the exited reader has been collected (no zombie left)."""
        try:
            return os.waitpid(self.pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True

    def _close_pipes(self) -> None:
        if self.alive:
            self.alive = False
            for fd in (self._requests, self._answers):
                with contextlib.suppress(OSError):
                    os.close(fd)


def _write_frame(fd: int, payload: bytes, *, retire: bool) -> None:
    view = memoryview(len(payload).to_bytes(8, "big") + bytes([retire]) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _read_frame(fd: int) -> bytes | None:
    """One request, or None when the worker has closed the pipe (or gone)."""
    head = _read_exactly(fd, _HEADER)
    if head is None:
        return None
    return _read_exactly(fd, int.from_bytes(head[:8], "big"))


def _read_exactly(fd: int, size: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < size:
        chunk = os.read(fd, min(size - len(buf), 1 << 20))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


def _release_inherited(keep: tuple[int, ...]) -> None:
    """Point every descriptor inherited from the worker, but ours, at /dev/null: a reader
    that lives on must not hold the worker's sockets and pipes open (a listening port, a
    browser driver's pipe), and a number kept busy is never reused by mistake."""
    null = os.open(os.devnull, os.O_RDWR)
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd != null and fd not in keep:
            with contextlib.suppress(OSError):
                os.dup2(null, fd)


def _serve(  # pragma: no cover - runs in the reader
    requests: int, answers: int, memory_bytes: int, read: Callable[[MessageContext], MessageContext]
) -> None:
    """In the reader: answer requests until told to stop or retired; never returns."""
    code = 0
    try:
        _release_inherited((requests, answers))
        # The worker's stop and reload signals are the worker's: a stop sent to the whole
        # process group (Ctrl-C, a service manager) must not cut this reading short. The
        # reader ends when the worker closes its pipe, after the message in hand.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _not_ours)
        # Should the machine run short of memory, the kernel kills a reader, not the worker.
        with (
            contextlib.suppress(OSError),
            open("/proc/self/oom_score_adj", "w", encoding="ascii") as score,
        ):
            score.write("1000")
        # What the worker built before the fork lives on unchanged: kept out of the
        # collector's passes, which would otherwise walk (and copy) all of it.
        gc.freeze()
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        start, served = _address_space(), 0
        while (request := _read_frame(requests)) is not None:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))  # no limit between readings
            ctx: MessageContext = pickle.loads(request)  # noqa: S301 - the worker's own bytes
            # Each reading may take this much more than the reader holds as it starts.
            ceiling = _address_space() + memory_bytes
            if hard != resource.RLIM_INFINITY:
                ceiling = min(ceiling, hard)
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
            payload, healthy = _decided(ctx, read)
            served += 1
            retire = not healthy or served >= MAX_READINGS
            retire = retire or _address_space() > start + MAX_GROWTH
            _write_frame(answers, payload, retire=retire)
            if retire:
                break
    except MemoryError:
        code = EXIT_OUT_OF_MEMORY
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no cleanup handlers: the worker's database and sockets are not ours


def _not_ours(_signum: int, _frame: object) -> None:  # pragma: no cover - in the reader
    """A signal meant for the worker, not for the reader (a handler, not SIG_IGN, so
    that programs the reader starts, such as Tesseract, get the default handling)."""


def _decided(  # pragma: no cover - runs in the reader
    ctx: MessageContext, read: Callable[[MessageContext], MessageContext]
) -> tuple[bytes, bool]:
    """The pickled answer to one request, and whether the reader is still sound."""
    try:
        decided = read(ctx)
        decided.scanner = None  # a connection, not part of the result
        # The worker holds the email and its parsed form already: only what the stages
        # decided goes back (a parsed email pickles to several times its size).
        decided.raw, decided.message = b"", _NO_MESSAGE
        return pickle.dumps(("ok", decided), protocol=pickle.HIGHEST_PROTOCOL), True
    except MustWait as exc:
        return pickle.dumps(("wait", str(exc))), True
    except MemoryError:
        return MEMORY_ANSWER, False
    except RecursionError:
        return DEPTH_ANSWER, False
    except Exception as exc:
        # lxml and pdfium report a failed allocation as their own error.
        if "memory" in str(exc).lower() or "alloc" in str(exc).lower():
            return MEMORY_ANSWER, False
        return pickle.dumps(("error", traceback.format_exc())), False
