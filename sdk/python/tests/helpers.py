"""Test helpers: an in-memory transport answering from a script, a fake gateway over real HTTP."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

from agenttrail import Accepted, AgentTrail, SendResult

AGENT = {"id": "agent-7", "instance": "pod-1"}
DECLARE = {
    "intent": "Triage open issues in acme/web and label them",
    "scope": {"allow": [{"tools": ["github.*"], "operations": ["read", "write"]}]},
    "declared_by": {"kind": "human", "id": "alice@acme.example"},
}


class MemoryTransport:
    """Records batches; answers from ``script`` (results or callables), then Accepted."""

    def __init__(self, script: list[SendResult | Callable[[], SendResult]] | None = None) -> None:
        self.script = list(script or [])
        self.batches: list[list[dict[str, Any]]] = []
        self.results: list[SendResult] = []
        self.lock = threading.Lock()

    def send(self, events: Any) -> SendResult:
        with self.lock:
            nxt = self.script.pop(0) if self.script else Accepted()
        result = nxt() if callable(nxt) else nxt
        with self.lock:
            self.batches.append(list(events))
            self.results.append(result)
        return result

    def accepted(self) -> list[dict[str, Any]]:
        return [e for b, r in zip(self.batches, self.results) if isinstance(r, Accepted) for e in b]


def trail(transport: Any, **opts: Any) -> AgentTrail:
    opts.setdefault("logger", False)
    opts.setdefault("flush_interval_s", 60.0)
    return AgentTrail(tenant="acme", agent=AGENT, transport=transport, **opts)


def action(i: int = 0, **more: Any) -> dict[str, Any]:
    return {"tool": "erp.invoices.get", "operation": "read", "outcome": "ok", "arguments": {"i": i}, **more}


class FakeGateway:
    """127.0.0.1 HTTP server answering as the gateway does: 413 over its body limit, else
    ``answer(events) -> (status, body, headers)`` (default 202)."""

    def __init__(self, max_body_bytes: int = 5 * 1024 * 1024, answer: Callable[..., Any] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.stored: list[dict[str, Any]] = []
        gw = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                req = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw}
                if len(raw) > max_body_bytes:
                    status, body, headers = 413, {"code": "AT_ERR_BODY_TOO_LARGE", "message": "too large"}, {}
                else:
                    events = json.loads(raw.decode("utf-8"))
                    status, body, headers = answer(events) if answer else (202, {"accepted": len(events)}, {})
                    if status == 202:
                        gw.stored.extend(events)
                req["status"] = status
                gw.requests.append(req)
                data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
