"""A form read from a scan, marked up: each value's confidence and place, and its doubts."""

from __future__ import annotations

import re
import statistics
from dataclasses import replace

from parsers.layout import CHECKED
from parsers.record import FieldValue, ParsedForm, Problem, ScanBox
from parsers.scan_page import PageRead
from parsers.scan_words import Placed

# A value is certain only when every word it was read from is: Tesseract's word
# confidence (0-1) of its least sure word, calibrated on the test scans (typed text at
# 150-300 dpi: right words mostly 0.90+, the few wrong ones under 0.85).
UNCERTAIN_BELOW = 0.86
UNCERTAIN = "read from a scan and not certain ({:.0%}): please check it on the scan"
UNCLEAR_TICK = "a tick box could not be read clearly: please check it on the scan"
HANDWRITTEN = "handwritten: please read it on the scan"
LAYOUT_DOUBT = (
    "read from a scan, where its line breaks (or the box it is in) were not certain: "
    "please check it on the scan"
)
_WHERE = re.compile(r"pdf page (\d+) at \((-?\d+),(-?\d+)\)")
_SCAN_WHERE = re.compile(r"scan page (\d+) at \((-?\d+),(-?\d+)\)")
DROPPED_TICK = (
    "a tick in this table could not be matched to its row on the scan: please check "
    "this answer on the scan"
)
_ROW_PT = 8.0  # a status's first word and the ticks of its row lie on one line
_STATUS_SPAN_PT = (-10.0, 100.0)  # the status column's boxes, from its first word
_FAR = 250.0  # points: a word further than this from the last one is not the next one


def scan_where(where: str) -> str:
    """The reader's "pdf page 2 at (x,y)" said of a scan."""
    return where.replace("pdf page", "scan page", 1)


def values(form: ParsedForm) -> dict[str, FieldValue]:
    """Every value by its key: fields, and grid cells ("household[2].dob", 1-based)."""
    out = dict(form.values)
    for rows in form.grids.values():
        for row in rows:
            for cell in row.values():
                out[cell.key] = cell
    return out


def annotate(form: ParsedForm, placed: list[list[Placed]], pages: list[PageRead]) -> None:
    """Give each value its confidence and its box on the page; flag the unsure ones."""
    problems: list[Problem] = []
    for key, fv in list(form.values.items()):
        fv, problem = _marked(form, fv, placed, pages, key)
        form.values[key] = fv
        problems += [problem] if problem else []
    for grid_key, rows in form.grids.items():
        for index, row in enumerate(rows):
            for column, cell in list(row.items()):
                cell, problem = _marked(form, cell, placed, pages, f"{grid_key}[{index}].{column}")
                row[column] = cell
                problems += [problem] if problem else []
    form.problems = [replace(p, where=scan_where(p.where)) for p in form.problems] + problems


def _marked(
    form: ParsedForm,
    fv: FieldValue,
    placed: list[list[Placed]],
    pages: list[PageRead],
    box_key: str,
) -> tuple[FieldValue, Problem | None]:
    found = _words_of(fv, placed)
    conf = min((p.conf for p in found), default=0.5)
    m = _WHERE.search(fv.where)
    if found and m:
        n = int(m.group(1)) - 1
        page = pages[n]
        x0 = min(p.box[0] for p in found) / page.width
        y0 = min(p.box[1] for p in found) / page.height
        x1 = max(p.box[2] for p in found) / page.width
        y1 = max(p.box[3] for p in found) / page.height
        if 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1:
            form.scan_boxes[box_key] = ScanBox(n, x0, y0, x1, y1)
    out = replace(fv, where=scan_where(fv.where), confidence=round(conf, 3))
    if conf >= UNCERTAIN_BELOW:
        return out, None
    label = form.label_for(fv.key)
    return out, Problem(
        fv.key, label, "uncertain", UNCERTAIN.format(conf), fv.raw, scan_where(fv.where)
    )


def _words_of(fv: FieldValue, placed: list[list[Placed]]) -> list[Placed]:
    """The words a value was read from: from the word its place names, each word of its
    raw text in turn, the nearest unused word on the page spelled the same."""
    m = _WHERE.search(fv.where)
    if m is None:
        return []
    n = int(m.group(1)) - 1
    if not 0 <= n < len(placed):
        return []
    x, y = float(m.group(2)), float(m.group(3))
    words = placed[n]
    by_text: dict[str, list[int]] = {}
    for i, p in enumerate(words):
        by_text.setdefault(p.word.text, []).append(i)
    used: set[int] = set()
    out: list[Placed] = []
    for token in fv.raw.split():
        best: tuple[float, int] | None = None
        for i in by_text.get(token, []):
            if i in used:
                continue
            w = words[i].word
            cost = 4 * abs(w.top - y) + abs(w.x0 - x)
            if best is None or cost < best[0]:
                best = (cost, i)
        if best is None or best[0] > _FAR * 4:
            continue
        used.add(best[1])
        out.append(words[best[1]])
        w = words[best[1]].word
        x, y = w.x1, w.top
    return out


def differing(a: ParsedForm, b: ParsedForm) -> set[str]:
    """Keys whose answer differs between two readings of the same pages: the value, or
    an answer that could not be understood (a scrawl read as "L\\/I\\D" is no date)."""
    va, vb = values(a), values(b)
    ia = {p.key: p.raw for p in a.problems if p.kind == "invalid"}
    ib = {p.key: p.raw for p in b.problems if p.kind == "invalid"}
    keys = va.keys() | vb.keys() | ia.keys() | ib.keys()
    return {k for k in keys if (_val(va.get(k)), ia.get(k)) != (_val(vb.get(k)), ib.get(k))}


def _val(fv: FieldValue | None) -> object:
    return None if fv is None else fv.value


def flag(form: ParsedForm, keys: set[str], handwritten: bool, message: str = UNCLEAR_TICK) -> None:
    """Flag keys a doubtful mark changes: an unclear tick keeps the value read without
    it ("uncertain"); writing too poor to read (handwriting) loses it ("unreadable")."""
    have = {p.key for p in form.problems if p.kind in ("uncertain", "unreadable")}
    cells = values(form)
    for key in sorted(keys):
        fv = cells.get(key)
        raw, where = (fv.raw, fv.where) if fv else ("", "")
        if handwritten:
            _drop(form, key)
            form.problems = [p for p in form.problems if p.key != key or p.kind == "invalid"]
            form.problems.append(
                Problem(key, form.label_for(key), "unreadable", HANDWRITTEN, raw, where)
            )
        elif key not in have:
            form.problems.append(
                Problem(key, form.label_for(key), "uncertain", message, raw, where)
            )


def _drop(form: ParsedForm, key: str) -> None:
    """Remove a value (a field's, or a grid cell's) from the form."""
    form.values.pop(key, None)
    for rows in form.grids.values():
        for row in rows:
            for column, cell in list(row.items()):
                if cell.key == key:
                    del row[column]


def dropped_ticks(form: ParsedForm, placed: list[list[Placed]]) -> None:
    """Flag the unread statuses of a process grid when its status column shows more
    lines with a tick (or a box not clearly empty) than statuses were read or flagged
    there: the answer of a row whose label or options the reader could not match, which
    would else go unsaid."""
    problems: dict[str, str] = {}
    for p in form.problems:
        problems[p.key] = problems.get(p.key) or p.where
    for pg in form.definition.process_grids:
        keys = [pg.status_key(r) for r in pg.rows]
        absent = [k for k in keys if k not in form.values and k not in problems]
        read: list[tuple[int, float, float]] = []
        for k in keys:
            where = form.values[k].where if k in form.values else problems.get(k, "")
            m = _SCAN_WHERE.search(where)
            if m:
                read.append((int(m.group(1)) - 1, float(m.group(2)), float(m.group(3))))
        if not read or not absent:
            continue
        # Flagged without a place: each may be one of the lines found below.
        unplaced = sum(1 for k in keys if k in problems and k not in form.values) - sum(
            1
            for k in keys
            if k in problems and k not in form.values and _SCAN_WHERE.search(problems[k])
        )
        x = statistics.median(r[1] for r in read)
        lo, hi = x + _STATUS_SPAN_PT[0], x + _STATUS_SPAN_PT[1]
        lines: set[tuple[int, int]] = set()
        for n in {r[0] for r in read if 0 <= r[0] < len(placed)}:
            ys = [r[2] for r in read if r[0] == n]
            lines |= {
                (n, round(p.word.top / _ROW_PT))
                for p in placed[n]
                if (p.word.text == CHECKED or p.unclear_box)
                and lo <= p.word.x0 <= hi
                and all(abs(p.word.top - y) > _ROW_PT for y in ys)
            }
        if len(lines) > unplaced:
            for key in absent:
                form.problems.append(
                    Problem(key, form.label_for(key), "uncertain", DROPPED_TICK, "", "")
                )
