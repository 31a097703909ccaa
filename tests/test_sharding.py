"""Sharding: every PBX and every Contact Center tenant belongs to exactly one shard, and three
shards against one simulator export together exactly what one exporter exports alone."""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.app import build_exporter
from exporter.config import load_config_data
from exporter.core.errors import ConfigError
from exporter.core.sharding import Shard, parse_shard, shard_of
from exporter.demo import demo_config_data
from simulator import Simulator
from tests.support.clock import FakeClock
from tests.support.page import PageReader, samples

REPO = Path(__file__).resolve().parents[1]
START = 1_763_485_200.0  # Tuesday 2025-11-18 17:00 UTC: every simulated site has traffic
# The exporter's view of itself differs per replica by design: left out of the comparison.
SELF_PREFIXES = (
    "eightbyeight_up",
    "eightbyeight_collector_",
    "eightbyeight_api_",
    "eightbyeight_exporter_",
)


def test_every_key_has_exactly_one_shard_for_many_sets_and_counts() -> None:
    rng = random.Random(7)
    for _ in range(200):
        total = rng.randint(1, 12)
        keys = {f"pbx:{rng.getrandbits(64):x}" for _ in range(rng.randint(0, 60))}
        owners = {key: [i for i in range(total) if Shard(i, total).owns(key)] for key in keys}
        # Complete and disjoint: one owner each, and the owner is shard_of's answer.
        assert all(len(found) == 1 for found in owners.values())
        assert all(found == [shard_of(key, total)] for key, found in owners.items())


def test_the_assignment_is_stable_and_balanced() -> None:
    # Fixed answers: a change of the hash would move every PBX to another shard on upgrade.
    assert [shard_of(f"pbx:{i}", 3) for i in range(8)] == [
        shard_of(f"pbx:{i}", 3) for i in range(8)
    ]
    assert shard_of("pbx:rXp_ceLVQs6RYjUp1Iqqwa", 3) == 1
    assert shard_of("cc-tenant:acme-sales", 4) == 0
    counts = Counter(shard_of(f"pbx:{i:08d}", 4) for i in range(4000))
    assert all(900 <= n <= 1100 for n in counts.values()), counts
    # An unsharded exporter owns everything, a single-tenant account included.
    assert Shard().owns_pbx("anything") and Shard().owns_tenant(None)


@pytest.mark.parametrize(
    ("shard", "total", "hostname", "expected"),
    [
        ("0", 1, "host", Shard(0, 1)),
        ("2", 3, "host", Shard(2, 3)),
        ("auto", 3, "eightbyeight-exporter-2", Shard(2, 3)),
        ("auto", 5, "8x8-0", Shard(0, 5)),
    ],
)
def test_the_shard_flags(shard: str, total: int, hostname: str, expected: Shard) -> None:
    assert parse_shard(shard, total, hostname) == expected


@pytest.mark.parametrize(
    ("shard", "total", "hostname", "message"),
    [
        (
            "3",
            3,
            "host",
            "--shard: shard 3 does not exist with --total-shards 3 (shards are numbered from 0)",
        ),
        ("0", 0, "host", "--total-shards: must be at least 1, not 0"),
        ("one", 2, "host", "--shard: 'one' is neither a number nor auto"),
        (
            "auto",
            2,
            "exporter",
            "--shard=auto: the hostname 'exporter' does not end with "
            "-<ordinal> (a StatefulSet pod's name does)",
        ),
        (
            "auto",
            2,
            "exporter-2",
            "--shard: shard 2 does not exist with --total-shards 2 (shards are numbered from 0)",
        ),
    ],
)
def test_wrong_shard_flags_are_clear_errors(
    shard: str, total: int, hostname: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_shard(shard, total, hostname)
    assert caught.value.problems == [message]


def test_the_command_line_refuses_a_shard_that_does_not_exist() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "--check-config", "--shard", "3", "--total-shards", "3"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 2
    assert "error: --shard: shard 3 does not exist with --total-shards 3" in result.stderr


def data_samples(config: dict[str, Any], clock: FakeClock, shard: Shard) -> dict[Any, float]:
    # The clock stands still (reports are ready at once): every run sees the same moment.
    exporter = build_exporter(
        load_config_data(config),
        process_metrics=False,
        clock=clock,
        sleep=lambda _seconds: None,
        shard=shard,
    )
    try:
        assert exporter.scheduler.run_once(), [
            (r.name, r.state.last_error) for r in exporter.scheduler.runners if r.state.last_error
        ]
        out = samples(PageReader(exporter.exposition).text())
    finally:
        exporter.close()
    info = [dict(labels) for name, labels in out if name == "eightbyeight_exporter_shard_info"]
    assert info == [{"shard": str(shard.index), "total_shards": str(shard.total)}]
    return {key: value for key, value in out.items() if not key[0].startswith(SELF_PREFIXES)}


@pytest.mark.slow
def test_three_shards_export_together_exactly_what_one_exporter_exports() -> None:
    clock = FakeClock(START)
    tenants = [(f"tenant-{i}", "us") for i in range(6)]
    with Simulator(
        seed=3,
        host="127.0.0.1",
        port=0,
        clock=clock,
        pbxes=9,
        cc_tenants=tenants,
        cc_report_delay_seconds=0,
    ) as sim:
        config = demo_config_data({}, sim)
        alone = data_samples(config, clock, Shard())
        shards = [data_samples(config, clock, Shard(i, 3)) for i in range(3)]
    assert len(alone) > 5000
    # Disjoint: no series is exported by two shards.
    seen: Counter[Any] = Counter(key for shard in shards for key in shard)
    assert [key for key, n in seen.items() if n > 1] == []
    # Complete, with the same values: the union is the unsharded exporter's page.
    union = {key: value for shard in shards for key, value in shard.items()}
    assert set(union) == set(alone)
    assert union == alone
    # Every shard has a share of the PBXes and of the tenants.
    for shard in shards:
        pbxes = {dict(labels)["pbx"] for name, labels in shard if name == "eightbyeight_pbx_info"}
        owned = {
            dict(labels)["tenant"]
            for name, labels in shard
            if name == "eightbyeight_cc_queue_waiting_interactions"
        }
        assert pbxes and owned


def test_a_sharded_exporter_never_asks_for_allpbxes() -> None:
    clock = FakeClock(START)
    with Simulator(seed=3, host="127.0.0.1", port=0, clock=clock, pbxes=4) as sim:
        config = demo_config_data({}, sim)
        config["contact_center"]["enabled"] = False
        data_samples(config, clock, Shard(1, 2))
        asked = [r.query["pbxId"] for r in sim.requests if "pbxId" in r.query]
    assert asked and "allpbxes" not in asked


def test_the_cli_exports_its_shard(tmp_path: Path) -> None:
    with Simulator(seed=3, host="127.0.0.1", port=0, pbxes=3) as sim:
        config = demo_config_data({}, sim)
        config["contact_center"]["enabled"] = False
        path = tmp_path / "config.yaml"
        path.write_text(yaml.safe_dump(config))
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "exporter",
                "--once",
                "--config.file",
                str(path),
                "--shard",
                "1",
                "--total-shards",
                "3",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        )
    assert result.returncode == 0, result.stderr
    assert 'eightbyeight_exporter_shard_info{shard="1",total_shards="3"} 1.0' in result.stdout
