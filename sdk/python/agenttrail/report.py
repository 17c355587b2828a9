"""How the SDK tells its caller what it could not deliver (port of sdk/report.ts): one place that
counts, logs and calls ``on_error``, so no refusal and no failed record is ever silent."""

from __future__ import annotations

import logging
import threading
from typing import Callable

COUNTERS = ("accepted", "refused", "unrecorded", "adjusted")

default_logger = logging.getLogger("agenttrail")


class Reporter:
    def __init__(self, on_error: Callable[[Exception], None] | None, logger: logging.Logger | None) -> None:
        self._on_error = on_error
        self._logger = logger
        self._counts = dict.fromkeys(COUNTERS, 0)
        self._lock = threading.Lock()

    def count(self, counter: str, n: int = 1) -> None:
        with self._lock:
            self._counts[counter] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def warn(self, message: str) -> None:
        if self._logger:
            self._logger.warning(message)

    def surface(self, err: Exception, **fields: object) -> None:
        """Log and hand to on_error. A raising callback must not stop delivery, so it is contained."""
        if self._logger:
            self._logger.warning("agenttrail: %s", err, extra={"agenttrail": {"error": type(err).__name__, **fields}})
        if self._on_error:
            try:
                self._on_error(err)
            except Exception as cb_err:  # noqa: BLE001 - the callback is the caller's code
                if self._logger:
                    self._logger.warning("agenttrail: on_error raised: %s", cb_err)
