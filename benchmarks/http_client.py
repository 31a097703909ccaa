"""Client CPU per request against a loopback server: the exporter's HTTP client as it was
(a default requests session: the environment scanned at every request), with requests' own
adapter (settings read once, urllib3's pool) and as it is (exporter/api/transport.py:
http.client's connections), beside plain requests, urllib3 and http.client.

    python3 -m benchmarks.http_client [--requests 2000] [--rounds 3]

The server runs in a process of its own (HTTP/1.1 keep-alive, a fixed JSON answer of a
summary's shape), so `time.process_time()` here is the client's CPU only. Clients take turns
within each round, best of the rounds: ratios, not absolute times, on a shared machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import requests.adapters
import urllib3

from benchmarks.children import START_TIMEOUT, Child, serve_baseline
from exporter.api.http import HttpClient, HttpSettings
from exporter.api.request_stats import RequestStats
from exporter.api.sessions import POOL_SIZE, api_session

PATH = "/v2/rgsum-members"
QUERY = {"pbxId": "acmecorp", "extId": "2001", "timeZone": "UTC"}
# Two member rows of a ring group, as the summary answers them: about 1 KB.
BODY = json.dumps(
    [
        {
            "pbxId": "acmecorp",
            "site": "West",
            "name": f"Member {n}",
            "extension": str(1000 + n),
            **{f"total{k}": n * 7 for k in ("Inbound", "Answered", "Missed", "Calls", "RgTime")},
            **{f"avg{k}": n * 3 for k in ("AbandonedTime", "RgTime", "RingTime", "TalkTime")},
        }
        for n in (1, 2)
    ]
).encode()


# Status line, headers and body in one write: written in two, delayed ACKs would hold every
# answer ~40 ms (Nagle), and the run would measure that instead.
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.wfile.write(ANSWER)

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return serve_baseline(server)


def clients(base: str) -> dict[str, Callable[[], object]]:
    """One request each, on a connection kept from the warm-up on."""
    settings = HttpSettings(max_attempts=1)
    before = HttpClient("bench", base, settings, RequestStats(), session=requests.Session())
    after = HttpClient("bench", base, settings, RequestStats())
    through_urllib3 = api_session(base)  # the exporter's session with requests' own adapter
    through_urllib3.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=POOL_SIZE))
    pooled = HttpClient("bench", base, settings, RequestStats(), session=through_urllib3)
    plain = requests.Session()
    no_env = requests.Session()
    no_env.trust_env = False
    pool = urllib3.HTTPConnectionPool("127.0.0.1", int(base.rsplit(":", 1)[1]), maxsize=1)
    connection = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]))
    query = "?" + "&".join(f"{k}={v}" for k, v in QUERY.items())

    def raw() -> object:
        connection.request("GET", PATH + query)
        return json.loads(connection.getresponse().read())

    return {
        "exporter client, before (environment read at every request)": lambda: before.request(
            "GET", PATH, PATH, params=QUERY
        ),
        "exporter client, requests' adapter (environment read once, urllib3's pool)": (
            lambda: pooled.request("GET", PATH, PATH, params=QUERY)
        ),
        "exporter client, now (http.client's connections: exporter/api/transport.py)": (
            lambda: after.request("GET", PATH, PATH, params=QUERY)
        ),
        "requests, default session": lambda: plain.get(base + PATH, params=QUERY).json(),
        "requests, trust_env off": lambda: no_env.get(base + PATH, params=QUERY).json(),
        "urllib3 pool": lambda: json.loads(pool.request("GET", PATH + query).data),
        "http.client": raw,
    }


def cpu_per_request(call: Callable[[], object], count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m benchmarks.http_client")
    parser.add_argument("--requests", type=int, default=2000, help="requests per client and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve()
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        with Child("server", "benchmarks.http_client", ["--serve"], Path(tmp)) as server:
            base = f"http://127.0.0.1:{server.read(START_TIMEOUT)['port']}"
            calls = clients(base)
            for call in calls.values():  # warm-up: every connection opened
                call()
            best = {name: float("inf") for name in calls}
            for _ in range(args.rounds):
                for name, call in calls.items():
                    best[name] = min(best[name], cpu_per_request(call, args.requests))
    floor = best["http.client"]
    before = best["exporter client, before (environment read at every request)"]
    print("| client | CPU per request | ÷ http.client | ÷ exporter before |")
    print("|---|---|---|---|")
    for name, seconds in best.items():
        print(
            f"| {name} | {seconds * 1e6:.0f} µs | {seconds / floor:.2f} | {seconds / before:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
