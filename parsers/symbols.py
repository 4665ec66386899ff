"""Tick and box characters from symbol fonts (Wingdings & co.) as ordinary Unicode.

Word stores a tick inserted from a symbol font as a font-specific code (often in the
private-use area, U+F0xx); without mapping it would read as a meaningless letter.
"""

from __future__ import annotations

import re
from functools import lru_cache

_BY_FONT: dict[str, dict[int, str]] = {
    "wingdings": {
        0xFC: "✓", 0xFB: "✗", 0xFD: "☒", 0xFE: "☑", 0xA8: "☐", 0x6F: "☐", 0x71: "☐",
        0x72: "☐", 0x78: "☒", 0x6E: "■", 0xA1: "○", 0xA4: "◉",
    },
    "wingdings 2": {
        0x50: "✓", 0x4F: "✗", 0x51: "☒", 0x52: "☑", 0x53: "☒", 0x54: "☒", 0xA3: "☐",
        0x2A: "☐", 0x99: "○", 0x9E: "◉",
    },
    "webdings": {0x61: "✓", 0x72: "✗", 0x63: "☐"},
    "symbol": {0xD6: "√", 0xB4: "×"},
}  # fmt: skip


def symbol_font(name: str | None) -> str | None:
    """The known symbol font a font name refers to ('Wingdings 2', 'ABCDEF+Wingdings-Regular')."""
    if not name:
        return None
    n = name.casefold().split("+")[-1].replace("-regular", "").replace("-", " ").strip()
    for key in sorted(_BY_FONT, key=len, reverse=True):
        if n.startswith(key):
            return key
    return None


def map_symbol_char(font: str, ch: str) -> str:
    """The Unicode meaning of one character drawn in a symbol font (unchanged if unknown)."""
    code = ord(ch)
    if 0xF000 <= code <= 0xF0FF:
        code -= 0xF000
    return _BY_FONT.get(font, {}).get(code, ch if ord(ch) < 0xE000 or ord(ch) > 0xF8FF else "")


_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def map_symbol_text(font_name: str | None, text: str) -> str:
    """Map every character of `text` if the font is a symbol font; otherwise return it as is."""
    font = _symbol_font(font_name) if font_name else None
    if font is None:
        # Private-use codes only mean something in a symbol font; drop them elsewhere.
        return _PRIVATE_USE.sub("", text) if _PRIVATE_USE.search(text) else text
    return "".join(map_symbol_char(font, c) for c in text)


@lru_cache(maxsize=512)
def _symbol_font(name: str) -> str | None:
    # Every run names its font: look each name up once.
    return symbol_font(name)
