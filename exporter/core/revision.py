"""The source revision the exporter was built from, for `eightbyeight_exporter_build_info`."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

# Set by the container image from its REVISION build argument (see the Dockerfile): an
# installed wheel carries no git history to ask.
REVISION_ENV = "EIGHTBYEIGHT_EXPORTER_REVISION"
UNKNOWN = "unknown"
# The directory holding the `exporter` package: a checkout's root when run from one.
SOURCE_ROOT = Path(__file__).resolve().parents[2]
# git answers in milliseconds; the bound is for a hung network file system, not for git.
GIT_TIMEOUT_SECONDS = 5.0


def read_revision(environ: Mapping[str, str], source_root: Path) -> str:
    """The build's revision: the environment's, else the commit of the checkout the package
    runs from, else "unknown". An empty variable counts as unset (a build without the
    argument writes an empty value)."""
    given = environ.get(REVISION_ENV, "").strip()
    if given:
        return given
    git = shutil.which("git")
    # `.git` is a directory in a clone and a file in a worktree; an installed package has
    # neither beside it, and a git repository further up (a virtualenv inside some project)
    # must not lend it its commit.
    if git is None or not (source_root / ".git").exists():
        return UNKNOWN
    try:
        answer = subprocess.run(
            [git, "-C", str(source_root), "rev-parse", "--verify", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN
    commit = answer.stdout.strip()
    return commit if answer.returncode == 0 and commit else UNKNOWN


@functools.cache
def build_revision() -> str:
    """This process's revision, found once: it cannot change while the process runs."""
    return read_revision(os.environ, SOURCE_ROOT)
