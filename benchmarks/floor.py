"""The floor: the cheapest /metrics there can be in Python. A stdlib HTTP/1.1 server that
answers the very page the exporter served, from memory, plain or gzip-compressed in advance
(the whole page at once, at the exporter's level: the smallest gzip answer of that level), in
one write of headers and body, as a static file server would.

`/own` answers, whatever the path, the exporter's own gzip answer for that page, when the file
PAGE_FILE with the suffix `.gz` holds it: the floor for the exporter's bytes, not for
smaller ones.

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
from exporter.serving.connections import send_pieces

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
TIMEOUT = 60.0  # seconds to send one answer, the exporter's write timeout


def make_handler(
    plain: bytes, compressed: bytes, own: bytes | None = None
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Keep-alive and Content-Length, as the exporter's server does.
        protocol_version = "HTTP/1.1"
        # A partial sendmsg() is followed by another write: with Nagle's algorithm it could
        # wait for the client's delayed ACK (40 ms on Linux). The floor does not wait.
        disable_nagle_algorithm = True
        _headers_buffer: list[bytes]  # the base class's, undeclared in its stub

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            zipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
            body = compressed if zipped else plain
            if zipped and own is not None and self.path == "/own":
                body = own
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            if zipped:
                self.send_header("Content-Encoding", "gzip")
            # Headers and body in one sendmsg(), without copying the body: the exporter's own
            # send, so the two differ only by what the exporter does besides sending.
            self._headers_buffer.append(b"\r\n")
            head = b"".join(self._headers_buffer)
            self._headers_buffer = []
            send_pieces(self.connection, [head, body], TIMEOUT)

    return Handler


def main(argv: list[str]) -> int:
    page_file = Path(argv[0])
    plain = page_file.read_bytes()
    # The exporter's own level: like for like with the exporter's answer.
    compressed = gzip.compress(plain, compresslevel=GZIP_LEVEL, mtime=0)
    own_file = page_file.with_suffix(".gz")
    own = own_file.read_bytes() if own_file.exists() else None
    # Threads per connection, like the exporter's ThreadingHTTPServer.
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(plain, compressed, own))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return serve_baseline(server)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
