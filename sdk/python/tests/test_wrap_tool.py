from __future__ import annotations

import asyncio

import pytest
from helpers import DECLARE, MemoryTransport, trail

from agenttrail import ClosedError, RecordFailedError
from agenttrail.jsvalue import to_utf16
from agenttrail.text import ELLIPSIS, is_well_formed
from agenttrail.wrap_tool import bounded_excerpt


def setup():
    mem = MemoryTransport()
    client = trail(mem)
    return mem, client, client.declare_task(**DECLARE)


def actions(mem):
    return [e["data"] for e in mem.accepted() if e["type"] == "action"]


def test_records_operation_resource_arguments_outcome_latency_and_excerpt():
    mem, client, task = setup()

    @task.wrap_tool("github.issues.list", operation="read", resource=lambda repo, **_: f"github:{repo}")
    def list_issues(repo, state="open"):
        return [{"n": 1, "title": "Flaky test"}]

    assert list_issues("acme/web", state="all") == [{"n": 1, "title": "Flaky test"}]
    client.close()
    [a] = actions(mem)
    assert a["tool"] == "github.issues.list" and a["operation"] == "read" and a["outcome"] == "ok"
    assert a["resource"] == "github:acme/web"
    assert a["arguments"] == {"args": ["acme/web"], "state": "all"}
    assert a["output"] == {"excerpt": '[{"n":1,"title":"Flaky test"}]'}
    assert isinstance(a["latency_ms"], float) and a["latency_ms"] >= 0
    assert a["data_classes"] == []


def test_a_single_dict_argument_is_the_arguments():
    mem, client, task = setup()
    task.wrap_tool("kv.get", lambda q: "v", operation="read")({"key": "k"})
    client.close()
    assert actions(mem)[0]["arguments"] == {"key": "k"}


def test_records_a_failure_and_reraises_the_tool_error_unchanged():
    mem, client, task = setup()
    err = KeyError("missing")

    def fails():
        raise err

    with pytest.raises(KeyError) as raised:
        task.wrap_tool("kv.get", fails, operation="read")()
    assert raised.value is err
    client.close()
    [a] = actions(mem)
    assert a["outcome"] == "error" and a["error"] == "'missing'" and "output" not in a


def test_classifies_refusals_as_denied():
    mem, client, task = setup()

    def refuse():
        raise PermissionError("not allowed")

    with pytest.raises(PermissionError):
        task.wrap_tool("fs.rm", refuse, operation="delete", is_denied=lambda e: isinstance(e, PermissionError))()
    client.close()
    assert actions(mem)[0]["outcome"] == "denied"


def test_bounds_oversized_or_unserializable_arguments_instead_of_failing_the_record():
    mem, client, task = setup()
    tool = task.wrap_tool("blob.put", lambda *a, **k: "ok", operation="write")
    tool(blob="x" * 20000)
    tool(handle=object())
    tool(n=2**53 + 1)  # no exact JSON number: like a BigInt in TypeScript, unserializable
    client.close()
    big, obj, num = actions(mem)
    assert big["arguments"] == {"truncated": True, "bytes": 20011}
    assert big["adjusted"] == [{"path": "data.arguments", "reason": "truncated", "original_bytes": 20011}]
    assert obj["arguments"] == {"unserializable": True}
    assert num["arguments"] == {"unserializable": True}


def test_cuts_the_error_and_excerpt_without_splitting_a_surrogate_pair():
    mem, client, task = setup()

    def fails():
        raise RuntimeError("😀" * 400)

    with pytest.raises(RuntimeError):
        task.wrap_tool("x.y", fails, operation="read")()
    task.wrap_tool("x.z", lambda: "😀" * 3000, operation="read", excerpt_chars=101)()
    client.close()
    err, ok = actions(mem)
    assert len(err["error"]) <= 512 and is_well_formed(to_utf16(err["error"]))
    assert err["adjusted"] == [{"path": "data.error", "reason": "truncated", "original_length": 800}]
    assert ok["output"]["excerpt"].endswith(ELLIPSIS)
    assert len(to_utf16(ok["output"]["excerpt"])) <= 101
    assert ok["adjusted"] == [{"path": "data.output.excerpt", "reason": "truncated", "original_length": 6000}]


def test_bounded_excerpt_drops_a_token_cut_in_half():
    token = "ghp_" + "Zx9" * 12
    cut = bounded_excerpt(f"found {token} in the log", 20)
    assert cut == "found " + ELLIPSIS


def test_fails_closed_when_a_successful_call_cannot_be_recorded():
    mem, client, task = setup()
    tool = task.wrap_tool("x.y", lambda: "ok", operation="read")
    client.close()
    with pytest.raises(ClosedError):
        tool()


def test_surfaces_a_failed_call_it_cannot_record():
    errors = []
    mem = MemoryTransport()
    client = trail(mem, on_error=errors.append)
    task = client.declare_task(**DECLARE)

    def fails():
        raise ValueError("tool broke")

    tool = task.wrap_tool("x.y", fails, operation="read")
    client.close()
    with pytest.raises(ValueError, match="tool broke"):
        tool()
    assert [type(e) for e in errors] == [RecordFailedError]
    assert "x.y" in str(errors[0])
    assert client.stats()["unrecorded"] == 1


def test_wraps_async_tools():
    mem, client, task = setup()

    @task.wrap_tool("web.fetch", operation="read", destination="example.com")
    async def fetch(url):
        await asyncio.sleep(0)
        return f"<html>{url}</html>"

    assert asyncio.run(fetch("https://example.com")) == "<html>https://example.com</html>"
    client.close()
    assert actions(mem)[0]["destination"] == "example.com"


def test_records_every_target_from_a_declared_mapping():
    mem, client, task = setup()
    send = task.wrap_tool(
        "mail.send",
        lambda **m: "sent",
        operation="transfer",
        targets=[
            {"kind": "recipient", "from": "to", "form": "email"},
            {"kind": "recipient", "from": "cc"},
            {"kind": "recipient", "from": "bcc"},
            {"kind": "resource", "from": lambda **m: f"mail:{m['subject']}"},
        ],
    )
    send(
        to="billing@partner.example",
        cc=["a@acme.example", "billing@partner.example"],
        bcc="x@evil.example; y@evil.example",
        subject="invoice",
    )
    client.close()
    [a] = actions(mem)
    assert a["targets"] == [
        {"kind": "recipient", "value": "billing@partner.example", "form": "email", "role": "to"},
        {"kind": "recipient", "value": "a@acme.example", "role": "cc"},
        {"kind": "recipient", "value": "x@evil.example", "role": "bcc"},
        {"kind": "recipient", "value": "y@evil.example", "role": "bcc"},
        {"kind": "resource", "value": "mail:invoice"},
    ]
    # No resource option: the first resource target fills data.resource, as the schema requires.
    assert a["resource"] == "mail:invoice"
