"""UK phone numbers spaced for reading ('01514960777' -> '0151 496 0777').

For display only: the record keeps national digits, which is what search and the
referrer's emails match on. Spacing follows the groups people say aloud (Ofcom's usual
layout), so an officer reading a number down the phone reads it in the same chunks.
"""

from __future__ import annotations

import re

# Two-digit area codes (London, Southampton, Coventry, Northern Ireland, Cardiff) and the
# non-geographic ranges are written 3-4-4 or 4-3-4; every other number starting 01 or 07
# is written 5-6. 0800 also has ten-digit numbers: 4-3-3.
_SEPARATORS = re.compile(r"[\s\-.()]")


def _national_groups(digits: str) -> list[str] | None:
    """The groups of an 11- or 10-digit national number ('0' first), or None."""
    if len(digits) == 11:
        if digits.startswith("02"):
            return [digits[:3], digits[3:7], digits[7:]]
        # Large cities (0113, 0121, 0151 ...) and 03, 08, 09 numbers.
        if digits.startswith(("03", "08", "09")) or re.match(r"01(1\d|\d1)", digits):
            return [digits[:4], digits[4:7], digits[7:]]
        if digits.startswith(("01", "07")):
            return [digits[:5], digits[5:]]
        return None
    if len(digits) == 10 and digits.startswith("0800"):
        return [digits[:4], digits[4:7], digits[7:]]
    if len(digits) == 10 and digits.startswith("01"):
        return [digits[:5], digits[5:]]  # a few small places still have five-digit locals
    return None


def spaced_phone(value: str) -> str:
    """A UK number grouped for reading; '+44' numbers keep their international form
    ('+44 151 496 0777'). Anything else (an extension, a foreign number, words) is shown
    exactly as stored: a display filter must never lose what was written."""
    text = value.strip()
    compact = _SEPARATORS.sub("", text.replace("(0)", ""))
    international = compact.startswith(("+44", "0044"))
    if international:
        compact = "0" + compact.removeprefix("+44").removeprefix("0044").lstrip("0")
    if not compact.isdigit() or not compact.isascii():
        return value
    groups = _national_groups(compact)
    if groups is None:
        return value
    if international:
        groups[0] = "+44 " + groups[0][1:]
    return " ".join(groups)
