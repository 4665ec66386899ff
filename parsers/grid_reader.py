"""Grids: tables recognised by their header rows, columns mapped by header text.

Rows may be added or removed and columns reordered or renamed a little; nothing is
taken by position alone. The parallel-processes grid (fixed rows) is found by its
header or by its row labels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from parsers.answers import AnswerReader
from parsers.choices import read_choice
from parsers.formdef import ColumnDef, FormDef, GridDef, ProcessGridDef, normalise_label
from parsers.grid_headers import distinct, header_end, is_subheading, same_cell, spread
from parsers.label_match import LabelMatcher, abbreviates, best_similarity, label_variants
from parsers.layout import Cell
from parsers.limits import MAX_GRID_ROWS, OverLimit
from parsers.record import FieldValue, GridRow, Problem


@dataclass
class GridMatch:
    """A table recognised as a grid: which grid, where its header is, which column is which."""

    grid: GridDef
    header_row: int
    columns: dict[int, ColumnDef]


class GridReader:
    """Finds and reads the grids of one form definition."""

    def __init__(self, form: FormDef, matcher: LabelMatcher, answers: AnswerReader) -> None:
        self.form = form
        self.matcher = matcher
        self.answers = answers
        self.threshold = form.label_threshold
        # Header and row-label scores by normalised text, kept across documents (the
        # reader is reused) and bounded, since answer cells are scored too.
        self._cell_scores: dict[tuple[str, str], tuple[tuple[float, int], ...]] = {}
        self._row_cache: dict[tuple[str, str], int | None] = {}
        self._header_hits: dict[
            tuple[str, int], tuple[tuple[tuple[float, int], ...], ColumnDef | None]
        ] = {}

    # ------------------------------------------------------------------ repeating grids

    def find(self, rows: list[list[Cell]]) -> GridMatch | None:
        """The grid whose header row (one of the first two rows) this table has."""
        best: tuple[float, GridMatch] | None = None
        for r, row in enumerate(rows[:2]):
            nonempty = distinct([c for c in row if not c.is_empty()])
            for grid in self.form.grids:
                cols = self._header_map(row, grid.columns)
                need = min(grid.min_header_matches, len(grid.columns))
                named = len({c.key for c in cols.values()})
                if named < need or len(cols) < 0.6 * len(nonempty):
                    continue
                score = named / len(grid.columns)
                if best is None or score > best[0]:
                    best = (score, GridMatch(grid, r, spread(row, cols)))
        if best is None:
            return None
        match = best[1]
        # Sub-headers under a header merged down ("Name" over "First name | Surname")
        # are header too; the columns stay those of the merged header.
        match.header_row = header_end(rows, match.header_row)
        return match

    def _header_map(self, row: list[Cell], columns: list[ColumnDef]) -> dict[int, ColumnDef]:
        """Which column each header cell names (each column used once, best first)."""
        scored: list[tuple[float, int, int]] = []
        parts: dict[int, ColumnDef] = {}
        grid = id(columns)  # the form definition's own list: lives as long as the reader
        for i, cell in enumerate(row):
            # Every table of every form is tried against every grid: each cell's answer
            # is worked out once per text (labels and headers repeat in every form).
            hit = self._header_hits.get((cell.text, grid))
            if hit is None:
                hit = (self._header_cell(cell.text, columns), self._part_of(cell.text, columns))
                if len(self._header_hits) >= 20_000:
                    self._header_hits.clear()
                self._header_hits[(cell.text, grid)] = hit
            scored.extend((s, i, j) for s, j in hit[0])
            if hit[1] is not None:
                parts[i] = hit[1]
        out: dict[int, ColumnDef] = {}
        taken: set[int] = set()
        for _s, i, j in sorted(scored, reverse=True):
            if i not in out and j not in taken:
                out[i] = columns[j]
                taken.add(j)
        for i, part in parts.items():
            # "First name | Surname" under no "Name": each holds part of the name.
            out.setdefault(i, part)
        return out

    def _part_of(self, raw: str, columns: list[ColumnDef]) -> ColumnDef | None:
        """The column this header cell holds part of ("Surname" for "Name"), if any."""
        text = normalise_label(raw)
        if not text or len(text) > 80:
            return None
        return next(
            (
                c
                for c in columns
                if c.parts and header_score(text, names("", c.parts), self.threshold)
            ),
            None,
        )

    def _header_cell(self, raw: str, columns: list[ColumnDef]) -> tuple[tuple[float, int], ...]:
        """(score, column index) for each column this header cell could name."""
        text = normalise_label(raw)
        if not text:
            return ()
        # Also without a bracketed aside: "Parental resp. (Y/N)", "Involved (Y/N)".
        texts = label_variants(raw) if len(text) <= 200 else [text]
        key = ("|".join(texts), columns[0].key + "/" + "/".join(c.key for c in columns))
        found = self._cell_scores.get(key)
        if found is None:
            # A cell that names a field better than a column is a label, not a header
            # ("Name of referrer" only loosely fits the household "Name" column).
            label = self.matcher.match(raw, 0, abbreviated=False)
            found = tuple(
                (s, j)
                for j, col in enumerate(columns)
                if (
                    s := max(
                        header_score(t, names(col.header, col.variants), self.threshold)
                        for t in texts
                    )
                )
                and (label is None or s >= label[1])
            )
            if len(self._cell_scores) >= 20_000:
                self._cell_scores.clear()
            self._cell_scores[key] = found
        return found

    def read_rows(
        self, match: GridMatch, rows: list[list[Cell]], first_number: int
    ) -> tuple[list[GridRow], list[Problem]]:
        """Filled rows after the header, numbered from `first_number`, and cell problems.

        Raises OverLimit past MAX_GRID_ROWS filled rows in all (counting the rows read
        before `first_number`): no referral has so many household members.
        """
        grid, cols = match.grid, match.columns
        # A header repeated after a page break: the form's wording or the sender's.
        headers = [
            {c.key: normalise_label(c.header) for c in cols.values()},
            self._texts(rows[match.header_row], cols, normalise_label),
        ]
        out: list[GridRow] = []
        problems: list[Problem] = []
        clean = self.answers.clean
        for row in rows[match.header_row + 1 :]:
            cells = self._by_column(row, cols)
            texts = {k: " ".join(t for c in cs if (t := clean(c.text))) for k, cs in cells.items()}
            # Only a row with a merged cell (one cell in several columns) can hold a value
            # written across two columns: the others skip that check.
            merged = len({c.where for c in row}) < len(row)
            if not any(texts.values()) or is_subheading(row, cols):
                continue
            if {k: normalise_label(t) for k, t in texts.items()} in headers:
                continue
            n = first_number + len(out)
            if n > MAX_GRID_ROWS:
                raise OverLimit(
                    f"the form's “{grid.title}” table has more than {MAX_GRID_ROWS} filled "
                    "rows, more than a referral form could"
                )
            values: GridRow = {}
            for col in grid.columns:
                if col.key not in cells:
                    continue
                raw, where = texts[col.key], cells[col.key][0].where
                key = f"{grid.key}[{n}].{col.key}"
                label = f"{grid.title} row {n} – {col.header}"
                across = self._across(row, cols, cells[col.key], col) if merged else ""
                if raw and across:
                    # One answer merged over several columns: which it answers is a guess.
                    message = (
                        f"written in one box across the “{col.header}” and “{across}” "
                        "columns, so which it answers is not clear"
                    )
                    problems.append(Problem(key, label, "invalid", message, raw, where))
                    continue
                result = self.answers.normalise(col.type, raw, col.options)
                if result.problem:
                    problems.append(Problem(key, label, "invalid", result.problem, raw, where))
                elif result.value:
                    values[col.key] = FieldValue(key, result.value, raw, where)
            out.append(values)
        return out, problems

    @classmethod
    def _texts(
        cls, row: list[Cell], cols: dict[int, ColumnDef], clean: Callable[[str], str]
    ) -> dict[str, str]:
        """Each matched column's text in this row (parts under a merged header joined)."""
        return {
            k: " ".join(t for c in cs if (t := clean(c.text)))
            for k, cs in cls._by_column(row, cols).items()
        }

    @staticmethod
    def _by_column(row: list[Cell], cols: dict[int, ColumnDef]) -> dict[str, list[Cell]]:
        """Each matched column's cells in this row (several under a merged header),
        each merged cell once."""
        out: dict[str, list[Cell]] = {}
        for i, col in cols.items():
            if i < len(row):
                out[col.key] = distinct([*out.get(col.key, []), row[i]])
        return out

    @staticmethod
    def _across(
        row: list[Cell], cols: dict[int, ColumnDef], cells: list[Cell], col: ColumnDef
    ) -> str:
        """The header of another column that one of these cells is merged into, or ""."""
        for i, c in enumerate(row):
            other = cols.get(i)
            if other is not None and other.key != col.key and any(same_cell(c, x) for x in cells):
                return other.header
        return ""

    # ------------------------------------------------------------------ parallel processes

    def process_answers(self, pg: ProcessGridDef, rows: list[list[Cell]]) -> dict[str, Cell] | None:
        """Answer cells by field key if this table is the process grid, else None."""
        header_at = -1
        cols: dict[str, int] = {}
        for r, row in enumerate(rows[:2]):
            found = self._process_header(pg, row)
            if len(found) >= 2:
                header_at, cols = r, found
                break
        label_col = cols.get("process", 0)
        matched = [
            (r, k)
            for r, row in enumerate(rows)
            if r > header_at and label_col < len(row)
            for k in [self._process_row(pg, row[label_col].text)]
            if k is not None
        ]
        if header_at < 0 and len(matched) < 2:
            return None
        out: dict[str, Cell] = {}
        for r, k in matched:
            row = rows[r]
            status_col, details_col = cols.get("status"), cols.get("details")
            if status_col is None:
                # Header unreadable: the status is the cell holding the options.
                status_col = next(
                    (i for i in range(len(row)) if i != label_col and _has_options(pg, row[i])),
                    None,
                )
            if details_col is None:
                details_col = next(
                    (i for i in range(len(row)) if i not in (label_col, status_col)), None
                )
            for key, col in (
                (pg.status_key(pg.rows[k]), status_col),
                (pg.details_key(pg.rows[k]), details_col),
            ):
                if col is not None and col < len(row):
                    out[key] = row[col]
        return out

    def _process_header(self, pg: ProcessGridDef, row: list[Cell]) -> dict[str, int]:
        heads = {
            "process": names(pg.process_header, pg.process_variants),
            "status": names(pg.status_header, pg.status_variants),
            "details": names(pg.details_header, pg.details_variants),
        }
        out: dict[str, int] = {}
        for i, cell in enumerate(row):
            text = normalise_label(cell.text)
            for name, variants in heads.items():
                if name not in out and header_score(text, variants, self.threshold):
                    out[name] = i
                    break
        return out

    def _process_row(self, pg: ProcessGridDef, text: str) -> int | None:
        norm = normalise_label(text)
        key = (pg.key, norm)
        if key not in self._row_cache:
            if len(self._row_cache) >= 20_000:
                self._row_cache.clear()
            self._row_cache[key] = self._find_process_row(pg, norm)
        return self._row_cache[key]

    def _find_process_row(self, pg: ProcessGridDef, norm: str) -> int | None:
        best: tuple[float, int] | None = None
        for k, row in enumerate(pg.rows):
            s = best_similarity(norm, names(row.label, row.aliases), self.threshold)
            if s >= self.threshold and (best is None or s > best[0]):
                best = (s, k)
        return None if best is None else best[1]


def _has_options(pg: ProcessGridDef, cell: Cell) -> bool:
    return bool(read_choice(cell.text, pg.status_options).selected) or any(
        ch in cell.text for ch in "☐☒"
    )


def header_score(
    text: str, variants: list[str], threshold: float, sm: SequenceMatcher[str] | None = None
) -> float:
    """Similarity of a header cell to a column's names; a shortened header also counts."""
    if len(text) > 200:
        return _header_score(text, tuple(variants), threshold)  # an answer, not a header
    return _cached_header_score(text, tuple(variants), threshold)


@lru_cache(maxsize=16384)
def _cached_header_score(text: str, variants: tuple[str, ...], threshold: float) -> float:
    # Every table's first rows are scored against every column of every grid, and
    # the same header texts come back in each form.
    return _header_score(text, variants, threshold)


def _header_score(text: str, variants: tuple[str, ...], threshold: float) -> float:
    s = best_similarity(text, list(variants), threshold)
    if s >= threshold:
        return s
    for v in variants:
        # "Relationship" for "Relationship to child", "Parental resp." for
        # "Parental responsibility (Yes/No)".
        if (len(text) >= 4 and abbreviates(text, v, extra_words=3)) or (
            len(v) >= 4 and abbreviates(v, text, extra_words=3)
        ):
            return threshold
    return 0.0


@lru_cache(maxsize=4096)
def _names(name: str, others: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for v in (v for n in (name, *others) for v in label_variants(n)):
        if v and v not in out:
            out.append(v)
    return tuple(out)


def names(name: str, others: list[str]) -> list[str]:
    """Normalised variants of a header or row label and its alternatives."""
    return list(_names(name, tuple(others)))
