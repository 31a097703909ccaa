"""The demo's configuration: the user's file (if any) pointed at the embedded simulator, with
faster intervals, Contact Center on, and the settings that make the demo's data speak."""

from __future__ import annotations

from typing import Any

# The demo polls faster than the production defaults so the page visibly moves within a minute.
# Unless the user's file says otherwise: the demo's people are invented (their names are
# shown); queue alerts carry a team (the sales queues to one, the others to support); the VIP
# line promises more than the default 80 % within 20 s.
DEMO_DEFAULTS: dict[str, Any] = {
    "personal_data": True,
    "teams": [{"team": "sales", "queues": "Sales|VIP Line|Partners"}],
    "default_team": "support",
    "service_levels": [{"queues": "VIP Line", "threshold_seconds": 15, "target": 0.9}],
}
DEMO_OVERRIDES: dict[str, Any] = {
    "call_queues": {"interval": "10s"},
    "discovery": {"interval": "5m"},
    "company_summary": {"interval": "30s", "windows": ["15m", "1h", "24h", "today", "this_week"]},
    "ring_groups": {"interval": "30s", "windows": ["15m", "1h", "today"]},
    "ring_group_members": {"enabled": True, "interval": "1m", "windows": ["1h", "today"]},
    "extensions": {"interval": "1m", "windows": ["1h", "today"]},
    "call_records": {"interval": "15s", "lookback": "5m"},
    "call_legs": {"interval": "15s", "lookback": "5m"},
    # Agents one by one too (demo_config_data turns personal_data on: its people are invented).
    "queue_agents": {"interval": "10s", "per_agent": True},
    "agent_activity": {"interval": "15s", "per_agent": True},
    "live_calls": {"interval": "10s"},
}
# Contact Center in the demo: every tenant of the simulator, agents included, and two reports.
DEMO_CONTACT_CENTER: dict[str, Any] = {
    "time_zone": "America/New_York",
    "queues": {"interval": "10s"},
    "groups": {"interval": "15s"},
    "agents": {"enabled": True, "interval": "15s"},
    "report_status": {"initial_backoff": "1s", "max_backoff": "5s"},
    "reports": [
        {
            "name": "queues_today",
            "type": "queue-interactions-summary",
            "group_by": "queue",
            "window": "today",
            "interval": "1m",
        },
        {
            "name": "agents_today",
            "type": "agent-interactions-summary",
            "group_by": "agent",
            "window": "today",
            "interval": "2m",
            "metrics": [
                "accepted",
                "acceptedPercentage",
                "avgHandlingTime",
                "rejected",
                "presented",
                "handlingTime",
            ],
        },
    ],
}
# The demo's simulator starts with this much call history, so `this_week` has data at once.
DEMO_HISTORY_SECONDS = 8 * 86_400


def demo_config_data(data: dict[str, Any], sim: Any) -> dict[str, Any]:
    """The user's config (if any) pointed at the simulator, with the demo's faster intervals."""
    section = dict(data.get("work_analytics") or {})
    for key, value in DEMO_OVERRIDES.items():
        section[key] = {**value, **(section.get(key) or {})}
    for key in ("api_key_file", "password_file"):
        section.pop(key, None)
    for key, value in DEMO_DEFAULTS.items():
        section.setdefault(key, value)
    section.update(
        enabled=True,
        base_url=sim.base_url,
        api_key=sim.api_key,
        username=sim.username,
        password=sim.password,
    )
    cc = {**DEMO_CONTACT_CENTER, "personal_data": True, **(data.get("contact_center") or {})}
    cc.pop("client_secret_file", None)
    cc.update(
        enabled=True,
        region="us",
        base_url=sim.root_url,
        client_id=sim.cc_client_id,
        client_secret=sim.cc_client_secret,
        tenants=[t for t in sim.cc.tenants if sim.cc.region_of(t) == "us"],
    )
    for key in ("token_url", "realtime_url", "historical_url"):
        cc.pop(key, None)
    return {**data, "work_analytics": section, "contact_center": cc}
