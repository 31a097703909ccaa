"""Alertmanager on loopback as a team would run it: the mixin's example configuration (its
routes by team and its inhibit rules as shipped), every receiver pointed at a loopback webhook
that records each notification it is sent, and the daemon itself."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from tests.support.processes import Process, binary, start

EXAMPLE = Path(__file__).resolve().parents[2] / "mixin" / "alertmanager.example.yml"


@dataclass(frozen=True)
class Notification:
    """One webhook notification: a group of alerts, as Alertmanager sent it to `receiver`."""

    receiver: str
    received_at: float  # time.monotonic() at arrival
    status: str  # the group's: "firing" while any of its alerts fires, else "resolved"
    alerts: list[dict[str, Any]]

    def names(self) -> list[tuple[str, str]]:
        """(alertname, status) of each alert of the notification."""
        return [(a["labels"].get("alertname", ""), a["status"]) for a in self.alerts]


class _RecordingHandler(BaseHTTPRequestHandler):
    server: WebhookRecorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.record(
            Notification(
                self.path.strip("/"), time.monotonic(), body.get("status", ""), body["alerts"]
            )
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class WebhookRecorder(ThreadingHTTPServer):
    """A loopback webhook receiver: a POST to `/<receiver>` is that receiver's notification."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        self._lock = threading.Lock()
        self._received: list[Notification] = []
        self._thread = threading.Thread(target=self.serve_forever, name="webhooks", daemon=True)

    def __enter__(self) -> WebhookRecorder:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)

    def url(self, receiver: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{receiver}"

    def record(self, notification: Notification) -> None:
        with self._lock:
            self._received.append(notification)

    def received(self, receiver: str | None = None) -> list[Notification]:
        """Every notification so far, in arrival order; only `receiver`'s when given."""
        with self._lock:
            return [n for n in self._received if receiver in (None, n.receiver)]


def alertmanager_config(
    recorder: WebhookRecorder, group_wait: str = "1s", group_interval: str = "1s"
) -> dict[str, Any]:
    """mixin/alertmanager.example.yml with the top route's group_wait and group_interval
    shortened (its routes inherit them) and each receiver replaced by a webhook to `recorder`
    of the same name, resolved notices included. Routes, matchers and inhibit rules stay."""
    config: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    config["route"].update(group_wait=group_wait, group_interval=group_interval)
    config["receivers"] = [
        {
            "name": receiver["name"],
            "webhook_configs": [{"url": recorder.url(receiver["name"]), "send_resolved": True}],
        }
        for receiver in config["receivers"]
    ]
    return config


def start_alertmanager(directory: Path, port: int, config: dict[str, Any]) -> Process:
    """Debian's Alertmanager on 127.0.0.1:`port` with `config`, alone (no cluster)."""
    (directory / "alertmanager.yml").write_text(yaml.safe_dump(config))
    return start(
        "alertmanager",
        [
            binary("prometheus-alertmanager", "alertmanager"),
            f"--config.file={directory / 'alertmanager.yml'}",
            f"--storage.path={directory / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        directory,
    )
