"""Text bounds (port of sdk/text.ts). Strings are in UTF-16 form (jsvalue.py), so lengths are
UTF-16 code units as the schema counts them, and every cut ends between code points: a cut
never keeps half of a surrogate pair, which the gateway would refuse."""

from __future__ import annotations

import math
import re

from .jsvalue import JS_WHITESPACE, utf8_bytes

ELLIPSIS = "…"
INF = math.inf


def _is_high(c: int) -> bool:
    return 0xD800 <= c <= 0xDBFF


def _is_low(c: int) -> bool:
    return 0xDC00 <= c <= 0xDFFF


def _code_point_at(s: str, i: int) -> tuple[int, int]:
    """(UTF-16 units, UTF-8 bytes) of the code point at i; a lone surrogate is 3 bytes (U+FFFD)."""
    c = ord(s[i])
    if c < 0x80:
        return 1, 1
    if c < 0x800:
        return 1, 2
    if _is_high(c) and i + 1 < len(s) and _is_low(ord(s[i + 1])):
        return 2, 4
    return 1, 3


def _prefix_end(s: str, max_length: float, max_bytes: float) -> int:
    if max_bytes == INF:
        end = int(max(0, min(len(s), max_length)))
        if 0 < end < len(s) and _is_high(ord(s[end - 1])) and _is_low(ord(s[end])):
            return end - 1
        return end
    end = 0
    size = 0
    while end < len(s):
        units, nbytes = _code_point_at(s, end)
        if end + units > max_length or size + nbytes > max_bytes:
            break
        end += units
        size += nbytes
    return end


def truncate(text: str, max_length: float = INF, max_bytes: float = INF, marker: str = ELLIPSIS) -> str:
    """Cut to fit both limits on a code point boundary, ending in ``marker`` when cut."""
    if len(text) <= max_length and (max_bytes == INF or utf8_bytes(text) <= max_bytes):
        return text
    marker_bytes = utf8_bytes(marker)
    if len(marker) > max_length or marker_bytes > max_bytes:
        return text[: _prefix_end(text, max_length, max_bytes)]
    return text[: _prefix_end(text, max_length - len(marker), max_bytes - marker_bytes)] + marker


_TRAILING_WORD = re.compile(f"[^{JS_WHITESPACE}]+\\Z")


def truncate_words(text: str, max_length: float = INF, max_bytes: float = INF) -> str:
    """Like truncate, for text that may hold secrets: a cut also drops the trailing partial word."""
    cut = truncate(text, max_length, max_bytes, "")
    if cut == text:
        return text
    room_length = max_length - len(ELLIPSIS)
    room_bytes = max_bytes - utf8_bytes(ELLIPSIS)
    if room_length < 0 or room_bytes < 0:
        return ""
    return _TRAILING_WORD.sub("", truncate(text, room_length, room_bytes, ""), count=1) + ELLIPSIS


_LONE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")


def is_well_formed(s: str) -> bool:
    return _LONE.search(s) is None


def to_well_formed(s: str) -> str:
    """Each lone surrogate replaced by U+FFFD (``String.prototype.toWellFormed``)."""
    return _LONE.sub("\ufffd", s)
