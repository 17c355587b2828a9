"""Sealing one event (port of sdk/seal.ts): repair, validate, fit, then hash the REDACTED form.

The gateway stores the event redacted, so that is what the chain must cover (schemas/chain.ts);
the keyless redactor writes exactly the bytes the gateway's keyed run will store. The event is
sent unredacted so the gateway can fingerprint the secrets it removes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .adjust import fit_action_bytes, well_formed_event, with_adjustments
from .errors import EventValidationError
from .jsvalue import NotJsonError, canonical, json_bytes, normalise, to_utf8
from .redact import redact_event
from .schema import validate_event

CHAIN_EXCLUDED_FIELDS = ("hash", "received_at", "secrets", "entities")
HASH_MEMBER_BYTES = 74
"""``,"hash":"<64 hex>"``: what sealing adds after the size is measured."""


@dataclass(frozen=True)
class Sealed:
    """An event as sent: validated (defaults applied), chained; ``bytes`` is its JSON size."""

    event: dict[str, Any]
    bytes: int

    @property
    def event_id(self) -> str:
        return self.event["event_id"]

    @property
    def seq(self) -> int:
        return self.event["seq"]

    @property
    def hash(self) -> str:
        return self.event["hash"]


def chain_view(event: dict[str, Any]) -> dict[str, Any]:
    view = {k: v for k, v in event.items() if k not in CHAIN_EXCLUDED_FIELDS}
    if "prev_hash" in view and view["prev_hash"] is None:
        del view["prev_hash"]
    return view


def chain_text(event: dict[str, Any]) -> str:
    """The canonical text the hash covers (normalised values; UTF-16 form)."""
    return canonical(chain_view(event))


def event_hash(event: dict[str, Any]) -> str:
    """schemas/chain.ts ``eventHash`` of a normalised event (not redacted here)."""
    return hashlib.sha256(to_utf8(chain_text(event))).hexdigest()


def _validated(value: dict[str, Any]) -> dict[str, Any]:
    out, errors = validate_event(value)
    if out is None:
        raise EventValidationError(errors)
    return out


def without_absent(d: dict[str, Any]) -> dict[str, Any]:
    """None at the top level of the envelope or of ``data`` means absent, as undefined in TypeScript.

    ``prev_hash: None`` is kept: null is what the schema allows there (and the chain ignores).
    """
    out = {k: v for k, v in d.items() if v is not None or k == "prev_hash"}
    if isinstance(out.get("data"), dict):
        out["data"] = {k: v for k, v in out["data"].items() if v is not None}
    return out


def seal_event(raw: dict[str, Any], max_bytes: int | None = None) -> Sealed:
    """Normalise, repair, validate, fit an action to ``max_bytes``, hash. Raises EventValidationError."""
    try:
        value = normalise(without_absent(raw), "(event)")
    except NotJsonError as err:
        path = err.path.removeprefix("(event).")
        raise EventValidationError([{"path": path, "message": err.message}]) from None
    repaired, adjustments = well_formed_event(value)
    if adjustments and isinstance(repaired.get("data"), dict):
        repaired = {**repaired, "data": with_adjustments(repaired["data"], adjustments)}
    event = _validated(repaired)
    size = json_bytes(event)
    if max_bytes is not None and event["type"] == "action" and size + HASH_MEMBER_BYTES > max_bytes:
        fitted = fit_action_bytes(event, max_bytes - HASH_MEMBER_BYTES)
        if fitted is not None:
            event = _validated(fitted)
            size = json_bytes(event)
    sealed = {**event, "hash": event_hash(redact_event(event))}
    return Sealed(sealed, size + HASH_MEMBER_BYTES)
