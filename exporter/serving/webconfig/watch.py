"""The web config in force: re-read when the file, or a TLS file it names, changes."""

from __future__ import annotations

import os
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

from exporter.core.errors import ConfigError
from exporter.core.logs import get_logger
from exporter.serving.webconfig.auth import Authenticator
from exporter.serving.webconfig.loader import WebConfig, read_web_config
from exporter.serving.webconfig.model import PREFIX
from exporter.serving.webconfig.rate_limit import RateLimiter
from exporter.serving.webconfig.tls import ssl_context

log = get_logger(__name__)


@dataclass(frozen=True)
class WebState:
    """One consistent snapshot for a connection or request: config, TLS context, auth."""

    config: WebConfig
    ssl_context: ssl.SSLContext | None
    authenticator: Authenticator | None
    rate_limiter: RateLimiter | None


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


class WebConfigWatcher:
    """The web config in force, re-read when the file or a TLS file it names changes.

    The toolkit re-reads the file on every request; here every request and every new TLS
    connection costs a few stat() calls instead, and only a change (mtime, size or inode: an
    editor's rename or a Kubernetes secret's symlink swap) reads and validates again. An invalid
    new file is logged once (`web_config_reload_failed`) and the previous config stays in force,
    so a half-written file never opens or closes the door. TLS cannot be switched on or off
    without a restart: the listening socket speaks one or the other.
    """

    def __init__(self, path: Path) -> None:
        """Loads the file now: ConfigError lists every problem, so a bad file fails the start."""
        self.path = Path(path)
        self._lock = threading.Lock()
        # (files to stat on each request, their stats when last loaded). Set at every load,
        # failed ones too, from the files the loaded config names: a reload that failed on a
        # certificate not there yet is tried again when it appears.
        self._watch: tuple[tuple[Path, ...], _Signature] = ((), ())
        state = self._load(previous=None)
        self._state = state
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
            except ConfigError as exc:
                log.error("web_config_reload_failed", path=str(self.path), problems=exc.problems)
                return state
            except Exception:  # a request thread must survive whatever the file holds
                log.exception("web_config_reload_failed", path=str(self.path))
                return state
            self._state = new_state
            log.info(
                "web_config_reloaded",
                path=str(self.path),
                basic_auth_users=len(new_state.config.basic_auth_users),
            )
            return new_state

    def _load(self, previous: WebState | None) -> WebState:
        # Each stat is taken before its file is read: a change after that point is seen as a
        # change on the next request.
        file_stat = _stat(self.path)
        self._watch = ((self.path,), ((str(self.path), file_stat),))
        config = read_web_config(self.path)
        files = config.files()
        self._watch = ((self.path, *files), ((str(self.path), file_stat), *_signature(files)))
        context = ssl_context(config)
        if previous is not None and (context is None) != (previous.ssl_context is None):
            was = "on" if previous.ssl_context is not None else "off"
            raise ConfigError(
                [
                    f"{PREFIX} tls_server_config: TLS was {was} when the exporter "
                    "started; switching it needs a restart"
                ]
            )
        for key in config.ignored:
            log.warning("web_config_option_ignored", path=str(self.path), key=key)
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
        return WebState(config, context, authenticator, limiter)
