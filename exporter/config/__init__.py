"""The exporter's configuration: one typed, validated model loaded from YAML.

Every problem is reported at once with its path (`work_analytics.call_queues.interval: ...`);
unknown keys are rejected; `${ENV_VAR}` is interpolated in strings; secrets may come from
`*_file` or from the `EIGHTBYEIGHT_*` environment variables.

Import from here, not from the modules: they are split by concern and may move.
"""

from __future__ import annotations

from exporter.config.contact_center import (
    CcAgentsConfig,
    CcRealtimeConfig,
    ContactCenterConfig,
    IntraDayTimeRange,
    ReportConfig,
    ReportFilter,
    ReportStatusPolling,
)
from exporter.config.loading import load_config, load_config_data, read_config_file
from exporter.config.root import Config
from exporter.config.service_levels import QueueServiceLevels, ServiceLevelObjective
from exporter.config.values import Duration, QueueTeams, RetryPolicy, Selection, Timeouts
from exporter.config.work_analytics import (
    CallDetailConfig,
    CallQueuesConfig,
    DiscoveryConfig,
    ExtensionsConfig,
    RingGroupMembersConfig,
    SummaryConfig,
    WorkAnalyticsConfig,
)
from exporter.core.errors import ConfigError

__all__ = [
    "CallDetailConfig",
    "CallQueuesConfig",
    "CcAgentsConfig",
    "CcRealtimeConfig",
    "Config",
    "ConfigError",
    "ContactCenterConfig",
    "DiscoveryConfig",
    "Duration",
    "ExtensionsConfig",
    "IntraDayTimeRange",
    "QueueServiceLevels",
    "QueueTeams",
    "ReportConfig",
    "ReportFilter",
    "ReportStatusPolling",
    "RetryPolicy",
    "RingGroupMembersConfig",
    "Selection",
    "ServiceLevelObjective",
    "SummaryConfig",
    "Timeouts",
    "WorkAnalyticsConfig",
    "load_config",
    "load_config_data",
    "read_config_file",
]
