"""Alerts: rules over the published marts and the run's outcome, delivered through apprise.

Declared in `<data>/alerts.yml` (or the file `TIKTOK_ALERTS_FILE` names). Without the file nothing is read,
nothing is sent and nothing touches the network.

```yaml
destinations:                       # name → one apprise URL (Slack, Discord, Telegram, mailto, json://, ...)
  team:
    url: "slack://${SLACK_TOKEN_A}/${SLACK_TOKEN_B}/${SLACK_TOKEN_C}/#tiktok"   # ${NAME}: from the environment
  ops:
    url_file: secrets/ops.url       # the whole URL in a file under the data dir, mode 0600
rules:                              # a rule listed is on; `to:` defaults to every destination
  no_new_export: {days: 3}          # newest export (or API follower day) 3+ days before the run date
  followers_drop: {percent: 5}      # followers fell more than 5% from one day to the next
  breakout_video: {min_score: 3, min_views: 1000}   # 7-day growth ≥ 3x the account's median
  files_quarantined: {to: [ops]}    # files quarantined (new reports; one message per run lists them)
  run_failed: {to: [ops]}           # a pipeline run failed
```

Optional `lookback_days` (default 7) on `followers_drop` and `breakout_video`: only days that recent in
the account's own data count, so enabling alerts on a long history does not send its whole past.

Each event has a stable key (rule, account and day / video / file / run); a delivery to a destination is
recorded in `<data>/warehouse/alerts_sent.json` after apprise confirms it, so a rerun never repeats it and
a failed delivery is retried by the next run. Messages are plain text: a title, the numbers and the dates.
Secrets (`${NAME}` values, url_file contents, the resolved URLs) never reach a log line, an error, the
state file or a message. Errors in alerts.yml name the file and line; unknown keys are errors.

Modules: `config` (alerts.yml), `rules` (the events), `dispatch` (send once, state). Imports
`orchestration.lib.core` only; no Dagster (the asset and the run-failure sensor are in `defs/alerts.py`).
"""

from orchestration.lib.alerts.config import AlertsConfigError, load_alerts
from orchestration.lib.alerts.dispatch import AlertsOutcome, alert_run_failed, run_alerts
from orchestration.lib.alerts.rules import innermost_error

__all__ = ["AlertsConfigError", "AlertsOutcome", "alert_run_failed", "innermost_error", "load_alerts", "run_alerts"]
