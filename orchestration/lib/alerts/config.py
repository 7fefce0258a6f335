"""`alerts.yml`: which rules are on and where their messages go (format: this package's docstring).

Parsed on YAML nodes, as `accounts.yml` is, so every error names the file and the line; unknown keys are
errors. Secret parts of a destination URL come from the environment (`${NAME}`) or from a file under the
data directory readable by its owner only (`url_file:`); the resolved values are registered with the
config's `Redactor` and never appear in a message, a log line or the state file.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from orchestration.lib.core.yaml_config import ConfigDoc, config_text, existing_config_file

ALERTS_FILE_ENV = "TIKTOK_ALERTS_FILE"
ALERTS_FILE_NAME = "alerts.yml"
MASK = "[REDACTED]"
_ENV_REF = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DEST_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words in messages
_MIN_PART_LENGTH = 8  # parts of a destination URL holding a digit: tokens are long, path words are short
_TOKEN_LENGTH = 20  # parts of a destination URL masked whatever they hold: no word is that long
_MIN_NUMBER_LENGTH = 6  # a destination URL's numbers masked in log lines (a chat id, a phone number), not a port
# Loggers that may print a destination URL while apprise sends (apprise's own; requests' urllib3 logs paths).
_URL_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")

# rule → {parameter: (kind, low, high, default)}; a default of None makes the parameter required.
RULE_PARAMS: dict[str, dict[str, tuple[str, float, float, Any]]] = {
    "no_new_export": {"days": ("int", 1, 365, None)},
    "followers_drop": {"percent": ("float", 0.01, 100, None), "lookback_days": ("int", 1, 365, 7)},
    "breakout_video": {
        "min_score": ("float", 1, 1000, 3.0),
        "min_views": ("int", 0, 10**12, 1000),
        "lookback_days": ("int", 1, 365, 7),
    },
    "files_quarantined": {},
    "run_failed": {},
}


class AlertsConfigError(ValueError):
    """alerts.yml cannot be used; the message names the file and line and never holds a secret."""


class Redactor:
    """Masks the secret values one config resolved (environment values, secret files, whole URLs). Called, it masks
    a message's text; `logs` masks a log line, also with the values added `in_logs_only`: every longer piece of a
    destination URL, which in a message's text would blank ordinary words ("services" in a title)."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._log_secrets: set[str] = set()

    def add(self, value: str, in_logs_only: bool = False) -> None:
        if len(value) >= _MIN_SECRET_LENGTH:
            (self._log_secrets if in_logs_only else self._secrets).add(value)

    def __call__(self, text: Any) -> str:
        return _masked(text, self._secrets)

    def logs(self, text: Any) -> str:
        return _masked(text, self._secrets | self._log_secrets)


def _masked(text: Any, secrets: set[str]) -> str:
    result = "" if text is None else str(text)
    for secret in sorted(secrets, key=len, reverse=True):  # a URL before the token inside it
        result = result.replace(secret, MASK)
    return result


@dataclass(frozen=True)
class Destination:
    name: str
    url: str = field(repr=False)  # holds secrets: never printed
    line: int


@dataclass(frozen=True)
class Rule:
    name: str
    to: tuple[str, ...]  # destination names
    params: dict[str, Any]
    line: int


@dataclass(frozen=True)
class AlertsConfig:
    path: Path
    destinations: dict[str, Destination]
    rules: dict[str, Rule]
    redact: Redactor = field(repr=False)


class _RedactingFilter(logging.Filter):
    def __init__(self, redact: Redactor):
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact.logs(record.getMessage()), ()
        return True


@contextmanager
def redacted_logs(redact: Redactor) -> Iterator[None]:
    """While apprise works: its log lines, and those of the HTTP library under it, pass through `redact`."""
    redacting = _RedactingFilter(redact)
    loggers = [logging.getLogger(name) for name in _URL_LOGGERS]
    for logger in loggers:
        logger.addFilter(redacting)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(redacting)


def load_alerts(data_dir: Path) -> AlertsConfig | None:
    """The alerts configuration, or None when there is no alerts file (then nothing is sent)."""
    path = existing_config_file(data_dir, ALERTS_FILE_ENV, ALERTS_FILE_NAME, AlertsConfigError)
    if path is None:
        return None
    return parse_alerts(config_text(path, AlertsConfigError), path=path, data_dir=Path(data_dir))


class _Doc(ConfigDoc):
    def __init__(self, path: Path):
        super().__init__(path, AlertsConfigError)


def parse_alerts(text: str, *, path: Path, data_dir: Path) -> AlertsConfig:
    doc = _Doc(path)
    root = doc.compose(text)
    if root is None:
        raise AlertsConfigError(f"{path}: the file is empty; declare `destinations:` and `rules:` or delete it")
    top = doc.mapping(root, "the file", {"destinations", "rules"})
    for required in ("destinations", "rules"):
        if required not in top:
            raise doc.fail(root, f"missing `{required}:`")
    redactor = Redactor()
    destinations_node = top["destinations"][1]
    destinations: dict[str, Destination] = {}
    for name, (key_node, value_node) in doc.mapping(destinations_node, "`destinations`", None).items():
        if not _DEST_NAME.match(name):
            raise doc.fail(key_node, "a destination name may hold letters, digits, '.', '_' and '-' only")
        destinations[name] = _destination(doc, name, value_node, data_dir, redactor)
    if not destinations:
        raise doc.fail(destinations_node, "`destinations` must name at least one destination")
    rules: dict[str, Rule] = {}
    for name, (key_node, value_node) in doc.mapping(top["rules"][1], "`rules`", set(RULE_PARAMS)).items():
        rules[name] = _rule(doc, name, key_node, value_node, destinations)
    return AlertsConfig(path=path, destinations=destinations, rules=rules, redact=redactor)


def _destination(doc: _Doc, name: str, node: yaml.Node, data_dir: Path, redactor: Redactor) -> Destination:
    fields = doc.mapping(node, f"destination {name!r}", {"url", "url_file"})
    if len(fields) != 1:
        raise doc.fail(node, f"destination {name!r} needs exactly one of `url` or `url_file`")
    if "url" in fields:
        url_node = fields["url"][1]
        url = _substitute(doc, url_node, _str(doc, url_node, "url"), redactor)
    else:
        file_node = fields["url_file"][1]
        file = Path(_str(doc, file_node, "url_file")).expanduser()
        file = file if file.is_absolute() else data_dir / file
        if not file.is_file():
            raise doc.fail(file_node, f"url_file {file} does not exist")
        if stat.S_IMODE(file.stat().st_mode) & 0o077:
            raise doc.fail(file_node, f"url_file {file} is readable by others: chmod 600 it")
        url = config_text(file, AlertsConfigError).strip()
        url_node = file_node
    _mask_url(url, redactor)
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not re.fullmatch(r"[A-Za-z0-9+]{2,32}", scheme):
        raise doc.fail(url_node, f"destination {name!r}: not an apprise URL (scheme://...)")
    import apprise  # only when alerts are configured

    with redacted_logs(redactor):  # apprise logs the URL it loaded
        accepted = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if accepted is None:
        raise doc.fail(url_node, f"destination {name!r}: apprise does not accept this {scheme}:// URL")
    return Destination(name=name, url=url, line=node.start_mark.line + 1)


def _mask_url(url: str, redactor: Redactor) -> None:
    """A destination URL is a secret, written in alerts.yml, taken from the environment or from url_file alike: the
    whole URL, its password and its pieces that look like tokens (8+ characters with a digit, not an address like
    127.0.0.1, or 20+ of anything: a Slack token is the URL's "host", a webhook's its path) are masked everywhere.
    Apprise's and urllib3's log lines quote pieces (apprise logs the http:// URL it turned a json:// one into), so
    there every other piece of 8+ characters and number of 6+ digits (an ntfy topic, a chat id) and a short
    word-like password are masked too: in a message's text they would blank ordinary words ("services", "tiktok")."""
    redactor.add(url)
    if password := _password(url):
        redactor.add(password, in_logs_only=len(password) < _MIN_PART_LENGTH and not _has_digit(password))
    for part in re.split(r"[/:@?&=#]+", url.split("://", 1)[-1]):
        digits = _has_digit(part) and not set(part) <= set("0123456789.")
        if len(part) >= _MIN_PART_LENGTH and digits or len(part) >= _TOKEN_LENGTH:
            redactor.add(part)
        elif len(part) >= _MIN_PART_LENGTH or (part.isdigit() and len(part) >= _MIN_NUMBER_LENGTH):
            redactor.add(part, in_logs_only=True)


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _substitute(doc: _Doc, node: yaml.Node, url: str, redactor: Redactor) -> str:
    """`${NAME}` → the environment value, registered as a secret; a missing variable is named, not guessed."""

    def value(match: re.Match) -> str:
        env = match.group(1)
        if not _ENV_NAME.match(env):
            raise doc.fail(node, f"`${{{env}}}` is not an environment variable name")
        if not os.environ.get(env):
            raise doc.fail(node, f"environment variable {env} is not set (the URL uses ${{{env}}})")
        redactor.add(os.environ[env])
        return os.environ[env]

    return _ENV_REF.sub(value, url)


def _rule(doc: _Doc, name: str, key_node: yaml.Node, node: yaml.Node, destinations: dict) -> Rule:
    spec = RULE_PARAMS[name]
    is_empty = isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")
    fields = {} if is_empty else doc.mapping(node, f"rule {name!r}", {*spec, "to"})
    params: dict[str, Any] = {}
    for param, (kind, low, high, default) in spec.items():
        if param not in fields:
            if default is None:
                raise doc.fail(key_node, f"rule {name!r} needs `{param}`")
            params[param] = default
            continue
        value = doc.scalar(fields[param][1], param)
        ok_type = int if kind == "int" else int | float
        if isinstance(value, bool) or not isinstance(value, ok_type) or not low <= value <= high:
            what = "a whole number" if kind == "int" else "a number"
            raise doc.fail(fields[param][1], f"`{param}` of rule {name!r} must be {what} from {low:g} to {high:g}")
        params[param] = value
    to = tuple(destinations)
    if "to" in fields:
        to_node = fields["to"][1]
        if isinstance(to_node, yaml.ScalarNode):
            to = (_str(doc, to_node, "to"),)
        elif isinstance(to_node, yaml.SequenceNode) and to_node.value:
            to = tuple(_str(doc, item, "to") for item in to_node.value)
        else:
            raise doc.fail(to_node, "`to` must be a destination name or a list of them")
        for target in to:
            if target not in destinations:
                raise doc.fail(to_node, f"rule {name!r} sends to {target!r}, which is not under `destinations`")
    return Rule(name=name, to=to, params=params, line=key_node.start_mark.line + 1)


def _str(doc: _Doc, node: yaml.Node, key: str) -> str:
    value = doc.scalar(node, key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise doc.fail(node, f"`{key}` is empty")
    if not isinstance(value, str):
        raise doc.fail(node, f"`{key}` must be text")
    return value.strip()
