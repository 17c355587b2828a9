"""What the SDK raises (port of sdk/errors.ts). Each says whether the events concerned were kept
(and will be retried) or will never be accepted: that is what an agent author must decide on."""

from __future__ import annotations

from typing import Any


class AgentTrailSdkError(Exception):
    pass


class EventValidationError(AgentTrailSdkError):
    """The event did not pass the v1 schema locally; it was not recorded and used no seq."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("event is not valid v1: " + "; ".join(f"{e['path']}: {e['message']}" for e in errors))


class BufferFullError(AgentTrailSdkError):
    """The buffer stayed full for ``buffer_full_timeout_s``; the event was not recorded and used no seq."""


class BatchRejectedError(AgentTrailSdkError):
    """The gateway refused events for good (a 4xx retrying cannot fix); ``event_ids`` are not stored.

    Other events of the same request that the gateway did not name were sent again.
    """

    def __init__(self, status: int, message: str, event_ids: list[str], details: Any = None) -> None:
        code = details.get("code") if isinstance(details, dict) else None
        self.status = status
        self.event_ids = event_ids
        self.details = details
        self.code = code if isinstance(code, str) else None
        super().__init__(
            f"gateway rejected {len(event_ids)} event(s) with {status}{f' {self.code}' if self.code else ''}: {message}"
        )


class RecordFailedError(AgentTrailSdkError):
    """The action of a tool call that failed could not be recorded (the tool's error is what the caller got)."""


class GatewayUnavailableError(AgentTrailSdkError):
    """Every retry failed; the events are still buffered and will be sent on the next flush."""


class ClosedError(AgentTrailSdkError):
    pass


class TaskEndedError(AgentTrailSdkError):
    pass
