"""Fault injection: make matching requests slow, fail with a status, or return broken JSON."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
    hits: int = 0

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
            "hits": self.hits,
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
    ) -> FaultRule:
        """Fault the next `times` requests whose path (no query) matches `path_regex` (re.search)
        and, with `with_param`, whose query has that parameter (`scrollId`: a later page).

        Each gets an optional `delay` (seconds, real time), then either `status` with `body`
        (dict/list -> JSON, str -> raw) and `headers`, or with `malformed` a 200 (or `status`)
        whose body is the real answer cut short: invalid JSON.
        """
        pattern = re.compile(path_regex)  # raises re.error on a bad pattern
        if status is not None and not 100 <= int(status) <= 599:
            raise ValueError(f"status must be an HTTP status code, got {status!r}")
        if times is not None and int(times) < 1:
            raise ValueError("times must be >= 1, or None for until cleared")
        if float(delay) < 0:
            raise ValueError("delay must be >= 0")
        if status is None and not malformed and float(delay) == 0:
            raise ValueError("a fault needs a status, a delay or malformed=True")
        if body is not None and status is None:
            raise ValueError("a fault body needs a status")
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
