"""The historical summary endpoints' keys and the gauges they become.

Company summary (`/v1/compsum`, camelCase), ring group summaries (`/v2/rgsum-groups`,
`/v2/rgsum-members`, camelCase) and extension summary (`/v2/extsum`, PascalCase with
underscores) name the same figures differently: `inboundTotal`, `totalInbound` and
`Inbound_Total` are all "inbound calls". Keys are matched after folding (underscores removed,
lower case), so one table serves the three shapes. Durations arrive in milliseconds and are
exported in seconds; percentages arrive as 0..100 and are exported as ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

from exporter.metrics.queue_tables import Kind


@dataclass(frozen=True)
class SummaryMetric:
    stem: str  # the metric name without prefix and unit suffix
    kind: Kind
    help: str

    @property
    def suffix(self) -> str:
        return {"count": "", "duration": "_seconds", "percent": "_ratio"}[self.kind]


def fold(key: str) -> str:
    return key.replace("_", "").lower()


def _c(stem: str, help: str) -> SummaryMetric:
    return SummaryMetric(stem, "count", help)


def _d(stem: str, help: str) -> SummaryMetric:
    return SummaryMetric(stem, "duration", help)


def _p(stem: str, help: str) -> SummaryMetric:
    return SummaryMetric(stem, "percent", help)


# Folded vendor key -> metric. Keys of all three shapes that mean the same share an entry.
_TABLE: dict[str, SummaryMetric] = {
    # totals
    "inboundtotal": _c("inbound_calls", "Inbound calls in the window."),
    "totalinbound": _c("inbound_calls", "Inbound calls in the window."),
    "outboundtotal": _c("outbound_calls", "Outbound calls in the window."),
    "totalcall": _c("calls", "Calls in the window."),
    "totalcalls": _c("calls", "Calls in the window."),
    "totalanswered": _c("answered_calls", "Answered calls in the window."),
    "totalabandoned": _c(
        "abandoned_calls", "Calls the caller hung up before an answer, in the window."
    ),
    "totalmissed": _c("missed_calls", "Calls not answered, in the window."),
    "totalvm": _c("voicemail_calls", "Calls that went to voicemail, in the window."),
    "totalcallstovm": _c("voicemail_calls", "Calls that went to voicemail, in the window."),
    "inboundanswered": _c("inbound_answered_calls", "Inbound calls answered in the window."),
    "inboundabandoned": _c("inbound_abandoned_calls", "Inbound calls abandoned in the window."),
    "inboundmissed": _c("inbound_missed_calls", "Inbound calls missed in the window."),
    "outboundanswered": _c("outbound_answered_calls", "Outbound calls answered in the window."),
    "outboundabandoned": _c("outbound_abandoned_calls", "Outbound calls abandoned in the window."),
    # external / internal split
    "externalinboundtotal": _c(
        "external_inbound_calls", "Inbound calls from outside the account, in the window."
    ),
    "externalinboundanswered": _c(
        "external_inbound_answered_calls", "External inbound calls answered in the window."
    ),
    "externalinboundabandoned": _c(
        "external_inbound_abandoned_calls", "External inbound calls abandoned in the window."
    ),
    "externalinboundmissed": _c(
        "external_inbound_missed_calls", "External inbound calls missed in the window."
    ),
    "percentexternalinboundanswered": _p(
        "external_inbound_answered_calls",
        "External inbound calls answered over external inbound calls, in the window.",
    ),
    "externaloutboundtotal": _c(
        "external_outbound_calls", "Outbound calls to outside the account, in the window."
    ),
    "externaloutboundanswered": _c(
        "external_outbound_answered_calls", "External outbound calls answered in the window."
    ),
    "externaloutboundabandoned": _c(
        "external_outbound_abandoned_calls", "External outbound calls abandoned in the window."
    ),
    "externaloutboundmissed": _c(
        "external_outbound_missed_calls", "External outbound calls missed in the window."
    ),
    "percentexternaloutboundanswered": _p(
        "external_outbound_answered_calls",
        "External outbound calls answered over external outbound calls, in the window.",
    ),
    "internalinboundtotal": _c(
        "internal_inbound_calls", "Inbound calls from other extensions, in the window."
    ),
    "internalinboundanswered": _c(
        "internal_inbound_answered_calls", "Internal inbound calls answered in the window."
    ),
    "internalinboundabandoned": _c(
        "internal_inbound_abandoned_calls", "Internal inbound calls abandoned in the window."
    ),
    "internalinboundmissed": _c(
        "internal_inbound_missed_calls", "Internal inbound calls missed in the window."
    ),
    "internaloutboundtotal": _c(
        "internal_outbound_calls", "Outbound calls to other extensions, in the window."
    ),
    "internaloutboundanswered": _c(
        "internal_outbound_answered_calls", "Internal outbound calls answered in the window."
    ),
    "internaloutboundabandoned": _c(
        "internal_outbound_abandoned_calls", "Internal outbound calls abandoned in the window."
    ),
    "totalexttoext": _c("extension_to_extension_calls", "Calls between extensions in the window."),
    "totalexttoextanswered": _c(
        "extension_to_extension_answered_calls", "Calls between extensions answered in the window."
    ),
    "totalexttoextabandoned": _c(
        "extension_to_extension_abandoned_calls",
        "Calls between extensions abandoned in the window.",
    ),
    "totalexttoextmissed": _c(
        "extension_to_extension_missed_calls", "Calls between extensions missed in the window."
    ),
    # ring groups
    "totalmembers": _c("members", "Members of the ring group."),
    "totaladvanced": _c(
        "advanced_calls", "Calls advanced to the next member or destination, in the window."
    ),
    # durations
    "totalringtime": _d("ring_time", "Summed ringing time in the window."),
    "totaltalktime": _d("talk_time", "Summed talk time in the window."),
    "totalabandonedtime": _d(
        "abandoned_time", "Summed time abandoned callers waited, in the window."
    ),
    "totalcalltime": _d("call_time", "Summed call time in the window."),
    "totalrgtime": _d(
        "ring_group_time", "Summed time calls spent in the ring group, in the window."
    ),
    "inboundtalktime": _d("inbound_talk_time", "Summed talk time of inbound calls in the window."),
    "outboundtalktime": _d(
        "outbound_talk_time", "Summed talk time of outbound calls in the window."
    ),
    "avgringtime": _d("average_ring_time", "Average ringing time in the window."),
    "avgtalktime": _d("average_talk_time", "Average talk time in the window."),
    "avgcalltime": _d("average_call_time", "Average call time in the window."),
    "avgabandonedtime": _d(
        "average_abandoned_time", "Average time abandoned callers waited, in the window."
    ),
    "avgrgtime": _d(
        "average_ring_group_time", "Average time calls spent in the ring group, in the window."
    ),
}

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


def lookup(key: str) -> SummaryMetric | None:
    return _TABLE.get(fold(key))


def metrics_of(keys: tuple[str, ...]) -> list[SummaryMetric]:
    """The distinct metrics an endpoint's keys produce, in key order."""
    seen: dict[tuple[str, str], SummaryMetric] = {}
    for key in keys:
        metric = _TABLE[fold(key)]
        seen.setdefault((metric.stem, metric.kind), metric)
    return list(seen.values())
