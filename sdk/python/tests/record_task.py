"""Records one task with the Python SDK over an in-memory transport and prints the events it
sent, as JSON: sdk/python-chain.test.ts stores them as the gateway would (keyed redaction) and
verifies the chain with the TypeScript verifier (schemas/chain.ts).

    python3 sdk/python/tests/record_task.py [actions]
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from helpers import DECLARE, MemoryTransport, trail  # noqa: E402

from agenttrail.jsvalue import stringify, to_utf8  # noqa: E402

GH = "ghp_" + "Zx9" * 12


def record(n: int) -> list[dict]:
    mem = MemoryTransport()
    client = trail(mem, batch_size=100)
    task = client.declare_task(**DECLARE, labels={"lang": "python", "ü": "😀"})
    search = task.wrap_tool("web.search", operation="read", resource=lambda q, **_: f"search:{q}")(
        lambda q, limit=5: [f"result {i} for {q} ☃" for i in range(limit)]
    )
    for i in range(1, n + 1):
        if i % 10 == 0:
            search(f"query {i} 😀", limit=2)
            continue
        task.action(
            tool="github.issues.update",
            operation="write",
            resource=f"github:acme/web/issues/{i}",
            outcome="ok",
            # One call in 50 carries a secret: the chain must hold over the redacted, stored form.
            arguments={"headers": {"authorization": f"token {GH}"}, "n": i} if i % 50 == 5 else {"n": i, "big": 2**60},
            output={"excerpt": f"updated issue {i} — naïve"},
        )
    task.end(outcome="completed", summary="done ✓")
    client.close()
    return mem.accepted()


if __name__ == "__main__":
    events = record(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    sys.stdout.buffer.write(to_utf8(stringify(events)))
