"""The shape corpus: forms filled the ways people fill them, each with its expected record.

Every module in this package has a `cases() -> list[Shape]` built from the blank form
(or a committed file made from it, with the script that made it beside it). The expected
record is written from the generator's own input, never from the reader's output.
`tests/test_parsers/test_shapes.py` reads every case and prints field accuracy.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Shape:
    """One document as a sender would attach it, and what reading it must give."""

    name: str  # "<module>/<what it shows>", unique in the corpus
    filename: str  # as attached (the extension matters: .docx, .pdf, .odt, .zip)
    data: bytes
    outcome: str  # referral, needs_info, not_a_form or rejected
    expected: dict[str, Any] | None  # ParsedForm.to_json() wanted; None when no form
    # Keys that must be reported (missing, or a problem such as invalid/unreadable/
    # inferred) and carry no value: the "never guess" half of the case.
    flagged: frozenset[str] = field(default_factory=frozenset)


def all_shapes() -> Iterator[Shape]:
    """Every case of every module in this package, in module order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        yield from module.cases()
