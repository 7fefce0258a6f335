"""The API archive: one read-only JSON file per endpoint pull, and its manifest lines.

Each file wraps every exchange of one endpoint pull exactly as received (tokens masked; a body that
contains a secret is masked too, a secret beats byte-exactness) with the request parameters, pull
times and outcome, under `<data>/raw/archive/api/<api>/<handle>/<endpoint>/<local date>/`. Bytes and
manifest lines are written by `orchestration.lib.core.archive`, the archive's only writer. A wrapper
holds everything a replay needs (`replay.replay_api_archive`): the account's handle, API, time zone
and business id, the plan, the outcome, and `account_pull_id` tying the endpoint pulls of one
account pull together.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.lib.api.plan import PullPlan
from orchestration.lib.core.archive import append_manifest_lines, store_bytes
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.tiktok_api.common import ApiSession
from orchestration.lib.tiktok_api.config import AccountConfig
from orchestration.lib.tiktok_api.redact import contains_secret, redact, redact_value

if TYPE_CHECKING:
    from orchestration.lib.api.landing import AccountPull, EndpointPull

ARCHIVE_FORMAT = "tiktok-api-pull/1"


def api_archive_dir(paths: DataPaths) -> Path:
    return paths.api_manifest.parent


def archive_pulls(
    paths: DataPaths, account: AccountConfig, plan: PullPlan, result: AccountPull, session: ApiSession
) -> None:
    """Archive every endpoint pull of `result` (sets its archive_path and archive_sha256), then list them."""
    folder = api_archive_dir(paths)
    manifest_rows = []
    # the endpoint pulls of one account pull are parsed together again on replay
    account_pull_id = result.endpoints[0].pull_id if result.endpoints else None
    for pull in result.endpoints:
        wrapper = _wrapper(account, plan, result, pull, session) | {"account_pull_id": account_pull_id}
        data = (json.dumps(wrapper, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        relative = Path(
            account.api,
            account.handle,
            pull.endpoint,
            plan.local_date.isoformat(),
            f"{pull.pulled_at:%Y%m%dT%H%M%S%fZ}_{pull.pull_id}.json",
        )
        store_bytes(folder / relative, data)
        pull.archive_path = (Path("api") / relative).as_posix()
        pull.archive_sha256 = hashlib.sha256(data).hexdigest()
        manifest_rows.append(
            {
                "sha256": pull.archive_sha256,
                "archive_path": pull.archive_path,
                "pull_id": pull.pull_id,
                "account_pull_id": account_pull_id,
                "account_handle": account.handle,
                "api": account.api,
                "endpoint": pull.endpoint,
                "pulled_at": wrapper["pulled_at"],
                "status": result.status,
                "size_bytes": len(data),
            }
        )
    append_manifest_lines(paths.api_manifest, manifest_rows)


def _wrapper(
    account: AccountConfig, plan: PullPlan, result: AccountPull, pull: EndpointPull, session: ApiSession
) -> dict:
    exchanges = [exchange.to_json() for name, exchange in session.exchanges if name == pull.endpoint]
    redacted = False
    for record in exchanges:
        response = record.get("response") or {}
        text = response.get("body_text")
        if text is not None and contains_secret(text):
            response["body_text"], redacted = redact(text), True  # a secret beats byte-exactness
    if not redacted:
        # Requests were recorded without secrets already; masked once more as a belt-and-braces measure.
        for record in exchanges:
            record["request"] = redact_value(record["request"])
    return {
        "format": ARCHIVE_FORMAT,
        "pull_id": pull.pull_id,
        "account_handle": account.handle,
        "api": account.api,
        "endpoint": pull.endpoint,
        "purpose": plan.purpose,
        "timezone": account.timezone,
        "business_id": account.business_id,  # as configured (None: the token's open_id was used)
        "local_date": plan.local_date.isoformat(),
        "snapshot_date": plan.snapshot_date.isoformat() if plan.snapshot_date else None,
        "requested_metrics_window": [plan.metrics_start.isoformat(), plan.metrics_end.isoformat()]
        if plan.metrics_start and pull.endpoint == "business_get"
        else None,
        "pulled_at": pull.pulled_at.isoformat(timespec="microseconds"),
        "finished_at": pull.finished_at.isoformat(timespec="microseconds") if pull.finished_at else None,
        "status": result.status,
        "reason": redact(result.reason) if result.reason else None,
        "bodies_redacted": redacted,
        "exchanges": redact_value(exchanges) if redacted else exchanges,
    }
