"""Reading the gateway's answer to a refused request (port of sdk/refusal.ts): ``results`` names
events by index; a batch is all-or-nothing, so the events it does not name were not stored
either and can be sent again without the named ones."""

from __future__ import annotations

from typing import Any, Sequence

from .text import truncate

_NOT_REFUSED = {"valid", "accepted"}
MAX_DESCRIBED = 5


def _results(details: Any) -> list[dict[str, Any]]:
    results = details.get("results") if isinstance(details, dict) else None
    if not isinstance(results, list):
        return []
    return [
        r
        for r in results
        if isinstance(r, dict)
        and isinstance(r.get("index"), int)
        and not isinstance(r.get("index"), bool)
        and isinstance(r.get("status"), str)
    ]


def refused_indexes(details: Any, batch_length: int) -> list[int]:
    """Indexes (ascending, in range) of the events the gateway refused by name; empty if none."""
    named = {
        r["index"] for r in _results(details) if r["status"] not in _NOT_REFUSED and 0 <= r["index"] < batch_length
    }
    return sorted(named)


def describe_refusal(message: str, details: Any, indexes: Sequence[int], event_ids: Sequence[str]) -> str:
    """The gateway's message plus, per named event, its field errors. Bounded."""
    by_index = {r["index"]: r for r in _results(details)}
    parts = []
    for i, index in enumerate(indexes[:MAX_DESCRIBED]):
        r = by_index.get(index)
        if r is None:
            continue
        errors = "; ".join(
            f"{e.get('path')}: {e.get('message')}" for e in (r.get("errors") or []) if isinstance(e, dict)
        )
        parts.append(f"event {event_ids[i]}: {errors or r['status']}")
    if len(indexes) > MAX_DESCRIBED:
        parts.append(f"and {len(indexes) - MAX_DESCRIBED} more")
    return truncate(f"{message} ({' | '.join(parts)})" if parts else message, max_length=2000)
