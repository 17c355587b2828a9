"""How batches leave the process (port of sdk/transport.ts): urllib, no dependencies. A transport
never raises for an HTTP status: it classifies the answer (accepted / retry / rejected)."""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from .jsvalue import stringify, to_utf8
from .text import truncate


@dataclass(frozen=True)
class Accepted:
    kind: str = "accepted"


@dataclass(frozen=True)
class Retry:
    """Transient (network, 408, 425, 429, 5xx): send the same batch again, no sooner than retry_after_s."""

    message: str
    status: int | None = None
    retry_after_s: float | None = None
    kind: str = "retry"


@dataclass(frozen=True)
class Rejected:
    """Permanent (other 4xx): retrying the same bytes cannot succeed."""

    status: int
    message: str
    details: Any = None
    kind: str = "rejected"


SendResult = Accepted | Retry | Rejected


class Transport(Protocol):
    def send(self, events: Sequence[dict[str, Any]]) -> SendResult: ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` (seconds or an HTTP date) in seconds."""
    if not value:
        return None
    try:
        secs = float(value)
        if secs >= 0:
            return secs
    except ValueError:
        pass
    try:
        at = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, at - (time.time() if now is None else now))


def classify_status(status: int) -> str:
    if 200 <= status < 300:
        return "accepted"
    if status in (408, 425, 429) or status >= 500:
        return "retry"
    return "rejected"


def body_of(events: Sequence[dict[str, Any]]) -> bytes:
    """The request body: the JSON array exactly as JSON.stringify would write it."""
    return to_utf8(stringify(list(events)))


class HttpTransport:
    """POST /v1/events with a Bearer key."""

    def __init__(self, endpoint: str, api_key: str, timeout_s: float = 30.0) -> None:
        self.url = endpoint.rstrip("/") + "/v1/events"
        self.api_key = api_key
        self.timeout_s = timeout_s

    def send(self, events: Sequence[dict[str, Any]]) -> SendResult:
        req = urllib.request.Request(
            self.url,
            data=body_of(events),
            method="POST",
            headers={"content-type": "application/json", "authorization": f"Bearer {self.api_key}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as res:
                res.read()
                return Accepted()
        except urllib.error.HTTPError as err:
            status = err.code
            try:
                text = err.read().decode("utf-8", "replace")
            except OSError:
                text = ""
            retry_after = err.headers.get("retry-after") if err.headers else None
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            return Retry(f"network: {getattr(err, 'reason', err)}")
        kind = classify_status(status)
        if kind == "accepted":
            return Accepted()
        details: Any = text
        try:
            details = json.loads(text)
        except ValueError:
            pass
        message = details.get("message") if isinstance(details, dict) else None
        if not isinstance(message, str):
            message = f"HTTP {status} {truncate(text, max_length=200)}"
        if kind == "retry":
            return Retry(message, status, parse_retry_after(retry_after))
        return Rejected(status, message, details)
