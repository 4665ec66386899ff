"""Run a benchmark's child process: its wall time, its peak RSS (wait4) and the peak summed
PSS of it and its descendants (sampled from /proc)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Child:
    """One finished child: exit code, wall seconds, peak RSS (MB) and its output files.
    `tree_mb`: the largest sum, sampled, of the proportional set size (PSS: a page shared
    by n processes counts 1/n in each) of the child and all its descendants (our worker and
    its reader process) - what the run holds of the machine's memory at once."""

    code: int
    seconds: float
    rss_mb: float
    log: Path
    tree_mb: float = 0.0


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants, from /proc (each thread lists its own children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as f:
                    todo.extend(int(c) for c in f.read().split())
    return out


def _pss_mb(pid: int) -> float:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


class TreeSampler(threading.Thread):
    """Samples a process tree's summed PSS every `every` seconds; `peak_mb` is the largest."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak_mb = pid, every, 0.0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.every):
            total = sum(_pss_mb(p) for p in _tree(self.pid))
            self.peak_mb = max(self.peak_mb, total)


def run_child(cmd: list[str], env: dict[str, str], cwd: Path, log: Path, timeout: float) -> Child:
    """Run `cmd`, timing it from spawn to exit; its peak RSS comes from wait4().

    wait4's rusage is that child's own (with its reaped children, e.g. our forked readers),
    so each run's figure stands alone, unlike RUSAGE_CHILDREN's high-water mark.
    """
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
        timer = threading.Timer(timeout, process.kill)
        timer.start()
        sampler = TreeSampler(process.pid)
        sampler.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            timer.cancel()
            sampler.done.set()
        seconds = time.perf_counter() - started
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Child(process.returncode, seconds, usage.ru_maxrss / 1024, log, sampler.peak_mb)


def check(child: Child, what: str) -> None:
    """Stop with the child's output when it failed."""
    if child.code != 0:
        tail = child.log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{what} failed with exit code {child.code}:\n{tail}")
