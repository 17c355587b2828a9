"""What the SDK changes in an event so it can be stored rather than lost, each change named in
``data.adjusted`` (port of sdk/adjust.ts; values are normalised, strings in UTF-16 form)."""

from __future__ import annotations

from typing import Any, Callable

from .jsvalue import json_bytes, utf8_bytes
from .text import is_well_formed, to_well_formed, truncate, truncate_words

MAX_ADJUSTMENTS = 64
MAX_JSON_DEPTH = 64
"""Deepest nesting an event may hold (schemas/json-shape.ts)."""

Adjustment = dict[str, Any]


def _fix_str(s: str) -> str:
    return s if is_well_formed(s) else to_well_formed(s)


def well_formed_value(v: Any, depth: int = 0) -> Any:
    """The value with every lone surrogate (strings and keys) replaced by U+FFFD; same object when clean."""
    if isinstance(v, str):
        return _fix_str(v)
    if depth >= MAX_JSON_DEPTH:
        return v
    if isinstance(v, list):
        out = None
        for i, x in enumerate(v):
            y = well_formed_value(x, depth + 1)
            if y is not x:
                if out is None:
                    out = list(v)
                out[i] = y
        return v if out is None else out
    if isinstance(v, dict):
        return _map_members(v, lambda k, x: (_fix_str(k), well_formed_value(x, depth + 1)))
    return v


def _map_members(obj: dict[str, Any], fix: Callable[[str, Any], tuple[str, Any]]) -> dict[str, Any]:
    changed = False
    out: dict[str, Any] = {}
    for k, v in obj.items():
        nk, nv = fix(k, v)
        if nk != k or nv is not v:
            changed = True
        out[nk] = nv
    return out if changed else obj


def well_formed_event(event: dict[str, Any]) -> tuple[dict[str, Any], list[Adjustment]]:
    """Lone surrogates replaced throughout, and where: the field of ``data``/``agent``, or the envelope field."""
    adjustments: list[Adjustment] = []

    def top(key: str, v: Any) -> tuple[str, Any]:
        if key in ("data", "agent") and isinstance(v, dict):

            def member(field: str, x: Any) -> tuple[str, Any]:
                f = _fix_str(field)
                y = well_formed_value(x, 2)
                if f != field or y is not x:
                    adjustments.append({"path": f"{key}.{f}", "reason": "ill_formed_unicode"})
                return f, y

            return key, _map_members(v, member)
        fixed = well_formed_value(v, 1)
        if fixed is not v:
            adjustments.append({"path": key, "reason": "ill_formed_unicode"})
        return key, fixed

    return _map_members(event, top), adjustments


def with_adjustments(data: dict[str, Any], adjustments: list[Adjustment]) -> dict[str, Any]:
    """``data`` with ``adjustments`` added to what it already lists (no duplicates, at most 64)."""
    if not adjustments:
        return data
    listed = data.get("adjusted") if isinstance(data.get("adjusted"), list) else []
    seen = {f"{a.get('path')}\0{a.get('reason')}" for a in listed}
    merged = list(listed)
    for a in adjustments:
        key = f"{a['path']}\0{a['reason']}"
        if key in seen or len(merged) >= MAX_ADJUSTMENTS:
            continue
        seen.add(key)
        merged.append(a)
    return {**data, "adjusted": merged}


def fit_text(
    path: str,
    value: str,
    max_length: int,
    cut: Callable[[str, int], str] = lambda t, m: truncate(t, max_length=m),
) -> tuple[str, Adjustment | None]:
    """A text field cut to ``max_length`` code units, and the adjustment saying so (None if it fit)."""
    if len(value) <= max_length:
        return value, None
    return cut(value, max_length), {"path": path, "reason": "truncated", "original_length": len(value)}


CUT_SLACK_BYTES = 160
"""Room kept for what one more cut adds: the marker and its adjustment entry."""


def fit_action_bytes(event: dict[str, Any], max_bytes: int) -> dict[str, Any] | None:
    """An action over ``max_bytes`` of JSON cut to fit: output excerpt, then error, then arguments.

    None when it already fits; the result may still be over when the envelope alone is.
    """
    size = json_bytes(event)
    if size <= max_bytes:
        return None
    data = event["data"]

    def excerpt(need: int) -> Adjustment | None:
        nonlocal data
        output = data.get("output")
        text = output.get("excerpt") if isinstance(output, dict) else None
        if not isinstance(text, str) or text == "":
            return None
        cut = truncate_words(text, max_bytes=max(0, utf8_bytes(text) - need))
        data = {**data, "output": {**output, "excerpt": cut}}
        return {"path": "data.output.excerpt", "reason": "truncated", "original_length": len(text)}

    def error(need: int) -> Adjustment | None:
        nonlocal data
        text = data.get("error")
        if not isinstance(text, str) or text == "":
            return None
        data = {**data, "error": truncate(text, max_bytes=max(0, utf8_bytes(text) - need))}
        return {"path": "data.error", "reason": "truncated", "original_length": len(text)}

    def arguments(_need: int) -> Adjustment | None:
        nonlocal data
        args = data.get("arguments")
        if args is None or (isinstance(args, dict) and args.get("truncated") is True):
            return None
        nbytes = json_bytes(args)
        data = {**data, "arguments": {"truncated": True, "bytes": nbytes}}
        return {"path": "data.arguments", "reason": "truncated", "original_bytes": nbytes}

    for step in (excerpt, error, arguments):
        adjustment = step(size - max_bytes + CUT_SLACK_BYTES)
        if adjustment:
            data = with_adjustments(data, [adjustment])
        size = json_bytes({**event, "data": data})
        if size <= max_bytes:
            break
    return {**event, "data": data}
