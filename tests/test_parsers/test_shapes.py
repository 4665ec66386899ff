"""The shape corpus read end to end: every outcome right and no unexpected value.

A field is right when the value read equals the expected one. A value that is not
expected, or differs from the expected one without its key being reported (missing or a
problem), is an unexpected value: there must be none. Keys a case lists as `flagged`
must be reported and hold no value. The line "shape corpus: ..." is printed at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from shapes import Shape, all_shapes
from test_accuracy import flatten

from parsers.documents import DocumentResult, read_document


@dataclass
class Read:
    """One shape and what the reader made of it."""

    shape: Shape
    result: DocumentResult
    wrong: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


def _read(shape: Shape) -> Read:
    result = read_document(shape.filename, "application/octet-stream", shape.data)
    read = Read(shape, result)
    form = result.form
    got = flatten(form.to_json()) if form else {}
    want = flatten(shape.expected) if shape.expected is not None else {}
    reported = (set(form.missing()) | {p.key for p in form.problems}) if form else set()
    read.wrong = [k for k in {**want, **got} if got.get(k) != want.get(k)]
    read.unexpected = [
        f"{k}: got {got.get(k)!r}, expected {want.get(k)!r}"
        for k in read.wrong
        if k in got and (k not in want or k.split("[")[0] not in reported)
    ]
    for key in sorted(shape.flagged):
        if key in got:
            read.unexpected.append(f"{key}: got {got[key]!r}, should be flagged with no value")
        elif key not in reported:
            read.unexpected.append(f"{key}: not reported as missing or a problem")
    return read


@pytest.fixture(scope="module")
def reads() -> list[Read]:
    return [_read(shape) for shape in all_shapes()]


def test_names_are_unique(reads: list[Read]) -> None:
    names = [r.shape.name for r in reads]
    assert len(names) == len(set(names))


def test_every_outcome_is_right(reads: list[Read], shape_totals: dict[str, int]) -> None:
    fields_total = fields_right = 0
    for read in reads:
        if read.shape.expected is None:
            continue
        got = flatten(read.result.form.to_json()) if read.result.form else {}
        keys = set(flatten(read.shape.expected)) | set(got)
        fields_total += len(keys)
        fields_right += len(keys) - len(read.wrong)
    wrong = {
        r.shape.name: (r.result.outcome, r.shape.outcome, r.result.reason)
        for r in reads
        if r.result.outcome != r.shape.outcome
    }
    shape_totals.update(
        cases=len(reads),
        outcomes_right=len(reads) - len(wrong),
        fields_right=fields_right,
        fields_total=fields_total,
        unexpected=sum(len(r.unexpected) for r in reads),
    )
    assert wrong == {}, "outcome (got, expected, reason) differs"


def test_no_unexpected_value(reads: list[Read]) -> None:
    offenders = {r.shape.name: r.unexpected for r in reads if r.unexpected}
    assert offenders == {}


def test_a_form_that_is_not_one_gives_no_values(reads: list[Read]) -> None:
    for read in reads:
        if read.shape.expected is None:
            assert read.result.form is None or not read.result.form.to_json(), read.shape.name
