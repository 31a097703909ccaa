"""A malicious 8x8 upstream on loopback: it hands out a token twice per token endpoint (so a
401 survives one renewal), then answers every request with an error that quotes the whole
request back (request line, headers, body), as a careless gateway does: a 401 on data
endpoints, a 400 on a token endpoint. Whatever secret a request carried is in the answer."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

TOKENS_PER_ENDPOINT = 2


class _EchoHandler(BaseHTTPRequestHandler):
    server: _EchoServer

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 65536)).decode("utf-8", "replace")
        echoed = f"{self.requestline}\n{self.headers}\n{body}"
        is_token = "token" in self.path
        with self.server.lock:
            given = self.server.tokens_given.get(self.path, 0)
            if is_token:
                self.server.tokens_given[self.path] = given + 1
        if is_token and given < TOKENS_PER_ENDPOINT:
            status, answer = 200, {"access_token": self.server.token, "expires_in": 1800}
        elif is_token:
            status, answer = 400, {"error": "invalid_grant", "error_description": echoed}
        else:
            status, answer = 401, {"message": echoed}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token: str) -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.token = token
        self.lock = threading.Lock()
        self.tokens_given: dict[str, int] = {}


class EchoUpstream:
    """`with EchoUpstream(token) as upstream:` serves on `upstream.url` until the block ends."""

    def __init__(self, token: str) -> None:
        self._server = _EchoServer(token)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> EchoUpstream:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
