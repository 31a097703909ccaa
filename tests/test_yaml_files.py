"""The YAML reader of the config and the web config: duplicate keys, alias bombs, nesting and
size are refused with a clear message, in bounded time and memory."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.core.errors import ConfigError, YamlFileError
from exporter.core.yaml_files import MAX_YAML_BYTES, load_yaml_text, read_yaml
from exporter.serving.webconfig.loader import read_web_config
from tests.support.files import FIXTURES, REPO

BOMB = FIXTURES / "config" / "invalid" / "alias_bomb.yaml"


def reason(text: str) -> str:
    with pytest.raises(YamlFileError) as caught:
        load_yaml_text(text)
    assert not caught.value.unreadable
    return caught.value.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\na: 2\n", " at line 2, column 1: duplicate key a"),
        ("a:\n  b: 1\n  c: 2\n  b: 3\n", " at line 4, column 3: duplicate key a.b"),
        ("a:\n  - {k: 1, k: 2}\n", " at line 2, column 12: duplicate key a[0].k"),
        # Two spellings of one key are one key once read.
        ('"a": 1\na: 2\n', " at line 2, column 1: duplicate key a"),
        ("d: &d {x: 1}\ne:\n  <<: *d\n  z: 3\n  z: 4\n", " at line 5, column 3: duplicate key e.z"),
    ],
)
def test_a_key_written_twice_is_an_error_with_its_path(text: str, expected: str) -> None:
    assert reason(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a:\n  on: 1\n",
            " at line 2, column 3: key a.on is read as a boolean (YAML 1.1: on, "
            "off, yes, no, true, false), not a name: quote it",
        ),
        ("null: 1\n", " at line 1, column 1: key null is read as null, not a name: quote it"),
        (
            "a:\n  2024-01-01: x\n",
            " at line 2, column 3: key a.2024-01-01 is read as a date, not a name: quote it",
        ),
        (
            "a: {01: x}\n",
            " at line 1, column 5: key a.01 is read as a number, not a name: quote it",
        ),
    ],
)
def test_a_key_that_yaml_reads_as_no_name_is_an_error_naming_it(text: str, expected: str) -> None:
    """The model reported `on:` as `[1]: Keys should be strings`, `null:` as `None`."""
    assert reason(text) == expected


def test_quoted_keys_of_those_spellings_are_names() -> None:
    assert load_yaml_text('"on": 1\n"2024-01-01": 2\n') == {"on": 1, "2024-01-01": 2}


def test_a_merged_key_may_be_overridden() -> None:
    # YAML's merge key: the mapping's own keys win over the merged ones, by design.
    document = load_yaml_text("d: &d {x: 1, y: 2}\ne:\n  <<: *d\n  x: 3\n")
    assert document == {"d": {"x": 1, "y": 2}, "e": {"x": 3, "y": 2}}


def test_aliases_within_the_limit_are_read() -> None:
    text = "a: &a [1, 2, 3]\nb: [*a, *a]\n"
    assert load_yaml_text(text) == {"a": [1, 2, 3], "b": [[1, 2, 3], [1, 2, 3]]}


def test_an_alias_bomb_is_refused_before_it_is_expanded() -> None:
    assert reason(BOMB.read_text()) == (
        ": more than 100000 values once aliases are expanded (an alias bomb?)"
    )


def test_a_recursive_alias_is_refused() -> None:
    assert reason("a: &a [1, *a]\n") == (
        " at line 1, column 4: an alias refers to a value that contains it"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 70 + "]" * 70,
        "[" * 100_000,  # deeper than PyYAML's recursive composer can go
        # Shallow as written, deep once the aliases are expanded.
        "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 80)),
    ],
)
def test_deep_nesting_is_refused(text: str) -> None:
    assert reason(text).endswith(": nested more than 64 levels deep")


def test_a_file_larger_than_the_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# padding\n" * (MAX_YAML_BYTES // 10 + 1))
    with pytest.raises(YamlFileError) as caught:
        read_yaml(path)
    assert caught.value.unreadable
    assert caught.value.reason == "larger than 1024 KiB"


def test_the_web_config_refuses_duplicate_keys(tmp_path: Path) -> None:
    # Two entries for one user: which password hash did the operator mean?
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  alice: $2y$10$a\n  alice: $2y$10$b\n")
    with pytest.raises(ConfigError) as caught:
        read_web_config(path)
    assert caught.value.problems == [
        f"web config: {path} is not valid YAML at line 3, column 3: duplicate key "
        "basic_auth_users.alice"
    ]


def _limit_memory() -> None:
    # Far above what the check needs (about 60 MB), far below what expanding the bomb takes.
    limit = 1024 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_check_config_refuses_an_alias_bomb_in_bounded_time_and_memory() -> None:
    # Before the limit, this 453-byte file took minutes and gigabytes: the timeout and the
    # memory limit make that a failure here rather than a stuck test run.
    result = subprocess.run(
        [sys.executable, "-m", "exporter", "--check-config", "--config.file", str(BOMB)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [
        f"error: config: {BOMB}: invalid YAML: more than 100000 values once aliases are "
        "expanded (an alias bomb?)"
    ]
