"""The Work Analytics historical summaries' keys and the gauges they become.

Company summary (`/v1/compsum`, camelCase), ring group summaries (`/v2/rgsum-groups`,
`/v2/rgsum-members`, camelCase) and extension summary (`/v2/extsum`, PascalCase with
underscores) name the same figures differently: `inboundTotal`, `totalInbound` and
`Inbound_Total` are all "inbound calls". Keys are matched after folding (underscores removed,
lower case), so one table serves the three shapes. Durations arrive in milliseconds and are
exported in seconds; percentages arrive as 0..100 and are exported as ratios.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exporter.metrics.spec import MetricSpec, gauge, vendor
from exporter.metrics.units import Unit


def fold(key: str) -> str:
    return key.replace("_", "").lower()


def _row(folded_key: str, stem: str, unit: Unit, help_text: str) -> tuple[str, MetricSpec]:
    return folded_key, vendor(folded_key, stem, unit, help_text)


# fmt: off
# Folded vendor key -> template. Keys of all three shapes that mean the same share a name.
_TABLE: dict[str, MetricSpec] = dict((
    # totals
    _row("inboundtotal", "inbound_calls", "count", "Inbound calls in the window."),
    _row("totalinbound", "inbound_calls", "count", "Inbound calls in the window."),
    _row("outboundtotal", "outbound_calls", "count", "Outbound calls in the window."),
    _row("totalcall", "calls", "count", "Calls in the window."),
    _row("totalcalls", "calls", "count", "Calls in the window."),
    _row("totalanswered", "answered_calls", "count", "Answered calls in the window."),
    _row("totalabandoned", "abandoned_calls", "count", "Calls the caller hung up before an answer, in the window."),
    _row("totalmissed", "missed_calls", "count", "Calls not answered, in the window."),
    _row("totalvm", "voicemail_calls", "count", "Calls that went to voicemail, in the window."),
    _row("totalcallstovm", "voicemail_calls", "count", "Calls that went to voicemail, in the window."),
    _row("inboundanswered", "inbound_answered_calls", "count", "Inbound calls answered in the window."),
    _row("inboundabandoned", "inbound_abandoned_calls", "count", "Inbound calls abandoned in the window."),
    _row("inboundmissed", "inbound_missed_calls", "count", "Inbound calls missed in the window."),
    _row("outboundanswered", "outbound_answered_calls", "count", "Outbound calls answered in the window."),
    _row("outboundabandoned", "outbound_abandoned_calls", "count", "Outbound calls abandoned in the window."),
    # external / internal split
    _row("externalinboundtotal", "external_inbound_calls", "count", "Inbound calls from outside the account, in the window."),
    _row("externalinboundanswered", "external_inbound_answered_calls", "count", "External inbound calls answered in the window."),
    _row("externalinboundabandoned", "external_inbound_abandoned_calls", "count", "External inbound calls abandoned in the window."),
    _row("externalinboundmissed", "external_inbound_missed_calls", "count", "External inbound calls missed in the window."),
    _row("percentexternalinboundanswered", "external_inbound_answered_calls", "ratio", "External inbound calls answered over external inbound calls, in the window."),
    _row("externaloutboundtotal", "external_outbound_calls", "count", "Outbound calls to outside the account, in the window."),
    _row("externaloutboundanswered", "external_outbound_answered_calls", "count", "External outbound calls answered in the window."),
    _row("externaloutboundabandoned", "external_outbound_abandoned_calls", "count", "External outbound calls abandoned in the window."),
    _row("externaloutboundmissed", "external_outbound_missed_calls", "count", "External outbound calls missed in the window."),
    _row("percentexternaloutboundanswered", "external_outbound_answered_calls", "ratio", "External outbound calls answered over external outbound calls, in the window."),
    _row("internalinboundtotal", "internal_inbound_calls", "count", "Inbound calls from other extensions, in the window."),
    _row("internalinboundanswered", "internal_inbound_answered_calls", "count", "Internal inbound calls answered in the window."),
    _row("internalinboundabandoned", "internal_inbound_abandoned_calls", "count", "Internal inbound calls abandoned in the window."),
    _row("internalinboundmissed", "internal_inbound_missed_calls", "count", "Internal inbound calls missed in the window."),
    _row("internaloutboundtotal", "internal_outbound_calls", "count", "Outbound calls to other extensions, in the window."),
    _row("internaloutboundanswered", "internal_outbound_answered_calls", "count", "Internal outbound calls answered in the window."),
    _row("internaloutboundabandoned", "internal_outbound_abandoned_calls", "count", "Internal outbound calls abandoned in the window."),
    _row("totalexttoext", "extension_to_extension_calls", "count", "Calls between extensions in the window."),
    _row("totalexttoextanswered", "extension_to_extension_answered_calls", "count", "Calls between extensions answered in the window."),
    _row("totalexttoextabandoned", "extension_to_extension_abandoned_calls", "count", "Calls between extensions abandoned in the window."),
    _row("totalexttoextmissed", "extension_to_extension_missed_calls", "count", "Calls between extensions missed in the window."),
    # ring groups
    _row("totalmembers", "members", "count", "Members of the ring group."),
    _row("totaladvanced", "advanced_calls", "count", "Calls advanced to the next member or destination, in the window."),
    # durations
    _row("totalringtime", "ring_time", "duration", "Summed ringing time in the window."),
    _row("totaltalktime", "talk_time", "duration", "Summed talk time in the window."),
    _row("totalabandonedtime", "abandoned_time", "duration", "Summed time abandoned callers waited, in the window."),
    _row("totalcalltime", "call_time", "duration", "Summed call time in the window."),
    _row("totalrgtime", "time_in_group", "duration", "Summed time calls spent in the ring group, in the window."),
    _row("inboundtalktime", "inbound_talk_time", "duration", "Summed talk time of inbound calls in the window."),
    _row("outboundtalktime", "outbound_talk_time", "duration", "Summed talk time of outbound calls in the window."),
    _row("avgringtime", "average_ring_time", "duration", "Average ringing time in the window."),
    _row("avgtalktime", "average_talk_time", "duration", "Average talk time in the window."),
    _row("avgcalltime", "average_call_time", "duration", "Average call time in the window."),
    _row("avgabandonedtime", "average_abandoned_time", "duration", "Average time abandoned callers waited, in the window."),
    _row("avgrgtime", "average_time_in_group", "duration", "Average time calls spent in the ring group, in the window."),
))
# fmt: on

# Every numeric key of each endpoint's 200 schema in the vendor's spec, in the spec's order.
COMPSUM_KEYS = (
    "inboundTotal",
    "outboundTotal",
    "externalInboundTotal",
    "externalInboundAnswered",
    "externalInboundAbandoned",
    "percentExternalInboundAnswered",
    "externalInboundMissed",
    "externalOutboundTotal",
    "externalOutboundAnswered",
    "percentExternalOutboundAnswered",
    "externalOutboundAbandoned",
    "externalOutboundMissed",
    "internalInboundTotal",
    "internalInboundAnswered",
    "internalInboundAbandoned",
    "internalInboundMissed",
    "internalOutboundTotal",
    "internalOutboundAnswered",
    "internalOutboundAbandoned",
    "inboundAnswered",
    "inboundAbandoned",
    "inboundMissed",
    "outboundAnswered",
    "outboundAbandoned",
    "totalAnswered",
    "totalAbandoned",
    "totalMissed",
    "totalRingTime",
    "totalTalkTime",
    "totalCall",
    "totalAbandonedTime",
    "totalCallTime",
    "avgRingTime",
    "avgTalkTime",
    "avgCallTime",
    "avgAbandonedTime",
    "totalVm",
    "totalExtToExtAbandoned",
    "totalExtToExtAnswered",
    "totalExtToExt",
    "totalExtToExtMissed",
)
RGSUM_KEYS = (
    "totalMembers",
    "totalInbound",
    "totalAbandoned",
    "totalAnswered",
    "totalMissed",
    "totalCallsToVM",
    "totalAdvanced",
    "totalRgTime",
    "totalTalkTime",
    "totalCalls",
    "avgAbandonedTime",
    "avgRgTime",
    "avgRingTime",
    "avgTalkTime",
    "totalAbandonedTime",
    "totalRingTime",
)
EXTSUM_KEYS = (
    "External_Inbound_Total",
    "External_Inbound_Answered",
    "External_Inbound_Abandoned",
    "Percent_External_Inbound_Answered",
    "External_Inbound_Missed",
    "External_Outbound_Total",
    "External_Outbound_Answered",
    "Percent_External_Outbound_Answered",
    "External_Outbound_Abandoned",
    "Internal_Inbound_Total",
    "Internal_Inbound_Answered",
    "Internal_Inbound_Abandoned",
    "Internal_Inbound_Missed",
    "Internal_Outbound_Total",
    "Internal_Outbound_Answered",
    "Internal_Outbound_Abandoned",
    "Inbound_Total",
    "Inbound_Answered",
    "Inbound_Abandoned",
    "Inbound_Missed",
    "Total_Calls_To_VM",
    "Outbound_Total",
    "Outbound_Answered",
    "Outbound_Abandoned",
    "Total_Answered",
    "Total_Abandoned",
    "Total_Missed",
    "Total_Ring_Time",
    "Total_Talk_Time",
    "Total_Abandoned_Time",
    "Total_Call_Time",
    "Avg_Ring_Time",
    "Avg_Talk_Time",
    "Inbound_Talk_Time",
    "Outbound_Talk_Time",
    "Avg_Abandoned_Time",
)
# Extension details: exported once per extension in `eightbyeight_extension_info`.
EXTSUM_INFO_KEYS = {
    "ServiceType": "service_type",
    "FirstName": "first_name",
    "LastName": "last_name",
    "Branch": "branch",
    "Department": "department",
    "Email": "email",
    "UserName": "user_name",
}
# The person's own details among them: personal data, exported only with
# `work_analytics.personal_data: true`. Department, branch and service type describe the
# organisation, not the person, and stay.
EXTSUM_PERSONAL_KEYS = frozenset({"FirstName", "LastName", "Email", "UserName"})


# Spellings of keys remembered per endpoint: a few times the schema's keys (an upstream
# inventing keys must not grow the process).
_MAX_ANSWERED_KEYS = 1000


@dataclass(frozen=True)
class Shape:
    """What one endpoint's rows become: its families, by folded vendor key."""

    poller: str
    endpoint: str
    prefix: str
    labels: tuple[str, ...]  # without `window`
    keys: tuple[str, ...]  # the numeric keys of the vendor's schema, in the spec's order
    identity: tuple[str, ...]  # labels a row must have: without them it cannot be told apart
    specs: dict[str, MetricSpec] = field(init=False, repr=False, compare=False)
    # Vendor key as answered -> its spec (None: not ours), so a key is folded once, not per
    # row; bounded, as keys come from the vendor's answers.
    _by_answered_key: dict[str, MetricSpec | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        source = f"{self.poller} (`{self.endpoint}`)"
        placed = {
            fold(key): _TABLE[fold(key)].under(self.prefix, (*self.labels, "window"), source)
            for key in self.keys
        }
        object.__setattr__(self, "specs", placed)

    def spec_of(self, answered_key: str) -> MetricSpec | None:
        """The spec of a key as an answer spells it (`Inbound_Total`, `inboundTotal`)."""
        known = self._by_answered_key
        if answered_key in known:
            return known[answered_key]
        spec = self.specs.get(fold(answered_key))
        if len(known) < _MAX_ANSWERED_KEYS:
            known[answered_key] = spec
        return spec

    def families(self) -> list[MetricSpec]:
        """The distinct families the endpoint's keys make, in key order."""
        distinct: dict[str, MetricSpec] = {}
        for spec in self.specs.values():
            distinct.setdefault(spec.name, spec)
        return list(distinct.values())


COMPANY = Shape(
    "company_summary", "/v1/compsum", "eightbyeight_pbx_", ("pbx",), COMPSUM_KEYS, ("pbx",)
)
# A ring group is known by its PBX and extension (the members' `extId`, the call legs' `lra`).
RING_GROUPS = Shape(
    "ring_groups",
    "/v2/rgsum-groups",
    "eightbyeight_ring_group_",
    ("pbx", "site", "ring_group", "extension"),
    RGSUM_KEYS,
    ("pbx", "extension"),
)
RING_GROUP_MEMBERS = Shape(
    "ring_group_members",
    "/v2/rgsum-members",
    "eightbyeight_ring_group_member_",
    ("pbx", "ring_group", "ring_group_extension", "extension"),
    tuple(k for k in RGSUM_KEYS if k != "totalMembers"),
    ("extension",),
)
EXTENSIONS = Shape(
    "extensions",
    "/v2/extsum",
    "eightbyeight_extension_",
    ("pbx", "extension"),
    EXTSUM_KEYS,
    ("pbx", "extension"),
)
EXTENSION_INFO = gauge(
    "eightbyeight_extension_info",
    "An extension seen in the extension summary, with its user's details. `first_name`, "
    "`last_name`, `email` and `user_name` are empty unless work_analytics.personal_data: true "
    "(personal data).",
    ("pbx", "extension", *EXTSUM_INFO_KEYS.values()),
    source=f"extensions (`{EXTENSIONS.endpoint}`)",
)

SPECS: tuple[MetricSpec, ...] = (
    *COMPANY.families(),
    *RING_GROUPS.families(),
    *RING_GROUP_MEMBERS.families(),
    *EXTENSIONS.families(),
    EXTENSION_INFO,
)
