"""Rebuild the API raw tables and `raw.api_pulls` from the API archive alone (no network, no token).

Every archived endpoint pull (`<data>/raw/archive/api/**.json`, listed in its `manifest.jsonl`) is
read back; the endpoint pulls of one account pull are put together again (`account_pull_id`, or for
archives written before it existed, consecutive pulls of one account with the same plan and outcome),
and account pulls are replayed in the order they were made (manifest order, then pull time):

- a pull that was published (`complete` or `unchanged`) is re-parsed from the response bodies as
  received, through the same session code (envelopes, pagination), field maps (`parse`), pandera
  contracts and load (`load`) as the original pull, so the last published pull of each account and
  day wins exactly as it did. The completeness decision is not taken again: it was made with the
  warehouse of that day and is part of the archived outcome. A pull whose responses no longer pass
  today's contracts is recorded as `failed` with the reason;
- every other pull is recorded in `raw.api_pulls` with its archived status and reason, and loads nothing.

Wrapper files missing from the manifest (a crash between the file and its line) are replayed too, and
their lines are appended to the manifest.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from orchestration.lib.api.archive import ARCHIVE_FORMAT, api_archive_dir
from orchestration.lib.api.fields import PullFailed
from orchestration.lib.api.landing import AccountPull, EndpointPull, pull_steps
from orchestration.lib.api.load import load, record_pulls
from orchestration.lib.api.parse import parse
from orchestration.lib.api.plan import PullPlan
from orchestration.lib.core.archive import append_manifest_lines, read_manifest
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import API_RAW_TABLE_COLUMNS
from orchestration.lib.tiktok_api.business import BusinessSession
from orchestration.lib.tiktok_api.common import ApiCallError
from orchestration.lib.tiktok_api.config import AccountConfig
from orchestration.lib.tiktok_api.display import DisplaySession
from orchestration.lib.tiktok_api.http import Response
from schemas.api_contracts import validate

PUBLISHED = ("complete", "unchanged")


@dataclass
class ApiReplayReport:
    pulls: list[AccountPull] = field(default_factory=list)  # in replay order, with their replayed status
    unreadable: list[str] = field(default_factory=list)  # archive files that are no pull wrapper
    missing: list[str] = field(default_factory=list)  # listed in the manifest, absent from the archive
    manifest_lines_added: int = 0

    @property
    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pull in self.pulls:
            counts[pull.status] = counts.get(pull.status, 0) + 1
        return counts


@dataclass(frozen=True)
class _Archived:
    path: str  # relative to the archive folder ("api/...")
    sha256: str
    size: int
    wrapper: dict
    order: tuple  # (manifest line, pulled_at): the order the pulls were made in


def replay_api_archive(paths: DataPaths, con: duckdb.DuckDBPyConnection) -> ApiReplayReport:
    """Empty the API raw tables and raw.api_pulls, then replay every archived account pull in order."""
    report = ApiReplayReport()
    archived = _archived_pulls(paths, report)
    con.execute("begin transaction")
    for table in (*API_RAW_TABLE_COLUMNS, "api_pulls"):
        con.execute(f"delete from raw.{table}")
    con.execute("commit")
    for group in _account_pulls(archived):
        report.pulls.append(_replay(con, group))
    return report


def _archived_pulls(paths: DataPaths, report: ApiReplayReport) -> list[_Archived]:
    folder = api_archive_dir(paths)
    listed, _ = read_manifest(paths.api_manifest, key=("archive_path",))
    line_of = {row["archive_path"]: index for index, row in enumerate(listed)}
    archived, unlisted = [], []
    for path in _wrapper_files(folder):
        relative = path.relative_to(paths.archive).as_posix()
        data = path.read_bytes()
        try:
            wrapper = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError):
            wrapper = None
        if not isinstance(wrapper, dict) or wrapper.get("format") != ARCHIVE_FORMAT:
            report.unreadable.append(relative)
            continue
        pulled_at = wrapper["pulled_at"]
        item = _Archived(
            relative,
            hashlib.sha256(data).hexdigest(),
            len(data),
            wrapper,
            (line_of.get(relative, len(line_of)), pulled_at),
        )
        archived.append(item)
        if relative not in line_of:
            unlisted.append(item)
    found = {item.path for item in archived}
    report.missing = [p for p in line_of if p not in found]
    report.manifest_lines_added = append_manifest_lines(
        paths.api_manifest, [_manifest_line(item) for item in unlisted], key=("archive_path",)
    )
    return sorted(archived, key=lambda item: (*item.order, item.path))


def _wrapper_files(folder: Path) -> list[Path]:
    """Regular *.json files under the API archive, links never followed."""
    found = []
    for root, folders, files in os.walk(folder, followlinks=False):
        folders.sort()
        for name in sorted(files):
            path = Path(root) / name
            if name.endswith(".json") and stat.S_ISREG(os.lstat(path).st_mode):
                found.append(path)
    return found


def _manifest_line(item: _Archived) -> dict:
    wrapper = item.wrapper
    return {
        "sha256": item.sha256,
        "archive_path": item.path,
        "pull_id": wrapper["pull_id"],
        "account_pull_id": wrapper.get("account_pull_id"),
        "account_handle": wrapper["account_handle"],
        "api": wrapper["api"],
        "endpoint": wrapper["endpoint"],
        "pulled_at": wrapper["pulled_at"],
        "status": wrapper["status"],
        "size_bytes": item.size,
    }


def _account_pulls(archived: list[_Archived]) -> list[list[_Archived]]:
    """Endpoint pulls grouped into account pulls, in the order the account pulls were made."""
    groups: dict[object, list[_Archived]] = {}
    open_group: dict[str, tuple] = {}  # account → (key of its last group, its plan) for old archives
    for item in archived:
        wrapper = item.wrapper
        if wrapper.get("account_pull_id"):
            key = ("id", wrapper["account_pull_id"])
        else:  # consecutive endpoint pulls of one account, same plan and outcome, each endpoint once
            plan = (wrapper["api"], wrapper["purpose"], wrapper["local_date"], wrapper["status"])
            last = open_group.get(wrapper["account_handle"])
            endpoints = {member.wrapper["endpoint"] for member in groups[last[0]]} if last else set()
            if last and last[1] == plan and wrapper["endpoint"] not in endpoints:
                key = last[0]
            else:
                key = ("adjacent", item.path)
                open_group[wrapper["account_handle"]] = (key, plan)
        groups.setdefault(key, []).append(item)
    return sorted(groups.values(), key=lambda group: min(member.order for member in group))


def _replay(con: duckdb.DuckDBPyConnection, group: list[_Archived]) -> AccountPull:
    first = group[0].wrapper
    account = AccountConfig(
        handle=first["account_handle"],
        api=first["api"],
        timezone=first["timezone"],
        token_file=Path(),
        base_url="",
        line=0,
        business_id=first.get("business_id"),
    )
    window = next(
        (m.wrapper["requested_metrics_window"] for m in group if m.wrapper.get("requested_metrics_window")), None
    )
    plan = PullPlan(
        purpose=first["purpose"],
        local_date=date.fromisoformat(first["local_date"]),
        snapshot_date=date.fromisoformat(first["snapshot_date"]) if first.get("snapshot_date") else None,
        metrics_start=date.fromisoformat(window[0]) if window else None,
        metrics_end=date.fromisoformat(window[1]) if window else None,
    )
    session = (_RecordedDisplay if account.api == "display" else _RecordedBusiness)(account, None, None)
    session.recorded = {}
    result = AccountPull(account.handle, account.api, plan, status=first["status"], reason=first.get("reason"))
    for member in group:
        wrapper = member.wrapper
        answers = _answers(session, wrapper)
        session.recorded[wrapper["endpoint"]] = answers
        result.endpoints.append(
            EndpointPull(
                endpoint=wrapper["endpoint"],
                pull_id=wrapper["pull_id"],
                pulled_at=datetime.fromisoformat(wrapper["pulled_at"]),
                finished_at=datetime.fromisoformat(wrapper["finished_at"]) if wrapper.get("finished_at") else None,
                pages=len(answers),
                http_requests=len(wrapper.get("exchanges") or []),
                archive_path=member.path,
                archive_sha256=member.sha256,
            )
        )
    try:
        responses = {endpoint: fetch() for endpoint, fetch in pull_steps(session, plan)}
        parsed = parse(account, plan, responses, result.endpoints)
        result.videos_listed, result.videos_expected = parsed.videos_listed, parsed.videos_expected
        if result.status in PUBLISHED:
            frames, problems = parsed.frames, []
            for table, frame in frames.items():
                frames[table], failures = validate(table, frame)
                problems += [f"{table}: {failure}" for failure in failures]
            if problems:
                raise PullFailed("contract failed: " + "; ".join(problems[:5]))
            result.rows_by_table = {table: len(frame) for table, frame in frames.items()}
            result.status = load(con, account, plan, frames, result)
    except Exception as error:  # noqa: BLE001 - one pull that cannot be replayed never stops the others
        if result.status in PUBLISHED:
            result.status, result.reason = "failed", f"replay: {type(error).__name__}: {error}"
    record_pulls(con, account, plan, result)
    return result


def _answers(session: DisplaySession | BusinessSession, wrapper: dict) -> list[dict]:
    """The `data` of every archived response the session accepted, in order: answers it retried
    (429, 5xx, API-level rate limits) or that rejected the token (then refreshed) are left out."""
    answers = []
    for exchange in wrapper.get("exchanges") or []:
        recorded = exchange.get("response") or {}
        if "status" not in recorded:  # a timeout or dropped connection: retried
            continue
        if "body_base64" in recorded:
            body = base64.b64decode(recorded["body_base64"])
        else:
            body = (recorded.get("body_text") or "").encode("utf-8")
        response = Response(recorded["status"], recorded.get("headers") or {}, body, exchange=None)
        if session.retry_decision(response) is not None:
            continue
        try:
            outcome = session.read(wrapper["endpoint"], response)
        except ApiCallError:  # the answer that failed a pull that was not published
            continue
        if not outcome.unauthorized:
            answers.append(outcome.data or {})
    return answers


class _Recorded:
    """A session whose calls are answered from the archive, in order: no network, no token."""

    business_id = None  # only sent in requests, which are not made
    recorded: dict[str, list[dict]]

    def call(self, endpoint: str, method: str, path: str, *, query: dict | None = None, json_body=None) -> dict:
        answers = self.recorded.get(endpoint) or []
        if not answers:
            raise PullFailed(f"{endpoint}: the archive holds no further answer")
        return answers.pop(0)


class _RecordedDisplay(_Recorded, DisplaySession):
    pass


class _RecordedBusiness(_Recorded, BusinessSession):
    pass
