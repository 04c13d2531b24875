"""Segment names as the OneSignal dashboard shows them. Pure.

The dashboard trims, folds and renders names so that `Case Test`, `CASE TEST`,
`Case  Test` and `Café` typed with a combining accent look like one segment, while the
API takes them as different names. osctl refuses names that cannot be seen as written
(control characters, spaces at either end) and two names of one app with the same
`look_alike_key`.
"""

from __future__ import annotations

import unicodedata

_LINE_BREAKS = {"\n", "\r", "\v", "\f", "\x85", "\u2028", "\u2029"}


def look_alike_key(name: str) -> str:
    """Equal for names that look the same: Unicode NFC, case folded, whitespace collapsed."""
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())
    return " ".join(folded.split())


def same_text(a: str, b: str) -> bool:
    """Equal once both are in Unicode NFC: they differ only in how accents are encoded."""
    return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def name_problem(name: str) -> str | None:
    """What makes `name` look other than it is, or None."""
    for char in name:
        if unicodedata.category(char) == "Cc" or char in _LINE_BREAKS:
            return f"segment name contains {_describe(char)}"
    if name != name.lstrip():
        return f"segment name starts with {_describe(name[0])}"
    if name != name.rstrip():
        return f"segment name ends with {_describe(name[-1])}"
    return None


def _describe(char: str) -> str:
    if char == "\t":
        return "a tab"
    if char in _LINE_BREAKS:
        return "a line break"
    if char == " ":
        return "a space"
    if char.isspace():
        return f"a space-like character (U+{ord(char):04X})"
    return f"the control character U+{ord(char):04X}"
