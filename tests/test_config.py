"""Config loading: defaults, interpolation, secrets from files and environment, every bad case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import structlog.testing
from pydantic import SecretStr

from exporter.cli import main
from exporter.config import ConfigError, load_config, load_config_data
from tests.support.files import FIXTURES

INVALID = FIXTURES / "config" / "invalid"
CREDENTIALS = {"api_key": "k", "username": "u", "password": "p"}


def revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


# One fixture file per invalid case, with every message it must produce, in order.
EXPECTED_PROBLEMS: dict[str, list[str]] = {
    "unknown_key.yaml": ["work_analytics.colour: unknown key"],
    # Never released, so no alias: the message names what replaced it.
    "replaced_agent_names.yaml": [
        "work_analytics.agent_names: unknown key (replaced by work_analytics.personal_data, "
        "which covers every name and e-mail address)"
    ],
    "bad_personal_data.yaml": [
        "work_analytics.personal_data: Input should be a valid boolean, unable to interpret input",
        "contact_center.personal_data: Input should be a valid boolean",
    ],
    "bad_duration.yaml": [
        "work_analytics.call_queues.interval: 'soon' is not a duration such as 30s, 5m or 1h"
    ],
    "bad_api.yaml": [
        "work_analytics.call_queues.api: Input should be 'call_queue_metrics' or 'realtime'"
    ],
    "metric_of_other_api.yaml": [
        "work_analytics.call_queues.metrics: unknown for api call_queue_metrics: waitingCalls"
    ],
    "bad_base_url.yaml": [
        "work_analytics.base_url: 'api.8x8.com/analytics/work' is not an http:// or https:// URL"
    ],
    "missing_credentials.yaml": [
        "work_analytics.api_key: required (set api_key, api_key_file or the environment "
        "variable EIGHTBYEIGHT_API_KEY)",
        "work_analytics.password: required (set password, password_file or the environment "
        "variable EIGHTBYEIGHT_PASSWORD)",
    ],
    "secret_file_problems.yaml": [
        "work_analytics.api_key: set either api_key or api_key_file, not both",
        "work_analytics.password_file: cannot read /nonexistent/8x8/password: "
        "No such file or directory",
    ],
    "unset_env_var.yaml": [
        "work_analytics.api_key: environment variable EIGHTBYEIGHT_TEST_UNSET_VARIABLE is not set"
    ],
    "bad_retries.yaml": [
        "work_analytics.retries.max_attempts: Input should be greater than or equal to 1"
    ],
    "bad_types.yaml": [
        "work_analytics.pbxes: Input should be a valid list",
        "work_analytics.discovery.page_size: Input should be less than or equal to 100",
    ],
    "section_not_mapping.yaml": ["work_analytics: must be a mapping"],
    "bad_member_concurrency.yaml": [
        "work_analytics.ring_group_members.concurrency: Input should be less than or equal to 8"
    ],
    "bad_time_zone.yaml": [
        "work_analytics.time_zone: 'Mars/Olympus_Mons' is not an IANA time zone such as UTC or "
        "America/New_York"
    ],
    "bad_windows.yaml": [
        "work_analytics.company_summary.windows: needs at least one window",
        "work_analytics.ring_groups.windows[1]: 'fortnight' is not a window such as 15m, 1h, 24h, "
        "today or this_week",
        "work_analytics.extensions.windows: listed twice: today",
    ],
    "cq_bad_windows.yaml": [
        "work_analytics.call_queues.windows: 7d: rolling windows of the Call Queue Metric API "
        "can be at most 24h; use today, this_week or this_month, or the summaries, for longer "
        "ones; 24h and 1d are the same window"
    ],
    "cq_realtime_windows.yaml": [
        "work_analytics.call_queues.windows: the deprecated realtime API (api: realtime) takes "
        "no date range: windows must be [24h] there, not 1h, today"
    ],
    "cq_windows_live_metrics_only.yaml": [
        "work_analytics.call_queues.windows: windows other than 24h (1h) apply to the aggregate "
        "metrics only, and metrics lists only ongoing* ones"
    ],
    # 5 PBXes x (the live request + 15m, 1h, today) x 2 polls a minute = 40.
    "cq_windows_budget.yaml": [
        "work_analytics: request_budget_per_minute 40 is too small: the enabled collectors need "
        "at least 75 requests a minute (call_queues 40, queue_agents 10, agent_activity 10, "
        "live_calls 10, discovery 1, call_records 1, call_legs 1); raise it to 75 or make the "
        "intervals 1.9 times longer"
    ],
    "bad_pattern.yaml": [
        "work_analytics.ring_groups.select.include[0]: 'Sales(' is not a regular expression: "
        "missing ), unterminated subpattern at position 5"
    ],
    "bad_call_details.yaml": [
        "work_analytics.call_records: lookback (60s) must be at least the interval (300s), or "
        "records between two polls are missed",
        "work_analytics.call_legs.page_size: Input should be less than or equal to 7000",
        "work_analytics.call_legs.wait_buckets: bucket bounds must be positive and strictly "
        "increasing",
    ],
    "cc_missing_credentials.yaml": [
        "contact_center.client_id: required (set client_id or the environment variable "
        "EIGHTBYEIGHT_CC_CLIENT_ID)",
        "contact_center.client_secret: required (set client_secret, client_secret_file or the "
        "environment variable EIGHTBYEIGHT_CC_CLIENT_SECRET)",
        "contact_center.region: Input should be 'us', 'eu', 'au' or 'ca'",
        "contact_center.report_status: max_backoff must not be smaller than initial_backoff",
    ],
    "cc_bad_reports.yaml": [
        "contact_center.queues.metrics: not a metric key such as accepted.today: not a key",
        "contact_center.reports[0]: granularity week is not accepted for a window of this_week; "
        "use one of 15m, 30m, hour, day, none",
        "contact_center.reports[1].name: 'Queues Today' must be lower-case letters, digits and _, "
        "starting with a letter (it names the report in labels and collectors)",
        "contact_center.reports[1].intra_day_time_range: end must be at least 15 minutes after start",
        "contact_center.reports[2]: granularity day is not accepted for a window of 90d; use one "
        "of none, month, year",
    ],
    "cc_report_names.yaml": ["contact_center: reports: names listed twice: queues"],
    "cc_report_tenants.yaml": [
        "contact_center: reports: agents: tenants not in contact_center.tenants: acme-support"
    ],
    "budget_too_small.yaml": [
        "work_analytics: request_budget_per_minute 60 is too small: the enabled collectors need "
        "at least 126 requests a minute (call_queues 60, queue_agents 20, agent_activity 20, "
        "live_calls 20, discovery 2, call_records 1, call_legs 1); raise it to 126 or make the "
        "intervals 2.1 times longer"
    ],
    "cc_report_time_zone.yaml": [
        "contact_center: reports: queues_today: a today window starts at local midnight: set "
        "contact_center.time_zone to the tenant's time zone"
    ],
    "bad_yaml.yaml": [
        f"{INVALID / 'bad_yaml.yaml'}: invalid YAML at line 3, column 12: "
        "mapping values are not allowed here"
    ],
    # Latin-1, not UTF-8: a clear problem, not a traceback from the decoder.
    "not_utf8.yaml": [f"{INVALID / 'not_utf8.yaml'}: cannot read the config file: not UTF-8 text"],
    "top_level_list.yaml": [
        f"{INVALID / 'top_level_list.yaml'}: the top level must be a mapping of sections"
    ],
    # Whatever the spelling, a duration is finite, positive and fits in a timer (a year at
    # most): an interval past threading.TIMEOUT_MAX once killed the poller's thread.
    "unbounded_durations.yaml": [
        "work_analytics.timeouts.read: must be at most 365d",
        "work_analytics.retries.max_retry_after: must be a duration such as 30s, 5m or 1h",
        "work_analytics.discovery.interval: must be a duration such as 30s, 5m or 1h",
        "work_analytics.call_queues.interval: must be a duration such as 30s, 5m or 1h",
        "work_analytics.company_summary.interval: '-5s' is not a duration such as 30s, 5m or 1h",
        "work_analytics.ring_groups.interval: '1e400s' is not a duration such as 30s, 5m or 1h",
        "work_analytics.extensions.interval: must be at most 365d",
    ],
    "not_finite_number.yaml": [
        "work_analytics.request_budget_per_minute: Input should be a finite number"
    ],
    # Sent as it is in the 8x8-apikey header: http.client could not encode it, at every run.
    "api_key_not_ascii.yaml": [
        "work_analytics.api_key: only printable ASCII without spaces can be sent in the "
        "8x8-apikey header (character 1 is not)"
    ],
    # A nested default is read as the shell reads it (this one's variable is unset too); a
    # reference that cannot be read is refused, never left in the value as text.
    "env_references.yaml": [
        "work_analytics.api_key: environment variable EIGHTBYEIGHT_TEST_UNSET_B is not set",
        "work_analytics.username: ${ must name an environment variable, as in ${NAME} or "
        "${NAME:-default} (write $$ for a literal $)",
        "work_analytics.password: ${ without its closing } (write $$ for a literal $)",
    ],
    # PyYAML keeps the last of two equal keys silently: which one did the user mean?
    "duplicate_key.yaml": [
        f"{INVALID / 'duplicate_key.yaml'}: invalid YAML at line 5, column 3: duplicate key "
        "work_analytics.username"
    ],
    # 453 bytes, 9**9 values once expanded: refused before anything walks them.
    "alias_bomb.yaml": [
        f"{INVALID / 'alias_bomb.yaml'}: invalid YAML: more than 100000 values once aliases "
        "are expanded (an alias bomb?)"
    ],
}


def test_every_invalid_fixture_has_expectations() -> None:
    assert sorted(p.name for p in INVALID.glob("*.yaml")) == sorted(EXPECTED_PROBLEMS)


@pytest.mark.parametrize("name", sorted(EXPECTED_PROBLEMS))
def test_invalid_config_reports_every_problem(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(INVALID / name, env={})
    assert info.value.problems == EXPECTED_PROBLEMS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_PROBLEMS))
def test_check_config_exits_2_with_one_line_per_problem(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check-config", "--config.file", str(INVALID / name)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [f"error: config: {p}" for p in EXPECTED_PROBLEMS[name]]
    assert "Traceback" not in err


def test_several_problems_in_several_sections_are_reported_together() -> None:
    data = {
        "work_analytics": {"username": "u", "call_queues": {"interval": -1, "colour": 1}},
        "contact_center": {"base_url": "ftp://x"},
        "extra": True,
    }
    with pytest.raises(ConfigError) as info:
        load_config_data(data, env={})
    problems = info.value.problems
    assert "work_analytics.call_queues.interval: must be greater than zero" in problems
    assert "work_analytics.call_queues.colour: unknown key" in problems
    assert "contact_center.base_url: 'ftp://x' is not an http:// or https:// URL" in problems
    assert "extra: unknown key" in problems
    assert any(p.startswith("work_analytics.api_key: required") for p in problems)
    assert len(problems) == 6


def test_defaults() -> None:
    config = load_config_data({"work_analytics": CREDENTIALS}, env={})
    wa = config.work_analytics
    assert wa.base_url == "https://api.8x8.com/analytics/work"
    assert wa.call_queues.interval == 30
    assert wa.call_queues.api == "call_queue_metrics"
    assert wa.call_queues.duration_unit == "auto"
    assert wa.call_queues.unit_check and wa.call_queues.unit_check_interval == 3600
    assert [w.name for w in wa.call_queues.windows] == ["24h"]
    assert wa.call_queues.requests_per_pbx() == 1  # the API's own 24 h, as before windows
    assert wa.discovery.interval == 600
    assert wa.timeouts.connect == 5 and wa.timeouts.read == 30
    assert wa.retries.max_attempts == 4
    assert wa.pbxes == []
    assert config.contact_center.base_url == "https://api.8x8.com"
    # Names and e-mail addresses are personal data: off unless asked for.
    assert wa.personal_data is False and config.contact_center.personal_data is False


@pytest.mark.parametrize(
    "windows, requests_per_pbx",
    [
        (["24h"], 1),
        (["15m"], 2),  # the live request is made anyway, for the ongoing* metrics
        (["24h", "15m", "1h", "today"], 4),
        (["1d", "1439m", "1m", "this_week", "this_month"], 5),
    ],
)
def test_call_queue_windows_accepted(windows: list[str], requests_per_pbx: int) -> None:
    section = {**CREDENTIALS, "pbxes": ["a", "b"], "call_queues": {"windows": windows}}
    wa = load_config_data({"work_analytics": section}, env={}).work_analytics
    assert [w.name for w in wa.call_queues.windows] == windows
    assert wa.call_queues.requests_per_pbx() == requests_per_pbx
    # Two PBXes, polled twice a minute, and the unit check's realtime request once an hour.
    assert wa.minimum_requests_per_minute()["call_queues"] == 2 * (requests_per_pbx * 2 + 1 / 60)


@pytest.mark.parametrize(
    "call_queues, per_minute",
    [
        ({"unit_check": False}, 2 * 2),
        ({"unit_check_interval": "5m"}, 2 * (2 + 1 / 5)),
        # Never more often than a poll: the check rides on the poll's live answer.
        ({"unit_check_interval": "1s"}, 2 * (2 + 2)),
        # The realtime API itself is polled: nothing to compare with.
        ({"api": "realtime"}, 2 * 2),
    ],
)
def test_unit_check_in_the_request_budget(call_queues: dict[str, Any], per_minute: float) -> None:
    section = {**CREDENTIALS, "pbxes": ["a", "b"], "call_queues": call_queues}
    wa = load_config_data({"work_analytics": section}, env={}).work_analytics
    assert wa.minimum_requests_per_minute()["call_queues"] == pytest.approx(per_minute)


def test_unit_check_interval_must_be_a_duration() -> None:
    section = {**CREDENTIALS, "call_queues": {"unit_check_interval": "hourly"}}
    with pytest.raises(ConfigError) as raised:
        load_config_data({"work_analytics": section}, env={})
    assert "work_analytics.call_queues.unit_check_interval: 'hourly' is not a duration" in str(
        raised.value
    )


def test_duration_unit_choices() -> None:
    section = {**CREDENTIALS, "call_queues": {"duration_unit": "minutes"}}
    with pytest.raises(ConfigError) as raised:
        load_config_data({"work_analytics": section}, env={})
    assert "work_analytics.call_queues.duration_unit" in str(raised.value)
    assert "'auto', 'seconds' or 'milliseconds'" in str(raised.value)


def test_call_queue_windows_with_realtime_may_be_24h() -> None:
    section = {**CREDENTIALS, "call_queues": {"api": "realtime", "windows": ["24h"]}}
    wa = load_config_data({"work_analytics": section}, env={}).work_analytics
    assert wa.call_queues.requests_per_pbx() == 1


def test_credentials_default_to_environment() -> None:
    env = {
        "EIGHTBYEIGHT_API_KEY": "ek",
        "EIGHTBYEIGHT_USERNAME": "eu",
        "EIGHTBYEIGHT_PASSWORD": "ep",
    }
    wa = load_config_data({}, env=env).work_analytics
    assert (revealed(wa.api_key), wa.username, revealed(wa.password)) == (
        "ek",
        "eu",
        "ep",
    )
    # The file wins over the environment.
    wa = load_config_data({"work_analytics": {"username": "file-user"}}, env=env).work_analytics
    assert wa.username == "file-user"


def test_secret_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("key-from-file\n")
    (tmp_path / "pw").write_text("pw-from-file")
    data = {
        "work_analytics": {
            "api_key_file": str(tmp_path / "key"),
            "username": "u",
            "password_file": str(tmp_path / "pw"),
        }
    }
    wa = load_config_data(data, env={}).work_analytics
    assert revealed(wa.api_key) == "key-from-file"
    assert revealed(wa.password) == "pw-from-file"
    # Secrets never show in the model's repr (and so never in a log of it).
    assert "key-from-file" not in repr(wa) and "pw-from-file" not in repr(wa)


def test_an_api_key_from_a_file_or_the_environment_is_checked_too(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("k\x00y\n")
    message = "only printable ASCII without spaces can be sent in the 8x8-apikey header"
    for section, env in (
        ({"api_key_file": str(tmp_path / "key")}, {}),
        ({}, {"EIGHTBYEIGHT_API_KEY": "clé"}),
    ):
        data = {"work_analytics": {"username": "u", "password": "p", **section}}
        with pytest.raises(ConfigError) as caught:
            load_config_data(data, env=env)
        (problem,) = caught.value.problems
        assert problem.startswith(f"work_analytics.api_key: {message} (character ")


@pytest.mark.parametrize(
    ("content", "path", "problem"),
    [
        (b"hunt\xffer2\n", None, "{path} is not UTF-8 text"),
        (b"x" * (64 * 1024 + 1), None, "{path} is over 65536 bytes"),
        (None, 12345, "must be a file path, not int"),
        (None, ["a", "b"], "must be a file path, not list"),
    ],
)
def test_a_secret_file_that_cannot_be_a_secret_is_one_problem_line(
    tmp_path: Path, content: bytes | None, path: Any, problem: str
) -> None:
    """Each was a traceback (exit 1) from `--check-config` and at start; /dev/zero grew the
    process until it ran out of memory."""
    if content is not None:
        (tmp_path / "pw").write_bytes(content)
        path = str(tmp_path / "pw")
    data = {"work_analytics": {"api_key": "k", "username": "u", "password_file": path}}
    with pytest.raises(ConfigError) as info:
        load_config_data(data, env={})
    assert info.value.problems == [
        f"work_analytics.password_file: {problem.format(path=tmp_path / 'pw')}"
    ]
    assert "hunt" not in str(info.value.problems)


def test_a_secret_file_without_end_is_read_no_further_than_the_bound() -> None:
    data = {"work_analytics": {"api_key": "k", "username": "u", "password_file": "/dev/zero"}}
    with pytest.raises(ConfigError) as info:
        load_config_data(data, env={})
    assert info.value.problems == ["work_analytics.password_file: /dev/zero is over 65536 bytes"]


def test_a_secret_file_others_can_read_is_said_not_refused(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2-pw\n")
    data = {"work_analytics": {"api_key": "k", "username": "u", "password_file": str(secret)}}
    said = []
    for mode in (0o644, 0o600):
        secret.chmod(mode)
        with structlog.testing.capture_logs() as logged:
            loaded = load_config_data(data, env={}).work_analytics.password
            assert loaded is not None and loaded.get_secret_value() == "hunter2-pw"
        said.append([e for e in logged if e["event"] == "secret_file_readable_by_others"])
    assert said[1] == []
    [event] = said[0]
    assert event["key"] == "work_analytics.password_file" and event["mode"] == "644"
    assert "hunter2" not in str(event)


def test_empty_secret_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    data = {
        "work_analytics": {"api_key": "k", "username": "u", "password_file": str(tmp_path / "pw")}
    }
    with pytest.raises(ConfigError) as info:
        load_config_data(data, env={})
    assert info.value.problems == [f"work_analytics.password_file: {tmp_path / 'pw'} is empty"]


def test_environment_interpolation() -> None:
    data = {
        "work_analytics": {
            **CREDENTIALS,
            "base_url": "https://${HOST}/analytics/work",
            "pbxes": ["${PBX}", "${OTHER:-fallback}", "cost$$centre"],
        }
    }
    wa = load_config_data(data, env={"HOST": "api.example.test", "PBX": "main"}).work_analytics
    assert wa.base_url == "https://api.example.test/analytics/work"
    assert wa.pbxes == ["main", "fallback", "cost$centre"]


@pytest.mark.parametrize(
    ("text", "expanded"),
    [
        ("${UNSET:-${PBX}}", "main"),
        ("${UNSET:-${ALSO_UNSET:-last}}", "last"),
        ("${PBX:-${UNSET}}", "main"),  # a default not used needs no variable
        ("${UNSET:-pre-${PBX}-post}!", "pre-main-post!"),
        ("${UNSET:-a}b}", "ab}"),
        ("${UNSET:-$$HOME}", "$HOME"),
    ],
)
def test_nested_defaults(text: str, expanded: str) -> None:
    data = {"work_analytics": {**CREDENTIALS, "pbxes": [text]}}
    assert load_config_data(data, env={"PBX": "main"}).work_analytics.pbxes == [expanded]


def test_defaults_nest_eight_deep_at_most() -> None:
    def nested(depth: int) -> str:
        return "${UNSET:-" * depth + "x" + "}" * depth

    data = {"work_analytics": {**CREDENTIALS, "pbxes": [nested(8)]}}
    assert load_config_data(data, env={}).work_analytics.pbxes == ["x"]
    with pytest.raises(ConfigError) as caught:
        load_config_data({"work_analytics": {**CREDENTIALS, "pbxes": [nested(9)]}}, env={})
    assert caught.value.problems == [
        "work_analytics.pbxes[0]: ${...} defaults nested more than 8 deep"
    ]


def test_disabled_work_analytics_needs_no_credentials() -> None:
    config = load_config_data({"work_analytics": {"enabled": False}}, env={})
    assert config.work_analytics.enabled is False


def test_enabled_from_an_environment_variable_still_requires_the_credentials() -> None:
    # `enabled: ${CC_ON}` gives the string "true", which the model reads as True.
    with pytest.raises(ConfigError) as caught:
        load_config_data(
            {"work_analytics": {"enabled": "false"}, "contact_center": {"enabled": "true"}}, env={}
        )
    assert caught.value.problems == [
        "contact_center.client_id: required (set client_id or the environment variable "
        "EIGHTBYEIGHT_CC_CLIENT_ID)",
        "contact_center.client_secret: required (set client_secret, client_secret_file or the "
        "environment variable EIGHTBYEIGHT_CC_CLIENT_SECRET)",
    ]


def test_example_configs_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("EIGHTBYEIGHT_API_KEY", "EIGHTBYEIGHT_USERNAME", "EIGHTBYEIGHT_PASSWORD"):
        monkeypatch.setenv(name, "x")
    config_dir = Path(__file__).resolve().parents[1] / "config"
    files = sorted(config_dir.glob("*.yaml"))
    assert files
    for path in files:
        load_config(path)


def test_valid_config_check_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("work_analytics:\n  api_key: k\n  username: u\n  password: p\n")
    assert main(["--check-config", "--config.file", str(path)]) == 0
    assert "config OK" in capsys.readouterr().err


def test_example_config_states_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # config/example.yaml documents every setting with its default: keep the two in step.
    env = {"EIGHTBYEIGHT_API_KEY": "x", "EIGHTBYEIGHT_USERNAME": "x", "EIGHTBYEIGHT_PASSWORD": "x"}
    example = load_config(Path(__file__).resolve().parents[1] / "config" / "example.yaml", env=env)
    defaults = load_config_data({}, env=env)
    assert example == defaults
