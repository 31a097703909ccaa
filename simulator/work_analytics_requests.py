"""What the Work Analytics endpoints (Customer Data, call-queue metrics) share: their settings,
the 400 a bad query gets, the query parsers, and the vendor's error answers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from . import vendor_errors
from .directory import Account, Pbx
from .metrics import DurationUnit
from .routing import Request, Response

WORK_ANALYTICS_PREFIX = "/analytics/work"
MAX_PAGE_SIZE = 100  # "A value between 1 and 100 is supported." (Customer Data spec)


class BadRequest(Exception):
    """A query the vendor would refuse with 400 ErrorResponse."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


@dataclass(frozen=True, slots=True)
class WorkAnalyticsSettings:
    """Credentials and the vendor-conflict choices of the Work Analytics endpoints."""

    api_key: str
    username: str
    password: str
    page_size_default: int
    cq_duration_unit: DurationUnit
    # The Customer Data spec disagrees with itself on these two names; the schema wins by default.
    agents_list_key: str = "queueList"  # AgentsResponsePage schema; its example says "agentList"
    queue_extension_key: str = "extensionNumber"  # CallQueue schema; its examples say "extension"
    # The Call Queue Metric API spec says "diverted", a guide "divertedCalls".
    diverted_metric_name: str = "diverted"
    # QueueMetrics.extension is a string in the schema and a number in the spec's example.
    cq_extension_type: str = "string"
    # /agent-activity: `{"agentActivity": [...], "summary"}` (schema) or the spec example's
    # `{"queuesAgentActivity": [{..., "agentActivity", "metricsSummary"}]}` ("example").
    agent_activity_shape: str = "schema"

    def metric_aliases(self) -> dict[str, str]:
        """Served metric name -> the simulator's (spec) name, for names that are renamed."""
        return (
            {}
            if self.diverted_metric_name == "diverted"
            else {self.diverted_metric_name: "diverted"}
        )


def id_list(value: str | None) -> set[str] | None:
    if value is None:
        return None
    ids = {part.strip() for part in value.split(",") if part.strip()}
    return ids or None


def name_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names: list[str] = []
    for part in value.split(","):
        name = part.strip()
        if name and name not in names:
            names.append(name)
    return names or None


def boolean(name: str, value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise BadRequest(f"Invalid value [{value}] for parameter [{name}]: expected true or false.")


class WorkAnalyticsEndpoints:
    """A family of Work Analytics handlers: the account they read and their error answers."""

    def __init__(
        self, *, account: Account, clock: Callable[[], float], settings: WorkAnalyticsSettings
    ) -> None:
        self.account = account
        self.clock = clock
        self.settings = settings

    def error(self, request: Request, status: int, *messages: str) -> Response:
        return vendor_errors.error_response(status, list(messages), request.path, self.clock())

    def pbx(self, match: re.Match[str]) -> Pbx | None:
        return self.account.pbx(unquote(match["pbx_id"]))

    def forbidden(self, request: Request, pbx_id: str) -> Response:
        return self.error(
            request,
            403,
            f"user [{self.settings.username}] does not have access to pbxId [{pbx_id}] to make this request.",
        )
