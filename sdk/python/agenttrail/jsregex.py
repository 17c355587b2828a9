"""ECMAScript (non-unicode) regular expressions in Python's ``re``, for strings in UTF-16 form.

The redaction rules are written once, in JavaScript (services/platform/redaction/rules.ts);
here they are copied verbatim and translated mechanically, so a copy can be compared with the
original by eye and the cross-language vectors (tests/vectors/) catch any difference:

- ``\\s`` / ``\\S`` become JavaScript's whitespace set (Python's is another one);
- ``\\b`` and ``\\d`` are ASCII (re.ASCII), as in JavaScript; so is case folding with ``i``;
- ``$`` ends the input (Python's ``$`` also matches before a final newline): ``\\Z``;
- ``(?<name>`` is ``(?P<name>``.
"""

from __future__ import annotations

import re

from .jsvalue import JS_WHITESPACE


def translate(source: str) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    n = len(source)
    while i < n:
        ch = source[i]
        if ch == "\\" and i + 1 < n:
            nxt = source[i + 1]
            if source.startswith("\\s\\S]", i) and in_class:
                out.append("\\s\\S")  # [\s\S]: any character, in both dialects
                i += 4
                continue
            if nxt == "s":
                out.append(JS_WHITESPACE if in_class else f"[{JS_WHITESPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{JS_WHITESPACE}]")
            else:
                out.append(source[i : i + 2])
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
            if source.startswith("^", i + 1):
                out.append("^")
                i += 1
        elif ch == "$":
            out.append(r"\Z")
        elif source.startswith("(?<", i) and not source.startswith("(?<=", i) and not source.startswith("(?<!", i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def compile_js(source: str, flags: str = "") -> re.Pattern[str]:
    f = re.ASCII
    if "i" in flags:
        f |= re.IGNORECASE
    return re.compile(translate(source), f)
