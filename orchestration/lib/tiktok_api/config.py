"""`accounts.yml`: which accounts the pipeline pulls from TikTok's APIs, and how.

The file lives at the data directory's root (`<data>/accounts.yml`) or wherever
`TIKTOK_ACCOUNTS_FILE` points. Without it, nothing is pulled and nothing touches the network.

```yaml
accounts:
  - handle: techcreator
    api: display                 # or: business
    timezone: Europe/Berlin      # the day a snapshot belongs to is the calendar day here
    token_file: secrets/techcreator.json   # relative to the data directory
    base_url: https://open.tiktokapis.com  # optional: a proxy or a test server
# optional, all accounts:
business_lookback_days: 7        # business/get: re-read this many recent days (TikTok revises them)
http: {timeout_seconds: 30, max_attempts: 6, backoff_base_seconds: 1, backoff_cap_seconds: 60}
```

Every error names the file and the line (from the YAML node marks), and never echoes a value that
could be a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from orchestration.lib.core.yaml_config import ConfigDoc, config_file, config_text, existing_config_file

ACCOUNTS_FILE_ENV = "TIKTOK_ACCOUNTS_FILE"
ACCOUNTS_FILE_NAME = "accounts.yml"
CLIENT_KEY_ENV = "TIKTOK_CLIENT_KEY"
CLIENT_SECRET_ENV = "TIKTOK_CLIENT_SECRET"

APIS = ("display", "business")
DEFAULT_BASE_URLS = {"display": "https://open.tiktokapis.com", "business": "https://business-api.tiktok.com"}
# TikTok usernames: letters, digits, underscores and periods. The handle is also a Dagster partition
# key and a folder name in the archive, so nothing else is accepted.
_HANDLE = re.compile(r"^[A-Za-z0-9._]{1,64}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
BUSINESS_MAX_LOOKBACK_DAYS = 60  # business/get keeps about 60 days


class AccountsConfigError(ValueError):
    """accounts.yml cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class HttpSettings:
    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backoff_base_seconds: float = 1.0
    backoff_cap_seconds: float = 60.0
    max_retry_after_seconds: float = 300.0  # a longer Retry-After fails the pull instead of hanging
    requests_per_minute: int = 600  # TikTok: 600 per endpoint per one-minute sliding window


@dataclass(frozen=True)
class AccountConfig:
    handle: str
    api: str  # display | business
    timezone: str
    token_file: Path  # absolute
    base_url: str
    line: int  # 1-based line of the account entry in the file, for messages
    business_id: str | None = None  # business: defaults to the token's open_id
    unlisted_videos: int = 0  # videos the profile counts but the listing never shows (private ones)
    client_key_env: str = CLIENT_KEY_ENV
    client_secret_env: str = CLIENT_SECRET_ENV

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ApiConfig:
    path: Path
    accounts: tuple[AccountConfig, ...]
    business_lookback_days: int = 7
    http: HttpSettings = field(default_factory=HttpSettings)

    @property
    def handles(self) -> list[str]:
        return [a.handle for a in self.accounts]

    def account(self, handle: str) -> AccountConfig:
        for account in self.accounts:
            if account.handle == handle.lstrip("@").lower():  # a partition an older version named `TechCreator`
                return account
        raise AccountsConfigError(f"{self.path}: no account with handle {handle!r} (configured: {self.handles})")


def accounts_file(data_dir: Path) -> Path:
    return config_file(data_dir, ACCOUNTS_FILE_ENV, ACCOUNTS_FILE_NAME)


def load_accounts(data_dir: Path) -> ApiConfig | None:
    """The API configuration, or None when no accounts file exists (then nothing is pulled)."""
    path = existing_config_file(data_dir, ACCOUNTS_FILE_ENV, ACCOUNTS_FILE_NAME, AccountsConfigError)
    if path is None:
        return None
    return parse_accounts(config_text(path, AccountsConfigError), path=path, data_dir=Path(data_dir))


# --- parsing, on YAML nodes so every message can name a line -----------------------------------


class _Doc(ConfigDoc):
    def __init__(self, path: Path):
        super().__init__(path, AccountsConfigError)


def parse_accounts(text: str, *, path: Path, data_dir: Path) -> ApiConfig:
    doc = _Doc(path)
    root = doc.compose(text)
    if root is None:
        raise AccountsConfigError(f"{path}: the file is empty; list accounts under `accounts:` or delete it")
    top = doc.mapping(root, "the file", {"accounts", "business_lookback_days", "http"})
    if "accounts" not in top:
        raise doc.fail(root, "missing `accounts:` (a list of accounts)")
    accounts_node = top["accounts"][1]
    if not isinstance(accounts_node, yaml.SequenceNode) or not accounts_node.value:
        raise doc.fail(accounts_node, "`accounts` must be a non-empty list (one `- handle: ...` entry per account)")

    accounts: list[AccountConfig] = []
    seen: dict[str, int] = {}
    for entry in accounts_node.value:
        account = _account(doc, entry, data_dir)
        if account.handle.lower() in seen:
            raise doc.fail(
                entry,
                f"handle {account.handle!r} is listed twice (first on line {seen[account.handle.lower()]})",
            )
        seen[account.handle.lower()] = account.line
        accounts.append(account)

    lookback = 7
    if "business_lookback_days" in top:
        node = top["business_lookback_days"][1]
        lookback = _int(doc, node, "business_lookback_days", 1, BUSINESS_MAX_LOOKBACK_DAYS)
    http = HttpSettings()
    if "http" in top:
        http = _http(doc, top["http"][1])
    return ApiConfig(path=path, accounts=tuple(accounts), business_lookback_days=lookback, http=http)


_ACCOUNT_KEYS = {
    "handle",
    "api",
    "timezone",
    "token_file",
    "base_url",
    "business_id",
    "unlisted_videos",
    "client_key_env",
    "client_secret_env",
}


def _account(doc: _Doc, node: yaml.Node, data_dir: Path) -> AccountConfig:
    fields = doc.mapping(node, "an account entry", _ACCOUNT_KEYS)
    for required in ("handle", "api", "timezone", "token_file"):
        if required not in fields:
            raise doc.fail(node, f"account entry is missing `{required}`")
    handle = _str(doc, fields["handle"][1], "handle").lstrip("@")
    if not _HANDLE.match(handle):
        raise doc.fail(fields["handle"][1], "handle must be the TikTok username: letters, digits, '.' and '_' only")
    handle = handle.lower()  # as inbox folders and aliases are read: `TechCreator` is the account `techcreator`
    api = _str(doc, fields["api"][1], "api")
    if api not in APIS:
        raise doc.fail(fields["api"][1], f"api must be one of {', '.join(APIS)} (got {api!r})")
    timezone = _str(doc, fields["timezone"][1], "timezone")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise doc.fail(
            fields["timezone"][1], f"unknown time zone {timezone!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    token_text = _str(doc, fields["token_file"][1], "token_file")
    token_file = Path(token_text).expanduser()
    token_file = (token_file if token_file.is_absolute() else data_dir / token_file).resolve()
    base_url = DEFAULT_BASE_URLS[api]
    if "base_url" in fields:
        base_url = _str(doc, fields["base_url"][1], "base_url").rstrip("/")
        if not re.match(r"^https?://[^\s/]+", base_url):
            raise doc.fail(
                fields["base_url"][1],
                "base_url must start with https:// (or http:// for a local test server)",
            )
        if "@" in base_url.split("/")[2]:  # the authority: user:password@host
            raise doc.fail(
                fields["base_url"][1],
                "base_url must not hold a user name or password (user:password@host): it would be archived and "
                "logged with every request, and sent instead of the token",
            )
    business_id = _str(doc, fields["business_id"][1], "business_id") if "business_id" in fields else None
    if business_id is not None and api != "business":
        raise doc.fail(fields["business_id"][1], "business_id only applies to api: business")
    unlisted = 0
    if "unlisted_videos" in fields:
        unlisted = _int(doc, fields["unlisted_videos"][1], "unlisted_videos", 0, 1_000_000)
    envs = {}
    for key, default in (("client_key_env", CLIENT_KEY_ENV), ("client_secret_env", CLIENT_SECRET_ENV)):
        envs[key] = default
        if key in fields:
            name = _str(doc, fields[key][1], key)
            if not _ENV_NAME.match(name):
                raise doc.fail(
                    fields[key][1],
                    f"{key} must name an environment variable (e.g. {default}), not hold a value",
                )
            envs[key] = name
    return AccountConfig(
        handle=handle,
        api=api,
        timezone=timezone,
        token_file=token_file,
        base_url=base_url,
        line=node.start_mark.line + 1,
        business_id=business_id,
        unlisted_videos=unlisted,
        **envs,
    )


def _http(doc: _Doc, node: yaml.Node) -> HttpSettings:
    numbers = {
        "timeout_seconds": (0.1, 600.0),
        "max_attempts": (1, 20),
        "backoff_base_seconds": (0.0, 600.0),
        "backoff_cap_seconds": (0.0, 3600.0),
        "max_retry_after_seconds": (0.0, 3600.0),
        "requests_per_minute": (1, 100_000),
    }
    fields = doc.mapping(node, "`http`", set(numbers))
    values: dict[str, Any] = {}
    for key, (low, high) in numbers.items():
        if key in fields:
            value_node = fields[key][1]
            if isinstance(low, int):
                values[key] = _int(doc, value_node, key, low, high)
            else:
                values[key] = _float(doc, value_node, key, low, high)
    return HttpSettings(**values)


def _str(doc: _Doc, node: yaml.Node, key: str) -> str:
    value = doc.scalar(node, key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise doc.fail(node, f"`{key}` is empty")
    if not isinstance(value, str | int):
        raise doc.fail(node, f"`{key}` must be text")
    return str(value).strip()


def _int(doc: _Doc, node: yaml.Node, key: str, low: int, high: int) -> int:
    value = doc.scalar(node, key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise doc.fail(node, f"`{key}` must be a whole number from {low} to {high}")
    return value


def _float(doc: _Doc, node: yaml.Node, key: str, low: float, high: float) -> float:
    value = doc.scalar(node, key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise doc.fail(node, f"`{key}` must be a number from {low:g} to {high:g}")
    return float(value)
