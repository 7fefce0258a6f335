"""pandera contracts: one per raw LIVE table, every rule marked structural or plausibility.

- **structural**: the document cannot be trusted as a whole; it is quarantined (wrong type, a missing
  required value, a count below zero, a repeated key);
- **plausibility**: the row is odd but may be real; it is flagged and kept (a like event of 40 hearts,
  an unknown record type, an event a day away from its receipt).

`RULES` gives each rule, the readers' included, its severity and a one-line why (the vocabulary of
`schemas/studio_contracts.py`); pandera's own rules (types, nullability, columns) are structural, and so
is any rule not listed. The frames carry `document_id` and `source_row`; the other lineage columns
(account_handle, export_date, exported_at) are added at load, as for the Studio tables. The raw DDL is
generated from these columns (core/warehouse.py `_sql_type`: a `*_at` datetime is a timestamp, any other
a date).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from schemas.live_files import (
    BACKSTAGE_COLUMNS,
    LIVE_CENTER_KINDS,
    LIVE_END_REASONS,
    MAX_LIKES_PER_EVENT,
    RECORD_TYPES,
    SESSION_ENDINGS,
)

Severity = Literal["structural", "plausibility"]
STRUCTURAL: Severity = "structural"
PLAUSIBILITY: Severity = "plausibility"
TIKTOK_LIVE_LAUNCH = pd.Timestamp("2016-01-01")  # no LIVE happened before
MAX_EVENT_CLOCK_GAP = pd.Timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    severity: Severity
    why: str


_S, _P = STRUCTURAL, PLAUSIBILITY
RULES: dict[str, Rule] = {
    # pandera's own
    "column_in_schema": Rule(_S, "a column the raw table does not have"),
    "column_in_dataframe": Rule(_S, "a column of the raw table is missing"),
    "not_nullable": Rule(_S, "a required value is missing"),
    # the readers (orchestration/lib/live): the container and the text
    "not_empty": Rule(_S, "an empty file has nothing to land"),
    "file_type": Rule(_S, "only .jsonl(.gz), .csv and .xlsx are LIVE files"),
    "utf8": Rule(_S, "logs and exports are UTF-8; other bytes would land as wrong text"),
    "safe_gzip": Rule(_S, "a gzip past the ZIP limits (size, ratio) or damaged is never inflated"),
    "safe_zip": Rule(_S, "an XLSX is a ZIP: past the ZIP limits it is never opened"),
    "xlsx": Rule(_S, "a workbook openpyxl cannot read has no rows"),
    "gzip_complete": Rule(_P, "a recorder killed mid-write leaves a cut stream: what was written is real"),
    "json": Rule(_S, "a complete line that is not JSON: the file is not a log, or was edited"),
    "json_object": Rule(_S, "every record is a JSON object"),
    "common_fields": Rule(_S, "every record carries the ten common fields (docs/live.md)"),
    "format": Rule(_S, "another format tag is another format: its fields may mean other things"),
    "field_type": Rule(_S, "a value of the wrong kind (text where a number goes) is not what the field says"),
    "partial_last_line": Rule(_P, "the recorder killed mid-write cuts its last line: dropped, the rest is whole"),
    "too_many_bad_lines": Rule(_S, "past 20 bad lines the file is plainly not a log: listing stops"),
    "sidecar_json": Rule(_S, "a sidecar that is not a JSON object cannot describe its session"),
    "sidecar_format": Rule(_S, "a sidecar of another format may mean other things"),
    "sidecar_fields": Rule(_S, "a sidecar without session_id, started_at_ms and connections describes nothing"),
    "sidecar_field_type": Rule(_S, "a sidecar value of the wrong kind is not what the field says"),
    "sidecar_session": Rule(_S, "a sidecar of another session would attach the wrong facts to the log"),
    "sidecar_room": Rule(_S, "a sidecar of another room would attach the wrong facts to the log"),
    "sidecar_event_count": Rule(_P, "the sidecar's count differs from the log's lines: lines lost, or written late"),
    "header": Rule(_S, "two headers for one column: which one is right cannot be told"),
    "row_width": Rule(_S, "a row with fewer or more fields than the header has shifted values"),
    "value_shape": Rule(_S, "a cell that fits none of its column's shapes would land as a guess"),
    "backstage_header": Rule(_S, "without period, creator id and username it is not a Creator data export"),
    "unknown_column": Rule(_P, "TikTok adds Backstage columns: an unknown one is ignored, not a reason to stop"),
    "download_time_in_name": Rule(_P, "the download moment is in TikTok's file name; without it the landing dates it"),
    "live_center_header": Rule(_S, "the header set is the only way to tell a LIVE Center file's kind"),
    # the landing (orchestration/lib/live/landing.py)
    "account_handle": Rule(_S, "a row must belong to an account: the log's handle or the folder inbox/<handle>/"),
    "file_size": Rule(_S, "past 256 MiB (a log) or 64 MiB (a sheet) it is no LIVE file: never read whole"),
    "unreadable": Rule(_S, "any unforeseen failure reading one file quarantines that file, never the drop"),
    # any table
    "source_row_from_1": Rule(_S, "rows count from 1 (lines of a log, data rows of a sheet)"),
    "non_negative": Rule(_S, "a count below zero is impossible: the value is garbled"),
    "after_tiktok_live_launch": Rule(
        _S, "no LIVE predates 2016: an epoch in seconds read as milliseconds lands in 1970"
    ),
    # live_events
    "one_session_per_file": Rule(_S, "a log file is one recording; two sessions mean two logs were joined"),
    "seq_from_1": Rule(_S, "the recorder numbers its lines 1, 2, 3 ..."),
    "seq_unique_per_session": Rule(_S, "seq orders the recorder's lines; a repeat means two writers or a spliced file"),
    "user_id_numeric": Rule(_S, "a viewer is kept as TikTok's numeric id, never a name or a cookie (personal data)"),
    "repeat_count_at_least_1": Rule(_S, "a gift event sends at least one gift"),
    "gift_has_price_and_streak": Rule(_S, "a gift counts once, at its streak's end, at its price: it needs them all"),
    "viewers_has_viewer_count": Rule(_S, "a viewers record is its count"),
    "like_has_count_or_total": Rule(_S, "a like record is its hearts: the increment or the room's total"),
    "msg_id_repeats_same_event": Rule(
        _P, "a reconnect replays an event verbatim (deduplicated downstream); a different event would be lost"
    ),
    "likes_per_event_1_to_15": Rule(_P, "TikTok batches 1..15 hearts per like event; more means the field changed"),
    "known_record_type": Rule(_P, "TikTok adds events: an unknown type is kept, and flagged so someone looks"),
    "live_end_reason_known": Rule(_P, "a LIVE ends as stream_ended or stream_suspended; another reason is new"),
    "session_end_reason_known": Rule(_P, "the recorder ends by live_end, interrupted, disconnected or error"),
    "total_user_at_least_viewer_count": Rule(_P, "a LIVE's cumulative viewers cannot be fewer than its concurrent"),
    "event_within_a_day_of_receipt": Rule(_P, "TikTok's clock and the recorder's differ by seconds, not a day"),
    "one_room_per_session": Rule(_P, "a recording follows one LIVE; a second room: the creator went LIVE again"),
    # live_sessions, live_connections
    "one_row_per_session_per_file": Rule(_S, "a log is one recording"),
    "session_source_known": Rule(_S, "a session comes from a sidecar or from its log"),
    "session_ends_after_it_starts": Rule(_S, "a negative duration breaks every per-minute figure"),
    "reconnects_are_connections_minus_1": Rule(_P, "each connection after the first is a reconnect"),
    "one_row_per_connection_per_file": Rule(_S, "a connection opens once"),
    "connection_ends_after_it_opens": Rule(_S, "a connection closing before it opens covers negative minutes"),
    # live_backstage_creators
    "creator_id_numeric": Rule(_S, "a creator id is TikTok's number; other text means a shifted column"),
    "creator_id_unless_quit": Rule(_S, "a creator is keyed by id; only one who quit the network by username"),
    "one_row_per_creator_per_file": Rule(_S, "daily deltas subtract one snapshot per creator: a repeat double counts"),
    "period_in_order": Rule(_S, "a period ending before it starts is a garbled cell"),
    "one_period_per_file": Rule(_P, "a download covers one selected period; two suggest files pasted together"),
    "share_0_to_1": Rule(_P, "a fan club's share of a creator's diamonds is 0..100%"),
    "valid_days_within_period": Rule(_P, "a creator cannot have more valid go-LIVE days than the period has days"),
    "duration_covers_valid_days": Rule(_P, "a valid go-LIVE day is at least 1 h LIVE, so >= 1 h per valid day"),
    # live_center_<kind>
    "one_row_per_day_per_file": Rule(_S, "a daily file has one row per day: a repeat would double count"),
    "unique_viewers_at_most_views": Rule(_P, "every unique viewer made at least one view"),
    "average_at_most_top_viewers": Rule(_P, "an average of concurrent viewers cannot exceed their peak"),
}
# The column a frame-wide rule is about, so its failures name one column.
FOCUS: dict[str, str] = {}


def rule_of(check: str) -> Rule:
    """A failure's rule; an unregistered one is a pandera type check, structural."""
    return RULES.get(check) or Rule(STRUCTURAL, "the value is not of the column's type")


def severity_of(rule: str) -> Severity:
    """As `schemas.studio_contracts.severity_of`: unknown means structural ("do not trust the file")."""
    return rule_of(rule).severity


def _check(name: str) -> dict:
    assert name in RULES, f"rule {name} needs a severity and a why in RULES"
    # `error` too: pandera reports a built-in check (ge, in_range, ...) by its error, not its name.
    return {"name": name, "error": name, "description": RULES[name].why}


def _frame_rule(function, name: str, focus: str) -> pa.Check:
    FOCUS[name] = focus
    return pa.Check(function, **_check(name))


def _count(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column("Int64", [pa.Check.ge(0, **_check("non_negative")), *checks], nullable=nullable)


def _decimal() -> pa.Column:
    return pa.Column("Float64", pa.Check.ge(0, **_check("non_negative")), nullable=True)


def _text(*checks: pa.Check, nullable: bool = True) -> pa.Column:
    return pa.Column(str, list(checks), nullable=nullable)


def _moment(nullable: bool = False) -> pa.Column:
    launched = pa.Check.ge(TIKTOK_LIVE_LAUNCH, **_check("after_tiktok_live_launch"))
    return pa.Column("datetime64[ns]", launched, nullable=nullable, coerce=True)


def _day(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable, coerce=True)


def _numeric_id(name: str) -> pa.Column:
    return _text(pa.Check.str_matches(r"^\d{1,25}$", **_check(name)))


def _unique_per_file(name: str, *columns: str) -> pa.Check:
    """One row per key in a file (a key with a missing part is the not-null rules' business)."""

    def check(frame: pd.DataFrame) -> pd.Series:
        keyed = frame[["document_id", *columns]]
        return ~keyed.duplicated(keep=False) | keyed[list(columns)].isna().any(axis=1)

    return _frame_rule(check, name, columns[-1])


def _at_most(small: pd.Series, large) -> pd.Series:
    """small <= large, row by row; a missing side is not a failure (nullability is judged on its own).

    Spelled out because a NaT compares False, where a missing Int64 compares NA."""
    unknown = small.isna() | (large.isna() if isinstance(large, pd.Series) else False)
    return (unknown | (small <= large).fillna(True)).astype(bool)


def _schema(columns: dict, checks: list) -> pa.DataFrameSchema:
    lineage = {
        "document_id": pa.Column(str),
        "source_row": pa.Column("int64", pa.Check.ge(1, **_check("source_row_from_1"))),
    }
    return pa.DataFrameSchema({**lineage, **columns}, checks=checks, strict=True, ordered=True)


# --- live_events ------------------------------------------------------------------------------


def _replays_are_identical(frame: pd.DataFrame) -> pd.Series:
    """A msg_id seen twice in a session is the same event: only its receipt (seq, time, connection) differs."""
    key = ["document_id", "session_id", "msg_id"]
    content = [c for c in frame.columns if c not in ("source_row", "seq", "received_at", "connection_id")]
    # Only a msg_id seen more than once can have two variants: compare the content of those rows alone
    # (a log's replays are a few rows; its text form is the costly part).
    keys = frame[key].astype("string")
    seen = keys["msg_id"].notna().to_numpy()
    repeated = np.zeros(len(frame), dtype=bool)
    repeated[seen] = keys[seen].duplicated(keep=False).to_numpy()
    ok = np.ones(len(frame), dtype=bool)
    if repeated.any():
        variants = frame.loc[repeated, content].astype("string").fillna("∅").drop_duplicates()
        conflicting = variants.loc[variants.duplicated(subset=key, keep=False), key].drop_duplicates()
        hit = keys[repeated].merge(conflicting, how="left", indicator=True)
        ok[repeated] = hit["_merge"].to_numpy() != "both"
    return pd.Series(ok, index=frame.index)


def _where(kind: str, *columns: str):
    """Rows of one record type carry these values."""
    return lambda f: (f["event_type"] != kind) | f[list(columns)].notna().all(axis=1)


def _known(column: str, values: frozenset[str], kind: str | None = None):
    def check(frame: pd.DataFrame) -> pd.Series:
        applies = frame["event_type"] == kind if kind else pd.Series(True, index=frame.index)
        return ~applies | frame[column].isin(sorted(values)).fillna(False).astype(bool)

    return check


def _distinct_per(group: list[str], column: str):
    return lambda f: f.groupby(group)[column].transform("nunique") <= 1


LIVE_EVENTS = _schema(
    {
        "session_id": _text(nullable=False),
        "room_id": _text(nullable=False),
        "connection_id": _text(nullable=False),
        "seq": pa.Column("Int64", pa.Check.ge(1, **_check("seq_from_1"))),
        "event_type": _text(nullable=False),
        "received_at": _moment(),
        "event_at": _moment(nullable=True),
        "msg_id": _text(),
        "user_id": _numeric_id("user_id_numeric"),
        "viewer_count": _count(),
        "total_user": _count(),
        "like_count": _count(pa.Check.in_range(1, MAX_LIKES_PER_EVENT, **_check("likes_per_event_1_to_15"))),
        "total_likes": _count(),
        "gift_id": _text(),
        "gift_name": _text(),
        "gift_type": _count(),
        "diamond_per_gift": _count(),
        "repeat_count": pa.Column("Int64", pa.Check.ge(1, **_check("repeat_count_at_least_1")), nullable=True),
        "repeat_end": pa.Column("boolean", nullable=True),
        "group_id": _text(),
        "to_user_id": _text(),
        "reason": _text(),
        "handle": _text(),
        "recorder": _text(),
        "ended_by": _text(),
    },
    [
        _frame_rule(_distinct_per(["document_id"], "session_id"), "one_session_per_file", "session_id"),
        _unique_per_file("seq_unique_per_session", "session_id", "seq"),
        _frame_rule(_replays_are_identical, "msg_id_repeats_same_event", "msg_id"),
        _frame_rule(
            _where("gift", "gift_id", "gift_type", "diamond_per_gift", "repeat_count", "repeat_end"),
            "gift_has_price_and_streak",
            "diamond_per_gift",
        ),
        _frame_rule(_where("viewers", "viewer_count"), "viewers_has_viewer_count", "viewer_count"),
        _frame_rule(
            lambda f: (f["event_type"] != "like") | f[["like_count", "total_likes"]].notna().any(axis=1),
            "like_has_count_or_total",
            "total_likes",
        ),
        _frame_rule(_known("event_type", RECORD_TYPES), "known_record_type", "event_type"),
        _frame_rule(_known("reason", LIVE_END_REASONS, "live_end"), "live_end_reason_known", "reason"),
        _frame_rule(_known("ended_by", SESSION_ENDINGS, "session_end"), "session_end_reason_known", "ended_by"),
        _frame_rule(
            lambda f: _at_most(f["viewer_count"], f["total_user"]), "total_user_at_least_viewer_count", "total_user"
        ),
        _frame_rule(
            lambda f: _at_most((f["event_at"] - f["received_at"]).abs(), MAX_EVENT_CLOCK_GAP),
            "event_within_a_day_of_receipt",
            "event_at",
        ),
        _frame_rule(_distinct_per(["document_id", "session_id"], "room_id"), "one_room_per_session", "room_id"),
    ],
)

# --- live_sessions, live_connections ------------------------------------------------------------

LIVE_SESSIONS = _schema(
    {
        "session_id": _text(nullable=False),
        "room_id": _text(nullable=False),
        "handle": _text(),
        "recorder": _text(),
        "started_at": _moment(),
        "ended_at": _moment(nullable=True),  # session_end's time; without one, the last record's
        "ended_by": _text(),
        "end_seen": pa.Column("boolean", nullable=True),  # a live_end was recorded: the LIVE ended while recorded
        "connection_count": _count(nullable=False),
        "reconnects": _count(),
        "events_written": _count(),
        "session_source": _text(pa.Check.isin(["sidecar", "log"], **_check("session_source_known")), nullable=False),
    },
    [
        _unique_per_file("one_row_per_session_per_file", "session_id"),
        _frame_rule(lambda f: _at_most(f["started_at"], f["ended_at"]), "session_ends_after_it_starts", "ended_at"),
        _frame_rule(
            lambda f: _at_most((f["reconnects"] - (f["connection_count"] - 1).clip(lower=0)).abs(), 0),
            "reconnects_are_connections_minus_1",
            "reconnects",
        ),
    ],
)

LIVE_CONNECTIONS = _schema(
    {
        "session_id": _text(nullable=False),
        "connection_id": _text(nullable=False),
        "connected_at": _moment(),
        "disconnected_at": _moment(nullable=True),
    },
    [
        _unique_per_file("one_row_per_connection_per_file", "session_id", "connection_id"),
        _frame_rule(
            lambda f: _at_most(f["connected_at"], f["disconnected_at"]),
            "connection_ends_after_it_opens",
            "disconnected_at",
        ),
    ],
)

# --- live_backstage_creators --------------------------------------------------------------------


def _one_row_per_creator(frame: pd.DataFrame) -> pd.Series:
    creator = frame["creator_id"].fillna("quit:" + frame["creator_username"].fillna(""))
    return ~pd.DataFrame({"document_id": frame["document_id"], "creator": creator}).duplicated(keep=False)


def _one_period_per_file(frame: pd.DataFrame) -> pd.Series:
    period = frame["period_start"].astype("string") + "~" + frame["period_end"].astype("string")
    return period.groupby(frame["document_id"]).transform("nunique") <= 1


_BACKSTAGE_VALUE = {
    "count": _count,
    "days": _count,
    "duration": _count,
    "text": _text,
    "share": lambda: pa.Column("Float64", pa.Check.in_range(0, 1, **_check("share_0_to_1")), nullable=True),
    "timestamp": lambda: _moment(nullable=True),
}

LIVE_BACKSTAGE_CREATORS = _schema(
    {
        "period_start": _day(),
        "period_end": _day(),
        "creator_id": _numeric_id("creator_id_numeric"),
        "has_quit": pa.Column("boolean"),
        "creator_username": _text(nullable=False),
        **{
            c.column: _BACKSTAGE_VALUE[c.value]()
            for c in BACKSTAGE_COLUMNS
            if c.column not in ("data_period", "creator_id", "creator_username")
        },
    },
    [
        _frame_rule(lambda f: _at_most(f["period_start"], f["period_end"]), "period_in_order", "period_end"),
        _frame_rule(
            lambda f: f["creator_id"].notna() | f["has_quit"].fillna(False).astype(bool),
            "creator_id_unless_quit",
            "creator_id",
        ),
        _frame_rule(_one_row_per_creator, "one_row_per_creator_per_file", "creator_id"),
        _frame_rule(_one_period_per_file, "one_period_per_file", "period_start"),
        _frame_rule(
            lambda f: _at_most(f["valid_live_days"], (f["period_end"] - f["period_start"]).dt.days + 1),
            "valid_days_within_period",
            "valid_live_days",
        ),
        _frame_rule(
            lambda f: _at_most(f["valid_live_days"] * 3600, f["live_duration_s"]),
            "duration_covers_valid_days",
            "live_duration_s",
        ),
    ],
)

# --- live_center_<kind> -------------------------------------------------------------------------

_LIVE_CENTER_CHECKS = {
    "viewers": [
        _frame_rule(
            lambda f: _at_most(f["unique_viewers"], f["views"]), "unique_viewers_at_most_views", "unique_viewers"
        ),
        _frame_rule(
            lambda f: _at_most(f["avg_concurrent_viewers"], f["top_viewer_count"]),
            "average_at_most_top_viewers",
            "avg_concurrent_viewers",
        ),
    ],
}

LIVE_CENTER_CONTRACTS = {
    f"live_center_{k.kind}": _schema(
        {"metric_date": _day(), **{c: _decimal() if c in k.decimals else _count() for c in k.columns}},
        [_unique_per_file("one_row_per_day_per_file", "metric_date"), *_LIVE_CENTER_CHECKS.get(k.kind, [])],
    )
    for k in LIVE_CENTER_KINDS.values()
}

LIVE_CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "live_events": LIVE_EVENTS,
    "live_sessions": LIVE_SESSIONS,
    "live_connections": LIVE_CONNECTIONS,
    "live_backstage_creators": LIVE_BACKSTAGE_CREATORS,
    **LIVE_CENTER_CONTRACTS,
}


def describe_failure(table: str, check: str) -> str:
    """A sentence a user understands for a failed rule, with its severity."""
    rule = rule_of(check)
    action = "file quarantined" if rule.severity == STRUCTURAL else "row kept, flagged"
    return f"{table} contract: {rule.why} [{check}; {rule.severity}: {action}]"
