"""Find a form's answers in a Layout by their labels, wherever the sender put them.

An answer is looked for, in this order: in the same cell after the label ("Name: X"),
in the cell to the right, in the cell below, in the paragraphs after a label paragraph.
Grids are recognised by their header rows, and their columns by header text, so added,
removed or reordered rows and columns do not matter. Nothing is matched by position
alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from parsers.answers import AnswerReader
from parsers.formdef import FieldDef, FormDef, normalise_label
from parsers.grid_headers import unmerged
from parsers.grid_reader import GridReader
from parsers.label_match import LabelMatcher, best_similarity
from parsers.layout import Cell, Layout, Para, Table
from parsers.record import FieldValue, GridRow, ParsedForm, Problem

HEADING_THRESHOLD = 0.85
LABEL_BESIDE_LABEL = 0.95


@dataclass
class _Answer:
    """The raw answer found for one field, before normalisation."""

    paras: list[Para]
    where: str


@dataclass
class _State:
    section: int = 0
    answers: dict[str, _Answer] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    grid_rows: dict[str, list[GridRow]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    marker: bool = False


class FormReader:
    """Reads one form definition's answers out of any Layout."""

    def __init__(self, form: FormDef) -> None:
        self.form = form
        self.matcher = LabelMatcher(form)
        self.answers = AnswerReader(form)
        self.grids = GridReader(form, self.matcher, self.answers)
        self._markers = [normalise_label(m) for m in form.markers]
        self._ignore = [normalise_label(t) for t in form.ignore_tables]
        self._heading_cache: dict[str, int] = {}
        self._headings: list[tuple[int, list[str]]] = [
            (s.number, _dedupe([normalise_label(s.heading), normalise_label(s.title)]))
            for s in form.sections
        ]

    # ------------------------------------------------------------------ entry point

    def read(self, layout: Layout) -> ParsedForm | None:
        """The filled form, or None when the layout is not this form at all."""
        st = _State()
        pending: list[Para] = []
        for block in layout.blocks:
            if isinstance(block, Para):
                pending.append(block)
                continue
            self._paras(pending, st)
            pending = []
            self._table(block, st)
        self._paras(pending, st)
        for hint in layout.hints:
            m = self.matcher.match(hint.label, 0)
            if m is not None and not self._has_text(st.answers.get(m[0].key)):
                st.seen.add(m[0].key)
                st.answers[m[0].key] = _Answer([Para(hint.value, hint.where)], hint.where)
        if not self._recognised(st):
            return None
        return self._build(st, layout.source)

    def _recognised(self, st: _State) -> bool:
        labelled = [f for f in self.form.fields if f.section and not self._is_process(f)]
        share = len(st.seen & {f.key for f in labelled}) / max(len(labelled), 1)
        return (st.marker and share >= 0.15) or share >= self.form.min_label_share

    # ------------------------------------------------------------------ paragraphs

    def _paras(self, paras: Sequence[Para], st: _State) -> None:
        """Body paragraphs (or a cell's): headings, "Label: value", label then answer lines."""
        current: FieldDef | None = None
        ignoring = False
        for p in paras:
            text = p.text.strip()
            if not text:
                continue
            self._check_marker(text, st)
            heading = self._heading(text)
            if heading:
                st.section = heading
                current, ignoring = None, False
                continue
            if ignoring or self._ignored(text):
                # An answer-free box (notes) that a PDF shows as loose lines.
                current, ignoring = None, True
                continue
            found = self._label_and_answer(text, st)
            if found is not None:
                current, rest = found
                self._start(current, [Para(rest, p.where)] if rest else [], p.where, st)
                continue
            if current is not None:
                st.answers[current.key].paras.append(p)

    def _start(self, f: FieldDef, paras: list[Para], where: str, st: _State) -> None:
        """Record that a field's label was found, keeping the first answer that has text."""
        st.seen.add(f.key)
        st.section = f.section or st.section
        old = st.answers.get(f.key)
        if old is None or not self._has_text(old):
            st.answers[f.key] = _Answer(paras, where)

    # ------------------------------------------------------------------ tables

    def _table(self, table: Table, st: _State) -> None:
        rows = [r for r in table.rows if r]
        if not rows:
            return
        if rows[0] and self._ignored(rows[0][0].text):
            return
        for row in rows[:3]:
            for c in row:
                self._check_marker(c.text, st)
        grid = self.grids.find(rows)
        if grid is not None:
            out = st.grid_rows.setdefault(grid.grid.key, [])
            found, problems = self.grids.read_rows(grid, rows, len(out) + 1)
            out.extend(found)
            st.problems.extend(problems)
            return
        for pg in self.form.process_grids:
            cells = self.grids.process_answers(pg, rows)
            if cells is not None:
                for key, cell in cells.items():
                    st.seen.add(key)
                    st.answers[key] = _Answer(list(cell.paras), cell.where)
                    st.section = self.form.field(key).section or st.section
                return
        self._label_table(unmerged(rows), st)

    def _label_table(self, rows: list[list[Cell]], st: _State) -> None:
        used: set[tuple[int, int]] = set()
        last: FieldDef | None = None
        for r, row in enumerate(rows):
            texts = [c.text.strip() for c in row]
            nonempty = [t for t in texts if t]
            if len(set(nonempty)) == 1:
                heading = self._heading(nonempty[0])
                if heading:
                    st.section, last = heading, None
                    continue
            if (
                row
                and not texts[0]
                and last is not None
                and nonempty
                and not any(self._is_label(c, st) for c in row)
            ):
                # No label: the answer above continues (page break, merged label cell).
                for c in row[1:]:
                    st.answers[last.key].paras.extend(c.paras)
                continue
            last = None
            i = 0
            while i < len(row):
                cell = row[i]
                if (r, i) in used or cell.is_empty():
                    i += 1
                    continue
                hit = self._label_cell(cell, st)
                if hit is None:
                    self._paras(cell.paras, st)
                    i += 1
                    continue
                f, rest = hit
                # The answer: every cell to the right up to the next label (one option
                # per cell is common), else text after the label in its own cell, else
                # the cell below (a row of labels over a row of answers).
                j = i + 1
                while j < len(row) and (r, j) not in used and not self._is_label(row[j], st, f):
                    j += 1
                right = [c for c in row[i + 1 : j]]
                filled = [c for c in right if self._clean(c.text)]
                below = _cell_at(rows, r + 1, i)
                if filled:
                    self._start(f, [p for c in right for p in c.paras], filled[0].where, st)
                elif rest and not _only_asides(rest):
                    self._start(f, rest, cell.where, st)
                elif right:
                    self._start(f, [], right[0].where, st)
                elif below is not None and not self._is_label(below, st, f):
                    self._start(f, list(below.paras), below.where, st)
                    used.add((r + 1, i))
                else:
                    self._start(f, [], cell.where, st)
                last = f
                i = j

    def _label_cell(self, cell: Cell, st: _State) -> tuple[FieldDef, list[Para]] | None:
        """The field a cell labels, and any answer written in the same cell after the label."""
        paras = [p for p in cell.paras if p.text.strip()]
        if not paras:
            return None
        if len(paras) > 1:
            # A label wrapped over several paragraphs (or lines of a PDF cell).
            whole = self._scored(" ".join(p.text for p in paras), st)
            if whole is not None and whole[1] >= 1.0:
                return whole[0], []
        first = self._label_and_answer(paras[0].text, st)
        if first is not None:
            f, rest = first
            return f, ([Para(rest, paras[0].where)] if rest else []) + paras[1:]
        whole = self._scored(" ".join(p.text for p in paras), st)
        return (whole[0], []) if whole is not None else None

    def _is_label(self, cell: Cell, st: _State, of: FieldDef | None = None) -> bool:
        """Does the cell hold another field's label (not an answer)?

        An answer that happens to read like its own field's label ("Learning" as the
        learning answer) is still an answer.
        """
        paras = [p for p in cell.paras if p.text.strip()]
        if not paras:
            return False
        m = self._scored(" ".join(p.text for p in paras), st, abbreviated=False)
        if m is None or (of is not None and m[0].key == of.key):
            return False
        # Beside a label, a cell is an answer unless it is all but exactly another label:
        # "School Nurse" resembles "School / nursery" but answers "Job title".
        return of is None or m[1] >= LABEL_BESIDE_LABEL

    # ------------------------------------------------------------------ building the record

    def _build(self, st: _State, source: str) -> ParsedForm:
        form = ParsedForm(self.form, source=source)
        form.grids = st.grid_rows
        problems: list[Problem] = []
        for f in self.form.fields:
            label = f.label.strip().removesuffix("*").strip()
            ans = st.answers.get(f.key)
            raw = self._clean("\n".join(p.text for p in ans.paras)) if ans else ""
            where = ans.where if ans else ""
            text = raw
            if ans and f.type in ("choice", "multi-choice") and any(p.marked for p in ans.paras):
                # A choice may be shown by emphasis alone: it is read from the marked text.
                text = self._clean("\n".join(p.marked or p.text for p in ans.paras))
            result = self.answers.normalise(f.type, text, f.options, f.type == "multi-choice")
            if result.problem:
                problems.append(Problem(f.key, label, "invalid", result.problem, raw, where))
            elif result.value:
                value: str | list[str] = (
                    result.value.split("\n") if f.type == "multi-choice" else result.value
                )
                form.values[f.key] = FieldValue(f.key, value, raw, where)
            elif f.mandatory and f.key in st.seen:
                problems.append(
                    Problem(
                        f.key,
                        label,
                        "missing",
                        "must be completed but was left empty",
                        raw,
                        where,
                    )
                )
            elif f.mandatory:
                problems.append(
                    Problem(f.key, label, "unreadable", "could not be found on the form")
                )
        form.problems = problems + st.problems
        form.infer_years()
        return form

    # ------------------------------------------------------------------ helpers

    def _match(self, text: str, st: _State, abbreviated: bool = True) -> FieldDef | None:
        m = self._scored(text, st, abbreviated)
        return m[0] if m else None

    def _scored(
        self, text: str, st: _State, abbreviated: bool = True
    ) -> tuple[FieldDef, float] | None:
        m = self.matcher.match(text, st.section, abbreviated)
        if m is None or self._is_process(m[0]):
            return None
        return m

    def _label_and_answer(self, text: str, st: _State) -> tuple[FieldDef, str] | None:
        """A label with its answer on the same line, or a bare label (answer "").

        The label-plus-answer reading is tried first unless the whole text is exactly a
        label: "Have you discussed ...? Yes" is close enough to the bare label to match
        it, but the "Yes" is the answer.
        """
        whole = self._scored(text, st, abbreviated=False)
        if whole is not None and whole[1] >= 1.0:
            return whole[0], ""
        if whole is None and (short := self._scored(text, st)) is not None:
            return short[0], ""  # every word abbreviates the label: nothing left to answer
        split = self._split_label(text, st)
        if split is not None:
            return split
        return (whole[0], "") if whole is not None else None

    def _split_label(self, text: str, st: _State) -> tuple[FieldDef, str] | None:
        """'Label: answer' or 'Label answer' on one line -> (field, answer)."""
        first, _, after = text.partition("\n")
        if ":" in first:
            left, _, right = first.partition(":")
            if 0 < len(left.split()) <= 12:
                f = self._match(left, st)
                if f is not None:
                    return f, (right + ("\n" + after if after else "")).strip()
        words = first.split()
        hit = self.matcher.exact_prefix(words, st.section)
        if hit is not None and hit[1] < len(words) and not self._is_process(hit[0]):
            rest = " ".join(words[hit[1] :]).lstrip("*:-–— ").strip()
            if rest and not self._part_of_label(rest, hit[0]):
                return hit[0], rest + ("\n" + after if after else "")
        return None

    def _part_of_label(self, rest: str, f: FieldDef) -> bool:
        """Is `rest` the remainder of the label itself ("(tick all that apply)")?"""
        words = normalise_label(rest)
        if not words:
            return True
        return any(f" {words} " in f" {normalise_label(n)} " for n in (f.label, *f.aliases))

    def _heading(self, text: str) -> int:
        norm = normalise_label(text)
        if not norm or len(norm) > 80:
            return 0
        if norm not in self._heading_cache:
            if len(self._heading_cache) >= 20_000:
                self._heading_cache.clear()
            self._heading_cache[norm] = self._find_heading(norm)
        return self._heading_cache[norm]

    def _find_heading(self, norm: str) -> int:
        bare = re.sub(r"^(?:section\s+)?(?:\d+\s+)?", "", norm)
        for number, variants in self._headings:
            if best_similarity(norm, variants, HEADING_THRESHOLD) >= HEADING_THRESHOLD or (
                bare != norm
                and best_similarity(bare, variants, HEADING_THRESHOLD) >= HEADING_THRESHOLD
            ):
                return number
        return 0

    def _ignored(self, text: str) -> bool:
        """Does this text open a box that holds no answers (office use, notes)?"""
        norm = normalise_label(text)
        return any(norm.startswith(t) for t in self._ignore if t)

    def _check_marker(self, text: str, st: _State) -> None:
        if not st.marker:
            norm = normalise_label(text)
            st.marker = any(m and m in norm for m in self._markers)

    def _clean(self, text: str) -> str:
        return self.answers.clean(text)

    def _has_text(self, ans: _Answer | None) -> bool:
        return ans is not None and bool(self._clean("\n".join(p.text for p in ans.paras)))

    def _is_process(self, f: FieldDef) -> bool:
        return any(f.key.startswith(pg.key + ".") for pg in self.form.process_grids)


def _only_asides(paras: list[Para]) -> bool:
    """Only bracketed hints such as "(dd/mm/yyyy)" under a label: not an answer."""
    return all(re.fullmatch(r"\s*\(.*\)\s*", p.text) for p in paras if p.text.strip())


def _cell_at(rows: list[list[Cell]], r: int, i: int) -> Cell | None:
    if r < len(rows) and i < len(rows[r]):
        return rows[r][i]
    return None


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for i in items:
        if i and i not in out:
            out.append(i)
    return out


# One reader per form definition, reused: its label and heading caches then serve every
# document (the same labels come back in each form). Keyed by identity, holding the
# definition so that the id is not reused.
_READERS: dict[int, tuple[FormDef, FormReader]] = {}


def read_form(layout: Layout, form: FormDef) -> ParsedForm | None:
    """Read `layout` as `form`; None when it is not that form."""
    held = _READERS.get(id(form))
    if held is None or held[0] is not form:
        if len(_READERS) >= 32:
            _READERS.clear()
        held = _READERS[id(form)] = (form, FormReader(form))
    return held[1].read(layout)
