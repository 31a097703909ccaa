"""The requests session of one API host: proxy and CA settings read from the environment once,
and a pool of kept-alive connections."""

from __future__ import annotations

import os

import requests
import requests.adapters
import requests.utils

# Connections kept alive per host. Every poller of an API shares its client, each in its own
# thread (Work Analytics has up to 12), and the ring group member poller asks with up to
# MAX_MEMBER_CONCURRENCY threads at once (exporter/config/work_analytics.py): a request that
# finds the pool empty opens a connection of its own, and one returned to a full pool is
# closed, so a pool smaller than the threads would reconnect (TLS included) again and again.
POOL_SIZE = 20
# Where a CA bundle may be named, first found wins: requests' own two (which requests reads at
# every request while `trust_env` is on), then OpenSSL's, which requests ignores (it uses
# certifi's bundle) but a container image sets for every other TLS client.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def api_session(base_url: str) -> requests.Session:
    """A session for `base_url`'s host that never looks at the environment again.

    With `trust_env` on (requests' default) every request scans the whole environment for
    proxies, matches `no_proxy` against the host, looks for `~/.netrc` and reads the CA
    variables: about 7% of a collection cycle's busy time (issue 20). The host of a client
    never changes, so the answer for it is the same every time: HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY and NO_PROXY (either case) are resolved here, once, by requests' own rules for
    that host. Changing them takes a restart (a reload keeps an unchanged client)."""
    session = requests.Session()
    session.trust_env = False
    # Empty when NO_PROXY covers the host; else every `*_proxy` variable by scheme.
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    bundle = next((os.environ[n] for n in CA_BUNDLE_VARIABLES if os.environ.get(n)), None)
    if bundle is not None:
        session.verify = bundle
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
