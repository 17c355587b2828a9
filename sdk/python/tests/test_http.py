"""The SDK over real HTTP (urllib) against a fake gateway on 127.0.0.1 answering as the real one."""

from __future__ import annotations

import json

import pytest
from helpers import AGENT, DECLARE, FakeGateway, action

from agenttrail import AgentTrail, BatchRejectedError, HttpTransport, Rejected, Retry
from agenttrail.backoff import RetryOptions, retry_delay_s
from agenttrail.transport import classify_status, parse_retry_after


@pytest.fixture
def gateway():
    made = []

    def make(**kw):
        gw = FakeGateway(**kw)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()


def client_for(gw, **kw):
    return AgentTrail(endpoint=gw.url, api_key="atk_test_key", tenant="acme", agent=AGENT, logger=False, flush_interval_s=60, **kw)


def test_classifies_statuses():
    assert [classify_status(s) for s in (202, 408, 425, 429, 500, 503, 400, 401, 403, 413, 422)] == [
        "accepted", "retry", "retry", "retry", "retry", "retry", "rejected", "rejected", "rejected", "rejected", "rejected"
    ]
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None


def test_backoff_grows_under_a_cap_with_full_jitter_and_retry_after_is_a_floor():
    opts = RetryOptions(base_delay_s=0.2, max_delay_s=1.0)
    assert [retry_delay_s(a, opts, random=lambda: 0.999999) for a in range(5)] == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0], abs=1e-5)
    assert retry_delay_s(0, opts, 5.0, random=lambda: 0.0) == 5.0
    assert retry_delay_s(0, opts, 10_000.0, random=lambda: 0.0) == 300.0


def test_posts_a_json_array_with_the_key(gateway):
    gw = gateway()
    client = client_for(gw)
    task = client.declare_task(**DECLARE)
    task.action(action(1, resource="naïve 😀"))
    client.close()
    [req] = gw.requests
    assert req["path"] == "/v1/events"
    assert req["headers"]["authorization"] == "Bearer atk_test_key"
    assert req["headers"]["content-type"] == "application/json"
    body = json.loads(req["body"])
    assert [e["seq"] for e in body] == [1, 2]
    assert "naïve 😀".encode() in req["body"]  # UTF-8, not \\u escapes: what JSON.stringify writes


def test_reads_503_with_retry_after_as_retry_and_422_results_as_rejected(gateway):
    gw = gateway(answer=lambda ev: (503, {"code": "AT_ERR_KAFKA_UNAVAILABLE", "message": "kafka down"}, {"retry-after": "7"}))
    r = HttpTransport(gw.url, "k").send([{"a": 1}])
    assert r == Retry("kafka down", 503, 7.0)
    results = {"code": "AT_ERR_EVENT_INVALID", "message": "bad", "results": [{"index": 0, "status": "rejected"}]}
    gw2 = gateway(answer=lambda ev: (422, results, {}))
    assert HttpTransport(gw2.url, "k").send([{"a": 1}]) == Rejected(422, "bad", results)
    gw3 = gateway(answer=lambda ev: (400, "x" + "😀" * 300, {}))
    r3 = HttpTransport(gw3.url, "k").send([{"a": 1}])
    assert isinstance(r3, Rejected) and r3.message.startswith("HTTP 400 x") and len(r3.message) < 220


def test_a_network_failure_is_retry():
    r = HttpTransport("http://127.0.0.1:9", "k", timeout_s=2).send([{"a": 1}])
    assert isinstance(r, Retry) and r.message.startswith("network:")


def test_delivers_a_batch_larger_than_the_body_limit_by_splitting_it(gateway):
    gw = gateway(max_body_bytes=64 * 1024)
    errors = []
    client = client_for(gw, batch_size=200, on_error=errors.append)
    task = client.declare_task(**DECLARE)
    for i in range(100):
        task.action(action(i, arguments={"blob": "z" * 6000, "i": i}))
    client.close()
    assert errors == []
    assert [e["seq"] for e in gw.stored] == list(range(1, 102))
    assert any(r["status"] == 413 for r in gw.requests)
    bodies = [r["body"] for r in gw.requests]
    assert len(set(bodies)) == len(bodies)  # a refused body is never resent as is


def test_surfaces_a_422_for_one_event_once_and_delivers_the_others(gateway):
    def answer(events):
        bad = [i for i, e in enumerate(events) if e.get("data", {}).get("tool") == "legacy.tool"]
        if bad:
            return 422, {"code": "AT_ERR_EVENT_INVALID", "message": "nothing was accepted", "results": [
                {"index": i, "status": "rejected" if i in bad else "valid", "errors": [{"path": "data.tool", "message": "refused"}] if i in bad else []}
                for i in range(len(events))
            ]}, {}
        return 202, {"accepted": len(events)}, {}

    gw = gateway(answer=answer)
    errors = []
    client = client_for(gw, on_error=errors.append)
    task = client.declare_task(**DECLARE)
    bad = task.action(tool="legacy.tool", operation="read", outcome="ok")
    task.action(action(2))
    with pytest.raises(BatchRejectedError):
        client.flush()
    assert [r["status"] for r in gw.requests] == [422, 202]
    assert [e["seq"] for e in gw.stored] == [1, 3]
    assert len(errors) == 1 and errors[0].status == 422 and errors[0].event_ids == [bad.event_id]
    assert client.stats() == {"accepted": 2, "refused": 1, "unrecorded": 0, "adjusted": 0, "pending": 0}
    client.close()
