"""One declared task (port of sdk/task.ts). Numbers its events (seq gap-free from 1) and chains
them (prev_hash/hash); both are assigned when the outbox admits the event, so they follow call
order, and an event that is refused before admission takes no number."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from .errors import RecordFailedError, TaskEndedError
from .seal import Sealed, seal_event

if TYPE_CHECKING:
    from .outbox import Outbox
    from .report import Reporter
    from .wrap_tool import WrapOptions


def utc_now_iso() -> str:
    """``new Date().toISOString()``: UTC, millisecond precision, ``Z``."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Recorded:
    """What a recording call returns: enough to reference the event (e.g. approval targets)."""

    event_id: str
    seq: int
    hash: str


@dataclass
class TaskContext:
    outbox: Outbox
    reporter: Reporter
    tenant: str
    agent: dict[str, Any]
    task_id: str
    parent_task_id: str | None = None
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    clock: Callable[[], str] = utc_now_iso


def _data(data: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    return {**(data or {}), **fields}


class TaskHandle:
    def __init__(self, ctx: TaskContext) -> None:
        self._ctx = ctx
        self._seq = 0
        self._prev_hash: str | None = None
        self._ended = False
        self._lock = threading.Lock()

    @property
    def id(self) -> str:
        return self._ctx.task_id

    def record(
        self,
        type: str,
        data: dict[str, Any],
        occurred_at: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
    ) -> Recorded:
        """Record one event of this task. The methods below are shortcuts per event type."""
        with self._lock:
            if self._ended:
                raise TaskEndedError(f"task {self.id} has ended")
            if type == "task.ended":
                self._ended = True
        ctx = self._ctx

        def make() -> Sealed:
            envelope = {
                "event_id": ctx.new_id(),
                "schema_version": 1,
                "type": type,
                "occurred_at": occurred_at or ctx.clock(),
                "tenant": ctx.tenant,
                "agent": ctx.agent,
                "task_id": ctx.task_id,
                "parent_task_id": ctx.parent_task_id,
                "seq": self._seq + 1,
                "trace_id": trace_id,
                "span_id": span_id,
                "data": data,
            }
            if self._prev_hash is not None:
                envelope["prev_hash"] = self._prev_hash  # event 1 carries none
            sealed = seal_event(envelope, max_bytes=ctx.outbox.max_event_bytes)
            # Only a sealed (valid) event takes the number: a refused one leaves no gap.
            self._seq = sealed.seq
            self._prev_hash = sealed.hash
            if sealed.event["data"].get("adjusted"):
                ctx.reporter.count("adjusted")
            return sealed

        try:
            sealed = ctx.outbox.admit(make)
        except BaseException:
            if type == "task.ended":
                with self._lock:
                    self._ended = False
            raise
        return Recorded(sealed.event_id, sealed.seq, sealed.hash)

    def action(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        """Record a tool call: ``tool``, ``operation``, ``outcome`` and the optional fields of an action."""
        return self._typed("action", data, fields)

    def credential_issued(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("credential.issued", data, fields)

    def credential_revoked(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("credential.revoked", data, fields)

    def approval_requested(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("approval.requested", data, fields)

    def approval_granted(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("approval.granted", data, fields)

    def approval_denied(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("approval.denied", data, fields)

    def scope_changed(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        return self._typed("task.scope_changed", data, fields)

    def end(self, data: dict[str, Any] | None = None, **fields: Any) -> Recorded:
        """Record ``task.ended`` (``outcome``: completed, failed or cancelled); later records raise."""
        return self._typed("task.ended", data, fields)

    def delegate(self, data: dict[str, Any] | None = None, **fields: Any) -> tuple[Recorded, str]:
        """Hand a sub-scope to another agent; returns (the record, the child task id).

        The child agent declares its own task with ``parent_task_id`` set to this task's id.
        """
        payload = _data(data, fields)
        payload.setdefault("child_task_id", self._ctx.new_id())
        return self._typed("task.delegated", payload, {}), payload["child_task_id"]

    _EXTRAS = ("occurred_at", "trace_id", "span_id")

    def _typed(self, type: str, data: dict[str, Any] | None, fields: dict[str, Any]) -> Recorded:
        extras = {k: fields.pop(k) for k in self._EXTRAS if k in fields}
        return self.record(type, _data(data, fields), **extras)

    def wrap_tool(self, name: str, fn: Callable[..., Any] | None = None, **opts: Any) -> Any:
        """Wrap a tool function so each call records an ``action`` (see wrap_tool.py).

        ``task.wrap_tool("github.issues.list", fn, operation="read")``, or as a decorator:
        ``@task.wrap_tool("github.issues.list", operation="read")``.
        """
        from .wrap_tool import WrapOptions, wrap_tool

        options: WrapOptions = WrapOptions(**opts)

        def unrecorded(err: Exception) -> None:
            self._ctx.reporter.count("unrecorded")
            self._ctx.reporter.surface(
                RecordFailedError(
                    f"the action of a failed call to {name} (task {self.id}) was not recorded: {err}"
                ),
                task_id=self.id,
                tool=name,
            )

        if fn is None:
            return lambda f: wrap_tool(self, name, options, f, unrecorded)
        return wrap_tool(self, name, options, fn, unrecorded)
