"""Time the form reader on the sample forms, by kind of form.

    .venv/bin/python bench/parse.py [--n N] [--runs R]

Each run parses every sample of each kind N times, the kinds interleaved round by round
(in a long-running intake process the reader's label caches are warm, so one untimed
warm-up parse of each file comes first; the first, cold parse is reported separately).
Prints, per kind, each run's median wall-clock milliseconds per form, then over all runs
the median, the 95th percentile and the median CPU milliseconds (this process only:
steadier than wall time when other work shares the machine), and the peak RSS.

Targets (issue #13): a .docx form median <= 6 ms; a 4-page PDF median <= 40 ms.

Then a scanned form (issue #15): the 4-page typed sample rendered to an image-only PDF at
300 dpi and read by OCR `--scan-runs` times (default 3): seconds per form (wall), the CPU
seconds of this process and of its Tesseract children, the share of the page threads'
time spent waiting for Tesseract, and the peak RSS of this process.
Floors measured on this form: about 1.2 ms for lxml to parse a .docx form's XML (plus
0.3 ms to open the zip), and about 12 ms for pdfium to give a 4-page text layer with
character boxes; the rest is Python walking the XML or the page (one step per element or
character), pdfplumber's ruling-line merging, and matching labels and answers.
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
TARGETS = {"docx": 6.0, "pdf (4 pages)": 40.0}


def files_of(patterns: list[str]) -> list[Path]:
    return sorted({p for pat in patterns for p in FORMS.glob(pat)})


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="rounds per run (default 20)")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    parser.add_argument(
        "--scan-runs", type=int, default=3, help="scanned-form reads (default 3; 0: none)"
    )
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
    runs: dict[str, list[list[float]]] = {k: [] for k in kinds}
    cpu: dict[str, list[float]] = {k: [] for k in kinds}
    for _run in range(args.runs):
        gc.collect()
        times: dict[str, list[float]] = {k: [] for k in kinds}
        for _ in range(args.n):
            for kind, data in kinds.items():
                for name, body in data:
                    t0, c0 = time.perf_counter(), time.process_time()
                    read_document(name, "application/octet-stream", body)
                    times[kind].append((time.perf_counter() - t0) * 1000)
                    cpu[kind].append((time.process_time() - c0) * 1000)
        for kind in kinds:
            runs[kind].append(times[kind])

    heads = " ".join(f"{f'run {i + 1}':>7}" for i in range(args.runs))
    print(
        f"{'kind':24} {'files':>5} {'forms':>6} {'cold ms':>8} {heads} {'median ms':>10} "
        f"{'p95 ms':>8} {'cpu ms':>7}"
    )
    for kind, data in kinds.items():
        every = [t for run in runs[kind] for t in run]
        median = statistics.median(every)
        per_run = " ".join(f"{statistics.median(run):7.1f}" for run in runs[kind])
        target = TARGETS.get(kind, TARGETS["docx"] if kind.startswith("docx") else None)
        verdict = "" if target is None else ("  ok" if median <= target else f"  > {target:g}")
        print(
            f"{kind:24} {len(data):5} {len(every):6} {cold[kind]:8.1f} {per_run} {median:10.1f} "
            f"{percentile(every, 0.95):8.1f} {statistics.median(cpu[kind]):7.1f}{verdict}"
        )
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"peak RSS: {peak_kb / 1024:.0f} MiB")
    if args.scan_runs > 0:
        scan(args.scan_runs)


def scan(runs: int) -> None:
    """Time a 4-page scanned form at 300 dpi (an image-only PDF) read by OCR."""
    import io

    import pypdfium2 as pdfium

    from parsers import scan_page

    doc = pdfium.PdfDocument((FORMS / "pdf-cc-police-window-fall.pdf").read_bytes())
    pages = [doc[i].render(scale=300 / 72, grayscale=True).to_pil() for i in range(len(doc))]
    doc.close()
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=300)
    data = buf.getvalue()
    waited = [0.0]
    ocr = scan_page.ocr_words

    def timed(*a: object, **k: object) -> object:
        t0 = time.perf_counter()
        try:
            return ocr(*a, **k)  # type: ignore[arg-type]
        finally:
            waited[0] += time.perf_counter() - t0

    scan_page.ocr_words = timed  # type: ignore[assignment]
    walls: list[float] = []
    cpus: list[float] = []
    kids: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0, c0 = time.perf_counter(), time.process_time()
        result = read_document("scan.pdf", "application/pdf", data)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        assert result.form is not None and result.form.source == "scan", result.reason
    # Pages are read two at a time, so the time waiting for Tesseract (summed over the
    # threads) is compared with twice the wall time.
    share = waited[0] / (2 * sum(walls))
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"{'scan (4 pages, 300 dpi)':24} {runs:5} forms: median {statistics.median(walls):.1f} s "
        f"a form (wall), cpu {statistics.median(cpus):.1f} s here + "
        f"{statistics.median(kids):.1f} s in tesseract, {share:.0%} of the page threads' "
        f"time waiting for tesseract"
    )
    # A forked child reports its parent's size as its own peak, so Tesseract's own peak
    # (about 70 MiB a page at 300 dpi, by /usr/bin/time) is not measured here.
    print(f"peak RSS after the scans: {self_kb / 1024:.0f} MiB (this process)")


if __name__ == "__main__":
    main()
