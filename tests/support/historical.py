"""The directory and the settings the summary collectors are built with in tests."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from exporter.core.windows import parse_window
from exporter.pollers.discovery import Directory, Pbx

NOW = datetime(2025, 11, 18, 17, 0, tzinfo=ZoneInfo("UTC")).timestamp()
DIRECTORY = Directory(pbxes=(Pbx("id-a", "acmecorp"), Pbx("id-b", "acmecorp2")))


def summary_kwargs(**overrides: Any) -> dict[str, Any]:
    return {
        "interval": 300.0,
        "windows": [parse_window("1h"), parse_window("today")],
        "time_zone": "America/New_York",
        **overrides,
    }


class Groups:
    """Known groups for the call-leg poller, as its GroupIndex of discovery and the ring group
    summary gives them: (PBX name, extension) -> (group type, name)."""

    def __init__(
        self,
        groups: dict[tuple[str, str], tuple[str, str]],
        listed_until: float | None = math.inf,
    ) -> None:
        self.groups = groups
        self.listed_until = listed_until  # None: the ring group summary never answered

    def __call__(self, pbx: str, extension: str) -> tuple[str, str] | None:
        return self.groups.get((pbx, extension))

    def index(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self.groups

    def known_until(self) -> float | None:
        return self.listed_until
