"""One raw answer to one stored value: placeholders removed, normalised by field type."""

from __future__ import annotations

import re

from parsers.choices import read_choice
from parsers.formdef import FormDef
from parsers.normalise import (
    Normalised,
    normalise_date,
    normalise_email,
    normalise_nhs_number,
    normalise_phone,
    normalise_text,
)


class AnswerReader:
    """Cleans and normalises answers the way one form definition says."""

    def __init__(self, form: FormDef) -> None:
        self.form = form
        # Placeholders may be wrapped over lines (PDF) or spaced oddly: match word by word.
        # One pattern for all of them: `clean` runs on nearly every cell.
        words = [r"\s*".join(re.escape(w) for w in p.split()) for p in form.placeholders]
        self._placeholders = (
            re.compile("|".join(f"(?:{w})" for w in words), re.IGNORECASE) if words else None
        )
        # A placeholder's first word: a cell without any of them has no placeholder, and
        # the pattern (run on nearly every cell) is skipped.
        firsts = sorted({p.split()[0] for p in form.placeholders if p.strip()})
        self._first_words = (
            re.compile("|".join(re.escape(w) for w in firsts), re.IGNORECASE) if firsts else None
        )

    def clean(self, text: str) -> str:
        """Text with the form's placeholder prompts ("Click or tap here...") taken out."""
        if self._first_words is not None and self._first_words.search(text):
            assert self._placeholders is not None
            text = self._placeholders.sub(" ", text)
        return text.strip()

    def normalise(
        self, kind: str, raw: str, options: list[str] | None = None, multi: bool = False
    ) -> Normalised:
        """The stored value for an answer of this type; choices come back newline-joined."""
        if kind in ("choice", "multi-choice"):
            choice = read_choice(raw, options or [], self.form.choice_aliases, multi=multi)
            if choice.problem:
                return Normalised(problem=choice.problem)
            return Normalised("\n".join(choice.selected) if choice.selected else None)
        if kind == "date":
            return normalise_date(raw)
        if kind == "phone":
            return normalise_phone(raw)
        if kind == "email":
            return normalise_email(raw)
        if kind == "nhs_number":
            return normalise_nhs_number(raw)
        return normalise_text(raw)
