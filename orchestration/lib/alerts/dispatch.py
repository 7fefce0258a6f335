"""Send each event once per destination, through apprise, and remember what was sent.

State: `<data>/warehouse/alerts_sent.json`, `{"sent": {"<event key> -> <destination>": {"rule", "sent_at"}},
"pending": {"<event key>": {"rule", "title", "body"}}}`, written atomically; a delivery is recorded only after
apprise reported it, so a failed one is tried again by the next run. Events no rule can find again (a failed
run) wait in `pending` until every destination has them. Evaluate-send-record runs under
`<data>/warehouse/alerts.lock`, so the pipeline's alerts step and the run-failure sensor never send the
same event twice. Apprise's own log lines
pass through the config's redactor while it sends; its persistent storage and custom plugins stay off.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.alerts import rules
from orchestration.lib.alerts.config import AlertsConfig, load_alerts, redacted_logs
from orchestration.lib.core.paths import DataPaths

log = logging.getLogger(__name__)
STATE_FILE = "alerts_sent.json"


@dataclass
class AlertsOutcome:
    configured: bool
    events: int = 0  # events the rules found, sent before or not
    sent: list[str] = field(default_factory=list)  # "<key> -> <destination>" delivered now
    failed: list[str] = field(default_factory=list)  # delivery failed: retried next run
    already_sent: int = 0


def state_path(paths: DataPaths) -> Path:
    return paths.warehouse.parent / STATE_FILE


def run_alerts(paths: DataPaths, *, today: date | None = None) -> AlertsOutcome:
    """Evaluate every configured mart and quarantine rule and send what was not sent before.

    Without alerts.yml: nothing is read, nothing is sent, nothing touches the network."""
    config = load_alerts(paths.root)
    if config is None:
        return AlertsOutcome(configured=False)
    today = today or datetime.now(UTC).date()
    return _dispatch(paths, config, lambda: evaluate(paths, config, today))


def alert_run_failed(
    paths: DataPaths, *, run_id: str, job_name: str, failed_steps: list[str], error: str, when: datetime | None = None
) -> AlertsOutcome:
    """The `run_failed` rule for one failed run (Dagster's run-failure sensor, or the CLI's run)."""
    config = load_alerts(paths.root)
    if config is None:
        return AlertsOutcome(configured=False)
    if "run_failed" not in config.rules:
        return AlertsOutcome(configured=True)
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    event = rules.run_failed(run_id=run_id, job_name=job_name, failed_steps=failed_steps, error=error, when=stamp)
    return _dispatch(paths, config, lambda: [event])


def evaluate(paths: DataPaths, config: AlertsConfig, today: date) -> list[rules.Event]:
    """The events of every configured rule except run_failed (which a failed run reports itself)."""
    on = config.rules
    events: list[rules.Event] = []
    con = duckdb.connect(":memory:")  # reads parquet files only: the pipeline's warehouse is never opened
    try:
        if "no_new_export" in on:
            events += rules.no_new_export(con, paths.marts, today=today, **on["no_new_export"].params)
        if "followers_drop" in on:
            events += rules.followers_drop(con, paths.marts, **on["followers_drop"].params)
        if "breakout_video" in on:
            events += rules.breakout_video(con, paths.marts, **on["breakout_video"].params)
    finally:
        con.close()
    if "files_quarantined" in on:
        events += rules.files_quarantined(paths)
    return events


def _dispatch(paths: DataPaths, config: AlertsConfig, find) -> AlertsOutcome:
    outcome = AlertsOutcome(configured=True)
    state_file = state_path(paths)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    with _locked(state_file.with_name("alerts.lock")):
        events = find()
        outcome.events = len(events)
        sent, pending = _load_state(state_file)
        found = {event.key for event in events}
        events += [rules.Event(key=key, **item) for key, item in pending.items() if key not in found]
        events = [event for event in events if event.rule in config.rules]  # a pending rule may be off since
        for destination in config.destinations:
            for message, covered in _messages(events, destination, config, sent, outcome):
                # a failed run's error text could quote anything: mask this config's secrets in every message
                message = replace(message, title=config.redact(message.title), body=config.redact(message.body))
                delivered = _send(config, destination, message)
                for event in covered:
                    delivery = f"{event.key} -> {destination}"
                    if delivered:
                        stamp = datetime.now(UTC).isoformat(timespec="seconds")
                        sent[delivery] = {"rule": event.rule, "sent_at": stamp}
                        outcome.sent.append(delivery)
                    else:
                        outcome.failed.append(delivery)
                        log.warning("alert %s to %s not delivered; the next run tries again", event.key, destination)
                        if event.rule == "run_failed":  # no rule finds a failed run again: keep it
                            pending[event.key] = {"rule": event.rule, "title": event.title, "body": event.body}
                # saved after each message: a crash later never repeats this one
                _save_state(state_file, sent, {k: v for k, v in pending.items() if not _done(k, sent, config)})
    return outcome


def _messages(events, destination: str, config: AlertsConfig, sent: dict, outcome: AlertsOutcome) -> list:
    """(message, events it covers) for one destination: one message per event, except that the files a
    run quarantined go out as one list (a bad batch of downloads is one piece of news, not sixty)."""
    single, quarantined = [], []
    for event in events:
        if destination not in config.rules[event.rule].to:
            continue
        if f"{event.key} -> {destination}" in sent:
            outcome.already_sent += 1
            continue
        (quarantined if event.rule == "files_quarantined" else single).append(event)
    messages = [(event, [event]) for event in single]
    if quarantined:
        digest = quarantined[0] if len(quarantined) == 1 else rules.quarantine_digest(quarantined)
        messages.append((digest, quarantined))
    return messages


def _done(key: str, sent: dict, config: AlertsConfig) -> bool:
    rule = key.split(":", 1)[0]
    return rule not in config.rules or all(f"{key} -> {d}" in sent for d in config.rules[rule].to)


def _send(config: AlertsConfig, destination: str, event: rules.Event) -> bool:
    import apprise

    # No persistent storage (it would write under the home folder) and no plugin folders: only the
    # configured URL is ever contacted.
    asset = apprise.AppriseAsset(storage_mode="memory", plugin_paths=[])
    notifier = apprise.Apprise(asset=asset)
    with redacted_logs(config.redact):
        try:
            if not notifier.add(config.destinations[destination].url):
                return False
            return bool(notifier.notify(title=event.title, body=event.body, body_format=apprise.NotifyFormat.TEXT))
        except Exception as error:  # a plugin's bug must not stop the other alerts; its text may hold the URL
            log.warning(
                "apprise failed for %s: %s", destination, config.redact.logs(f"{type(error).__name__}: {error}")
            )
            return False


@contextmanager
def _locked(lock_file: Path) -> Iterator[None]:
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released by the OS if this process dies
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_state(state_file: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    if not state_file.is_file():
        return {}, {}
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        return dict(state["sent"]), dict(state.get("pending", {}))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{state_file} is not an alerts state file ({error}); move it away to start over") from None


def _save_state(state_file: Path, sent: dict[str, dict], pending: dict[str, dict]) -> None:
    temporary = state_file.with_suffix(".tmp")
    temporary.write_text(
        json.dumps({"sent": sent, "pending": pending}, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    os.replace(temporary, state_file)
