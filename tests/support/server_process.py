"""The exporter's HTTP server alone in a process of its own, for tests that change its limits
(a low `ulimit -n`) or read its CPU time: an empty exposition, no pollers.

    python3 -m tests.support.server_process [--hog-fds-to N]  ->  {"port": P} on stdout,
    then serves until stdin closes.

`--hog-fds-to N` opens /dev/null until N descriptors are left free: accept() then fails with
EMFILE as soon as N connections are open (the connection cap, half the limit, is not reached).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import types

from prometheus_client import CollectorRegistry

from exporter.pollers.base import Scheduler
from exporter.serving.exposition import Exposition
from exporter.serving.server import ExporterServer


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hog-fds-to", type=int, default=None)
    args = parser.parse_args()
    scheduler = Scheduler()
    served = types.SimpleNamespace(
        exposition=Exposition(scheduler, CollectorRegistry()), scheduler=scheduler
    )
    server = ExporterServer(served, "127.0.0.1:0")
    server.start()
    hogged: list[int] = []
    if args.hog_fds_to is not None:
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        open_now = len(os.listdir("/proc/self/fd"))
        for _ in range(max(0, soft - open_now - args.hog_fds_to)):
            hogged.append(os.open(os.devnull, os.O_RDONLY))
    print(json.dumps({"port": server.port, "hogged": len(hogged)}), flush=True)
    sys.stdin.read()  # until the test closes our stdin
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
