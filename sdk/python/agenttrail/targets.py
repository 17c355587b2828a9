"""Targets of a call, extracted from its arguments by a declared mapping (port of sdk/targets.ts):
``{"kind": "recipient", "from": "cc"}`` reads the first argument's ``cc`` (for a Python call
with keyword arguments: the ``cc`` keyword), a string, a list, or a comma-separated list of
addresses. Every value becomes one target, so the detector judges each of them."""

from __future__ import annotations

import re
from typing import Any, Callable

from .adjust import Adjustment, fit_text
from .jsvalue import format_number, to_utf16

MAX_TARGETS = 64
MAX_VALUE = 512
_SEPARATORS = re.compile("[,;]")


def _at(root: Any, path: str) -> Any:
    v = root
    for key in path.split("."):
        if not isinstance(v, dict):
            return None
        v = v.get(key)
    return v


def _scalars(v: Any, kind: str, out: list[str], depth: int = 0) -> None:
    """Scalars of a value: lists flattened; a string listing several addresses split into each."""
    if v is None or depth > 4:
        return
    if isinstance(v, (list, tuple)):
        for x in v:
            _scalars(x, kind, out, depth + 1)
        return
    if isinstance(v, bool):
        return
    if isinstance(v, int):
        out.append(str(v))
        return
    if isinstance(v, float):
        out.append(format_number(v))
        return
    if not isinstance(v, str):
        return
    s = to_utf16(v).strip()
    if s == "":
        return
    # "a@x.example, b@y.example" is two recipients; "Doe, Jane <j@x.example>" is one.
    if kind == "recipient" and _SEPARATORS.search(s):
        parts = [p.strip() for p in _SEPARATORS.split(s) if p.strip()]
        if all("@" in p for p in parts):
            out.extend(parts)
            return
    out.append(s)


def extract_targets(
    mappings: list[dict[str, Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    resource: str | None,
    destination: str | None,
) -> tuple[list[dict[str, Any]], list[Adjustment]]:
    """The targets the mapping names, in mapping order, each (kind, value) once; the call's own
    resource / destination first of its kind, as the schema requires."""
    targets: list[dict[str, Any]] = []
    adjustments: list[Adjustment] = []
    seen: set[tuple[str, str]] = set()
    dropped = 0

    def add(t: dict[str, Any]) -> None:
        nonlocal dropped
        key = (t["kind"], t["value"])
        if key in seen:
            return
        seen.add(key)
        if len(targets) >= MAX_TARGETS:
            dropped += 1
            return
        targets.append(t)

    # Cut as the data fields are cut, so the two stay equal.
    if resource is not None:
        add({"kind": "resource", "value": fit_text("data.resource", to_utf16(resource), MAX_VALUE)[0]})
    if destination is not None:
        add({"kind": "destination", "value": fit_text("data.destination", to_utf16(destination), MAX_VALUE)[0]})
    root = args[0] if len(args) == 1 and not kwargs and isinstance(args[0], dict) else {**kwargs}
    for m in mappings:
        src: str | Callable[..., Any] = m["from"]
        raw = src(*args, **kwargs) if callable(src) else _at(root, src)
        values: list[str] = []
        _scalars(raw, m["kind"], values)
        role = m.get("role", src.split(".")[-1] if isinstance(src, str) else None)
        for value in values:
            cut, adjustment = fit_text(f"data.targets.{len(targets)}.value", value, MAX_VALUE)
            if adjustment:
                adjustments.append(adjustment)
            t: dict[str, Any] = {"kind": m["kind"], "value": cut}
            if m.get("form") is not None:
                t["form"] = m["form"]
            if role:
                t["role"] = role[:64]
            add(t)
    if dropped:
        adjustments.append({"path": "data.targets", "reason": "truncated", "original_length": len(targets) + dropped})
    return targets, adjustments
