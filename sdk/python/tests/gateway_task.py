"""Sends one task through a real gateway with the Python SDK (HTTP) and prints, as JSON, the
task id and what was sent: test/python-sdk.int.test.ts checks it lands in ClickHouse with a
chain the TypeScript verifier accepts.

    python3 sdk/python/tests/gateway_task.py <gateway url> <api key> <tenant>
"""

from __future__ import annotations

import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from agenttrail import AgentTrail  # noqa: E402

GH = "ghp_" + "Zx9" * 12


def main(url: str, key: str, tenant: str) -> dict:
    errors: list[str] = []
    trail = AgentTrail(
        endpoint=url,
        api_key=key,
        tenant=tenant,
        agent={"id": "py-agent", "instance": "pod-ü-😀", "framework": "python"},
        batch_size=50,
        max_batch_bytes=16 * 1024,  # the smallest budget: the last action must be fitted to it
        logger=False,
        on_error=lambda e: errors.append(str(e)),
    )
    task = trail.declare_task(
        intent="Triage issues — naïve 日本語 😀",
        declared_by={"kind": "human", "id": "alice@acme.example"},
        scope={"allow": [{"tools": ["github.*", "web.*"], "operations": ["read", "write"]}], "egress": ["api.github.com"]},
        labels={"lang": "python"},
    )
    search = task.wrap_tool("web.search", operation="read", resource=lambda q, **_: f"search:{q}")(
        lambda q, limit=3: [f"hit {i} for {q}" for i in range(limit)]
    )

    @task.wrap_tool("github.issues.get", operation="read", resource=lambda n: f"github:acme/web/issues/{n}")
    def get_issue(n):
        raise LookupError(f"issue {n} not found 😀")

    for i in range(1, 121):
        if i % 20 == 0:
            search(f"query {i} ☃", limit=2)
        elif i % 33 == 0:
            try:
                get_issue(i)
            except LookupError:
                pass
        else:
            task.action(
                tool="github.issues.update",
                operation="write",
                resource=f"github:acme/web/issues/{i % 5}",  # few resources: no fan-out alert
                outcome="ok",
                arguments={
                    "n": i,
                    "big": 2**60,
                    "ratio": i / 7,
                    "nested": {"z": [1, {"y": "ü"}], "a": None, "😀": "astral key", "\uffff": "bmp"},
                    **({"headers": {"authorization": f"token {GH}"}} if i % 25 == 1 else {}),
                    **({"bad": "lone \ud800 surrogate"} if i == 7 else {}),
                },
                output={"excerpt": f"updated {i} — ok"},
            )
    # One action bigger than a request (16 KiB here): fitted (data.adjusted), not lost.
    task.action(tool="github.issues.update", operation="write", outcome="ok", arguments={"blob": "é" * 7000},
                output={"excerpt": "word " * 800})
    task.end(outcome="completed", summary="done ✓")
    trail.close()
    return {"task_id": task.id, "stats": trail.stats(), "errors": errors}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
