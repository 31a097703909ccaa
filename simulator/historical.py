"""The Work Analytics historical endpoints under /analytics/work: company, ring group, ring group
member and extension summaries, call legs and call records, all read from the live model.

Common parameters: `pbxId` (PBX names, comma-separated, or `allpbxes`), `startTime` and
`endTime` (`YYYY-MM-DD HH:MM:SS`, local wall time in `timeZone`, an IANA zone), all required.
A local time that does not exist (the spring-forward gap) is shifted forward by the gap; an
ambiguous one (fall back) is its first occurrence. Unknown PBX names get no rows (no error).
Nothing older than the vendor's retention (2 years) is ever returned. Summaries select calls
by their disconnect time in [start, end); call legs and records also wait `cdr_delay_seconds`
after a disconnect before showing it.
"""

from __future__ import annotations

import base64
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import vendor_errors
from .behaviour import DAY_SECONDS
from .calls import CallLeg, FinishedCall, LegKind, ms
from .cdrs import leg_json, leg_parties, record_json, record_parties
from .directory import Account
from .model import ExtensionInfo, QueueingModel, RingGroupInfo
from .routing import AuthCheck, Request, Response, Router
from .summaries import Row, company_row, extension_row, ring_group_member_row, ring_group_row
from .work_analytics import WORK_ANALYTICS_PREFIX

ALL_PBXES = "allpbxes"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
VENDOR_RETENTION_SECONDS = 2 * 365 * DAY_SECONDS
MAX_SCROLL_PAGE_SIZE = 7000  # "the maximum value is 7000" (spec)
MAX_FILTER_VALUES = 125  # caller, callee, callerOrCallee
NO_DATA = "No Data"  # the scrollId of the page after the last one


class InvalidParameter(Exception):
    """A query the historical endpoints refuse with 400."""

    def __init__(self, parameter: str, message: str, hint: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.parameter, self.message, self.hint, self.missing = parameter, message, hint, missing

    def response(self) -> Response:
        return vendor_errors.invalid_parameter(
            self.parameter, self.message, self.hint, missing=self.missing
        )


@dataclass(frozen=True, slots=True)
class HistoricalSettings:
    cdr_delay_seconds: float = 0.0
    retention_seconds: float = VENDOR_RETENTION_SECONDS
    scroll_keep_alive_seconds: float = 600.0  # a scrollId expires this long after it was issued
    max_scrolls: int = 1000  # the oldest scrollIds are forgotten beyond this many


@dataclass(frozen=True, slots=True)
class Window:
    """A request's PBXes (known names, in the order asked) and [start, end) in epoch seconds."""

    pbx_names: tuple[str, ...]
    start: float
    end: float
    zone: ZoneInfo


def local_epoch(text: str, zone: ZoneInfo, parameter: str) -> float:
    """`YYYY-MM-DD HH:MM:SS` wall time in `zone` -> epoch seconds. fold=0 gives the first of two
    ambiguous instants, and for a time in a gap the offset before it: shifted forward."""
    try:
        naive = datetime.strptime(text.strip(), TIME_FORMAT)
    except ValueError:
        raise InvalidParameter(
            parameter, f"Invalid {parameter} [{text}].", "Use the format YYYY-MM-DD HH:MM:SS."
        ) from None
    return naive.replace(tzinfo=zone, fold=0).timestamp()


def time_zone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidParameter(
            "timeZone",
            f"Invalid timeZone [{text}].",
            "Use an IANA time zone such as America/New_York.",
        ) from None


def _required(params: Mapping[str, str], name: str, hint: str) -> str:
    value = params.get(name)
    if value is None or not value.strip():
        raise InvalidParameter(name, f"Required parameter [{name}] is missing.", hint, missing=True)
    return value


def _boolean(params: Mapping[str, str], name: str) -> bool:
    value = (params.get(name) or "false").strip().lower()
    if value not in ("true", "false"):
        raise InvalidParameter(name, f"Invalid {name} [{params.get(name)}].", "Use true or false.")
    return value == "true"


def _values(params: Mapping[str, str], name: str) -> frozenset[str] | None:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return None
    values = frozenset(part.strip() for part in raw.split(",") if part.strip())
    if len(values) > MAX_FILTER_VALUES:
        raise InvalidParameter(
            name, f"Too many values for [{name}].", f"At most {MAX_FILTER_VALUES} extensions."
        )
    return values


class PartyFilter(NamedTuple):
    """caller / callee / callerOrCallee: exact extensions; callee also matches a leg's lra and a
    record's every rung extension."""

    callers: frozenset[str] | None
    callees: frozenset[str] | None
    either: frozenset[str] | None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> PartyFilter:
        callers, callees, either = (
            _values(params, name) for name in ("caller", "callee", "callerOrCallee")
        )
        if either is not None and (callers is not None or callees is not None):
            raise InvalidParameter(
                "callerOrCallee",
                "callerOrCallee cannot be used with caller or callee.",
                "Use one or the other.",
            )
        return cls(callers, callees, either)

    def accepts(self, caller: str, callees: Iterable[str]) -> bool:
        if self.callers is not None and caller not in self.callers:
            return False
        if self.callees is not None and self.callees.isdisjoint(callees):
            return False
        return self.either is None or caller in self.either or not self.either.isdisjoint(callees)

    @property
    def empty(self) -> bool:
        return self.callers is None and self.callees is None and self.either is None


@dataclass(frozen=True, slots=True)
class Scroll:
    """One position in one query's results (a snapshot taken at its first page)."""

    endpoint: str
    items: Sequence[Any]
    position: int
    zone: ZoneInfo


@dataclass(slots=True)
class _Issued:
    scroll: Scroll
    expires_at: float
    next_ids: dict[int, str]  # position of the page it led to -> that page's scrollId


class ScrollStore:
    """Issued scrollIds: each names a position. Asking the same scrollId again (a retry) gets the
    same page and the same next scrollId, until it expires."""

    def __init__(self, *, seed: int, settings: HistoricalSettings) -> None:
        self._seed = seed
        self._settings = settings
        self._lock = threading.Lock()
        self._issued: OrderedDict[str, _Issued] = OrderedDict()  # oldest first
        self._serial = 0

    def put(self, scroll: Scroll, now: float, previous: str | None = None) -> str:
        """The scrollId of `scroll` (reached from the scrollId `previous`, if any)."""
        with self._lock:
            before = self._issued.get(previous) if previous is not None else None
            known = before.next_ids.get(scroll.position) if before is not None else None
            if known is not None and known in self._issued:
                return known
            self._serial += 1
            raw = f"simulator{self._seed}_{scroll.endpoint.strip('/')}_{self._serial}_{scroll.position}"
            scroll_id = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
            self._issued[scroll_id] = _Issued(
                scroll, now + self._settings.scroll_keep_alive_seconds, {}
            )
            if before is not None:
                before.next_ids[scroll.position] = scroll_id
            while self._issued and (
                len(self._issued) > self._settings.max_scrolls
                or next(iter(self._issued.values())).expires_at < now
            ):
                self._issued.popitem(last=False)
            return scroll_id

    def get(self, scroll_id: str, endpoint: str, now: float) -> Scroll:
        with self._lock:
            found = self._issued.get(scroll_id)
        if found is None or found.expires_at < now or found.scroll.endpoint != endpoint:
            raise InvalidParameter(
                "scrollId",
                f"Invalid or expired scrollId [{scroll_id}].",
                "Start again without scrollId.",
            )
        return found.scroll


class HistoricalApi:
    """Handlers of the historical endpoints; register() adds them to a router."""

    def __init__(
        self,
        *,
        account: Account,
        model: QueueingModel,
        clock: Callable[[], float],
        authenticate: AuthCheck,
        seed: int,
        settings: HistoricalSettings = HistoricalSettings(),
    ) -> None:
        if settings.cdr_delay_seconds < 0:
            raise ValueError("cdr_delay_seconds must be >= 0")
        self.account = account
        self.model = model
        self.clock = clock
        self.settings = settings
        self.scrolls = ScrollStore(seed=seed, settings=settings)
        self._authenticate = authenticate

    def register(self, router: Router) -> None:
        base = re.escape(WORK_ANALYTICS_PREFIX)
        for path, handler in (
            ("/v1/compsum", self.company_summary),
            ("/v2/rgsum-groups", self.ring_group_summary),
            ("/v2/rgsum-members", self.ring_group_member_summary),
            ("/v2/extsum", self.extension_summary),
            ("/v2/call-legs", self.call_legs),
            ("/v2/call-records", self.call_records),
        ):
            router.add("GET", base + re.escape(path) + "/?", handler, auth=self._authenticate)

    # ----------------------------------------------------------------- parameters
    def window(self, params: Mapping[str, str], now: float) -> Window:
        pbx_raw = _required(params, "pbxId", "PBX names, comma-separated, or allpbxes.")
        hint = "The format is YYYY-MM-DD HH:MM:SS."
        start_raw, end_raw = (
            _required(params, "startTime", hint),
            _required(params, "endTime", hint),
        )
        zone = time_zone(
            _required(params, "timeZone", "An IANA time zone such as America/New_York.")
        )
        start, end = (
            local_epoch(start_raw, zone, "startTime"),
            local_epoch(end_raw, zone, "endTime"),
        )
        if end <= start:
            raise InvalidParameter(
                "endTime", "endTime must be after startTime.", "Swap or widen the range."
            )
        start = max(start, now - self.settings.retention_seconds)  # older data is never returned
        return Window(self._pbx_names(pbx_raw), start, max(start, end), zone)

    def _pbx_names(self, raw: str) -> tuple[str, ...]:
        known = [pbx.name for pbx in self.account.pbxes if not pbx.deleted]
        if raw.strip().lower() == ALL_PBXES:
            return tuple(known)
        asked = dict.fromkeys(part.strip() for part in raw.split(",") if part.strip())
        return tuple(name for name in asked if name in known)  # unknown names: no rows

    # ----------------------------------------------------------------- summaries
    def company_summary(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v1/compsum: one row per PBX."""
        return self._summary(request, self._company_rows)

    def ring_group_summary(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/rgsum-groups: one row per ring group."""
        return self._summary(request, self._ring_group_rows)

    def ring_group_member_summary(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/rgsum-members: one row per (ring group, member); `extId` (optional, comma list)
        picks ring groups by their extension, or members by theirs."""
        return self._summary(request, self._member_rows)

    def extension_summary(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/extsum: one row per extension (every active agent), PascalCase keys."""
        return self._summary(request, self._extension_rows)

    def _summary(
        self, request: Request, rows: Callable[[Window, Mapping[str, str]], list[Row]]
    ) -> Response:
        try:
            with self.model.lock:
                self.model.advance(self.clock())
                window = self.window(request.query, self.model.now)
                body = rows(window, request.query)
        except InvalidParameter as error:
            return error.response()
        return Response.json(200, body)

    def _company_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        by_pbx: defaultdict[str, list[FinishedCall]] = defaultdict(list)
        for call in self.model.finished_calls(window.start, window.end):
            by_pbx[call.pbx].append(call)
        return [company_row(name, by_pbx[name]) for name in window.pbx_names]

    def _ring_groups(self, window: Window) -> list[RingGroupInfo]:
        groups = self.model.ring_groups()
        return [group for name in window.pbx_names for group in groups if group.pbx == name]

    def _ring_group_legs(self, window: Window) -> defaultdict[str, list[CallLeg]]:
        """Top-level ring group legs that ended in the window, by group id."""
        by_group: defaultdict[str, list[CallLeg]] = defaultdict(list)
        for leg in self.model.call_legs(window.start, window.end):
            if leg.kind is LegKind.RING_GROUP and leg.group is not None:
                by_group[leg.group.id].append(leg)
        return by_group

    def _ring_group_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        legs = self._ring_group_legs(window)
        return [ring_group_row(group, legs[group.id]) for group in self._ring_groups(window)]

    def _member_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        wanted = _values(params, "extId")
        legs = self._ring_group_legs(window)
        extensions = {(ext.pbx, ext.extension): ext for ext in self.model.extensions()}
        rows: list[Row] = []
        for group in self._ring_groups(window):
            for extension in group.member_extensions:
                if wanted is not None and group.extension not in wanted and extension not in wanted:
                    continue
                member = extensions[(group.pbx, extension)]
                rung = [
                    child
                    for leg in legs[group.id]
                    for child in leg.children
                    if child.agent is not None and child.agent.id == member.agent_id
                ]
                rows.append(ring_group_member_row(group, member, rung))
        return rows

    def _extension_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        by_agent: defaultdict[str, list[CallLeg]] = defaultdict(list)
        for leg in self.model.call_legs(window.start, window.end):
            if leg.kind in (LegKind.MEMBER, LegKind.OUTBOUND) and leg.agent is not None:
                by_agent[leg.agent.id].append(leg)
        extensions: list[ExtensionInfo] = self.model.extensions()
        return [
            extension_row(ext, by_agent[ext.agent_id])
            for name in window.pbx_names
            for ext in extensions
            if ext.pbx == name
        ]

    # ----------------------------------------------------------------- call legs and records
    def call_legs(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/call-legs: pages of legs, in disconnect (isConnectTime: connect) order."""
        return self._scroll(request, "/v2/call-legs", self._select_legs, leg_json)

    def call_records(self, request: Request, match: re.Match[str]) -> Response:
        """GET /v2/call-records: pages of whole calls, in disconnect order."""
        return self._scroll(request, "/v2/call-records", self._select_records, record_json)

    def _scroll(
        self,
        request: Request,
        endpoint: str,
        select: Callable[[Window, Mapping[str, str], float], list[Any]],
        render: Callable[[Any, ZoneInfo], dict[str, Any]],
    ) -> Response:
        """The scroll contract: pageSize (1..7000) always; without scrollId a new query (its
        results are fixed at this first page); with one, the page after it. Every page with
        data carries a new scrollId and the total; after the last comes the "No Data" page."""
        params = request.query
        try:
            size = self._page_size(params)
            with self.model.lock:
                self.model.advance(self.clock())
                now = self.model.now
                scroll_id = (params.get("scrollId") or "").strip()
                if scroll_id:
                    scroll = self.scrolls.get(scroll_id, endpoint, now)
                else:
                    window = self.window(params, now)
                    scroll = Scroll(endpoint, select(window, params, now), 0, window.zone)
                page = scroll.items[scroll.position : scroll.position + size]
                following = replace(scroll, position=scroll.position + len(page))
                next_id = self.scrolls.put(following, now, scroll_id or None) if page else NO_DATA
        except InvalidParameter as error:
            return error.response()
        total = len(scroll.items) if page else 0
        data = [render(item, scroll.zone) for item in page]
        return Response.json(
            200, {"meta": {"totalRecordCount": total, "scrollId": next_id}, "data": data}
        )

    @staticmethod
    def _page_size(params: Mapping[str, str]) -> int:
        hint = f"An integer from 1 to {MAX_SCROLL_PAGE_SIZE}."
        raw = _required(params, "pageSize", hint)
        try:
            size = int(raw)
        except ValueError:
            raise InvalidParameter("pageSize", f"Invalid pageSize [{raw}].", hint) from None
        if not 1 <= size <= MAX_SCROLL_PAGE_SIZE:
            raise InvalidParameter("pageSize", f"Invalid pageSize [{raw}].", hint)
        return size

    def _visible_until_ms(self, now: float) -> int:
        return ms(now - self.settings.cdr_delay_seconds)

    def _select_legs(self, window: Window, params: Mapping[str, str], now: float) -> list[CallLeg]:
        by_connect_time = _boolean(params, "isConnectTime")
        simplified = _boolean(params, "isSimplified")
        parties = PartyFilter.parse(params)
        names = set(window.pbx_names)
        visible_until = self._visible_until_ms(now)
        legs = [
            leg
            for leg in self.model.call_legs(
                window.start, window.end, by_connect_time=by_connect_time
            )
            if leg.pbx in names
            and leg.disconnected_ms <= visible_until
            and not (simplified and leg.parent_call_id is not None)
            and (parties.empty or _leg_accepted(parties, leg))
        ]
        if by_connect_time:
            legs.sort(key=lambda leg: leg.connected_ms)
        return legs

    def _select_records(
        self, window: Window, params: Mapping[str, str], now: float
    ) -> list[FinishedCall]:
        parties = PartyFilter.parse(params)
        names = set(window.pbx_names)
        visible_until = self._visible_until_ms(now)
        return [
            call
            for call in self.model.finished_calls(window.start, window.end)
            if call.pbx in names
            and call.ended_ms <= visible_until
            and (parties.empty or _record_accepted(parties, call))
        ]


def _leg_accepted(parties: PartyFilter, leg: CallLeg) -> bool:
    who = leg_parties(leg)
    return parties.accepts(who.caller, (who.callee, who.lra))


def _record_accepted(parties: PartyFilter, call: FinishedCall) -> bool:
    who = record_parties(call)
    rung = [
        leg.agent.extension
        for leg in call.legs
        if leg.kind is LegKind.MEMBER and leg.agent is not None
    ]
    return parties.accepts(who.caller, [who.callee, who.lra, *rung])
