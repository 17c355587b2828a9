"""The bounded buffer between the agent and the gateway, and the one sender thread that drains it
(port of sdk/outbox.ts; the same policy, with threads instead of promises).

Policy when full: BACKPRESSURE, then refuse. A recording call waits (FIFO) for room for up to
``buffer_full_timeout_s``, then raises BufferFullError. An admitted event is never dropped to
make room: for an audit product a silently missing event is worse than a slow agent, and a
dropped event would leave a seq gap the detector must report as tampering. An event is sealed
(seq + hash) only when admitted, so a refused one leaves no gap in the chain.

Delivery: one batch in flight at a time, so a task's events reach the gateway in seq order. A
batch is cut by count (``batch_size``) and by bytes (``max_batch_bytes``, under the gateway's body
limit); an event bigger than the byte budget alone goes alone. Transient failures are retried
with backoff and the batch stays buffered until accepted. A permanent 4xx is never retried: the
events the gateway names are refused and surfaced (reporter: log, on_error, stats; the next
flush() raises), and the rest of the batch, which an all-or-nothing gateway did not store
either, is sent again without them. A 413 that names no event means the request as a whole was
too large: it is split in two, down to one event.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from .backoff import RetryOptions, retry_delay_s
from .errors import BatchRejectedError, BufferFullError, ClosedError, GatewayUnavailableError
from .refusal import describe_refusal, refused_indexes
from .report import Reporter
from .seal import Sealed
from .transport import Rejected, Retry, SendResult, Transport


@dataclass
class _Queued:
    sealed: Sealed
    n: int
    """Admission number (1, 2, …)."""


@dataclass
class _FlushWaiter:
    target: int
    """Admission number of the last event it waits for."""
    errors: list[Exception] = field(default_factory=list)
    done: bool = False


class Outbox:
    def __init__(
        self,
        transport: Transport,
        reporter: Reporter,
        capacity: int,
        batch_size: int,
        max_batch_bytes: int,
        flush_interval_s: float,
        buffer_full_timeout_s: float,
        retry: RetryOptions,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] | None = None,
    ) -> None:
        self._transport = transport
        self._reporter = reporter
        self._capacity = capacity
        self._batch_size = batch_size
        self._max_batch_bytes = max_batch_bytes
        self._interval = flush_interval_s
        self._full_timeout = buffer_full_timeout_s
        self._retry = retry
        self._sleep = sleep
        self._random = random
        self._cv = threading.Condition()
        self._queue: deque[_Queued] = deque()
        self._queued_bytes = 0
        self._tickets: deque[object] = deque()
        self._waiters: list[_FlushWaiter] = []
        self._admitted = 0
        self._force = False
        self._closed = False
        self._stopped = False
        self._warned_too_large = False
        self._thread = threading.Thread(target=self._run, name="agenttrail-sender", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Events admitted but not yet accepted or rejected by the gateway."""
        with self._cv:
            return len(self._queue)

    @property
    def max_event_bytes(self) -> int:
        """Largest event that fits a request on its own (the array's brackets aside)."""
        return self._max_batch_bytes - 2

    def admit(self, make: Callable[[], Sealed]) -> Sealed:
        """Admit one event. ``make`` seals it (assigns seq, chains it) once there is room, in call order."""
        with self._cv:
            if self._closed:
                raise ClosedError("the AgentTrail client is closed")
            if not self._tickets and len(self._queue) < self._capacity:
                return self._push(make())
            ticket = object()
            self._tickets.append(ticket)
            self._force = True
            self._cv.notify_all()
            deadline = time.monotonic() + self._full_timeout
            try:
                while not (self._tickets[0] is ticket and len(self._queue) < self._capacity):
                    if self._closed:
                        raise ClosedError("the AgentTrail client closed before the event was admitted")
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise BufferFullError(
                            f"buffer of {self._capacity} events stayed full for {self._full_timeout} s"
                        )
                    self._cv.wait(left)
                return self._push(make())
            finally:
                self._tickets.remove(ticket)
                self._cv.notify_all()

    def flush(self) -> None:
        """Returns when every event admitted before the call was accepted; raises the first refusal."""
        with self._cv:
            if not self._queue:
                return
            w = _FlushWaiter(self._admitted)
            self._waiters.append(w)
            self._force = True
            self._cv.notify_all()
            while not w.done:
                self._cv.wait()
        if w.errors:
            raise w.errors[0]

    def close(self) -> None:
        """Flush, then refuse further events and stop the sender."""
        try:
            self.flush()
        finally:
            with self._cv:
                self._closed = True
                self._stopped = True
                self._cv.notify_all()

    # --- under the lock -------------------------------------------------------------------

    def _push(self, sealed: Sealed) -> Sealed:
        self._admitted += 1
        self._queue.append(_Queued(sealed, self._admitted))
        self._queued_bytes += sealed.bytes
        if self._full():
            self._cv.notify_all()
        return sealed

    def _full(self) -> bool:
        return (
            len(self._queue) >= self._batch_size
            or self._queued_bytes + len(self._queue) + 1 >= self._max_batch_bytes
        )

    def _waiting(self) -> bool:
        return bool(self._waiters) or bool(self._tickets)

    def _next_batch(self) -> list[_Queued]:
        batch: list[_Queued] = []
        size = 2
        for q in self._queue:
            if len(batch) >= self._batch_size:
                break
            add = q.sealed.bytes + (1 if batch else 0)
            if batch and size + add > self._max_batch_bytes:
                break
            batch.append(q)
            size += add
        return batch

    def _settle(self, items: list[_Queued], error: Exception | None = None) -> None:
        with self._cv:
            gone = {id(q) for q in items}
            self._queue = deque(q for q in self._queue if id(q) not in gone)
            self._queued_bytes -= sum(q.sealed.bytes for q in items)
            if error is not None:
                for w in self._waiters:
                    w.errors.append(error)
            # Refusals can settle events out of order: a waiter is done when none it waits for is left.
            head = self._queue[0].n if self._queue else float("inf")
            for w in list(self._waiters):
                if head > w.target:
                    w.done = True
                    self._waiters.remove(w)
            self._cv.notify_all()

    # --- the sender thread ----------------------------------------------------------------

    def _run(self) -> None:
        next_tick = time.monotonic() + self._interval
        while True:
            with self._cv:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if now >= next_tick:
                        next_tick = now + self._interval
                        if self._queue:
                            self._force = True
                    if self._queue and (self._force or self._full() or self._waiting()):
                        break
                    self._cv.wait(max(0.0, next_tick - now))
                force = self._force
                self._force = False
            self._pump(force)

    def _pump(self, force: bool) -> None:
        while True:
            with self._cv:
                if not (self._queue and (force or self._full() or self._waiting())):
                    return
                batch = self._next_batch()
            if not self._deliver(batch):
                return
            with self._cv:
                force = force and bool(self._queue)

    def _deliver(self, batch: list[_Queued]) -> bool:
        """False when retries ran out: what is left of the batch stays queued for a later round."""
        result = self._send_with_retry(batch)
        if result is None:
            return False
        if not isinstance(result, Rejected):
            self._reporter.count("accepted", len(batch))
            self._settle(batch)
            return True
        named = refused_indexes(result.details, len(batch))
        if named and len(named) < len(batch):
            self._refuse([batch[i] for i in named], result, named)
            refused = set(named)
            return self._deliver([q for i, q in enumerate(batch) if i not in refused])
        if result.status == 413 and not named and len(batch) > 1:
            self._warn_too_large(batch)
            half = (len(batch) + 1) // 2  # halves in order: each task's events stay in seq order
            return self._deliver(batch[:half]) and self._deliver(batch[half:])
        self._refuse(batch, result, named or list(range(len(batch))))
        return True

    def _refuse(self, items: list[_Queued], result: Rejected, indexes: list[int]) -> None:
        ids = [q.sealed.event_id for q in items]
        err = BatchRejectedError(
            result.status, describe_refusal(result.message, result.details, indexes, ids), ids, result.details
        )
        self._reporter.count("refused", len(items))
        self._reporter.surface(err, status=result.status, event_ids=ids[:20])
        self._settle(items, err)

    def _warn_too_large(self, batch: list[_Queued]) -> None:
        if self._warned_too_large:
            return
        self._warned_too_large = True
        size = sum(q.sealed.bytes + 1 for q in batch) + 1
        self._reporter.warn(
            f"agenttrail: the gateway refused a request of {size} bytes as too large (413); splitting requests. "
            f"Set max_batch_bytes (now {self._max_batch_bytes}) below the gateway's GATEWAY_MAX_BODY_BYTES"
        )

    def _send_with_retry(self, batch: list[_Queued]) -> SendResult | None:
        events = [q.sealed.event for q in batch]
        last = ""
        for attempt in range(self._retry.max_attempts):
            try:
                result = self._transport.send(events)
            except Exception as err:  # noqa: BLE001 - a transport that raises is a transient failure
                result = Retry(str(err))
            if not isinstance(result, Retry):
                return result
            last = result.message
            if attempt + 1 < self._retry.max_attempts:
                kwargs = {"random": self._random} if self._random else {}
                self._sleep(retry_delay_s(attempt, self._retry, result.retry_after_s, **kwargs))
        with self._cv:
            left = len(self._queue)
        err = GatewayUnavailableError(
            f"gateway unavailable after {self._retry.max_attempts} attempts ({last}); {left} event(s) stay buffered"
        )
        self._reporter.surface(err)
        with self._cv:
            for w in self._waiters:
                w.errors.append(err)
                w.done = True
            self._waiters.clear()
            self._cv.notify_all()
        return None
