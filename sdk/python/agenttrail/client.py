"""The AgentTrail client (port of sdk/client.ts): declare tasks, buffer and send their events."""

from __future__ import annotations

import atexit
import logging
import threading
import uuid
from typing import Any, Callable

from .backoff import RetryOptions
from .outbox import Outbox
from .report import Reporter, default_logger
from .task import TaskContext, TaskHandle, utc_now_iso
from .transport import HttpTransport, Transport

DEFAULT_MAX_BATCH_BYTES = 512 * 1024
MIN_MAX_BATCH_BYTES = 16 * 1024
"""Room for the largest envelope with a fitted action (agent fields at their limits, escaped)."""


class AgentTrail:
    """One client per process (or per agent). Thread-safe.

    ``endpoint`` and ``api_key`` name the gateway and the collector key bound to ``tenant``;
    ``agent`` is the envelope's agent (``{"id": ..., "instance": ..., "model": ...}``).
    Events are sent in batches of ``batch_size`` events and at most ``max_batch_bytes`` bytes
    (keep it under the gateway's GATEWAY_MAX_BODY_BYTES), at least every ``flush_interval_s``.
    At most ``buffer_capacity`` events are held; a recording call then waits up to
    ``buffer_full_timeout_s`` for room and raises BufferFullError. Nothing admitted is dropped.
    ``on_error`` gets every refusal (BatchRejectedError), every round whose retries ran out
    (GatewayUnavailableError) and every failed tool call whose action could not be recorded
    (RecordFailedError); the same goes to ``logger`` (default ``logging.getLogger("agenttrail")``;
    ``False`` for none) and is counted in ``stats()``. ``flush_on_exit`` closes the client at
    interpreter exit (atexit), flushing what is pending.
    """

    def __init__(
        self,
        *,
        tenant: str,
        agent: dict[str, Any],
        endpoint: str | None = None,
        api_key: str | None = None,
        transport: Transport | None = None,
        batch_size: int = 200,
        max_batch_bytes: int = DEFAULT_MAX_BATCH_BYTES,
        flush_interval_s: float = 1.0,
        buffer_capacity: int = 10_000,
        buffer_full_timeout_s: float = 30.0,
        retry: RetryOptions | None = None,
        on_error: Callable[[Exception], None] | None = None,
        logger: logging.Logger | bool | None = None,
        flush_on_exit: bool = False,
        sleep: Callable[[float], None] | None = None,
        random: Callable[[], float] | None = None,
        new_id: Callable[[], str] | None = None,
        clock: Callable[[], str] | None = None,
    ) -> None:
        if transport is None:
            if not endpoint or not api_key:
                raise ValueError("AgentTrail: endpoint and api_key are required (or pass a transport)")
            transport = HttpTransport(endpoint, api_key)
        if not isinstance(max_batch_bytes, int) or max_batch_bytes < MIN_MAX_BATCH_BYTES:
            raise ValueError(f"AgentTrail: max_batch_bytes must be an integer >= {MIN_MAX_BATCH_BYTES}")
        log = default_logger if logger is None or logger is True else (logger or None)
        self._tenant = tenant
        self._agent = agent
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self._clock = clock or utc_now_iso
        self._reporter = Reporter(on_error, log)
        extra = {"sleep": sleep} if sleep else {}
        self._outbox = Outbox(
            transport=transport,
            reporter=self._reporter,
            capacity=buffer_capacity,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            flush_interval_s=flush_interval_s,
            buffer_full_timeout_s=buffer_full_timeout_s,
            retry=retry or RetryOptions(),
            random=random,
            **extra,
        )
        self._closed = threading.Event()
        self._atexit = flush_on_exit
        if flush_on_exit:
            atexit.register(self._close_at_exit)

    def declare_task(
        self,
        intent: str,
        scope: dict[str, Any],
        declared_by: dict[str, Any],
        *,
        expires_at: str | None = None,
        labels: dict[str, str] | None = None,
        task_id: str | None = None,
        parent_task_id: str | None = None,
        occurred_at: str | None = None,
        trace_id: str | None = None,
        span_id: str | None = None,
    ) -> TaskHandle:
        """Record ``task.declared`` (seq 1) and return the task to record its events on."""
        task = TaskHandle(
            TaskContext(
                outbox=self._outbox,
                reporter=self._reporter,
                tenant=self._tenant,
                agent=self._agent,
                task_id=task_id or self._new_id(),
                parent_task_id=parent_task_id,
                new_id=self._new_id,
                clock=self._clock,
            )
        )
        data = {"intent": intent, "scope": scope, "declared_by": declared_by}
        if expires_at is not None:
            data["expires_at"] = expires_at
        if labels is not None:
            data["labels"] = labels
        task.record("task.declared", data, occurred_at=occurred_at, trace_id=trace_id, span_id=span_id)
        return task

    def flush(self) -> None:
        """Returns when every event recorded so far was accepted; raises the first refusal."""
        self._outbox.flush()

    def close(self) -> None:
        """Flush, then refuse further events."""
        if self._atexit:
            atexit.unregister(self._close_at_exit)
        self._closed.set()
        self._outbox.close()

    def _close_at_exit(self) -> None:
        try:
            self._outbox.close()
        except Exception as err:  # noqa: BLE001 - surfaced already; exit goes on
            self._reporter.warn(f"agenttrail: events not delivered at exit: {err}")

    @property
    def pending(self) -> int:
        """Events recorded but not yet accepted."""
        return self._outbox.pending

    def stats(self) -> dict[str, int]:
        """Counts since creation: accepted, refused, unrecorded, adjusted events, and pending."""
        return {**self._reporter.snapshot(), "pending": self._outbox.pending}

    def __enter__(self) -> AgentTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
