"""Merged cells in tables: header cells over several columns or rows, sub-heading rows."""

from __future__ import annotations

from parsers.formdef import ColumnDef, normalise_label
from parsers.layout import Cell


def same_cell(a: Cell, b: Cell) -> bool:
    """Are these one cell of the document? The Word reader gives a merged cell as the
    same Cell in every column and row it covers."""
    return a is b or a.where == b.where


def spread(row: list[Cell], cols: dict[int, ColumnDef]) -> dict[int, ColumnDef]:
    """`cols` plus the other columns of each matched header cell that is merged across:
    the values under "Name" merged over two columns are both parts of the name."""
    out = dict(cols)
    for i, cell in enumerate(row):
        if i not in out:
            j = next((j for j in cols if j < len(row) and same_cell(row[j], cell)), None)
            if j is not None:
                out[i] = cols[j]
    return dict(sorted(out.items()))


def distinct(cells: list[Cell]) -> list[Cell]:
    """The cells, each merged cell once."""
    out: list[Cell] = []
    for c in cells:
        if not any(same_cell(c, o) for o in out):
            out.append(c)
    return out


def header_end(rows: list[list[Cell]], r: int) -> int:
    """The last row of the header starting at row `r`: a row holding a header cell
    merged down from the row above is still header (sub-headers under a merged one)."""
    while r + 1 < len(rows):
        top, below = rows[r], rows[r + 1]
        if not any(
            i < len(top) and not c.is_empty() and same_cell(c, top[i]) for i, c in enumerate(below)
        ):
            break
        r += 1
    return r


def is_subheading(row: list[Cell], cols: dict[int, ColumnDef]) -> bool:
    """A row across the grid ("Other significant adults"), not a member: one cell merged
    over several columns, or the same text written in every cell."""
    filled = [c for c in row if not c.is_empty()]
    if not filled:
        return False
    first = filled[0]
    if all(same_cell(c, first) for c in filled):
        covered = {cols[i].key for i, c in enumerate(row) if i in cols and same_cell(c, first)}
        return len(covered) >= 2
    texts = {normalise_label(c.text) for c in row}
    return len(row) >= 2 and len(filled) == len(row) and len(texts) == 1


def unmerged(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Each merged cell once, where it starts, and blank below: label tables are read
    cell by cell, and a label or answer repeated would read as a second one."""
    out: list[list[Cell]] = []
    above: list[Cell] = []
    for row in rows:
        cells: list[Cell] = []
        for i, c in enumerate(row):
            if i and same_cell(c, row[i - 1]):
                continue
            if i < len(above) and same_cell(c, above[i]):
                c = Cell((), c.where)
            cells.append(c)
        out.append(cells)
        above = row
    return out
