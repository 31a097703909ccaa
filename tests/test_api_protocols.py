"""The clients satisfy the Protocols the pollers are typed with, so a fake in a test and the real
client are held to the same calls."""

from __future__ import annotations

import inspect

import pytest

from exporter.api import protocols
from exporter.api.contact_center import ContactCenterClient
from exporter.api.work_analytics import WorkAnalyticsClient


def as_protocols(
    work_analytics: WorkAnalyticsClient, contact_center: ContactCenterClient
) -> tuple[object, ...]:
    """Type-checked by mypy in the test command: it fails if a client lacks a method or takes it
    with other parameters."""
    directory: protocols.DirectoryApi = work_analytics
    call_queues: protocols.CallQueueApi = work_analytics
    summaries: protocols.SummaryApi = work_analytics
    call_details: protocols.CallDetailApi = work_analytics
    realtime: protocols.RealtimeApi = contact_center
    reports: protocols.ReportApi = contact_center
    return directory, call_queues, summaries, call_details, realtime, reports


PAIRS = [
    (protocols.DirectoryApi, WorkAnalyticsClient),
    (protocols.CallQueueApi, WorkAnalyticsClient),
    (protocols.SummaryApi, WorkAnalyticsClient),
    (protocols.CallDetailApi, WorkAnalyticsClient),
    (protocols.RealtimeApi, ContactCenterClient),
    (protocols.ReportApi, ContactCenterClient),
]


@pytest.mark.parametrize(("protocol", "client"), PAIRS, ids=lambda x: x.__name__)
def test_every_protocol_method_is_the_clients_with_the_same_parameters(
    protocol: type, client: type
) -> None:
    members = [name for name in vars(protocol) if not name.startswith("_")]
    assert members
    for name in members:
        # Without `self`: a client may implement a method as a staticmethod.
        expected = [p for p in inspect.signature(getattr(protocol, name)).parameters if p != "self"]
        actual = [p for p in inspect.signature(getattr(client, name)).parameters if p != "self"]
        assert actual == expected, name
