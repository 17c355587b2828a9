"""The client: seq numbering and chain, batching, retries, refusals, the bounded buffer
(the guarantees of sdk/outbox.ts, tested as sdk/outbox.test.ts tests them)."""

from __future__ import annotations

import threading
import time

import pytest
from helpers import DECLARE, MemoryTransport, action, trail

from agenttrail import (
    BatchRejectedError,
    BufferFullError,
    ClosedError,
    EventValidationError,
    GatewayUnavailableError,
    Rejected,
    Retry,
    RetryOptions,
    TaskEndedError,
)
from agenttrail.jsvalue import normalise
from agenttrail.redact import redact_event
from agenttrail.seal import event_hash

GH = "ghp_" + "Zx9" * 12


def check_chain(events):
    """Gap-free seq from 1, each hash over the redacted event, each prev_hash the previous hash."""
    prev = None
    for i, e in enumerate(events):
        assert e["seq"] == i + 1
        assert e.get("prev_hash") == prev
        assert e["hash"] == event_hash(redact_event(normalise(e)))
        prev = e["hash"]


def test_a_task_of_1000_actions_is_numbered_gap_free_and_chained():
    mem = MemoryTransport()
    client = trail(mem, batch_size=100)
    task = client.declare_task(**DECLARE)
    for i in range(1, 1001):
        args = {"headers": {"authorization": f"token {GH}"}, "n": i} if i % 50 == 0 else {"n": i}
        task.action(tool="github.issues.update", operation="write", outcome="ok", arguments=args)
    task.end(outcome="completed")
    client.close()
    sent = mem.accepted()
    assert [e["seq"] for e in sent] == list(range(1, 1003))
    assert "prev_hash" not in sent[0]
    check_chain(sent)
    # Sent unredacted (the gateway fingerprints the secret), hashed redacted.
    assert sent[50]["data"]["arguments"]["headers"]["authorization"] == f"token {GH}"
    assert all(len(b) <= 100 for b in mem.batches)
    assert client.stats() == {"accepted": 1002, "refused": 0, "unrecorded": 0, "adjusted": 0, "pending": 0}


def test_sends_full_batches_by_count_and_the_rest_on_flush():
    mem = MemoryTransport()
    client = trail(mem, batch_size=10)
    task = client.declare_task(**DECLARE)
    for i in range(24):
        task.action(action(i))
    client.flush()
    assert [len(b) for b in mem.batches] == [10, 10, 5]
    client.close()


def test_sends_on_the_interval_without_an_explicit_flush():
    mem = MemoryTransport()
    client = trail(mem, flush_interval_s=0.05)
    client.declare_task(**DECLARE)
    deadline = time.monotonic() + 5
    while not mem.batches and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(mem.batches) == 1
    client.close()


def test_splits_batches_by_bytes():
    mem = MemoryTransport()
    client = trail(mem, batch_size=1000, max_batch_bytes=64 * 1024)
    task = client.declare_task(**DECLARE)
    for i in range(40):
        task.action(action(i, arguments={"blob": "z" * 6000, "i": i}))
    client.close()
    from agenttrail.transport import body_of

    assert all(len(body_of(b)) <= 64 * 1024 for b in mem.batches)
    assert [e["seq"] for e in mem.accepted()] == list(range(1, 42))


def test_retries_transient_failures_with_backoff_and_honours_retry_after():
    slept = []
    mem = MemoryTransport([Retry("HTTP 503", 503), Retry("HTTP 429", 429, retry_after_s=2.0)])
    client = trail(mem, sleep=slept.append, random=lambda: 0.5)
    client.declare_task(**DECLARE)
    client.flush()
    assert len(mem.batches) == 3
    assert slept == [0.1, 2.0 + 0.1]  # full jitter under 0.2 s; Retry-After as a floor
    client.close()


def test_never_retries_a_4xx_surfaces_it_and_carries_on():
    errors = []
    mem = MemoryTransport([Rejected(403, "forbidden", {"code": "AT_ERR_AUTH_FORBIDDEN"})])
    client = trail(mem, on_error=errors.append)
    task = client.declare_task(**DECLARE)
    with pytest.raises(BatchRejectedError) as err:
        client.flush()
    assert err.value.code == "AT_ERR_AUTH_FORBIDDEN"
    task.action(action(1))
    client.flush()
    assert len(mem.batches) == 2
    assert [type(e) for e in errors] == [BatchRejectedError]
    assert client.stats()["refused"] == 1 and client.stats()["accepted"] == 1
    client.close()


def test_a_422_naming_one_event_refuses_only_it_and_resends_the_rest():
    mem = MemoryTransport(
        [Rejected(422, "nothing was accepted", {"results": [{"index": 1, "status": "rejected", "errors": [{"path": "data.tool", "message": "no"}]}, {"index": 0, "status": "valid"}]})]
    )
    client = trail(mem)
    task = client.declare_task(**DECLARE)
    bad = task.action(action(1))
    task.action(action(2))
    with pytest.raises(BatchRejectedError) as err:
        client.flush()
    assert err.value.event_ids == [bad.event_id]
    assert f"event {bad.event_id}: data.tool: no" in str(err.value)
    assert [len(b) for b in mem.batches] == [3, 2]
    assert [e["seq"] for e in mem.accepted()] == [1, 3]
    client.close()


def test_a_413_naming_no_event_splits_the_batch_in_order():
    too_large = Rejected(413, "too large", {"code": "AT_ERR_BODY_TOO_LARGE"})
    mem = MemoryTransport([too_large, too_large])
    warnings = []

    class Log:
        def warning(self, msg, *args, **kw):
            warnings.append(msg % args if args else msg)

    client = trail(mem, logger=Log())
    task = client.declare_task(**DECLARE)
    for i in range(7):
        task.action(action(i))
    client.flush()
    assert [len(b) for b in mem.batches] == [8, 4, 2, 2, 4]
    assert [e["seq"] for e in mem.accepted()] == list(range(1, 9))
    assert sum("413" in w for w in warnings) == 1
    client.close()


def test_keeps_events_buffered_when_retries_run_out_and_delivers_them_next_flush():
    mem = MemoryTransport([Retry("down")] * 3)
    client = trail(mem, sleep=lambda s: None, retry=RetryOptions(max_attempts=3))
    client.declare_task(**DECLARE)
    with pytest.raises(GatewayUnavailableError):
        client.flush()
    assert client.pending == 1
    client.flush()
    assert client.pending == 0 and len(mem.accepted()) == 1
    client.close()


def test_backpressure_when_full_then_refuses_without_consuming_a_seq():
    gate = threading.Event()

    def slow():
        gate.wait(10)
        from agenttrail import Accepted

        return Accepted()

    mem = MemoryTransport([slow])
    client = trail(mem, buffer_capacity=3, buffer_full_timeout_s=0.2, batch_size=1000)
    task = client.declare_task(**DECLARE)
    task.action(action(1))
    task.action(action(2))
    client._outbox._force = True  # start sending the three; the transport holds them
    with pytest.raises(BufferFullError):
        task.action(action(3))
    # A waiting call is admitted once there is room, in order.
    done = []
    t = threading.Thread(target=lambda: done.append(task.action(action(4))))
    started = time.monotonic()
    t.start()
    time.sleep(0.05)
    gate.set()
    t.join(5)
    assert done and done[0].seq == 4  # 3 was refused and took no number
    assert time.monotonic() - started < 5
    client.close()
    assert [e["seq"] for e in mem.accepted()] == [1, 2, 3, 4]


def test_refuses_an_invalid_event_locally_naming_the_field_without_consuming_a_seq():
    mem = MemoryTransport()
    client = trail(mem)
    task = client.declare_task(**DECLARE)
    with pytest.raises(EventValidationError) as err:
        task.action(tool="x", operation="fly", outcome="ok")
    assert err.value.errors[0]["path"] == "data.operation"
    assert task.action(action(1)).seq == 2
    client.close()


def test_refuses_events_after_end_and_after_close():
    mem = MemoryTransport()
    client = trail(mem)
    task = client.declare_task(**DECLARE)
    task.end(outcome="completed")
    with pytest.raises(TaskEndedError):
        task.action(action(1))
    client.close()
    with pytest.raises(ClosedError):
        client.declare_task(**DECLARE)


def test_delegation_records_the_child_task_id():
    mem = MemoryTransport()
    client = trail(mem)
    task = client.declare_task(**DECLARE)
    rec, child_id = task.delegate(scope={"allow": [{"tools": ["github.issues.*"]}]}, child_agent_id="labeler")
    child = client.declare_task(
        intent="label", scope={"allow": []}, declared_by={"kind": "task", "id": task.id}, parent_task_id=task.id, task_id=child_id
    )
    client.close()
    sent = mem.accepted()
    assert sent[1]["data"]["child_task_id"] == child_id == child.id
    assert sent[2]["parent_task_id"] == task.id and sent[2]["seq"] == 1
    assert rec.seq == 2


def test_an_action_larger_than_the_byte_budget_is_fitted_not_lost():
    mem = MemoryTransport()
    client = trail(mem, max_batch_bytes=16 * 1024)
    task = client.declare_task(**DECLARE)
    task.action(action(1, arguments={"blob": "x" * 15000}, output={"excerpt": "word " * 800}))
    client.close()
    sent = mem.accepted()[1]
    assert {a["path"] for a in sent["data"]["adjusted"]} >= {"data.output.excerpt"}
    from agenttrail.transport import body_of

    assert len(body_of([sent])) <= 16 * 1024
    assert client.stats()["adjusted"] == 1


def test_lone_surrogates_are_repaired_and_listed():
    mem = MemoryTransport()
    client = trail(mem)
    task = client.declare_task(**DECLARE)
    task.action(action(1, resource="erp:invoices/\ud800"))
    client.close()
    sent = mem.accepted()[1]
    assert sent["data"]["resource"] == "erp:invoices/\ufffd"
    assert sent["data"]["adjusted"] == [{"path": "data.resource", "reason": "ill_formed_unicode"}]


def test_keeps_delivering_when_on_error_raises():
    def boom(err):
        raise RuntimeError("callback bug")

    mem = MemoryTransport([Rejected(400, "bad")])
    client = trail(mem, on_error=boom)
    client.declare_task(**DECLARE)
    with pytest.raises(BatchRejectedError):
        client.flush()
    client.declare_task(**DECLARE)
    client.flush()
    assert client.stats()["accepted"] == 1
    client.close()


def test_refuses_a_byte_budget_too_small_for_one_event():
    with pytest.raises(ValueError, match="max_batch_bytes"):
        trail(MemoryTransport(), max_batch_bytes=1000)
