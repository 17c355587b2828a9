import pathlib

from agenttrail import seal_event
from agenttrail.errors import EventValidationError
from agenttrail.schema import validate_event

import pytest

PACKAGED = pathlib.Path(__file__).resolve().parent.parent / "agenttrail" / "event.v1.schema.json"
CONTRACT = pathlib.Path(__file__).resolve().parents[3] / "schemas" / "json" / "agenttrail-event.v1.schema.json"


def test_packaged_schema_is_the_contract():
    # A default the gateway applies and this SDK does not would break every hash.
    assert PACKAGED.read_bytes() == CONTRACT.read_bytes(), "stale: run npm run schemas:export"


BASE = {
    "event_id": "e1",
    "schema_version": 1,
    "occurred_at": "2026-01-01T00:00:00.000Z",
    "tenant": "acme",
    "agent": {"id": "a1"},
    "task_id": "t1",
    "seq": 1,
}


def test_errors_name_the_field():
    _, errors = validate_event({**BASE, "type": "action", "data": {"tool": "x", "operation": "fly", "outcome": "ok"}})
    assert [e["path"] for e in errors] == ["data.operation"]
    _, errors = validate_event({**BASE, "type": "nope", "data": {}})
    assert errors[0]["path"] == "type" and "expected one of" in errors[0]["message"]
    _, errors = validate_event({**BASE, "type": "task.ended", "data": {"outcome": "completed", "x": 1}})
    assert errors == [{"path": "data", "message": "unknown field(s): x"}]


def test_timestamps_follow_the_contract():
    # JavaScript's `$` ends the input: a trailing newline is not a valid timestamp.
    for bad in ("2026-01-01T00:00:00.000Z\n", "2026-01-01T00:00:00.0001Z", "2026-01-01T00:00:00+01:00"):
        _, errors = validate_event({**BASE, "occurred_at": bad, "type": "task.ended", "data": {"outcome": "completed"}})
        assert {e["path"] for e in errors} == {"occurred_at"}, bad


def test_booleans_are_not_numbers():
    with pytest.raises(EventValidationError) as err:
        seal_event({**BASE, "type": "action", "data": {"tool": "x", "operation": "read", "outcome": "ok", "latency_ms": True}})
    assert err.value.errors[0]["path"] == "data.latency_ms"


def test_too_deep_is_refused_naming_the_path():
    deep = {}
    cur = deep
    for _ in range(70):
        cur["a"] = {}
        cur = cur["a"]
    with pytest.raises(EventValidationError) as err:
        seal_event({**BASE, "type": "action", "data": {"tool": "x", "operation": "read", "outcome": "ok", "arguments": deep}})
    assert "nested more than 64 levels" in str(err.value)
