"""The document as both readers see it: paragraphs and tables of cells, in reading order.

The Word and PDF readers each turn a file into a `Layout`; `form_reader` then finds the
form's answers in it without caring where it came from. Tick boxes appear in the text as
☒ (ticked) or ☐ (not ticked), whatever the source used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

CHECKED = "☒"
UNCHECKED = "☐"
# Around text the sender emphasised (bold, underlined, highlighted): private-use
# characters no sender types, so that a choice shown only by emphasis can be read.
EMPH_ON, EMPH_OFF = "\ue000", "\ue001"


def plain(text: str) -> str:
    """The text without emphasis marks."""
    return text.replace(EMPH_ON, "").replace(EMPH_OFF, "") if EMPH_ON in text else text


@dataclass
class Para:
    """A paragraph of text; line breaks inside it are '\\n'.

    Readers may pass text with emphasis marks: `text` keeps it plain (labels and answers
    are read from it) and `marked` keeps the marks (only choice answers read them).
    """

    text: str
    where: str
    marked: str = ""

    def __post_init__(self) -> None:
        if EMPH_ON in self.text:
            self.marked, self.text = self.text, plain(self.text)


@dataclass(frozen=True)
class Cell:
    """One table cell: its paragraphs, and where it is. Built whole, never changed."""

    paras: tuple[Para, ...]
    where: str

    @cached_property
    def text(self) -> str:
        """All paragraphs joined by newlines (read many times while matching labels)."""
        return "\n".join(p.text for p in self.paras)

    @property
    def marked(self) -> str:
        """The text with the senders' emphasis marks (see `Para`)."""
        return "\n".join(p.marked or p.text for p in self.paras)

    def is_empty(self) -> bool:
        """True when the cell holds no visible text."""
        return not self.text.strip()


@dataclass
class Table:
    """Rows of cells (rows may have different lengths)."""

    rows: list[list[Cell]]
    where: str


Block = Para | Table


@dataclass
class FieldHint:
    """A labelled value the file states outright (a fillable PDF field)."""

    label: str
    value: str
    where: str


@dataclass
class Layout:
    """A readable document: blocks in reading order, plus any fillable-field values."""

    source: Literal["docx", "pdf", "odt", "scan"]
    blocks: list[Block]
    hints: list[FieldHint] = field(default_factory=list)

    def has_text(self) -> bool:
        """True when any block holds visible text."""
        return any(_block_text(b).strip() for b in self.blocks) or any(
            h.value.strip() for h in self.hints
        )


@dataclass
class Rejection:
    """Why a file cannot be read as a form, in words safe to send back."""

    outcome: Literal["rejected", "not_a_form"]
    reason: str


def _block_text(block: Block) -> str:
    if isinstance(block, Para):
        return block.text
    return "\n".join(c.text for row in block.rows for c in row)
