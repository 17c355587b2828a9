#!/usr/bin/env python3
"""Run the ClickHouse engine shipped in libchdb.so as a local HTTP server.

usage: clickhouse-launch.py LIBCHDB_SO DATA_DIR HTTP_PORT

libchdb exports `query_stable_v2(argc, argv)`, which runs `clickhouse local` with a
command line. `SYSTEM START LISTEN HTTP` opens the same HTTP interface the server has;
a never-ending query (id `agenttrail-keepalive`) keeps the process and the listener up.

The query blocks in native code, so Python's signal handlers would never run on the
main thread: the query runs on a worker thread and the main thread waits for SIGTERM/
SIGINT. On a signal it kills the keepalive query over HTTP, so `clickhouse local`
returns and shuts its context down normally (flushing logs and parts), then exits 0.
"""

import ctypes
import signal
import sys
import threading
import urllib.request

KEEPALIVE_ID = "agenttrail-keepalive"
# ClickHouse code expects deep native stacks; Python's thread default may be smaller.
threading.stack_size(64 * 1024 * 1024)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    lib_path, data_dir, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

    lib = ctypes.CDLL(lib_path, mode=ctypes.RTLD_GLOBAL)
    lib.query_stable_v2.restype = ctypes.c_void_p
    args = [
        b"clickhouse",
        f"--path={data_dir}".encode(),
        f"--http_port={port}".encode(),
        b"--listen_host=127.0.0.1",
        f"--query_id={KEEPALIVE_ID}".encode(),
        b"--query=SYSTEM START LISTEN HTTP; "
        b"SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size=1 FORMAT Null",
    ]
    argv = (ctypes.c_char_p * len(args))(*args)

    done = threading.Event()

    def run() -> None:
        lib.query_stable_v2(len(args), argv)
        done.set()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    worker = threading.Thread(target=run, name="clickhouse", daemon=True)
    worker.start()

    # Wake up periodically so signal handlers run and an engine that died on its own
    # (bad port, corrupt data dir) ends the launcher too.
    while not stop.is_set() and not done.is_set():
        stop.wait(0.5)

    if done.is_set():
        print("clickhouse-launch: engine exited on its own", file=sys.stderr, flush=True)
        return 1

    try:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            data=f"KILL QUERY WHERE query_id = '{KEEPALIVE_ID}' SYNC".encode(),
            method="POST",
        )
        urllib.request.urlopen(req, timeout=5).read()
    except Exception as err:  # noqa: BLE001 - best effort; fall through to the deadline
        print(f"clickhouse-launch: KILL QUERY failed: {err}", file=sys.stderr, flush=True)

    if not done.wait(15):
        print("clickhouse-launch: engine did not stop in 15s", file=sys.stderr, flush=True)
        return 1
    # The engine reports the cancelled keepalive query above; that is the normal way out.
    print("clickhouse-launch: stopped cleanly", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
