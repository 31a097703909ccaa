"""The 8x8 Contact Center analytics APIs of the simulator: OAuth client credentials
(`/oauth/v2/token`), realtime metrics v5 and historical summary reports v8, per region and
tenant, all from one live model per tenant. Standard library only."""

from .api import TENANT_INVALID, TENANT_MISSING, ContactCenter
from .facts import AgentStatus as CcAgentStatus
from .historical import DATA_RECORD_CAP, HISTORICAL_PREFIX
from .http import MultiValueQueryHandler
from .metric_keys import (
    AGENT_METRIC_KEYS,
    GROUP_METRIC_KEYS,
    QUEUE_METRIC_KEYS,
)
from .metrics import RealtimeView
from .model import TenantModel
from .realtime import REALTIME_PREFIX
from .report_types import REPORT_TYPES
from .tenants import (
    DEFAULT_TIME_ZONES,
    REGION_PREFIXES,
    REGIONS,
    CcAgent,
    CcGroup,
    CcQueue,
    CcRef,
    CcTenant,
)

__all__ = [
    "AGENT_METRIC_KEYS",
    "DATA_RECORD_CAP",
    "DEFAULT_TIME_ZONES",
    "GROUP_METRIC_KEYS",
    "HISTORICAL_PREFIX",
    "QUEUE_METRIC_KEYS",
    "REALTIME_PREFIX",
    "REGIONS",
    "REGION_PREFIXES",
    "REPORT_TYPES",
    "TENANT_INVALID",
    "TENANT_MISSING",
    "CcAgent",
    "CcAgentStatus",
    "CcGroup",
    "CcQueue",
    "CcRef",
    "CcTenant",
    "ContactCenter",
    "MultiValueQueryHandler",
    "RealtimeView",
    "TenantModel",
]
