"""HTTP plumbing independent of the socket server: requests, responses and the route table
(a new endpoint is one `Router.add(method, regex, handler, auth=...)` call)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


class Headers(dict[str, str]):
    """A dict of HTTP headers with case-insensitive lookups (keys are stored lower-case)."""

    def __init__(self, items: Iterable[tuple[str, str]] | Mapping[str, str] = ()) -> None:
        super().__init__()
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            super().__setitem__(key.lower(), value)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key.lower(), value)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(slots=True)
class Request:
    method: str
    path: str  # without the query string
    query: dict[str, str]  # last value wins for repeated names
    headers: Headers
    body: bytes = b""
    host: str = ""  # "host:port" the client used, for absolute links

    @classmethod
    def parse_query(cls, raw_query: str) -> dict[str, str]:
        return {
            name: values[-1] for name, values in parse_qs(raw_query, keep_blank_values=True).items()
        }

    def form(self) -> dict[str, str]:
        """The application/x-www-form-urlencoded body."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return {}
        return self.parse_query(text)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status, json.dumps(payload, separators=(",", ":")).encode("utf-8"), merged)

    @classmethod
    def text(cls, status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
        merged = {"Content-Type": "text/plain; charset=utf-8"}
        merged.update(headers or {})
        return cls(status, text.encode("utf-8"), merged)


Handler = Callable[[Request, "re.Match[str]"], Response]
AuthCheck = Callable[[Request], "Response | None"]  # None means: let the request through


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: AuthCheck | None = None
    name: str = ""


class Router:
    """Ordered route table; the first route whose regex fully matches the path wins."""

    def __init__(
        self,
        *,
        not_found: Callable[[Request], Response],
        method_not_allowed: Callable[[Request, list[str]], Response],
    ) -> None:
        self._routes: list[Route] = []
        self._not_found = not_found
        self._method_not_allowed = method_not_allowed

    def add(
        self,
        method: str,
        path_regex: str,
        handler: Handler,
        *,
        auth: AuthCheck | None = None,
        name: str = "",
    ) -> None:
        self._routes.append(
            Route(method.upper(), re.compile(path_regex), handler, auth, name or handler.__name__)
        )

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def dispatch(self, request: Request) -> Response:
        allowed: list[str] = []
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if route.method != request.method:
                allowed.append(route.method)
                continue
            if route.auth is not None:
                denied = route.auth(request)
                if denied is not None:
                    return denied
            return route.handler(request, match)
        if allowed:
            return self._method_not_allowed(request, allowed)
        return self._not_found(request)
