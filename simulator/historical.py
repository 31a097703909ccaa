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

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from .calls import CallLeg, FinishedCall, LegKind, ms
from .cdrs import leg_json, leg_parties, record_json, record_parties
from .directory import Account
from .historical_params import (
    HistoricalSettings,
    InvalidParameter,
    PartyFilter,
    Window,
    boolean,
    extension_values,
    local_epoch,
    required,
    time_zone,
)
from .historical_scrolls import Scroll, ScrollStore
from .model import ExtensionInfo, QueueingModel, RingGroupInfo
from .ring_group_legs import RingGroupLegIndex
from .routing import AuthCheck, Request, Response, Router
from .summaries import Row, company_row, extension_row, ring_group_member_row, ring_group_row
from .work_analytics_requests import WORK_ANALYTICS_PREFIX

ALL_PBXES = "allpbxes"
MAX_SCROLL_PAGE_SIZE = 7000  # "the maximum value is 7000" (spec)
NO_DATA = "No Data"  # the scrollId of the page after the last one


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
        self._ring_group_leg_index = RingGroupLegIndex()
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
        pbx_raw = required(params, "pbxId", "PBX names, comma-separated, or allpbxes.")
        hint = "The format is YYYY-MM-DD HH:MM:SS."
        start_raw, end_raw = (
            required(params, "startTime", hint),
            required(params, "endTime", hint),
        )
        zone = time_zone(
            required(params, "timeZone", "An IANA time zone such as America/New_York.")
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
        return self._ring_group_leg_index.legs(self.model.book, ms(window.start), ms(window.end))

    def _ring_group_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        legs = self._ring_group_legs(window)
        return [ring_group_row(group, legs[group.id]) for group in self._ring_groups(window)]

    def _member_rows(self, window: Window, params: Mapping[str, str]) -> list[Row]:
        wanted = extension_values(params, "extId")
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
        raw = required(params, "pageSize", hint)
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
        by_connect_time = boolean(params, "isConnectTime")
        simplified = boolean(params, "isSimplified")
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
