"""Credentials of the API sections: from the file, a `*_file` beside it, or the `EIGHTBYEIGHT_*`
environment variables, and required when the section is enabled."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from exporter.core.logs import get_logger
from exporter.core.redaction import SECRETS

log = get_logger(__name__)

ENV_API_KEY = "EIGHTBYEIGHT_API_KEY"
ENV_USERNAME = "EIGHTBYEIGHT_USERNAME"
ENV_PASSWORD = "EIGHTBYEIGHT_PASSWORD"
ENV_CC_CLIENT_ID = "EIGHTBYEIGHT_CC_CLIENT_ID"
ENV_CC_CLIENT_SECRET = "EIGHTBYEIGHT_CC_CLIENT_SECRET"

# (field, environment variable, may come from `<field>_file`) per section.
CREDENTIALS = {
    "work_analytics": (
        ("api_key", ENV_API_KEY, True),
        ("username", ENV_USERNAME, False),
        ("password", ENV_PASSWORD, True),
    ),
    "contact_center": (
        ("client_id", ENV_CC_CLIENT_ID, False),
        ("client_secret", ENV_CC_CLIENT_SECRET, True),
    ),
}
_ENABLED_BY_DEFAULT = {"work_analytics": True, "contact_center": False}
# Credentials sent as an HTTP header value as they are: HTTP carries header values as bytes
# of ISO 8859-1 at best (requests raises at every request on anything else, and a line break
# would end the header), and the vendor's keys are ASCII. Username, password and client secret
# travel form-encoded or base64-encoded as UTF-8, so any text works there.
_HEADER_VALUES = {"work_analytics": ("api_key", "8x8-apikey")}


def prepare_credentials(
    name: str, section: dict[str, Any], env: Mapping[str, str], problems: list[str]
) -> dict[str, Any]:
    """Resolve `*_file` secrets and environment defaults before validation, and require the
    credentials of an enabled section.

    Done outside the model so these problems are reported together with every field error.
    """
    section = dict(section)
    credentials = CREDENTIALS[name]
    for field, env_name, has_file in credentials:
        if has_file:
            _resolve_secret_file(name, section, field, problems)
        if section.get(field) in (None, "") and env.get(env_name):
            section[field] = env[env_name]
        if has_file and isinstance(section.get(field), str):
            # Registered before any check can quote it: no message may carry it.
            SECRETS.add_credential(section[field])
    _check_header_value(name, section, problems)
    if _enabled(section.get("enabled", _ENABLED_BY_DEFAULT[name])):
        for field, env_name, has_file in credentials:
            if section.get(field) in (None, "") and not _file_problem(name, problems, field):
                alternatives = f"{field}, {field}_file" if has_file else field
                problems.append(
                    f"{name}.{field}: required (set {alternatives} or the "
                    f"environment variable {env_name})"
                )
    return section


def _check_header_value(name: str, section: Mapping[str, Any], problems: list[str]) -> None:
    field, header = _HEADER_VALUES.get(name, ("", ""))
    value = section.get(field)
    if not isinstance(value, str) or not value:
        return
    bad = next((i for i, char in enumerate(value) if not "!" <= char <= "~"), None)
    if bad is not None:
        # The position, never the value or the character: it is a secret.
        problems.append(
            f"{name}.{field}: only printable ASCII without spaces can be sent in the "
            f"{header} header (character {bad + 1} is not)"
        )


def _enabled(value: Any) -> bool:
    """`enabled` as the model will read it ("true" from an environment variable included);
    a value that is no boolean at all is left to the model's own error."""
    try:
        return TypeAdapter(bool).validate_python(value)
    except ValidationError:
        return False


def _file_problem(name: str, problems: list[str], field: str) -> bool:
    return any(p.startswith(f"{name}.{field}") for p in problems)


# A secret file holds one secret: anything longer is another file named by mistake.
MAX_SECRET_FILE_BYTES = 64 * 1024


def _resolve_secret_file(name: str, data: dict[str, Any], field: str, problems: list[str]) -> None:
    file_key = f"{field}_file"
    path = data.get(file_key)
    if path in (None, ""):
        return
    if data.get(field) not in (None, ""):
        problems.append(f"{name}.{field}: set either {field} or {file_key}, not both")
        return
    if not isinstance(path, str):
        problems.append(f"{name}.{file_key}: must be a file path, not {type(path).__name__}")
        data.pop(file_key)  # said once, here, not again by the section's model
        return
    try:
        with Path(path).open("rb") as file:
            mode = os.fstat(file.fileno()).st_mode
            raw = file.read(MAX_SECRET_FILE_BYTES + 1)  # /dev/zero or a log file: not read whole
    except OSError as exc:
        problems.append(f"{name}.{file_key}: cannot read {path}: {exc.strerror or exc}")
        return
    if len(raw) > MAX_SECRET_FILE_BYTES:
        problems.append(f"{name}.{file_key}: {path} is over {MAX_SECRET_FILE_BYTES} bytes")
        return
    try:
        data[field] = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        problems.append(f"{name}.{file_key}: {path} is not UTF-8 text")  # never its bytes
        return
    if stat.S_ISREG(mode) and mode & stat.S_IROTH:
        # Not refused (a container's mounted secret may be so on purpose), but said.
        log.warning(
            "secret_file_readable_by_others",
            key=f"{name}.{file_key}",
            path=path,
            mode=f"{stat.S_IMODE(mode):o}",
        )
    if not data[field]:
        problems.append(f"{name}.{file_key}: {path} is empty")
