"""Where the 8x8 APIs live: the default hosts, and the path of each Contact Center region.

Config builds the default URLs from this table and the Contact Center client names its token
path in errors, so it lives in the lower of the two layers.
"""

from __future__ import annotations

WORK_ANALYTICS_BASE_URL = "https://api.8x8.com/analytics/work"
CONTACT_CENTER_BASE_URL = "https://api.8x8.com"

TOKEN_PATH = "/oauth/v2/token"
# Path prefix of each region on api.8x8.com (the vendor's guides and the specs' servers).
REGION_PREFIXES = {"us": "", "eu": "/eu", "au": "/au", "ca": "/ca"}
REALTIME_PATH = "/analytics/cc/v5/realtime-metrics"
HISTORICAL_PATH = "/analytics/cc/v8/historical-metrics"


def region_urls(base_url: str, region: str) -> tuple[str, str]:
    """The realtime and historical base URLs of a region on the given host."""
    prefix = REGION_PREFIXES[region]
    return base_url + prefix + REALTIME_PATH, base_url + prefix + HISTORICAL_PATH
