"""Values as JavaScript holds them: number spelling, integers beyond 2**53, UTF-16 strings."""

import math

import pytest

from agenttrail import EventValidationError, seal_event
from agenttrail.jsvalue import NotJsonError, canonical, format_number, normalise, parse, quote, stringify, to_utf16


@pytest.mark.parametrize(
    ("x", "js"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (0.00001234, "0.00001234"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (2.0**60, "1152921504606847000"),
        (2.0**70, "1.1805916207174113e+21"),
        (123.456, "123.456"),
        (math.nan, "null"),
        (math.inf, "null"),
    ],
)
def test_numbers_are_spelled_as_javascript_spells_them(x, js):
    assert format_number(x) == js


def test_integers_beyond_2_53():
    # Exactly a double: accepted, written as JavaScript writes that double.
    assert stringify(normalise({"n": 2**60})) == '{"n":1152921504606847000}'
    # JavaScript's own spelling of a double (what a JS service sends us): accepted, same double.
    assert normalise(1152921504606847000) == 2.0**60
    assert normalise(2**53) == 2**53
    # Not a double: the gateway would store another number. Refused, naming the field.
    with pytest.raises(NotJsonError) as err:
        normalise({"a": {"n": 2**53 + 1}}, "data.arguments")
    assert err.value.path == "data.arguments.a.n"
    assert "9007199254740992" in str(err.value)
    with pytest.raises(NotJsonError):
        normalise(10**400)


def test_a_refused_integer_is_an_event_validation_error_naming_the_path():
    event = {
        "event_id": "e1",
        "schema_version": 1,
        "type": "action",
        "occurred_at": "2026-01-01T00:00:00.000Z",
        "tenant": "acme",
        "agent": {"id": "a"},
        "task_id": "t",
        "seq": 1,
        "data": {"tool": "x", "operation": "read", "outcome": "ok", "arguments": {"id": 2**63 - 1}},
    }
    with pytest.raises(EventValidationError) as err:
        seal_event(event)
    assert err.value.errors[0]["path"] == "data.arguments.id"
    # The same event with the id as a string, or as a double, seals; -0.0 hashes as 0.
    event["data"]["arguments"] = {"id": str(2**63 - 1), "z": -0.0}
    a = seal_event(event)
    event["data"]["arguments"] = {"id": str(2**63 - 1), "z": 0}
    assert seal_event(event).hash == a.hash


def test_python_values_without_json_form_are_refused():
    with pytest.raises(NotJsonError):
        normalise({"s": {1, 2}})
    with pytest.raises(NotJsonError):
        normalise({1: "int key"})
    assert normalise((1, "a")) == [1, "a"]
    assert normalise({"x": math.nan}) == {"x": None}


def test_strings_are_utf16():
    assert to_utf16("a😀") == "a\ud83d\ude00"
    assert len(to_utf16("😀")) == 2
    # Sorted by UTF-16 code unit: the astral character (0xD83D…) before U+FFFF.
    assert canonical(normalise({"\uffff": 1, "😀": 2})) == '{"😀":2,"\uffff":1}'.replace("😀", "\ud83d\ude00")
    assert quote("\ud800x") == '"\\ud800x"'
    assert quote("\ud83d\ude00") == '"\ud83d\ude00"'
    assert quote('\u0000\u001f\b"\\\u2028') == '"\\u0000\\u001f\\b\\"\\\\\u2028"'


def test_objects_keep_javascript_key_order():
    assert list(normalise({"b": 1, "10": 2, "2": 3, "a": 4})) == ["2", "10", "b", "a"]
    assert list(parse('{"b":1,"4294967295":0,"1":2}')) == ["1", "b", "4294967295"]
    assert parse("[1e400]") == [math.inf]
    with pytest.raises(ValueError):
        parse("[NaN]")
