"""Exponential backoff with full jitter (port of sdk/backoff.ts)."""

from __future__ import annotations

import random as _random
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RetryOptions:
    base_delay_s: float = 0.2
    """First delay ceiling; doubles per attempt."""
    max_delay_s: float = 30.0
    max_attempts: int = 8
    """Attempts per flush round before the error is surfaced (events stay buffered)."""


MAX_RETRY_AFTER_S = 300.0
"""Longest Retry-After honoured; a server asking for more is treated as asking for this."""


def retry_delay_s(
    attempt: int,
    opts: RetryOptions,
    retry_after_s: float | None = None,
    random: Callable[[], float] = _random.random,
) -> float:
    """Uniform in [0, min(max, base*2^attempt)], so agents that failed together do not retry together.

    A server's Retry-After is a floor.
    """
    ceiling = min(opts.max_delay_s, opts.base_delay_s * 2**attempt)
    if retry_after_s is None:
        return random() * ceiling
    return min(MAX_RETRY_AFTER_S, retry_after_s) + random() * opts.base_delay_s
