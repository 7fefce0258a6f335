"""Keep secrets out of logs, errors, metadata and archived files.

Two nets, both applied by `redact()`:
- every secret value the process has handled (access and refresh tokens, the client secret) is
  registered in a process-wide set and replaced wherever it appears, whatever the surrounding text;
- text shaped like a credential (`access_token=...`, `"refresh_token": "..."`, `Authorization: Bearer
  ...`, an `Access-Token` header) is masked even when the value was never registered.
"""

from __future__ import annotations

import re
import threading
from typing import Any

MASK = "[REDACTED]"
# Below this length a "secret" would mask ordinary words; real tokens are dozens of characters.
_MIN_SECRET_LENGTH = 8
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "client_secret",
        "client_key",
        "authorization",
        "access-token",
        "code",
        "auth_code",
    }
)
# Keys whose value is a secret only in OAuth payloads; `code` is also TikTok's envelope status field.
_ALWAYS_SECRET_KEYS = SECRET_KEYS - {"code"}

_PATTERNS = [
    # JSON: "access_token": "value"
    re.compile(r'("(?:access_token|refresh_token|client_secret|client_key|auth_code)"\s*:\s*")([^"]*)(")', re.I),
    # query/form: access_token=value
    re.compile(r"((?:access_token|refresh_token|client_secret|client_key|auth_code)=)([^&\s\"']+)()", re.I),
    # headers: Authorization: Bearer value / Access-Token: value
    re.compile(r"((?:authorization)\s*[:=]\s*(?:bearer\s+)?)([^\s\"',}]+)()", re.I),
    re.compile(r"((?:access-token)\s*[:=]\s*)([^\s\"',}]+)()", re.I),
]

_lock = threading.Lock()
_secrets: set[str] = set()


def register_secret(*values: str | None) -> None:
    """Remember secret values so they are masked wherever they appear later."""
    with _lock:
        for value in values:
            if isinstance(value, str) and len(value) >= _MIN_SECRET_LENGTH:
                _secrets.add(value)


def redact(text: Any) -> str:
    """`text` as a string with every known secret and credential-shaped value masked."""
    result = "" if text is None else str(text)
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in result:
            result = result.replace(secret, MASK)
    for pattern in _PATTERNS:
        result = pattern.sub(lambda m: f"{m.group(1)}{MASK}{m.group(3)}", result)
    return result


def redact_value(value: Any, *, oauth: bool = False) -> Any:
    """A JSON-like structure with secret keys masked and every string redacted (a copy)."""
    secret_keys = SECRET_KEYS if oauth else _ALWAYS_SECRET_KEYS
    if isinstance(value, dict):
        return {
            key: (MASK if str(key).lower() in secret_keys and item is not None else redact_value(item, oauth=oauth))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(item, oauth=oauth) for item in value]
    if isinstance(value, str):
        return redact(value)
    return value


def contains_secret(text: str) -> bool:
    with _lock:
        return any(secret in text for secret in _secrets)
