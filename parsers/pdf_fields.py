"""Fillable-form (AcroForm) fields, read with pypdf and put on the page as words."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

import pypdf

from parsers.layout import CHECKED, UNCHECKED, FieldHint
from parsers.limits import OverLimit, PdfLimits
from parsers.pdf_text import BOX_GLYPHS, Word

# Printed words looked at around one check box: a row of options is a few dozen, and a
# page of hostile widgets over a pile of words stays quick.
NEAR = 200


def form_fields(
    reader: pypdf.PdfReader, limits: PdfLimits
) -> tuple[dict[int, list[Word]], list[FieldHint]]:
    """Fillable-field values as words placed in their boxes, and as label/value hints.

    A check box is a ☒/☐ word the size of its widget's rect; `place_fields` moves it to
    where its option's text reads it.
    """
    words: dict[int, list[Word]] = {}
    hints: list[FieldHint] = []
    fields = 0
    for n, page in enumerate(reader.pages[: limits.max_pages]):
        annots = page.get("/Annots")
        if not annots:
            continue
        llx, _lly, _urx, ury = (float(v) for v in page.mediabox)
        annots = annots.get_object()
        fields += len(annots)
        if len(annots) > limits.page_fields or fields > limits.document_fields:
            raise OverLimit(
                "the PDF has more fillable fields than a referral form could "
                f"({fields:,} by page {n + 1})"
            )
        for ref in annots:
            a = ref.get_object()
            if a.get("/Subtype") != "/Widget" or "/Rect" not in a:
                continue
            x0, y0, x1, y1 = (float(v) for v in a["/Rect"])
            x0, x1 = sorted((x0 - llx, x1 - llx))
            top, bottom = sorted((ury - y1, ury - y0))
            kind = _inherited(a, "/FT")
            name = _field_name(a)
            if kind == "/Btn":
                if int(_inherited(a, "/Ff") or 0) & (1 << 16):
                    continue  # push button
                state = a.get("/AS")
                if state is None:
                    state = _inherited(a, "/V")
                glyph = CHECKED if state not in (None, "/Off") else UNCHECKED
                size = max(min(bottom - top, 14.0), 6.0)
                words.setdefault(n, []).append(Word(glyph, x0, x1, top, bottom, size))
            elif kind in ("/Tx", "/Ch"):
                value = _inherited(a, "/V")
                if isinstance(value, list):
                    value = "\n".join(str(v) for v in value)
                text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
                if not text.strip():
                    continue
                # One word for the whole value, on the field's first line, so that it
                # lines up with a label written beside the box.
                n_lines = text.count("\n") + 1
                size = min(10.0, max(bottom - top, 4.0))
                t = top + (bottom - top - size) / 2 if n_lines == 1 else top + 2
                words.setdefault(n, []).append(
                    Word(text, x0 + 1, x1 - 1, t, t + size, size, hard=True)
                )
                label = str(_inherited(a, "/TU") or name)
                hints.append(FieldHint(label, text, f"pdf page {n + 1} field {name}"))
    return words, hints


def place_fields(printed: list[Word], fields: list[Word]) -> list[Word]:
    """The page's printed words with its field words added, each check box in front of
    the option text beside it.

    A check box widget is drawn over the form's own box (a little larger, or offset),
    and the printed box is often still in the text layer beneath. Left where they are,
    the two boxes read "☒ ☐ No", and the ☒ before the printed box is taken for a mark
    on the option before ("☐ Yes ✓ ☐ No"); a rect taller than the text can also put the
    box on the line above or below. So the widget takes the printed box's place (one
    box), and the line of the text beside it.
    """
    boxes = [f for f in fields if not f.hard]
    if not boxes:
        return printed + fields
    order = sorted(printed, key=lambda w: w.middle)
    middles = [w.middle for w in order]
    replaced: set[int] = set()  # ids of printed boxes a widget took the place of
    placed: list[Word] = []
    for box in boxes:
        lo = bisect_left(middles, box.top - box.size)
        near = order[lo : min(bisect_right(middles, box.bottom + box.size), lo + NEAR)]
        under = [
            w for w in near if w.text in BOX_GLYPHS and id(w) not in replaced and _over(box, w)
        ]
        at = box
        if under:
            at = min(under, key=lambda w: abs(w.middle - box.middle) + abs(w.x0 - box.x0))
            replaced.add(id(at))
        placed.append(_beside(box.text, at, [w for w in near if w.text not in BOX_GLYPHS]))
    kept = [w for w in printed if id(w) not in replaced]
    return kept + placed + [f for f in fields if f.hard]


def _over(box: Word, glyph: Word) -> bool:
    """Does the widget cover this printed box (the centre of one inside the other)?"""
    gx, gy = (glyph.x0 + glyph.x1) / 2, glyph.middle
    bx, by = (box.x0 + box.x1) / 2, box.middle
    return (box.x0 <= gx <= box.x1 and box.top <= gy <= box.bottom) or (
        glyph.x0 <= bx <= glyph.x1 and glyph.top <= by <= glyph.bottom
    )


def _beside(glyph: str, at: Word, words: list[Word]) -> Word:
    """The box as a word on the line of its option's text.

    The option is the text just right of the box ("☐ No"), or just left of it ("No ☐")
    when that is much closer: then the box is put in front of that text, the order the
    choice reader credits a box to its option in.
    """
    reach = 1.5 * at.size
    # On its row: any height in common (a rect can sit a few points high or low), the
    # nearest line winning below.
    row = [w for w in words if not w.hard and w.top < at.bottom and at.top < w.bottom]
    right = [w for w in row if w.x0 >= (at.x0 + at.x1) / 2 and w.x0 - at.x1 <= reach]
    left = [w for w in row if w.x1 <= (at.x0 + at.x1) / 2 and at.x0 - w.x1 <= reach]
    after = min(right, key=lambda w: (abs(w.middle - at.middle), w.x0), default=None)
    before = min(left, key=lambda w: (abs(w.middle - at.middle), -w.x1), default=None)
    gap_after = after.x0 - at.x1 if after else float("inf")
    if before is not None and 2 * max(at.x0 - before.x1, 0.0) < gap_after:
        # Back to the first word of this option: a wider gap than a space ends it (a
        # box, the previous option or the label lies beyond).
        line = sorted((w for w in row if abs(w.middle - before.middle) < 0.5 * w.size), key=_x)
        start = line.index(before)
        while start and before.x0 - line[start - 1].x1 <= 0.6 * before.size:
            start -= 1
            before = line[start]
        return Word(glyph, before.x0 - 1.0, before.x0 - 0.5, before.top, before.bottom, before.size)
    if after is not None:
        x1 = max(min(at.x1, after.x0 - 0.5), at.x0 + 1.0)
        return Word(glyph, min(at.x0, x1 - 1.0), x1, after.top, after.bottom, after.size)
    # Nothing beside it: a square of its size, centred in the rect.
    cx, half = (at.x0 + at.x1) / 2, at.size / 2
    return Word(glyph, cx - half, cx + half, at.middle - half, at.middle + half, at.size)


def _x(w: Word) -> float:
    return w.x0


def _inherited(annot: Any, key: str) -> Any:
    node = annot
    for _ in range(20):  # parent chains are short; a loop guards against cycles
        if node is None:
            return None
        if key in node:
            return node[key].get_object() if hasattr(node[key], "get_object") else node[key]
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return None


def _field_name(annot: Any) -> str:
    parts: list[str] = []
    node = annot
    for _ in range(20):
        if node is None:
            break
        if "/T" in node:
            parts.append(str(node["/T"]))
        parent = node.get("/Parent")
        node = parent.get_object() if parent is not None else None
    return ".".join(reversed(parts))
