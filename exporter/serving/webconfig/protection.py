"""What a reload of the web config may not do: lower the protection in force.

A file being rewritten passes through states that are valid but protect less: empty, then
`basic_auth_users:` without its users, or the TLS section without the users below it. Read at
that moment, each used to turn basic auth off. A running exporter therefore never applies a
file that protects less than the one in force; the operator who means it restarts the
exporter, which loads the file as it is (a start is explicit, a file's passing state is not).

Lower means that some client refused now would get in:
- basic auth off (no users) where it was on; removing some users, or changing hashes, only
  shuts out, so it applies;
- a client certificate policy that verifies less (CERT_REQUIRED > CERT_OPTIONAL > CERT_NONE);
- `client_allowed_sans` emptied where it listed names (any certificate of the CA would do);
- a lower `min_version`;
- TLS off where it was on (or on where it was off: the listening socket speaks one of them).
A changed CA, certificate, list of SANs, rate limit or headers is not a lowering: rotations
must go on without a restart.
"""

from __future__ import annotations

from exporter.serving.webconfig.loader import WebConfig
from exporter.serving.webconfig.model import CLIENT_AUTH_TYPES, PREFIX, TLS_VERSIONS

RESTART = "a running exporter never lowers its protection: restart it to apply this file"


def lowered_protection(old: WebConfig, new: WebConfig) -> list[str]:
    """Why `new` may not replace `old` in a running exporter; empty when it may."""
    if (old.tls is None) != (new.tls is None):
        was = "on" if old.tls is not None else "off"
        return [
            f"{PREFIX} tls_server_config: TLS was {was} when the exporter "
            "started; switching it needs a restart"
        ]
    problems: list[str] = []
    if old.basic_auth_users and not new.basic_auth_users:
        problems.append(f"{PREFIX} basic_auth_users: none, so basic auth would be off; {RESTART}")
    if old.tls is None or new.tls is None:
        return problems
    where = f"{PREFIX} tls_server_config"
    old_mode, _ = CLIENT_AUTH_TYPES[old.tls.client_auth_type]
    new_mode, _ = CLIENT_AUTH_TYPES[new.tls.client_auth_type]
    if new_mode < old_mode:
        problems.append(
            f"{where}.client_auth_type: {new.tls.client_auth_type} accepts clients that "
            f"{old.tls.client_auth_type} refuses; {RESTART}"
        )
    if old.tls.client_allowed_sans and not new.tls.client_allowed_sans:
        problems.append(
            f"{where}.client_allowed_sans: none, so any client certificate of the CA would do; "
            f"{RESTART}"
        )
    if TLS_VERSIONS[new.tls.min_version] < TLS_VERSIONS[old.tls.min_version]:
        problems.append(
            f"{where}.min_version: {new.tls.min_version} is below {old.tls.min_version}; {RESTART}"
        )
    return problems
