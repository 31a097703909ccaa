"""The Helm chart in helm/eightbyeight-exporter, tested without a helm binary or a cluster.

What Python can check, it checks on the real files: the chart's YAML parses, its values schema
is a valid draft-07 schema that accepts the defaults and every ci/ values file (merged the way
Helm merges values files) and rejects typical mistakes at the right path; the templates are
balanced, guarded by the right flags, probe the exporter's endpoints, keep credentials in the
Secret; values.yaml's defaults are the locked-down ones the README promises.

The last tests render and `lint --strict` the chart for real with every ci/ values file, with
Helm's own engine (`helm-python-sdk`, in the test extras: missing, they fail rather than
skip). The chart's files (rules template, dashboards) are checked in test_helm_chart_files.py,
the protected mode in test_helm_chart_protected.py.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tests.support.helm_chart import (
    CHART,
    CI_DIR,
    CI_VALUES,
    REPO,
    TEMPLATES,
    by_kind,
    helm_merge,
    helm_sdk,
    load_yaml,
    render,
    schema,
    values,
)

PREFIX = "eightbyeight-exporter"

# An action of Go's text/template: {{ ... }}, {{- ... -}}; comments are {{/* ... */}}.
ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.DOTALL)
BLOCK_OPENERS = {"if", "range", "with", "define", "block"}
# The objects of values.schema.json deliberately left open: the exporter's own config
# sections, which the exporter validates itself (the schema only bans literal secrets there).
OPEN_SCHEMA_OBJECTS = {"config.work_analytics", "config.contact_center"}
CREDENTIAL_VARIABLES = (
    "EIGHTBYEIGHT_API_KEY",
    "EIGHTBYEIGHT_USERNAME",
    "EIGHTBYEIGHT_PASSWORD",
    "EIGHTBYEIGHT_CC_CLIENT_ID",
    "EIGHTBYEIGHT_CC_CLIENT_SECRET",
)


# --- helpers -----------------------------------------------------------------------------


def schema_errors(data: Any) -> list[tuple[tuple[Any, ...], str]]:
    """(path, validator) of every schema error, path as a tuple of keys and indexes."""
    validator = Draft7Validator(schema())
    return sorted(
        ((tuple(e.absolute_path), e.validator) for e in validator.iter_errors(data)), key=repr
    )


def template(name: str) -> str:
    """The source of one file of templates/."""
    return (TEMPLATES / name).read_text(encoding="utf-8")


def actions(text: str) -> Iterator[str]:
    """The text inside each {{ }} action, trimmed, comments left out."""
    for match in ACTION.finditer(text):
        body = match.group(2).strip()
        if not body.startswith("/*"):
            yield body


def keyword(body: str) -> str:
    """The first word of an action: `if`, `end`, `define`, ... (empty for an empty action)."""
    return body.split(None, 1)[0] if body else ""


def value_paths(data: dict[str, Any], node: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted paths of the documented values: the leaves of the objects the schema closes
    (Kubernetes objects and `config` count as one value each)."""
    paths = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        sub = node.get("properties", {}).get(key, {})
        closed = sub.get("additionalProperties") is False and "properties" in sub
        if isinstance(value, dict) and value and closed and path != "config":
            paths.extend(value_paths(value, sub, path + "."))
        else:
            paths.append(path)
    return paths


def exporter_version() -> str:
    """__version__ of exporter/__init__.py, read as text: the single source of the version."""
    text = (REPO / "exporter" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert match, "exporter/__init__.py has no __version__"
    return match.group(1)


# --- files parse ---------------------------------------------------------------------------


def test_chart_yaml_describes_an_application_chart_of_the_exporters_version() -> None:
    """appVersion is the default image tag: it must follow the exporter's version."""
    chart = load_yaml(CHART / "Chart.yaml")
    assert chart["apiVersion"] == "v2"
    assert chart["name"] == PREFIX
    assert chart["type"] == "application"
    assert re.fullmatch(r"\d+\.\d+\.\d+", chart["version"])
    assert chart["appVersion"] == exporter_version()
    assert chart["kubeVersion"].startswith(">=1.23")
    assert {"prometheus", "exporter", "8x8"} <= set(chart["keywords"])
    assert chart["home"].startswith("https://") and chart["sources"]
    assert all(m.get("name") for m in chart["maintainers"])


@pytest.mark.parametrize("path", [CHART / "values.yaml", *CI_VALUES], ids=lambda p: p.name)
def test_values_files_parse_as_yaml_mappings(path: Path) -> None:
    """Helm refuses a values file that is not a mapping (an empty file is an empty one)."""
    assert isinstance(load_yaml(path) or {}, dict)


def test_the_ci_cases_are_all_there() -> None:
    """chart-testing lints and installs one release per ci/*-values.yaml: each mode once."""
    names = {path.name for path in CI_VALUES}
    assert {
        "default-values.yaml",
        "demo-values.yaml",
        "existing-secret-values.yaml",
        "sharded-values.yaml",
        "networkpolicy-values.yaml",
        "protected-values.yaml",
    } <= names


def test_the_values_schema_is_a_valid_draft7_schema() -> None:
    """Helm validates values with it: an invalid schema would break every install."""
    data = schema()
    assert data["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(data)


def test_the_schema_closes_every_object_it_defines() -> None:
    """additionalProperties: false everywhere turns a misspelt key into an install error
    instead of a silently ignored setting."""
    open_objects = []

    def walk(node: dict[str, Any], path: str) -> None:
        assert node.get("description") or path == "", f"{path}: no description"
        if "properties" in node and node.get("additionalProperties") is not False:
            open_objects.append(path)
        for key, sub in node.get("properties", {}).items():
            walk(sub, f"{path}.{key}" if path else key)
        if isinstance(node.get("items"), dict):
            walk({"description": "item", **node["items"]}, path + "[]")

    walk(schema(), "")
    assert set(open_objects) == OPEN_SCHEMA_OBJECTS


# --- values against the schema ---------------------------------------------------------------


def test_values_yaml_validates_against_the_schema() -> None:
    """The defaults must install as they are."""
    assert schema_errors(values()) == []


@pytest.mark.parametrize("path", CI_VALUES, ids=lambda p: p.name)
def test_each_ci_values_file_merged_over_the_defaults_validates(path: Path) -> None:
    """What `helm install -f ci/<case>` validates: the file merged over values.yaml."""
    override = load_yaml(path) or {}
    merged = helm_merge(values(), override)
    assert schema_errors(merged) == []
    if path.name != "default-values.yaml":
        assert merged != values(), f"{path.name} changes nothing"


def test_helm_merge_merges_maps_and_replaces_everything_else() -> None:
    """The merge the tests above rely on behaves like Helm's."""
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": {"f": 1}}
    override = {"a": {"c": [3], "g": 2}, "d": {"x": 1}, "e": None}
    assert helm_merge(base, override) == {"a": {"b": 1, "c": [3], "g": 2}, "d": {"x": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 1, "e": {"f": 1}}, "base not modified"


WRONG_VALUES: list[tuple[str, dict[str, Any], tuple[Any, ...], str]] = [
    ("unknown top-level key", {"replicaCount": 2}, (), "additionalProperties"),
    ("replicas at the top", {"replicas": 2}, (), "additionalProperties"),
    (
        "replicas under sharding",
        {"sharding": {"replicas": 3}},
        ("sharding",),
        "additionalProperties",
    ),
    ("zero shards", {"sharding": {"shards": 0}}, ("sharding", "shards"), "minimum"),
    ("shards as a string", {"sharding": {"shards": "3"}}, ("sharding", "shards"), "type"),
    ("fractional shards", {"sharding": {"shards": 2.5}}, ("sharding", "shards"), "type"),
    ("pull policy", {"image": {"pullPolicy": "Sometimes"}}, ("image", "pullPolicy"), "enum"),
    ("image digest", {"image": {"digest": "latest"}}, ("image", "digest"), "pattern"),
    (
        "scrape interval",
        {"serviceMonitor": {"interval": "soon"}},
        ("serviceMonitor", "interval"),
        "pattern",
    ),
    (
        "scrape timeout",
        {"serviceMonitor": {"scrapeTimeout": "10 s"}},
        ("serviceMonitor", "scrapeTimeout"),
        "pattern",
    ),
    (
        "enabled as a string",
        {"serviceMonitor": {"enabled": "true"}},
        ("serviceMonitor", "enabled"),
        "type",
    ),
    (
        "misspelt flag",
        {"prometheusRule": {"enable": True}},
        ("prometheusRule",),
        "additionalProperties",
    ),
    (
        "password as a number",
        {"credentials": {"password": 12345}},
        ("credentials", "password"),
        "type",
    ),
    (
        "api key as a number",
        {"credentials": {"apiKey": 1234567890}},
        ("credentials", "apiKey"),
        "type",
    ),
    (
        "unknown credential",
        {"credentials": {"token": "x"}},
        ("credentials",),
        "additionalProperties",
    ),
    (
        "secret name as a number",
        {"existingSecret": {"name": 42}},
        ("existingSecret", "name"),
        "type",
    ),
    (
        "literal password in the ConfigMap",
        {"config": {"work_analytics": {"password": "x1"}}},
        ("config", "work_analytics", "password"),
        "pattern",
    ),
    (
        "literal CC secret in the ConfigMap",
        {"config": {"contact_center": {"client_secret": "s3cret"}}},
        ("config", "contact_center", "client_secret"),
        "pattern",
    ),
    (
        "misspelt config section",
        {"config": {"workanalytics": {}}},
        ("config",),
        "additionalProperties",
    ),
    ("log level", {"log": {"level": "verbose"}}, ("log", "level"), "enum"),
    ("log format", {"log": {"format": "text"}}, ("log", "format"), "enum"),
    ("demo as a string", {"demo": "yes"}, ("demo",), "type"),
    ("service port", {"service": {"port": 70000}}, ("service", "port"), "maximum"),
    (
        "probe path",
        {"livenessProbe": {"path": "/metrics"}},
        ("livenessProbe",),
        "additionalProperties",
    ),
    (
        "memory limit",
        {"resources": {"limits": {"memory": "lots"}}},
        ("resources", "limits", "memory"),
        "pattern",
    ),
    ("env without a name", {"extraEnv": [{"value": "x"}]}, ("extraEnv", 0), "required"),
    ("extra arg as a number", {"extraArgs": [1]}, ("extraArgs", 0), "type"),
    (
        "https CIDR",
        {"networkPolicy": {"egress": {"httpsCIDRs": ["8x8.com"]}}},
        ("networkPolicy", "egress", "httpsCIDRs", 0),
        "pattern",
    ),
    (
        "dashboard label",
        {"dashboards": {"label": "grafana dashboard"}},
        ("dashboards", "label"),
        "pattern",
    ),
    ("pod annotation as a number", {"podAnnotations": {"a": 1}}, ("podAnnotations", "a"), "type"),
    ("probe type", {"probes": {"type": "exec"}}, ("probes", "type"), "enum"),
    ("probe scheme in lower case", {"probes": {"scheme": "https"}}, ("probes", "scheme"), "enum"),
    (
        "scrape scheme in upper case",
        {"serviceMonitor": {"scheme": "HTTPS"}},
        ("serviceMonitor", "scheme"),
        "enum",
    ),
    (
        "scrape password in the values",
        {"serviceMonitor": {"basicAuth": {"password": "x"}}},
        ("serviceMonitor", "basicAuth"),
        "additionalProperties",
    ),
    (
        "web config Secret name",
        {"webConfig": {"existingSecret": "Web Config"}},
        ("webConfig", "existingSecret"),
        "pattern",
    ),
    (
        "unknown alert section",
        {"prometheusRule": {"alerts": {"longest_waits": {}}}},
        ("prometheusRule", "alerts"),
        "additionalProperties",
    ),
    (
        "alert for: not a duration",
        {"prometheusRule": {"alerts": {"longest_wait": {"for": "soon"}}}},
        ("prometheusRule", "alerts", "longest_wait", "for"),
        "pattern",
    ),
    (
        "abandon ratio as a percentage",
        {"prometheusRule": {"alerts": {"abandon_ratio": {"threshold": 10}}}},
        ("prometheusRule", "alerts", "abandon_ratio", "threshold"),
        "maximum",
    ),
    (
        "a setting the chart cannot change",
        {"prometheusRule": {"alerts": {"service_level": {"denominator": "offered"}}}},
        ("prometheusRule", "alerts", "service_level"),
        "additionalProperties",
    ),
]


@pytest.mark.parametrize(
    "override,path,validator",
    [case[1:] for case in WRONG_VALUES],
    ids=[case[0] for case in WRONG_VALUES],
)
def test_a_wrong_value_is_rejected_at_its_path(
    override: dict[str, Any], path: tuple[Any, ...], validator: str
) -> None:
    """Each case holds one mistake, so exactly that mistake must be reported, where it is."""
    errors = schema_errors(helm_merge(values(), override))
    assert errors == [(path, validator)]


# --- templates, statically ---------------------------------------------------------------


TEMPLATE_FILES = sorted(p for p in TEMPLATES.iterdir() if p.is_file())


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.name)
def test_template_actions_are_balanced(path: Path) -> None:
    """Every {{ has its }}, and if/range/with/define blocks are closed in order."""
    text = path.read_text(encoding="utf-8")
    assert text.count("{{") == text.count("}}")
    assert not re.search(r"\{\{[^}]*\{\{", text), "an action opened inside another"
    stack: list[str] = []
    for body in actions(text):
        word = keyword(body.lstrip("-").strip())
        if word in BLOCK_OPENERS:
            stack.append(word)
        elif word == "end":
            assert stack, f"{path.name}: `end` without a block"
            stack.pop()
        elif word == "else":
            assert stack and stack[-1] in {"if", "range", "with"}, f"{path.name}: stray else"
    assert stack == [], f"{path.name}: unclosed {stack}"


@pytest.mark.parametrize("name", ["_helpers.tpl", "_pod.tpl"])
def test_defines_are_closed_with_a_trimmed_end(name: str) -> None:
    """A `define` must end with `{{- end }}` so no stray newline enters the included text."""
    text = template(name)
    depth_of_define: list[int] = []
    depth = 0
    for match in ACTION.finditer(text):
        body = match.group(2).strip()
        if body.startswith("/*"):
            continue
        word = keyword(body)
        if word in BLOCK_OPENERS:
            if word == "define":
                depth_of_define.append(depth)
            depth += 1
        elif word == "end":
            depth -= 1
            if depth_of_define and depth_of_define[-1] == depth:
                depth_of_define.pop()
                assert match.group(0) == "{{- end }}", f"{name}: {match.group(0)}"
    assert depth == 0 and depth_of_define == []


def test_the_helpers_define_the_conventional_names() -> None:
    """Every template includes these; a missing one fails only at render time."""
    defined = set(re.findall(r'\{\{-? define "([^"]+)" -?\}\}', template("_helpers.tpl")))
    expected = {
        f"{PREFIX}.{name}"
        for name in (
            "name",
            "fullname",
            "chart",
            "labels",
            "selectorLabels",
            "serviceAccountName",
            "secretName",
            "namespace",
        )
    }
    assert expected <= defined


def test_every_included_template_is_defined() -> None:
    """A typo in an include name is only found by rendering: catch it here."""
    defined: set[str] = set()
    used: dict[str, str] = {}
    for path in TEMPLATE_FILES:
        text = path.read_text(encoding="utf-8")
        defined |= set(re.findall(r'define "([^"]+)"', text))
        for name in re.findall(r'(?:include|template) "([^"]+)"', text):
            used[name] = path.name
    assert used and set(used) - defined == set(), used


WORKLOAD_GUARDS = {
    "deployment.yaml": "if not .Values.sharding.enabled",
    "statefulset.yaml": "if .Values.sharding.enabled",
    "servicemonitor.yaml": "if .Values.serviceMonitor.enabled",
    "prometheusrule.yaml": "if .Values.prometheusRule.enabled",
    "dashboards-configmap.yaml": "if .Values.dashboards.enabled",
    "networkpolicy.yaml": "if .Values.networkPolicy.enabled",
    "secret.yaml": "if not .Values.existingSecret.name",
    "serviceaccount.yaml": "if .Values.serviceAccount.create",
}


@pytest.mark.parametrize("name,guard", WORKLOAD_GUARDS.items())
def test_optional_templates_are_guarded_as_a_whole(name: str, guard: str) -> None:
    """The guard is the first action and its `end` the last: nothing renders around it."""
    bodies = [body.lstrip("-").strip() for body in actions(template(name))]
    assert bodies[0] == guard
    depth = 0
    for index, body in enumerate(bodies):
        word = keyword(body)
        depth += word in BLOCK_OPENERS
        depth -= word == "end"
        if depth == 0:
            assert index == len(bodies) - 1, f"{name}: the guard closes before the end"
            break


@pytest.mark.parametrize(
    "flag", ["serviceMonitor", "prometheusRule", "dashboards", "networkPolicy", "sharding"]
)
def test_the_optional_features_default_to_off(flag: str) -> None:
    """A plain install needs no CRDs and runs one pod."""
    assert values()[flag]["enabled"] is False


def test_both_workloads_share_the_pod_template() -> None:
    """One pod spec for the Deployment and the StatefulSet: they cannot drift apart."""
    for name in ("deployment.yaml", "statefulset.yaml"):
        assert f'include "{PREFIX}.podTemplate"' in template(name), name
    assert re.search(r"^\s*replicas: 1$", template("deployment.yaml"), re.MULTILINE)
    assert "--shard" not in template("deployment.yaml")


def test_the_statefulset_runs_one_shard_per_pod() -> None:
    """--shard=auto takes the shard from the pod's ordinal; replicas and --total-shards must
    be the same number, and the StatefulSet needs its headless Service."""
    text = template("statefulset.yaml")
    assert '"--shard=auto"' in text
    assert re.search(r'"--total-shards=%d" \(int \.Values\.sharding\.shards\)', text)
    assert "replicas: {{ .Values.sharding.shards }}" in text
    assert f'serviceName: {{{{ include "{PREFIX}.headlessServiceName" . }}}}' in text
    assert "podManagementPolicy: Parallel" in text
    service = template("service.yaml")
    headless = service[service.index("{{- if .Values.sharding.enabled }}") :]
    assert "clusterIP: None" in headless and f"{PREFIX}.headlessServiceName" in headless


def test_the_servicemonitor_selects_only_the_non_headless_service() -> None:
    """Both Services select the same pods: matching both would scrape each shard twice."""
    selector = "eightbyeight-exporter/service: metrics"
    assert selector in template("servicemonitor.yaml")
    service = template("service.yaml")
    main, headless = service.split("---", 1)
    assert selector in main and selector not in headless
    assert "eightbyeight-exporter/service: headless" in headless


def test_the_servicemonitor_sets_the_job_the_rules_select() -> None:
    """mixin/rules.yml and the dashboards select job="eightbyeight"; the operator's default
    job is the Service's name, so the chart must set it."""
    mixin = load_yaml(REPO / "mixin" / "config.yaml")
    assert mixin["selector"] == f'job="{values()["serviceMonitor"]["job"]}"'
    text = template("servicemonitor.yaml")
    assert re.search(r"targetLabel: job\s*\n\s*replacement: \{\{ \. \| quote \}\}", text)


def test_the_pod_probes_the_exporters_endpoints() -> None:
    """Liveness and startup on /-/healthy (503 when a collector is stuck), readiness on
    /-/ready (200 once every collector ran once): the paths are not values, they are fixed;
    `probes` only chooses a GET (HTTP or HTTPS) or a TCP connect."""
    text = template("_pod.tpl")
    for probe, path in (
        ("startupProbe", "/-/healthy"),
        ("livenessProbe", "/-/healthy"),
        ("readinessProbe", "/-/ready"),
    ):
        assert re.search(
            rf"{probe}:\s*\n\s*\{{\{{- include \"{PREFIX}\.probeCheck\" "
            rf'\(dict "probes" \$values\.probes "path" "{re.escape(path)}"\)',
            text,
        ), probe
    check = define_body(text, f"{PREFIX}.probeCheck")
    assert re.search(r"tcpSocket:\s*\n\s*port: http", check)
    assert re.search(
        r"httpGet:\s*\n\s*path: \{\{ \.path \}\}\s*\n\s*port: http\s*\n"
        r"\s*scheme: \{\{ \.probes\.scheme \}\}",
        check,
    )
    assert "containerPort: 9878" in text
    assert "--web.listen-address=:9878" in text
    assert "--config.file=/etc/eightbyeight-exporter/config.yaml" in text
    assert "mountPath: /etc/eightbyeight-exporter" in text
    assert re.search(r"\{\{- if \$values\.demo \}\}\s*\n\s*- --demo\s*\n", text)


def test_the_pod_is_locked_down() -> None:
    """The pod and container security contexts come from values whose defaults are the
    restricted profile; /tmp is the only writable path."""
    text = template("_pod.tpl")
    assert re.search(
        r"^  securityContext:\s*\n\s*\{\{- toYaml \$values\.podSecurityContext", text, re.MULTILINE
    )
    assert re.search(
        r"^      securityContext:\s*\n\s*\{\{- toYaml \$values\.securityContext", text, re.MULTILINE
    )
    assert re.search(r"- name: tmp\s*\n\s*mountPath: /tmp", text)
    assert "emptyDir" in text
    assert "automountServiceAccountToken: {{ $values.serviceAccount" in text
    assert "automountServiceAccountToken: false" in template("serviceaccount.yaml")


def test_the_security_defaults() -> None:
    """The defaults the README promises: non-root 10001, read-only root, nothing extra."""
    data = values()
    pod = data["podSecurityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001
    assert isinstance(pod["fsGroup"], int)
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    container = data["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["runAsNonRoot"] is True
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert container["seccompProfile"] == {"type": "RuntimeDefault"}
    assert data["serviceAccount"]["automountServiceAccountToken"] is False
    assert data["resources"] == {
        "requests": {"cpu": "50m", "memory": "128Mi"},
        "limits": {"memory": "256Mi"},
    }
    assert data["demo"] is False


def test_config_and_secret_changes_roll_the_pods() -> None:
    """Without the checksums a `helm upgrade` with a new config would leave the pods on the
    old file."""
    text = template("_pod.tpl")
    assert re.search(
        r'checksum/config: \{\{ include \(print \$root\.Template\.BasePath '
        r'"/configmap\.yaml"\) \$root \| sha256sum \}\}',
        text,
    )
    assert re.search(
        r'checksum/secret: \{\{ include \(print \$root\.Template\.BasePath '
        r'"/secret\.yaml"\) \$root \| sha256sum \}\}',
        text,
    )


# --- the chart against the exporter it runs ----------------------------------------------


def chart_args(overrides: dict[str, Any]) -> list[str]:
    """The container's args as the templates build them, for these values: the literal flags of
    _pod.tpl with `{{ $values.x.y }}` filled in, `--demo` when on, the StatefulSet's flags."""
    data = helm_merge(values(), overrides)

    def fill(match: re.Match[str]) -> str:
        node: Any = data
        for key in match.group(1).split("."):
            node = node[key]
        return str(node)

    args = []
    for line in template("_pod.tpl").splitlines():
        flag = re.fullmatch(r"\s+- (--[^\"]+?)\s*", line)
        if flag:
            args.append(re.sub(r"\{\{ \$values\.([\w.]+) \}\}", fill, flag.group(1)))
    if not data["demo"]:
        args.remove("--demo")
    if not data["webConfig"]["existingSecret"]:
        args = [a for a in args if not a.startswith("--web.config.file=")]
    if data["sharding"]["enabled"]:
        statefulset = template("statefulset.yaml")
        args.extend(re.findall(r'"(--shard=[^"]+)"', statefulset))
        total = re.search(r'"(--total-shards=)%d"', statefulset)
        assert total
        args.append(f"{total.group(1)}{data['sharding']['shards']}")
    return [*args, *data["extraArgs"]]


@pytest.mark.parametrize("path", CI_VALUES, ids=lambda p: p.name)
def test_the_exporter_accepts_the_charts_flags(path: Path) -> None:
    """A flag the exporter does not know would crash-loop the pod: parse them with its own
    parser, for every ci case."""
    from exporter.config.command_line import build_parser

    overrides = load_yaml(path) or {}
    data = helm_merge(values(), overrides)
    args = chart_args(overrides)
    assert args[:4] == [
        "--config.file=/etc/eightbyeight-exporter/config.yaml",
        "--web.listen-address=:9878",
        f"--log.level={data['log']['level']}",
        f"--log.format={data['log']['format']}",
    ]
    parsed = build_parser().parse_args(args)
    assert parsed.listen_address == ":9878"
    assert parsed.demo is data["demo"]
    assert (parsed.log_level, parsed.log_format) == (data["log"]["level"], data["log"]["format"])
    if data["sharding"]["enabled"]:
        assert (parsed.shard, parsed.total_shards) == ("auto", data["sharding"]["shards"])


def test_every_shard_pod_finds_its_ordinal() -> None:
    """--shard=auto reads the trailing ordinal of the hostname, which is the pod's name:
    <StatefulSet name>-N must give shard N, for every N below the number of shards."""
    from exporter.core.sharding import parse_shard

    shards = 3
    for ordinal in range(shards):
        shard = parse_shard("auto", shards, f"eightbyeight-exporter-8x8-{ordinal}")
        assert (shard.index, shard.total) == (ordinal, shards)


def test_the_log_enums_are_the_exporters() -> None:
    """The schema offers the levels and formats the exporter's flags accept: one it does not
    would crash-loop the pod, and one it lacks could not be chosen from values."""
    from exporter.core.logs import LOG_FORMATS, LOG_LEVELS

    log = schema()["properties"]["log"]["properties"]
    assert log["level"]["enum"] == list(LOG_LEVELS)
    assert sorted(log["format"]["enum"]) == sorted(LOG_FORMATS)


@pytest.mark.parametrize("path", [CHART / "values.yaml", *CI_VALUES], ids=lambda p: p.name)
def test_the_exporter_accepts_the_charts_config(path: Path) -> None:
    """`config` is rendered as is into config.yaml: the exporter's own validation must pass
    with the credentials the Secret provides (stand-ins here)."""
    from exporter.config import load_config_data

    overrides = {} if path.name == "values.yaml" else load_yaml(path) or {}
    config = helm_merge(values(), overrides)["config"]
    env = dict.fromkeys(CREDENTIAL_VARIABLES, "stand-in")
    load_config_data(copy.deepcopy(config), env=env)


# --- credentials -----------------------------------------------------------------------------


def define_body(text: str, name: str) -> str:
    """The text of the `define` block `name`, up to its matching `end`."""
    start, depth = -1, 0
    for match in ACTION.finditer(text):
        body = match.group(2).strip()
        if body.startswith("/*"):
            continue
        if start < 0:
            if body == f'define "{name}"':
                start, depth = match.end(), 1
            continue
        depth += keyword(body) in BLOCK_OPENERS
        depth -= keyword(body) == "end"
        if depth == 0:
            return text[start : match.start()]
    raise AssertionError(f"no closed define {name!r}")


def test_credentials_reach_the_pod_only_through_secret_key_refs() -> None:
    """Every credential variable is set with valueFrom.secretKeyRef, never with a value."""
    helpers = template("_helpers.tpl")
    mapping = define_body(helpers, f"{PREFIX}.credentialVariables")
    for variable in CREDENTIAL_VARIABLES:
        assert variable in mapping
    env = define_body(template("_pod.tpl"), f"{PREFIX}.credentialEnv")
    assert env.count("- name: {{ $variable }}") == 2
    assert env.count("valueFrom:\n    secretKeyRef:") == 2
    assert not re.search(r"^\s*value:", env, re.MULTILINE)
    for path in TEMPLATE_FILES:
        assert not re.search(r"name: EIGHTBYEIGHT_\w+\s*\n\s*value:", path.read_text()), path


def test_credential_values_are_read_only_by_the_secret_and_the_env() -> None:
    """`.Values.credentials` may be written into the Secret only; the pod template looks at
    it to know which variables to set, NOTES only to warn when there are none."""
    readers = {
        path.name
        for path in TEMPLATE_FILES
        if any(
            re.search(r"(\.Values|\$values)\.credentials", body)
            for body in actions(path.read_text())
        )
    }
    assert readers <= {"secret.yaml", "_pod.tpl", "NOTES.txt"} and "secret.yaml" in readers
    for body in actions(template("NOTES.txt")):
        if ".credentials" in body:
            assert re.match(r"-?\s*(else )?if ", body), body
    secret = template("secret.yaml")
    assert "kind: Secret" in secret and "stringData:" in secret


def test_the_configmap_holds_the_config_and_nothing_secret() -> None:
    """A ConfigMap is readable by anyone who may read the namespace's configuration: it
    carries `values.config` and no credential, and the default config names none."""
    text = template("configmap.yaml")
    assert "toYaml (.Values.config" in text
    for forbidden in ("credentials", "existingSecret", *CREDENTIAL_VARIABLES):
        assert forbidden not in text, forbidden
    config = values()["config"]
    for section, key in (
        ("work_analytics", "api_key"),
        ("work_analytics", "password"),
        ("contact_center", "client_secret"),
    ):
        assert re.fullmatch(r"(\$\{\w+\})?", str(config.get(section, {}).get(key, "")))


# --- documentation -----------------------------------------------------------------------------


def test_the_readme_documents_every_value_and_what_is_not_tested() -> None:
    """The values table must follow values.yaml; the README must not claim tests it lacks."""
    readme = (CHART / "README.md").read_text(encoding="utf-8")
    missing = [p for p in value_paths(values(), schema()) if f"| `{p}` |" not in readme]
    assert missing == []
    assert "helm install 8x8 ./helm/eightbyeight-exporter -f my-values.yaml" in readme
    not_tested = readme[readme.index("**Not tested") :]
    for item in ("helm lint", "helm template", "installing the chart"):
        assert item in not_tested, item


def test_values_yaml_comments_every_value() -> None:
    """Every top-level key, and every key of the objects the chart defines, has a comment:
    above it, on its line, or as the first line of its block. (Kubernetes objects and the
    exporter's own `config` example are documented as a whole.)"""
    lines = (CHART / "values.yaml").read_text(encoding="utf-8").splitlines()
    properties = schema()["properties"]
    undocumented = []
    check_children = False
    for index, line in enumerate(lines):
        match = re.match(r"^( {0,2})([A-Za-z][\w.-]*):", line)
        if not match:
            continue
        if not match.group(1):
            node = properties[match.group(2)]
            check_children = (
                node.get("additionalProperties") is False
                and "properties" in node
                and match.group(2) != "config"
            )
        elif not check_children:
            continue
        above = lines[index - 1].strip() if index else ""
        below = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if not ("#" in line or above.startswith("#") or below.startswith("#")):
            undocumented.append(line)
    assert undocumented == []


# --- rendered and linted with Helm's own engine ----------------------------------------------


@pytest.mark.parametrize("path", CI_VALUES, ids=lambda p: p.name)
def test_helm_renders_each_ci_case(path: Path) -> None:
    """Exactly one workload, valid Service names, and the expected optional objects."""
    overrides = load_yaml(path) or {}
    documents = render(overrides)
    merged = helm_merge(values(), overrides)
    sharded = merged["sharding"]["enabled"]
    assert len(by_kind(documents, "StatefulSet")) == int(sharded)
    assert len(by_kind(documents, "Deployment")) == int(not sharded)
    for service in by_kind(documents, "Service"):
        assert re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", service["metadata"]["name"])
    for kind, flag in (
        ("ServiceMonitor", "serviceMonitor"),
        ("PrometheusRule", "prometheusRule"),
        ("NetworkPolicy", "networkPolicy"),
    ):
        assert len(by_kind(documents, kind)) == int(merged[flag]["enabled"]), kind
    workload = (by_kind(documents, "StatefulSet") or by_kind(documents, "Deployment"))[0]
    container = workload["spec"]["template"]["spec"]["containers"][0]
    assert ("--demo" in container["args"]) == merged["demo"]
    if sharded:
        shards = merged["sharding"]["shards"]
        assert workload["spec"]["replicas"] == shards
        assert container["args"][-2:] == ["--shard=auto", f"--total-shards={shards}"]
    else:
        assert workload["spec"]["replicas"] == 1


def test_helm_renders_the_repositorys_rules_and_dashboards() -> None:
    """With the default alert settings, the rendered PrometheusRule is mixin/rules.yml and the
    dashboards ConfigMaps hold grafana_dashboards/*.json, unchanged."""
    documents = render(load_yaml(CI_DIR / "sharded-values.yaml"))
    (rule,) = by_kind(documents, "PrometheusRule")
    assert rule["spec"] == load_yaml(REPO / "mixin" / "rules.yml")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    shipped = {
        d["metadata"]["name"]: d
        for d in by_kind(documents, "ConfigMap")
        if d["metadata"]["labels"].get("grafana_dashboard") == "1"
    }
    files = sorted((REPO / "grafana_dashboards").glob("*.json"))
    assert len(shipped) == len(files)
    for path in files:
        (configmap,) = [d for d in shipped.values() if path.name in d["data"]]
        assert json.loads(configmap["data"][path.name]) == json.loads(path.read_text())


def test_helm_keeps_credentials_in_the_secret() -> None:
    """Distinct sentinel credentials must appear in the Secret and nowhere else."""
    sentinels = {
        "apiKey": "sentinel-api-key",
        "username": "sentinel-user",
        "password": "sentinel-pass$word",
        "ccClientId": "sentinel-cc-id",
        "ccClientSecret": "sentinel-cc-secret",
    }
    documents = render({"credentials": sentinels})
    (secret,) = by_kind(documents, "Secret")
    assert sorted(secret["stringData"].values()) == sorted(sentinels.values())
    for document in documents:
        if document is not secret:
            assert "sentinel" not in json.dumps(document), document["kind"]
    (deployment,) = by_kind(documents, "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert sorted(e["name"] for e in env) == sorted(CREDENTIAL_VARIABLES)
    assert all(set(e) == {"name", "valueFrom"} for e in env)


def test_helm_enforces_the_schema() -> None:
    """Helm itself applies values.schema.json: a wrong value stops the render with its path."""
    with pytest.raises(helm_sdk().HelmValuesError, match="/sharding/shards"):
        render({"sharding": {"enabled": True, "shards": 0}})


@pytest.mark.parametrize("path", [None, *CI_VALUES], ids=lambda p: p.name if p else "defaults")
def test_helm_lint_strict_finds_nothing_wrong(path: Path | None) -> None:
    """`helm lint --strict` with the defaults and with each ci/ values file: only INFO
    findings (such as the missing icon) are allowed."""
    overrides = load_yaml(path) or {} if path else {}
    report = helm_sdk().lint(str(CHART), overrides, strict=True)
    assert report["total_charts_linted"] == 1
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] > 1] == []
