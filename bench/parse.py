"""Time the form reader on the sample forms, by kind of form.

    .venv/bin/python bench/parse.py [--n N]

Each round parses every sample of each kind once (in a long-running intake process the
reader's label caches are warm, so one untimed warm-up parse of each file comes first;
the first, cold parse is reported separately). Prints the median and 95th percentile
wall-clock milliseconds per form for each kind, the median CPU milliseconds (this
process only: steadier than wall time when other work shares the machine), and the
process's peak RSS.

Targets (from the parser issue): a .docx form median <= 15 ms; the 4+ page PDF median
<= 150 ms.
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from parsers.documents import read_document  # noqa: E402

FORMS = ROOT / "samples" / "forms"
KINDS: dict[str, list[str]] = {
    "docx content controls": ["cc-*.docx", "labels-nfd-*.docx", "rows-big-*.docx"],
    "docx typed": ["typed-*.docx", "labels-typed-*.docx", "rows-deleted-*.docx"],
    "docx legacy": ["legacy-*.docx"],
    "pdf (4 pages)": ["pdf-cc-*.pdf", "pdf-typed-*.pdf", "pdf-labels-*.pdf", "pdf-legacy-*.pdf"],
    "pdf 5 pages (long)": ["pdf-rows-long-*.pdf"],
}
TARGETS = {"docx": 15.0, "pdf (4 pages)": 150.0, "pdf 5 pages (long)": 150.0}


def files_of(patterns: list[str]) -> list[Path]:
    return sorted({p for pat in patterns for p in FORMS.glob(pat)})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=30, help="rounds over each kind (default 30)")
    args = parser.parse_args()

    kinds: dict[str, list[tuple[str, bytes]]] = {}
    cold: dict[str, float] = {}
    for kind, patterns in KINDS.items():
        files = files_of(patterns)
        if not files:
            print(f"{kind:24} no sample files (run samples/make_samples.py)")
            continue
        data = [(f.name, f.read_bytes()) for f in files]
        started = time.perf_counter()
        for name, body in data:  # first parse: cold for this kind's labels and headers
            result = read_document(name, "application/octet-stream", body)
            assert result.form is not None, (name, result.reason)
        cold[kind] = (time.perf_counter() - started) * 1000 / len(data)
        kinds[kind] = data

    # Rounds interleave the kinds, so a slow spell on a shared machine hits every kind
    # alike instead of skewing whichever kind happened to be running.
    times: dict[str, list[float]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    gc.collect()
    for _ in range(args.n):
        for kind, data in kinds.items():
            for name, body in data:
                t0, c0 = time.perf_counter(), time.process_time()
                read_document(name, "application/octet-stream", body)
                times[kind].append((time.perf_counter() - t0) * 1000)
                cpu[kind].append((time.process_time() - c0) * 1000)

    print(
        f"{'kind':24} {'files':>5} {'forms':>6} {'cold ms':>8} {'median ms':>10} "
        f"{'p95 ms':>8} {'cpu ms':>7}"
    )
    for kind, data in kinds.items():
        median = statistics.median(times[kind])
        target = TARGETS.get(kind, TARGETS["docx"] if kind.startswith("docx") else None)
        verdict = "" if target is None else ("  ok" if median <= target else f"  > {target:g}")
        print(
            f"{kind:24} {len(data):5} {len(times[kind]):6} {cold[kind]:8.1f} {median:10.1f} "
            f"{percentile(times[kind], 0.95):8.1f} {statistics.median(cpu[kind]):7.1f}{verdict}"
        )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak RSS: {peak_kb / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
