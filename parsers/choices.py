"""Work out which options of a choice answer were chosen, however the sender showed it.

Ways seen on returned forms, all handled here:
- tick boxes: ☒ / ☐ (content controls, legacy fields, PDF exports, pasted glyphs);
- a mark added next to a box or option: "☐ X Yes", "☐ Yes ✓", "✔ Female", "[x] No";
- the options not chosen deleted, leaving only the answer ("Yes", "Rapid Review");
- the answer typed instead of the boxes ("Not known", "YES");
- the chosen option typed in capitals, the others left as they were ("☐ YES ☐ No");
- the chosen option made bold, underlined or highlighted (marked by the readers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from parsers.formdef import normalise_label
from parsers.label_match import label_variants, similarity
from parsers.layout import EMPH_OFF, EMPH_ON

EMPTY_BOXES = set("☐□▢❏❑⬜◻○")
CHECKED_BOXES = set("☒☑⊠▣■⬛✅◉●⌧")
TICKS = set("✓✔✗✘×√")

_BRACKET_BOX = re.compile(r"[\[(]\s*([xX✓✔✗✘×√*]?)\s*[\])]")


@dataclass(frozen=True)
class Choice:
    """Options chosen (in form order), and a problem when the answer cannot be trusted."""

    selected: list[str]
    problem: str | None = None


@dataclass
class _Tok:
    kind: str  # "box", "checked", "tick", "word", "nl"
    text: str
    loud: bool = False  # in capitals ("YES"), bold, underlined or highlighted: maybe the choice


@dataclass
class _Hit:
    option: int
    start: int
    end: int


def read_choice(
    text: str,
    options: list[str],
    aliases: dict[str, list[str]] | None = None,
    multi: bool = False,
) -> Choice:
    """Which of `options` the answer text selects. Empty answer -> no selection, no problem."""
    printed = as_printed(text, options, multi)
    if printed is not None:
        return printed
    typed = as_typed(text, options)
    return typed if typed is not None else searched(text, options, aliases, multi)


def searched(
    text: str,
    options: list[str],
    aliases: dict[str, list[str]] | None = None,
    multi: bool = False,
) -> Choice:
    """`read_choice` for any answer: options found in the words, marks credited to them."""
    toks = _tokenise(text)
    if not any(t.kind != "nl" for t in toks):
        return Choice([])
    yes_is_option = any(normalise_label(o) == "yes" for o in options)
    if not yes_is_option:
        # "YES" written beside an option means ticked when Yes is not itself an option.
        for t in toks:
            if t.kind == "word" and t.text in ("yes", "y"):
                t.kind = "tick"
    words = [t.text for t in toks if t.kind == "word"]
    for i, opt in enumerate(options):
        # One-letter spellings ("Y", "N") only when they are the whole answer, so that
        # "N/A" is never read as "No".
        if len(words) == 1 and words[0] in _letters(opt, aliases or {}):
            return Choice([options[i]])
    spellings = _spellings(tuple(options), _frozen(aliases or {}))
    hits = _find(toks, spellings)
    hits.extend(_fuzzy_lines(toks, hits, options))
    hits.sort(key=lambda h: h.start)
    boxes = any(t.kind in ("box", "checked") for t in toks)
    marked = _marks(toks, hits)
    found = _unique([h.option for h in hits])

    shouted = [] if any(marked) else _shouted(toks, hits, options)
    if any(marked):
        chosen = _unique([h.option for h, m in zip(hits, marked, strict=True) if m])
    elif shouted:
        chosen = shouted
    elif boxes:
        # All boxes empty. If options were deleted and one remains, that is the answer;
        # with every option still there nothing was chosen.
        few = len(found) == 1 if not multi else 0 < len(found) <= len(options) // 2
        chosen = found if few and len(found) < len(options) else []
    else:
        chosen = found  # options not chosen were deleted, or the answer was typed

    covered = {i for h in hits for i in range(h.start, h.end + 1)}
    leftovers = [t.text for i, t in enumerate(toks) if t.kind == "word" and i not in covered]
    if not found:
        if leftovers:
            # Words only: the answer as written is kept beside the problem, not quoted in it.
            return Choice([], f"this answer is not one of the options: {'; '.join(options)}")
        if any(t.kind in ("checked", "tick") for t in toks):
            return Choice([], "a box is ticked but the option next to it cannot be read")
        return Choice([])
    selected = [options[i] for i in sorted(chosen)]
    if not multi and len(selected) > 1:
        return Choice(
            [], f"more than one option is chosen: {'; '.join(selected)}; only one is allowed"
        )
    return Choice(selected)


_FORM_BOXES = re.compile("([☐☒])")


def as_printed(text: str, options: list[str], multi: bool) -> Choice | None:
    """The answer when it is the form's own boxes and options, untouched but for the
    boxes ticked ("☐ Yes  ☒ No"): most answers, read without the general search (which
    gives the same). None for anything else: typed, edited, emphasised, marked."""
    parts = _FORM_BOXES.split(text)
    if len(parts) != 2 * len(options) + 1 or parts[0].strip():
        return None
    chosen = []
    for k, option in enumerate(options):
        if parts[2 * k + 2].strip() != option:
            return None
        if parts[2 * k + 1] == "☒":
            chosen.append(option)
    if len(chosen) > 1 and not multi:
        return None  # the general reading words the problem
    return Choice(chosen)


# Line breaks, brackets (maybe a box: "[x]"), boxes and ticks: not a plain typed answer.
_MARKS = "".join(sorted(EMPTY_BOXES | CHECKED_BOXES | TICKS))
_NOT_PLAIN = re.compile(r"[\n\[\(" + re.escape(_MARKS) + "]")


def as_typed(text: str, options: list[str]) -> Choice | None:
    """The answer when it is one option typed as printed, in any case ("Yes", "NO"):
    most typed answers, read without the general search (which gives the same). None
    for anything else."""
    if len(text) > 80 or _NOT_PLAIN.search(text):
        return None
    norm = normalise_label(text)
    if not norm:
        return None
    same = [o for o in options if _option_label(o) == norm]
    return Choice(same) if len(same) == 1 else None


@lru_cache(maxsize=512)
def _option_label(option: str) -> str:
    return normalise_label(option)


_SPACED = str.maketrans({c: f" {c} " for c in EMPTY_BOXES | CHECKED_BOXES | TICKS})


def _tokenise(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            toks.append(_Tok("nl", "\n"))
        if "[" in line or "(" in line:  # most answers have no brackets: skip the pattern
            line = _BRACKET_BOX.sub(lambda m: " ☒ " if m.group(1) else " ☐ ", line)
        line = line.translate(_SPACED)  # every box or tick is a token of its own
        for raw, emphasised in _pieces(line):
            if raw in EMPTY_BOXES:
                toks.append(_Tok("box", raw))
            elif raw in CHECKED_BOXES:
                toks.append(_Tok("checked", raw))
            elif raw in TICKS or raw in ("x", "X"):
                toks.append(_Tok("tick", raw))
            else:
                norm = normalise_label(raw)
                loud = emphasised or raw.isupper() and sum(c.isalpha() for c in raw) >= 2
                if norm:
                    toks.extend(_Tok("word", w, loud) for w in norm.split())
    return toks


def _pieces(line: str) -> list[tuple[str, bool]]:
    """The line split at white space, each piece with whether all its letters were
    emphasised by the sender (between `EMPH_ON` and `EMPH_OFF`)."""
    if EMPH_ON not in line:
        return [(word, False) for word in line.split()]
    out: list[tuple[str, bool]] = []
    on = False
    chars: list[str] = []
    all_on = True
    for ch in line + " ":
        if ch in (EMPH_ON, EMPH_OFF):
            on = ch == EMPH_ON
        elif ch.isspace():
            if chars:
                word = "".join(chars)
                out.append((word, all_on and any(c.isalpha() for c in word)))
            chars, all_on = [], True
        else:
            chars.append(ch)
            all_on = all_on and (on or not ch.isalpha())
    return out


def _frozen(aliases: dict[str, list[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((k, tuple(v)) for k, v in aliases.items())


@lru_cache(maxsize=256)
def _spellings(
    options: tuple[str, ...], aliases: tuple[tuple[str, tuple[str, ...]], ...]
) -> list[tuple[int, list[str]]]:
    """(option index, words) for every spelling, longest first so 'Not known' beats 'No'.

    Cached: the same few option lists are read in every form. Callers must not change it.
    """
    by_option = dict(aliases)
    out: list[tuple[int, list[str]]] = []
    for i, opt in enumerate(options):
        for text in [opt, *by_option.get(opt, ())]:
            for v in label_variants(text):
                if len(v) > 1:
                    out.append((i, v.split()))
    out.sort(key=lambda s: len(s[1]), reverse=True)
    return out


def _letters(option: str, aliases: dict[str, list[str]]) -> set[str]:
    return {v for a in aliases.get(option, []) for v in label_variants(a) if len(v) == 1}


def _find(toks: list[_Tok], spellings: list[tuple[int, list[str]]]) -> list[_Hit]:
    """Exact occurrences of option words in the token stream (line breaks ignored)."""
    words = [(i, t.text) for i, t in enumerate(toks) if t.kind == "word"]
    starts: dict[str, list[int]] = {}  # word -> where it occurs: only try matching there
    for k, (_i, w) in enumerate(words):
        starts.setdefault(w, []).append(k)
    used: set[int] = set()
    hits: list[_Hit] = []
    for opt, seq in spellings:
        n = len(seq)
        for k in starts.get(seq[0], ()):
            if k + n > len(words):
                break
            idxs = [words[k + j][0] for j in range(n)]
            if any(i in used for i in idxs):
                continue
            if all(words[k + j][1] == seq[j] for j in range(n)) and _contiguous(toks, idxs):
                hits.append(_Hit(opt, idxs[0], idxs[-1]))
                used.update(range(idxs[0], idxs[-1] + 1))
    return hits


def _contiguous(toks: list[_Tok], idxs: list[int]) -> bool:
    """Words of one option may be split by line breaks only, not by boxes or other words."""
    return all(toks[i].kind == "nl" for i in range(idxs[0], idxs[-1] + 1) if i not in idxs)


def _fuzzy_lines(toks: list[_Tok], hits: list[_Hit], options: list[str]) -> list[_Hit]:
    """Lines with no exact option that closely resemble one (an option slightly retyped)."""
    covered = {i for h in hits for i in range(h.start, h.end + 1)}
    out: list[_Hit] = []
    start = 0
    for end in [*(i for i, t in enumerate(toks) if t.kind == "nl"), len(toks)]:
        line = [i for i in range(start, end) if toks[i].kind == "word"]
        start = end + 1
        if not line or any(i in covered for i in range(line[0], line[-1] + 1)):
            continue
        text = " ".join(toks[i].text for i in line)
        best = max(
            ((similarity(text, normalise_label(o)), n) for n, o in enumerate(options)),
            default=(0.0, -1),
        )
        if best[0] >= 0.85 and len(text) >= 6:
            out.append(_Hit(best[1], line[0], line[-1]))
    return out


def _marks(toks: list[_Tok], hits: list[_Hit]) -> list[bool]:
    """For each hit, is it shown as chosen? Every mark is credited to exactly one option.

    Between two options, marks before the later option's box, or before the line break
    that starts its line, belong to the earlier option ("☐ Yes ✓ ☐ No", "harmed YES" then
    a new line). The box and marks after it belong to the later one ("☐ X No", "☒ No");
    with no box or break in between, a mark stands in for the later option's box
    ("☐ Yes  X No"). Marks after the last option belong to it ("Advice only ✓").
    """
    marked = [False] * len(hits)
    for i, h in enumerate(hits):
        lead = toks[hits[i - 1].end + 1 if i else 0 : h.start]
        split = max(
            (k for k, t in enumerate(lead) if t.kind in ("box", "checked", "nl")), default=-1
        )
        for k, t in enumerate(lead):
            if t.kind in ("checked", "tick"):
                marked[i - 1 if (k < split and i) else i] = True
    if hits and any(t.kind in ("checked", "tick") for t in toks[hits[-1].end + 1 :]):
        marked[-1] = True
    return marked


def _shouted(toks: list[_Tok], hits: list[_Hit], options: list[str]) -> list[int]:
    """Options written in capitals (where the form has them in ordinary case), bold,
    underlined or highlighted, when some other option was left as it was: the emphasis
    is the sender's choice. Nothing when every option is emphasised (a form typed in
    capitals throughout, or a whole answer made bold)."""
    chosen: list[int] = []
    plain = False
    for h in hits:
        words = [t for t in toks[h.start : h.end + 1] if t.kind == "word"]
        if all(t.loud for t in words) and not options[h.option].isupper():
            chosen.append(h.option)
        else:
            plain = True
    return _unique(chosen) if plain else []


def _unique(items: list[int]) -> list[int]:
    return sorted(set(items))
