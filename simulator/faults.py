"""Fault injection: make matching requests slow, fail with a status, return broken JSON, or break
the connection itself (no answer, a reset, a cut, oversized or trickling answer)."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FaultBody = dict[str, Any] | list[Any] | str | None


@dataclass(slots=True, eq=False)
class FaultRule:
    """One rule. `times_remaining` None means: until cleared."""

    id: int
    path_regex: str
    pattern: re.Pattern[str]
    status: int | None
    times_remaining: int | None
    delay: float
    body: FaultBody
    headers: dict[str, str] = field(default_factory=dict)
    malformed: bool = False
    with_param: str | None = None  # only requests carrying this query parameter
    # Transport faults (at most one, see FaultInjector.add); the server carries them out.
    refuse: bool = False
    reset: bool = False
    empty: bool = False
    truncate: bool = False
    oversize_bytes: int | None = None
    trickle_bytes_per_second: float | None = None
    hits: int = 0
    # Oversize and trickle answers the client closed the connection on before their last byte
    # (written in many pieces, the server notices): how a test sees a client give up.
    hung_up: int = 0

    @property
    def drop(self) -> Literal["refuse", "reset"] | None:
        """How the connection ends without an answer ("refuse" or "reset"), else None."""
        return "refuse" if self.refuse else "reset" if self.reset else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path_regex": self.path_regex,
            "status": self.status,
            "times": self.times_remaining,
            "delay": self.delay,
            "body": self.body,
            "headers": self.headers,
            "malformed": self.malformed,
            "with_param": self.with_param,
            "refuse": self.refuse,
            "reset": self.reset,
            "empty": self.empty,
            "truncate": self.truncate,
            "oversize_bytes": self.oversize_bytes,
            "trickle_bytes_per_second": self.trickle_bytes_per_second,
            "hits": self.hits,
            "hung_up": self.hung_up,
        }


class FaultInjector:
    """Thread-safe list of fault rules, first match wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(
        self,
        path_regex: str,
        status: int | None = None,
        times: int | None = 1,
        delay: float = 0.0,
        body: FaultBody = None,
        headers: dict[str, str] | None = None,
        malformed: bool = False,
        with_param: str | None = None,
        *,
        refuse: bool = False,
        reset: bool = False,
        empty: bool = False,
        truncate: bool = False,
        oversize_bytes: int | None = None,
        trickle_bytes_per_second: float | None = None,
    ) -> FaultRule:
        """Fault the next `times` requests whose path (no query) matches `path_regex` (re.search)
        and, with `with_param`, whose query has that parameter (`scrollId`: a later page).

        Each gets an optional `delay` (seconds, real time), then either `status` with `body`
        (dict/list -> JSON, str -> raw) and `headers`, or with `malformed` a 200 (or `status`)
        whose body is the real answer cut short: invalid JSON.

        At most one transport fault, what the client sees on the wire:
        `refuse` the connection is closed without a byte of answer (FIN; a connection error);
        `reset` it is aborted with a TCP RST (SO_LINGER 0); `empty` a 200 (or `status`) with
        Content-Length 0; `truncate` the headers announce the whole body, half of it is sent,
        then the connection is closed; `oversize_bytes` the answer is padded with JSON
        whitespace to at least that many bytes (still valid JSON, streamed, never built in
        memory); `trickle_bytes_per_second` the answer is written in small chunks at that rate
        (each pause well under a second, so only a limit on the total time notices).
        `truncate`, `oversize_bytes` and `trickle_bytes_per_second` apply to the real answer,
        or to `status` with `body` when given.
        """
        pattern = re.compile(path_regex)  # raises re.error on a bad pattern
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status!r}")
        if times is not None and int(times) < 1:
            raise ValueError("times must be >= 1, or None for until cleared")
        if float(delay) < 0:
            raise ValueError("delay must be >= 0")
        flags = {
            "malformed": malformed,
            "refuse": refuse,
            "reset": reset,
            "empty": empty,
            "truncate": truncate,
        }
        for name, value in flags.items():
            if name != "malformed" and not isinstance(value, bool):  # malformed: as it always was
                raise TypeError(f"{name} must be true or false, got {value!r}")
        if oversize_bytes is not None:
            if (
                isinstance(oversize_bytes, bool)
                or int(oversize_bytes) != oversize_bytes
                or int(oversize_bytes) < 1
            ):
                raise ValueError(
                    f"oversize_bytes must be a whole number >= 1, got {oversize_bytes!r}"
                )
            oversize_bytes = int(oversize_bytes)
        if trickle_bytes_per_second is not None:
            rate = float(trickle_bytes_per_second)
            if isinstance(trickle_bytes_per_second, bool) or not (math.isfinite(rate) and rate > 0):
                raise ValueError(
                    f"trickle_bytes_per_second must be a number > 0, "
                    f"got {trickle_bytes_per_second!r}"
                )
            trickle_bytes_per_second = rate
        kinds = [name for name, value in flags.items() if value]
        kinds += [
            name
            for name, value in (
                ("oversize_bytes", oversize_bytes),
                ("trickle_bytes_per_second", trickle_bytes_per_second),
            )
            if value is not None
        ]
        if len(kinds) > 1:
            raise ValueError(
                f"at most one of malformed, refuse, reset, empty, truncate, "
                f"oversize_bytes, trickle_bytes_per_second; got {', '.join(kinds)}"
            )
        if status is None and not kinds and float(delay) == 0:
            raise ValueError("a fault needs a status, a delay, malformed=True or a transport fault")
        if body is not None and status is None:
            raise ValueError("a fault body needs a status")
        if (refuse or reset) and (status is not None or headers):
            raise ValueError("refuse and reset send no answer: no status, body or headers")
        if body is not None and (malformed or empty):
            raise ValueError("malformed and empty make their own body: no body")
        with self._lock:
            rule = FaultRule(
                id=self._next_id,
                path_regex=path_regex,
                pattern=pattern,
                status=None if status is None else int(status),
                times_remaining=None if times is None else int(times),
                delay=float(delay),
                body=body,
                headers={str(k): str(v) for k, v in (headers or {}).items()},
                malformed=bool(malformed),
                with_param=None if with_param is None else str(with_param),
                refuse=refuse,
                reset=reset,
                empty=empty,
                truncate=truncate,
                oversize_bytes=oversize_bytes,
                trickle_bytes_per_second=trickle_bytes_per_second,
            )
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def clear(self) -> int:
        with self._lock:
            count = len(self._rules)
            self._rules.clear()
            return count

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            for index, rule in enumerate(self._rules):
                if rule.id == rule_id:
                    del self._rules[index]
                    return True
            return False

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def record_hang_up(self, rule: FaultRule) -> None:
        """The client hung up on `rule`'s answer before its last byte (called by the server)."""
        with self._lock:
            rule.hung_up += 1

    def take(self, path: str, query: Mapping[str, str] | None = None) -> FaultRule | None:
        """The first rule matching `path` (and `query`), with one use consumed (exhausted rules
        go away)."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.pattern.search(path):
                    continue
                if rule.with_param is not None and rule.with_param not in (query or {}):
                    continue
                rule.hits += 1
                if rule.times_remaining is not None:
                    rule.times_remaining -= 1
                    if rule.times_remaining <= 0:
                        del self._rules[index]
                return rule
            return None
