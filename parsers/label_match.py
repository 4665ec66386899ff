"""Match written labels to a form's fields: similarity, abbreviations, `LabelMatcher`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from functools import lru_cache

from parsers.formdef import FieldDef, FormDef, normalise_label


def label_variants(label: str) -> list[str]:
    """The normalised label, and the same without bracketed asides like '(if applicable)'."""
    return list(_label_variants(label))


@lru_cache(maxsize=4096)
def _label_variants(label: str) -> tuple[str, ...]:
    out = [normalise_label(label)]
    short = normalise_label(re.sub(r"\([^)]*\)", " ", label))
    if short and short not in out:
        out.append(short)
    return tuple(v for v in out if v)


def similarity(a: str, b: str) -> float:
    """difflib ratio of two already-normalised strings (1.0 = identical)."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def best_similarity(
    text: str,
    variants: list[str],
    threshold: float,
    sm: difflib.SequenceMatcher[str] | None = None,
) -> float:
    """Best ratio of `text` against variants, skipping pairs that cannot reach `threshold`.

    Pass `sm` (a SequenceMatcher whose second sequence is `text`) when comparing the
    same text against many variants: indexing the text is the costly part.
    """
    best = 0.0
    n = len(text)
    if not n:
        return 0.0
    chars = _char_bits(text)
    for v in variants:
        if text == v:
            return 1.0
        m = len(v)
        if 2 * min(n, m) / (n + m) < threshold:
            continue  # lengths alone rule it out
        # Each distinct character of one string that the other lacks is at least one
        # character that cannot match: a cheap upper bound of quick_ratio (and ratio).
        vchars = _char_bits(v)
        bound = min(n - (chars & ~vchars).bit_count(), m - (vchars & ~chars).bit_count())
        if 2 * bound / (n + m) < threshold:
            continue
        if sm is None:
            sm = _shared_matcher(text)
        sm.set_seq1(v)
        # quick_ratio is an upper bound of ratio; only compute ratio when it may pass.
        if sm.quick_ratio() >= threshold:
            best = max(best, sm.ratio())
    return best


@lru_cache(maxsize=16384)
def _char_bits(text: str) -> int:
    """The set of characters in `text` as bits (code points folded onto 256 bits).

    Folding only merges characters, so "missing" counts stay lower bounds.
    """
    bits = 0
    for c in set(text):
        bits |= 1 << (ord(c) & 0xFF)
    return bits


def text_matcher(text: str) -> difflib.SequenceMatcher[str]:
    """A SequenceMatcher indexed on `text`, for best_similarity."""
    return difflib.SequenceMatcher(None, "", text, autojunk=False)


@lru_cache(maxsize=2048)
def _shared_matcher(text: str) -> difflib.SequenceMatcher[str]:
    # Indexing `text` is the costly part and the same texts are compared again and
    # again; set_seq1 is always called before use, so sharing the matcher is safe.
    return text_matcher(text)


def abbreviates(short: str, long: str, extra_words: int = 0) -> bool:
    """True when each word of `short` is the start of the matching word of `long`.

    "tel no" abbreviates "telephone number", "parental resp" abbreviates "parental
    responsibility" (with one extra word allowed: "... yes no" needs extra_words=2).
    Abbreviated words need three letters, so "d" never stands for "date".
    """
    s, lo = short.split(), long.split()
    if not s or not 0 <= len(lo) - len(s) <= extra_words or short == long:
        return False
    # A real abbreviation is much shorter than its word ("ref" for "referral"); "nurse"
    # is not short for "nursery".
    return all(
        a == b or (len(a) >= 3 and b.startswith(a) and len(a) <= 0.6 * len(b))
        for a, b in zip(s, lo, strict=False)
    )


class LabelMatcher:
    """Finds which field a piece of label text names, preferring the current section."""

    def __init__(self, form: FormDef) -> None:
        self.form = form
        self.threshold = form.label_threshold
        self._global: list[tuple[FieldDef, list[str]]] = []
        self._local: list[tuple[FieldDef, list[str]]] = []
        for f in form.fields:
            if f.key.startswith(tuple(p.key + "." for p in form.process_grids)):
                continue  # process rows are matched inside their grid, not as labels
            names = [f.label, *f.aliases]
            gl = _dedupe(v for n in names for v in label_variants(n))
            lo = _dedupe([*gl, *(v for n in f.local_aliases for v in label_variants(n))])
            self._global.append((f, gl))
            self._local.append((f, lo))
        # Kept across documents (the reader is reused): the same labels come back in
        # every form. Bounded, since answers are matched too and never repeat.
        self._cache: dict[tuple[str, int, bool], tuple[FieldDef, float] | None] = {}
        self._cache_limit = 20_000
        self._exact_global = {v: f for f, vs in self._global for v in vs}

    def match(
        self, text: str, section: int = 0, abbreviated: bool = True
    ) -> tuple[FieldDef, float] | None:
        """The field whose label best matches `text`, with its score, or None.

        With `abbreviated`, a label shortened word by word ("Date of ref.") also counts.
        """
        norm = normalise_label(text)
        if not norm or len(norm) > 160:
            return None
        key = (norm, section, abbreviated)
        if key not in self._cache:
            if len(self._cache) >= self._cache_limit:
                self._cache.clear()
            self._cache[key] = self._match(norm, section, abbreviated)
        return self._cache[key]

    def _match(self, norm: str, section: int, abbreviated: bool) -> tuple[FieldDef, float] | None:
        local = [(f, vs) for f, vs in self._local if f.section == section] if section else []
        for candidates in (local, self._global):
            hit = _best(norm, candidates, self.threshold)
            if hit is not None:
                return hit
        if not abbreviated:
            return None
        for candidates in (local, self._global):
            # Abbreviated labels ("Tel. no.", "Date of ref.") count only when unambiguous.
            fields = {f.key: f for f, vs in candidates if any(abbreviates(norm, v) for v in vs)}
            if len(fields) == 1:
                return next(iter(fields.values())), self.threshold
        return None

    def exact_prefix(self, words: list[str], section: int = 0) -> tuple[FieldDef, int] | None:
        """Longest run of leading words that is exactly a label; returns field and word count."""
        local = {v: f for f, vs in self._local if f.section == section for v in vs}
        for n in range(min(len(words), 16), 0, -1):
            norm = normalise_label(" ".join(words[:n]))
            if not norm:
                continue
            f = local.get(norm) or self._exact_global.get(norm)
            if f is not None:
                # Leave trailing symbols ("*", a ☒ box) with the answer, not the label.
                while n > 1 and not normalise_label(words[n - 1]):
                    n -= 1
                return f, n
        return None


def _best(
    norm: str, candidates: list[tuple[FieldDef, list[str]]], threshold: float
) -> tuple[FieldDef, float] | None:
    best: tuple[FieldDef, float] | None = None
    for f, variants in candidates:
        score = best_similarity(norm, variants, threshold)
        if score >= threshold and (best is None or score > best[1]):
            best = (f, score)
    return best


def _dedupe(items: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for i in items:
        if i not in seen:
            seen.append(i)
    return seen
