"""Validation of v1 events against the JSON Schema the TypeScript contract exports
(schemas/json/agenttrail-event.v1.schema.json, shipped in this package as event.v1.schema.json;
tests/test_schema.py fails when the copy is stale), defaults applied as zod applies them. The
chain hash covers the validated event, so a default the gateway adds and we did not would break
it. The refinements JSON Schema cannot express are checked by hand (_refinements).

Values are normalised (jsvalue.py): strings in UTF-16 form, so lengths count code units.
"""

from __future__ import annotations

import copy
import json
import math
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from .adjust import MAX_JSON_DEPTH
from .jsvalue import json_bytes

MAX_ARGUMENTS_BYTES = 16_384
MAX_OUTPUT_EXCERPT_CHARS = 4_096
MAX_PROBLEMS = 10

FieldError = dict[str, str]


@lru_cache(maxsize=1)
def _variants() -> dict[str, dict[str, Any]]:
    text = resources.files(__package__).joinpath("event.v1.schema.json").read_text("utf-8")
    schema = json.loads(text)
    return {v["properties"]["type"]["const"]: v for v in schema["oneOf"]}


def event_types() -> list[str]:
    return list(_variants())


def data_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of one event type's ``data``."""
    return _variants()[event_type]["properties"]["data"]


def max_length(event_type: str, field: str) -> int:
    return int(data_schema(event_type)["properties"][field]["maxLength"])


@lru_cache(maxsize=256)
def _pattern(source: str) -> re.Pattern[str]:
    # A JSON Schema pattern is an ECMAScript regex: `\d` is ASCII, `$` ends the input (Python's
    # `$` would also match before a final newline).
    out = []
    in_class = False
    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            out.append(source[i : i + 2])
            i += 2
            continue
        if ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            ch = r"\Z"
        out.append(ch)
        i += 1
    return re.compile("".join(out), re.ASCII)


def _type_ok(value: Any, t: str) -> bool:
    if t == "string":
        return isinstance(value, str)
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "null":
        return value is None
    if t == "boolean":
        return isinstance(value, bool)
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if t == "number":
        return is_number
    if t == "integer":
        return is_number and float(value).is_integer() and abs(value) <= 2**53 - 1
    return False


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _check(value: Any, schema: dict[str, Any], path: str, errors: list[FieldError]) -> Any:
    """The value with defaults applied; problems appended to ``errors`` (path, message)."""

    def fail(message: str) -> Any:
        errors.append({"path": path or "(event)", "message": message})
        return value

    if "anyOf" in schema:
        for option in schema["anyOf"]:
            trial: list[FieldError] = []
            out = _check(value, option, path, trial)
            if not trial:
                return out
        return fail("does not match any allowed form")
    t = schema.get("type")
    if t is not None and not _type_ok(value, t):
        expected = "an integer" if t == "integer" else f"a {t}" if t != "array" else "an array"
        return fail(f"must be {expected} (got {_kind(value)})")
    if "const" in schema and value != schema["const"]:
        return fail(f"must be {json.dumps(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        return fail(f"must be one of {', '.join(map(str, schema['enum']))}")
    for sub in schema.get("allOf", []):
        value = _check(value, sub, path, errors)
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            return fail(f"must be at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return fail(f"must be at most {schema['maxLength']} characters (is {len(value)})")
        if "pattern" in schema and not _pattern(schema["pattern"]).search(value):
            return fail(f"has an invalid format (must match {schema['pattern'][:80]})")
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return fail(f"must be >= {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return fail(f"must be > {schema['exclusiveMinimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            return fail(f"must be <= {schema['maximum']}")
        return value
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            return fail(f"must hold at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return fail(f"must hold at most {schema['maxItems']} items (holds {len(value)})")
        items = schema.get("items")
        if items is None:
            return value
        return [_check(x, items, _join(path, str(i)), errors) for i, x in enumerate(value)]
    if isinstance(value, dict):
        return _check_object(value, schema, path, errors)
    return value


def _check_object(value: dict[str, Any], schema: dict[str, Any], path: str, errors: list[FieldError]) -> Any:
    props: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    unknown = [k for k in value if k not in props]
    if extra is False and unknown:
        errors.append({"path": path or "(event)", "message": f"unknown field(s): {', '.join(unknown)}"})
    out: dict[str, Any] = {}
    for k, v in value.items():
        sub = props.get(k)
        if sub is None:
            if isinstance(extra, dict):
                names = schema.get("propertyNames")
                if names:
                    _check(k, names, _join(path, k), errors)
                out[k] = _check(v, extra, _join(path, k), errors) if extra else v
            else:
                out[k] = v
            continue
        out[k] = _check(v, sub, _join(path, k), errors)
    for k in schema.get("required", []):
        if k not in value:
            errors.append({"path": _join(path, k), "message": "is required"})
    for k, sub in props.items():
        if k not in value and "default" in sub:
            out[k] = copy.deepcopy(sub["default"])
    return out


def _join(path: str, key: str) -> str:
    return key if path == "" else f"{path}.{key}"


def _shape_problems(event: Any) -> list[FieldError]:
    """Nesting deeper than the schema's limit (schemas/json-shape.ts), before the schema runs."""
    problems: list[FieldError] = []
    stack: list[tuple[Any, str, int]] = [(event, "", 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        value, path, depth = stack.pop()
        if not isinstance(value, (dict, list)):
            continue
        if depth >= MAX_JSON_DEPTH:
            problems.append(
                {"path": path or "(event)", "message": f"is nested more than {MAX_JSON_DEPTH} levels deep; flatten it"}
            )
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for k, v in items:
            stack.append((v, _join(path, str(k)), depth + 1))
    return problems


def _refinements(event: dict[str, Any], errors: list[FieldError]) -> None:
    """What zod checks beyond the JSON Schema: the arguments' size, targets, an approval's target."""
    data = event.get("data")
    if not isinstance(data, dict):
        return
    args = data.get("arguments")
    if event.get("type") == "action" and isinstance(args, dict):
        size = json_bytes(args)
        if size > MAX_ARGUMENTS_BYTES:
            errors.append(
                {"path": "data.arguments", "message": f"is {size} bytes of JSON; the limit is {MAX_ARGUMENTS_BYTES}"}
            )
    targets = data.get("targets")
    if event.get("type") == "action" and isinstance(targets, list):
        # The first target of a kind must be the 1.0 field of that kind (readers of contract 1.0).
        for kind in ("resource", "destination"):
            first = next((t for t in targets if isinstance(t, dict) and t.get("kind") == kind), None)
            if first is not None and data.get(kind) != first.get("value"):
                errors.append(
                    {
                        "path": f"data.{kind}",
                        "message": f"must equal the first {kind} target ('{str(first.get('value'))[:64]}'), "
                        "for readers of contract 1.0",
                    }
                )
    target = data.get("target")
    if event.get("type") in ("approval.requested", "approval.granted") and isinstance(target, dict):
        if target.get("action_id") is None and (target.get("tool") is None or target.get("operation") is None):
            errors.append(
                {"path": "data.target", "message": "must name an action_id, or at least a tool and an operation"}
            )


def validate_event(event: Any) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """(validated event with defaults, []) or (None, field errors). Never raises."""
    if not isinstance(event, dict):
        return None, [{"path": "(event)", "message": "must be a JSON object"}]
    variants = _variants()
    t = event.get("type")
    if not isinstance(t, str) or t not in variants:
        expected = ", ".join(variants)
        message = f"unknown event type '{t[:64]}'" if isinstance(t, str) else "is required"
        return None, [{"path": "type", "message": f"{message}; expected one of {expected}"}]
    shape = _shape_problems(event)
    if shape:
        return None, shape
    errors: list[FieldError] = []
    out = _check(event, variants[t], "", errors)
    if not errors:
        _refinements(out, errors)
    return (None, errors) if errors else (out, [])
