"""The AgentTrail agent SDK for Python: declare a task, record its actions, end it.

The same API, seq numbering, hash chain, limits, batching, retries and bounded buffer as the
TypeScript SDK (sdk/); standard library only. See the README's "Python SDK" section.
"""

from .backoff import RetryOptions
from .client import DEFAULT_MAX_BATCH_BYTES, AgentTrail
from .errors import (
    AgentTrailSdkError,
    BatchRejectedError,
    BufferFullError,
    ClosedError,
    EventValidationError,
    GatewayUnavailableError,
    RecordFailedError,
    TaskEndedError,
)
from .seal import Sealed, event_hash, seal_event
from .task import Recorded, TaskHandle
from .transport import Accepted, HttpTransport, Rejected, Retry, SendResult, Transport

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "Accepted",
    "AgentTrail",
    "AgentTrailSdkError",
    "BatchRejectedError",
    "BufferFullError",
    "ClosedError",
    "EventValidationError",
    "GatewayUnavailableError",
    "HttpTransport",
    "RecordFailedError",
    "Recorded",
    "Rejected",
    "Retry",
    "RetryOptions",
    "Sealed",
    "SendResult",
    "TaskEndedError",
    "TaskHandle",
    "Transport",
    "event_hash",
    "seal_event",
]
