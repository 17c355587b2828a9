"""JSON values as JavaScript sees them, so this SDK writes the bytes the TypeScript side writes.

The gateway is JavaScript: it parses what we send with JSON.parse, validates it, redacts it and
recomputes the chain hash over the result (schemas/chain.ts). For that hash to equal ours, every
step here works on the values the gateway will hold:

- Strings are kept in *UTF-16 form*: a Python ``str`` whose code points are UTF-16 code units
  (an astral character becomes its two surrogates). Lengths, slicing, sorting and regular
  expressions then count and compare exactly as JavaScript's ``string.length``, ``sort()`` and
  non-unicode RegExps do, and a lone surrogate stays a lone surrogate.
- Numbers are IEEE doubles, written as ``Number.prototype.toString`` writes them (``1e+21``,
  ``1.5e-7``, ``0`` for ``-0``). An ``int`` is accepted when it denotes a double exactly, or is
  JavaScript's spelling of one (``1152921504606847000``); any other (``2**53 + 1``) is refused,
  because the gateway would silently store a different number.
- Objects keep JavaScript's own key order: array-index keys (``"0"``, ``"17"``) first,
  ascending, then the others in insertion order.
"""

from __future__ import annotations

import math
import re
from typing import Any

JS_WHITESPACE = (
    "\t\n\u000b\u000c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""The characters of JavaScript's ``\\s`` (Python's differ), for use inside a character class."""

_MAX_SAFE = 2**53 - 1
_ARRAY_INDEX = re.compile(r"(?:0|[1-9][0-9]*)\Z", re.ASCII)


class NotJsonError(ValueError):
    """A value that has no JSON form; ``path`` names it (``data.arguments.n``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- strings ------------------------------------------------------------------------------


def to_utf16(s: str) -> str:
    """The string in UTF-16 form: each astral character as its two surrogates."""
    if s.isascii() or max(s) <= "\uffff":
        return s
    out = []
    for ch in s:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            out.append(chr(0xD800 + (cp >> 10)))
            out.append(chr(0xDC00 + (cp & 0x3FF)))
        else:
            out.append(ch)
    return "".join(out)


def from_utf16(s: str) -> str:
    """Surrogate pairs joined again into code points (lone surrogates stay)."""
    if s.isascii():
        return s
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def utf8_bytes(s: str) -> int:
    """Bytes of a UTF-16-form string in UTF-8, as ``Buffer.byteLength``: a lone surrogate counts 3 (U+FFFD)."""
    if s.isascii():
        return len(s)
    n = 0
    i = 0
    length = len(s)
    while i < length:
        c = ord(s[i])
        if c < 0x80:
            n += 1
        elif c < 0x800:
            n += 2
        elif 0xD800 <= c <= 0xDBFF and i + 1 < length and 0xDC00 <= ord(s[i + 1]) <= 0xDFFF:
            n += 4
            i += 1
        else:
            n += 3
        i += 1
    return n


def to_utf8(text: str) -> bytes:
    """UTF-8 of JSON text in UTF-16 form (JSON text holds no lone surrogate: they are escaped)."""
    return from_utf16(text).encode("utf-8")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def _lone_surrogates(s: str) -> bool:
    return re.search("[\ud800-\udfff]", s) is not None


def quote(s: str) -> str:
    """``JSON.stringify(s)`` of a UTF-16-form string: a surrogate pair stays, a lone one is ``\\udxxx``."""
    if not _lone_surrogates(s):
        return '"' + re.sub('["\\\\\x00-\x1f]', _escape, s) + '"'
    out = ['"']
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        c = ord(ch)
        if 0xD800 <= c <= 0xDBFF and i + 1 < n and 0xDC00 <= ord(s[i + 1]) <= 0xDFFF:
            out.append(ch + s[i + 1])
            i += 2
            continue
        if 0xD800 <= c <= 0xDFFF:
            out.append(f"\\u{c:04x}")
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif c < 0x20:
            out.append(f"\\u{c:04x}")
        else:
            out.append(ch)
        i += 1
    out.append('"')
    return "".join(out)


# --- numbers ------------------------------------------------------------------------------


def format_number(x: float) -> str:
    """``String(x)`` in JavaScript (Number::toString): shortest round-trip digits, JS layout."""
    if not math.isfinite(x):
        return "null"  # what JSON.stringify writes for NaN and ±Infinity
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    r = repr(abs(x))
    # repr: '123.45', '1e+16', '1.5e-07', '5e-324': split into digits and a decimal exponent.
    mantissa, _, exp = r.partition("e")
    e = int(exp) if exp else 0
    whole, _, frac = mantissa.partition(".")
    if frac == "0":
        frac = ""
    digits = (whole + frac).lstrip("0")
    # n: position of the decimal point relative to the digits (JS spec's n), k: digit count.
    n = len(whole) + e if whole != "0" else e - (len(frac) - len(frac.lstrip("0")))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp_sign = "+" if n - 1 >= 0 else "-"
    body = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{body}e{exp_sign}{abs(n - 1)}"


def check_int(n: int, path: str) -> float | int:
    """The int as the double the gateway will hold, or NotJsonError when that would change it."""
    if -_MAX_SAFE <= n <= _MAX_SAFE:
        return n
    try:
        f = float(n)
    except OverflowError:
        f = math.inf
    if math.isfinite(f) and (int(f) == n or format_number(f) == str(n)):
        return f
    raise NotJsonError(
        path,
        f"integer {n} has no exact JSON number (IEEE double) form: the gateway would store "
        f"{format_number(f)}; send it as a string",
    )


# --- values -------------------------------------------------------------------------------


def js_order(d: dict[str, Any]) -> dict[str, Any]:
    """The same dict with its keys in JavaScript's property order (array indexes first)."""
    index_keys = [k for k in d if _ARRAY_INDEX.match(k) and int(k) < 4294967295]
    if not index_keys:
        return d
    index_keys.sort(key=int)
    out = {k: d[k] for k in index_keys}
    for k, v in d.items():
        if k not in out:
            out[k] = v
    return out


def normalise(value: Any, path: str = "(value)", depth: int = 0) -> Any:
    """A copy of a Python value as the JSON value JavaScript would hold (see the module doc).

    dict (str keys), list/tuple, str, int, float, bool and None are JSON; a float that is not
    finite becomes None (JSON.stringify writes null). Anything else raises NotJsonError.
    """
    if depth > 200:
        raise NotJsonError(path, "is nested too deeply")
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return to_utf16(value)
    if isinstance(value, int):
        return check_int(int(value), path)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise NotJsonError(f"{path}.{k!r}", "object keys must be strings")
            key = to_utf16(k)
            out[key] = normalise(v, f"{path}.{k}", depth + 1)
        return js_order(out)
    if isinstance(value, (list, tuple)):
        return [normalise(v, f"{path}.{i}", depth + 1) for i, v in enumerate(value)]
    raise NotJsonError(path, f"a {type(value).__name__} has no JSON form")


def stringify(value: Any) -> str:
    """``JSON.stringify(value)`` of a normalised value, in UTF-16 form (keys in dict order)."""
    parts: list[str] = []
    _write(value, parts, False)
    return "".join(parts)


def canonical(value: Any) -> str:
    """Canonical JSON (schemas/chain.ts): keys sorted by UTF-16 code unit, recursively."""
    parts: list[str] = []
    _write(value, parts, True)
    return "".join(parts)


def _write(v: Any, out: list[str], sort: bool) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, str):
        out.append(quote(v))
    elif isinstance(v, int):
        out.append(str(v) if -_MAX_SAFE <= v <= _MAX_SAFE else format_number(float(v)))
    elif isinstance(v, float):
        out.append(format_number(v))
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for k in sorted(v) if sort else v:
            if not first:
                out.append(",")
            first = False
            out.append(quote(k))
            out.append(":")
            _write(v[k], out, sort)
        out.append("}")
    elif isinstance(v, list):
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _write(x, out, sort)
        out.append("]")
    else:
        raise NotJsonError("(value)", f"a {type(v).__name__} has no JSON form")


def json_bytes(value: Any) -> int:
    """Bytes of ``JSON.stringify(value)`` in UTF-8."""
    return utf8_bytes(stringify(value))


def parse(text: str) -> Any:
    """``JSON.parse`` of text in UTF-16 form: numbers as doubles, keys in JS order, NaN refused."""
    import json

    def constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    value = json.loads(
        text,
        parse_int=float,
        parse_float=float,
        parse_constant=constant,
        object_pairs_hook=lambda pairs: js_order({to_utf16(k): _u16(v) for k, v in pairs}),
    )
    return _u16(value)


def _u16(v: Any) -> Any:
    # json.loads joins an escaped pair (`\ud83d\ude00`) into one code point: split it again.
    if isinstance(v, str):
        return to_utf16(v)
    if isinstance(v, list):
        return [_u16(x) for x in v]
    return v
