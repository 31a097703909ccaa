"""The web config in force: re-read when the file, or a TLS file it names, changes."""

from __future__ import annotations

import os
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exporter.core.errors import ConfigError
from exporter.core.logs import get_logger
from exporter.serving.webconfig.auth import Authenticator
from exporter.serving.webconfig.auth_failures import AuthFailureLog
from exporter.serving.webconfig.certificates import CertificateValidity
from exporter.serving.webconfig.loader import WebConfig, read_web_config
from exporter.serving.webconfig.metrics import LoadStatus, WebConfigCollector
from exporter.serving.webconfig.model import PREFIX
from exporter.serving.webconfig.protection import lowered_protection
from exporter.serving.webconfig.rate_limit import RateLimiter
from exporter.serving.webconfig.tls import server_tls

log = get_logger(__name__)


@dataclass(frozen=True)
class WebState:
    """One consistent snapshot for a connection or request: config, TLS context, auth."""

    config: WebConfig
    ssl_context: ssl.SSLContext | None
    authenticator: Authenticator | None
    rate_limiter: RateLimiter | None
    certificate: CertificateValidity | None = None


# (path, its stat, None when it could not be stat'ed) for each file watched.
_Signature = tuple[tuple[str, tuple[int, ...] | None], ...]


def _stat(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_dev)


def _signature(paths: tuple[Path, ...]) -> _Signature:
    return tuple((str(p), _stat(p)) for p in paths)


# A file that keeps changing while it is read at start-up (a writer that never finishes) is
# read this many times before the start fails; on a reload the next request reads it again.
_START_READS = 5


class _ChangedWhileRead(Exception):
    """The file (or a TLS file it names) changed between the stat before and after a read."""


class WebConfigWatcher:
    """The web config in force, re-read when the file or a TLS file it names changes.

    The toolkit re-reads the file on every request; here every request and every new TLS
    connection costs a few stat() calls instead, and only a change (mtime, size or inode: an
    editor's rename or a Kubernetes secret's symlink swap) reads and validates again.

    It fails closed. A new file that is invalid, empty or turns nothing on, or that would lower
    the protection in force (protection.py), is logged once (`web_config_reload_failed`),
    `eightbyeight_web_config_last_reload_successful` drops to 0, and the previous config stays
    in force. A file that changes while it is read (a writer half-way through) is not used at
    all: it is read again at the next request. TLS cannot be switched on or off without a
    restart: the listening socket speaks one or the other.
    """

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        """Loads the file now: ConfigError lists every problem, so a bad file fails the start.

        `clock` paces the warnings of failed logins, `wall_clock` is what a certificate's
        validity and the load timestamps are compared with.
        """
        self.path = Path(path)
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        # (files to stat on each request, their stats when last loaded). Set at every load,
        # failed ones too, from the files the loaded config names: a reload that failed on a
        # certificate not there yet is tried again when it appears.
        self._watch: tuple[tuple[Path, ...], _Signature] = ((), ())
        self.auth_failures = AuthFailureLog(clock=clock)
        state = self._first_load()
        self._state = state
        self._status = LoadStatus(True, wall_clock(), state.certificate)
        self.collector = WebConfigCollector(lambda: self._status, self.auth_failures)
        tls = state.config.tls
        log.info(
            "web_config_loaded",
            path=str(self.path),
            tls=tls is not None,
            client_auth_type=tls.client_auth_type if tls else None,
            basic_auth_users=len(state.config.basic_auth_users),
            headers=sorted(state.config.http.headers),
        )

    @property
    def tls(self) -> bool:
        """Whether the server speaks TLS: fixed for the life of the process."""
        return self._state.ssl_context is not None

    def current(self) -> WebState:
        """The state to use now, after re-reading the file if it changed; never raises."""
        paths, seen = self._watch
        if _signature(paths) == seen:
            return self._state
        with self._lock:
            paths, seen = self._watch
            if _signature(paths) == seen:
                return self._state
            state = self._state
            try:
                new_state = self._load(previous=state)
            except _ChangedWhileRead:
                log.info("web_config_changed_while_read", path=str(self.path))
                return state
            except ConfigError as exc:
                self._failed()
                log.error("web_config_reload_failed", path=str(self.path), problems=exc.problems)
                return state
            except Exception:  # a request thread must survive whatever the file holds
                self._failed()
                log.exception("web_config_reload_failed", path=str(self.path))
                return state
            self._state = new_state
            self._status = LoadStatus(True, self._wall_clock(), new_state.certificate)
            log.info(
                "web_config_reloaded",
                path=str(self.path),
                basic_auth_users=len(new_state.config.basic_auth_users),
            )
            return new_state

    def _failed(self) -> None:
        status = self._status
        self._status = LoadStatus(False, status.success_timestamp, status.certificate)

    def _first_load(self) -> WebState:
        for _ in range(_START_READS - 1):
            try:
                return self._load(previous=None)
            except _ChangedWhileRead:
                continue
        try:
            return self._load(previous=None)
        except _ChangedWhileRead:
            raise ConfigError(
                [f"{PREFIX}: {self.path} kept changing while it was read ({_START_READS} times)"]
            ) from None

    def _load(self, previous: WebState | None) -> WebState:
        # Each stat is taken before its file is read: a change after that point is seen as a
        # change on the next request. The stat after the read tells whether a writer was
        # still at work: what was read may be any prefix of what it is writing.
        file_stat = _stat(self.path)
        self._watch = ((self.path,), ((str(self.path), file_stat),))
        config = read_web_config(self.path)
        if _stat(self.path) != file_stat:
            raise _ChangedWhileRead
        files = config.files()
        before = _signature(files)
        self._watch = ((self.path, *files), ((str(self.path), file_stat), *before))
        loaded = server_tls(config)
        if _signature(files) != before:
            raise _ChangedWhileRead  # a certificate and its key replaced one after the other
        context, certificate = loaded if loaded is not None else (None, None)
        if previous is not None:
            problems = lowered_protection(previous.config, config)
            if problems:
                raise ConfigError(problems)
        for key in config.ignored:
            log.warning("web_config_option_ignored", path=str(self.path), key=key)
        if certificate is not None:
            certificate.warn_if_outside(self._wall_clock())
        users = config.basic_auth_users
        if previous is not None and previous.config.basic_auth_users == users:
            authenticator = previous.authenticator  # same users: keep the warm cache
        else:
            authenticator = Authenticator(users) if users else None
        if previous is not None and previous.config.rate_limit == config.rate_limit:
            limiter = previous.rate_limiter
        elif config.rate_limit is not None:
            limiter = RateLimiter(config.rate_limit.interval, config.rate_limit.burst)
        else:
            limiter = None
        return WebState(config, context, authenticator, limiter, certificate)
