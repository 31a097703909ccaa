"""The floor: the cheapest /metrics there can be in Python. A stdlib HTTP/1.1 server that
answers the very page the exporter served, from memory, plain or gzip-compressed in advance.

    python3 -m benchmarks.floor PAGE_FILE   ->  {"port": N} on stdout; serves until stdin ends
"""

from __future__ import annotations

import gzip
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchmarks.children import serve_baseline
from exporter.metrics.rendering import GZIP_LEVEL

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def make_handler(plain: bytes, compressed: bytes) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive and Content-Length, as the exporter's server does.
        protocol_version = "HTTP/1.1"
        # Headers and body are two writes: with Nagle's algorithm the body would wait for
        # the client's delayed ACK of the headers (40 ms on Linux). The floor does not wait.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            zipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
            body = compressed if zipped else plain
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            if zipped:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main(argv: list[str]) -> int:
    plain = Path(argv[0]).read_bytes()
    # The exporter's own level: the floor sends about as many gzip bytes as the exporter.
    compressed = gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)
    # Threads per connection, like the exporter's ThreadingHTTPServer.
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(plain, compressed))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return serve_baseline(server)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
