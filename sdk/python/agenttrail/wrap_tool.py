"""Wrapping a tool function so each call records an ``action`` (port of sdk/wrap-tool.ts)."""

from __future__ import annotations

import functools
import inspect
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .adjust import MAX_JSON_DEPTH, Adjustment, fit_text, with_adjustments
from .jsvalue import NotJsonError, json_bytes, normalise, stringify, to_utf16
from .schema import MAX_ARGUMENTS_BYTES, MAX_OUTPUT_EXCERPT_CHARS, max_length
from .targets import extract_targets
from .text import truncate_words

if TYPE_CHECKING:
    from .task import Recorded, TaskHandle

Pick = Any
"""A value, or a function of the call's arguments returning it."""


@dataclass
class WrapOptions:
    operation: str
    resource: Pick = None
    destination: Pick = None
    """Egress destination (host or URL) for tools that send data out."""
    targets: list[dict[str, Any]] | None = None
    """Everything the call touches, read from its arguments: ``[{"kind": "recipient", "from": "to"},
    {"kind": "account", "from": "iban"}]`` (``from``: a dotted path into the single dict argument
    or the keyword arguments, or a function of the arguments; optional ``form``, ``role``). Each
    value becomes one target (data.targets). Without resource / destination, the first resource /
    destination target fills them."""
    data_classes: list[str] = field(default_factory=list)
    credential_id: str | None = None
    approval_id: Pick = None
    arguments: Any = None
    """Arguments to record: a function of the call's arguments, or False for none. Default: a
    single positional dict as is, else ``{"args": [...], **kwargs}``."""
    excerpt: Any = None
    """Output excerpt: a function of the result, or False for none. Default: a str result as is,
    else its JSON."""
    excerpt_chars: int = 1024
    is_denied: Callable[[BaseException], bool] | None = None
    """Classify a raised error as a refusal (``denied``) rather than a failure (``error``)."""


MAX_ARGUMENTS_DEPTH = MAX_JSON_DEPTH - 3
"""Deepest nesting inside ``arguments`` the schema admits (envelope 1, data 2, arguments 3)."""


def _pick(v: Pick, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return v(*args, **kwargs) if callable(v) else v


def _depth_over(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if not isinstance(v, (dict, list)):
            continue
        if d > limit:
            return True
        for x in v.values() if isinstance(v, dict) else v:
            stack.append((x, d + 1))
    return False


def bounded_arguments(value: Any) -> tuple[dict[str, Any], Adjustment | None]:
    """JSON-safe, bounded copy: an audit record must never fail on its own size."""
    try:
        normal = normalise(value, "data.arguments")
    except NotJsonError:
        return {"unserializable": True}, None
    if not isinstance(normal, dict):
        normal = {"args": [normal]}
    size = json_bytes(normal)
    if size > MAX_ARGUMENTS_BYTES or _depth_over(normal, MAX_ARGUMENTS_DEPTH):
        return {"truncated": True, "bytes": size}, {
            "path": "data.arguments",
            "reason": "truncated",
            "original_bytes": size,
        }
    return normal, None


def bounded_excerpt(text: str, limit: int) -> str:
    """Cut on a code point boundary; a cut also drops the trailing partial word (half a secret leaks)."""
    return truncate_words(text, max_length=limit)


_FIELDS = ("tool", "resource", "destination", "error")


def _fit_fields(data: dict[str, Any], more: list[Adjustment]) -> dict[str, Any]:
    adjustments: list[Adjustment] = []
    out = dict(data)
    for f in _FIELDS:
        v = out.get(f)
        if not isinstance(v, str):
            continue
        v = to_utf16(v)  # lengths in UTF-16 code units, as the schema counts them
        out[f], adjustment = fit_text(f"data.{f}", v, max_length("action", f))
        if adjustment:
            adjustments.append(adjustment)
    return with_adjustments(out, [*more, *adjustments])


def _default_excerpt(result: Any) -> str:
    if isinstance(result, str):
        return result
    if result is None:
        return ""
    try:
        return stringify(normalise(result))
    except NotJsonError:
        return "[unserializable result]"


def _error_text(err: BaseException) -> str:
    return str(err) or type(err).__name__


def wrap_tool(
    task: TaskHandle,
    name: str,
    opts: WrapOptions,
    fn: Callable[..., Any],
    unrecorded: Callable[[Exception], None],
) -> Callable[..., Any]:
    """Record operation, resource, outcome, latency and an output excerpt around ``fn``.

    The tool's own error is re-raised unchanged. If recording fails after a successful call, the
    recording error is raised: an unaudited action is surfaced (fail closed). After a failed
    call, whose error is what the caller gets, a recording failure goes to ``unrecorded``.
    """
    excerpt_chars = min(opts.excerpt_chars, MAX_OUTPUT_EXCERPT_CHARS)

    def before(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[dict[str, Any], list[Adjustment]]:
        data: dict[str, Any] = {
            "tool": name,
            "operation": opts.operation,
            "resource": _pick(opts.resource, args, kwargs),
            "destination": _pick(opts.destination, args, kwargs),
            "data_classes": list(opts.data_classes),
            "credential_id": opts.credential_id,
            "approval_id": _pick(opts.approval_id, args, kwargs),
        }
        adjustments: list[Adjustment] = []
        if opts.targets:
            targets, more = extract_targets(opts.targets, args, kwargs, data["resource"], data["destination"])
            if targets:
                data["targets"] = targets
            # The schema wants the first of each kind in the 1.0 fields: fill them when not given.
            for kind in ("resource", "destination"):
                if data[kind] is None:
                    data[kind] = next((t["value"] for t in targets if t["kind"] == kind), None)
            adjustments.extend(more)
        if opts.arguments is not False:
            if callable(opts.arguments):
                raw = opts.arguments(*args, **kwargs)
            elif len(args) == 1 and not kwargs and isinstance(args[0], dict):
                raw = args[0]
            else:
                raw = {**({"args": list(args)} if args else {}), **kwargs}
            data["arguments"], adjustment = bounded_arguments(raw)
            if adjustment:
                adjustments.append(adjustment)
        return data, adjustments

    def failed(data: dict[str, Any], adjustments: list[Adjustment], err: BaseException, started: float) -> None:
        data["latency_ms"] = (time.perf_counter() - started) * 1000
        data["outcome"] = "denied" if opts.is_denied and opts.is_denied(err) else "error"
        data["error"] = _error_text(err)
        try:
            task.action(_fit_fields(data, adjustments))
        except Exception as record_err:  # noqa: BLE001 - surfaced, the tool's error is raised
            unrecorded(record_err)

    def succeeded(data: dict[str, Any], adjustments: list[Adjustment], result: Any, started: float) -> Recorded:
        data["latency_ms"] = (time.perf_counter() - started) * 1000
        data["outcome"] = "ok"
        if opts.excerpt is not False:
            text = to_utf16(opts.excerpt(result) if callable(opts.excerpt) else _default_excerpt(result))
            cut, adjustment = fit_text("data.output.excerpt", text, excerpt_chars, bounded_excerpt)
            data["output"] = {"excerpt": cut}
            if adjustment:
                adjustments.append(adjustment)
        return task.action(_fit_fields(data, adjustments))

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            data, adjustments = before(args, kwargs)
            started = time.perf_counter()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as err:
                failed(data, adjustments, err, started)
                raise
            succeeded(data, adjustments, result, started)
            return result

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        data, adjustments = before(args, kwargs)
        started = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
        except BaseException as err:
            failed(data, adjustments, err, started)
            raise
        succeeded(data, adjustments, result, started)
        return result

    return wrapper
