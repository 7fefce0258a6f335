"""The three LIVE inputs as data: the event log's fields, Backstage's header aliases, LIVE Center's header sets.

Facts about the received formats live here (docs/live.md; ../shared/live-formats.md in the brief), so a
field or a header is spelled once: the readers in `orchestration/lib/live/` and the contracts in
`schemas/live_contracts.py` both read them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# --- 1. LIVE event logs (docs/live.md section 1) ------------------------------------------------

LOG_FORMAT = "tiktok-live-log/1"
SESSION_FORMAT = "tiktok-live-session/1"

# Every record carries these keys. The first seven must hold a value; the last three may be null.
REQUIRED_RECORD_FIELDS = ("format", "session_id", "room_id", "connection_id", "seq", "type", "received_at_ms")
NULLABLE_RECORD_FIELDS = ("timestamp_ms", "msg_id", "user_id")

# JSON field → (events column, how the value is read). Kinds: "text" (a JSON string), "id" (a JSON string
# or integer, kept as text: TikTok ids reach 19 digits), "int" (a JSON integer), "epoch_ms" (integer epoch
# milliseconds, UTC), "bool" (true/false). Fields not listed are ignored, as the spec says.
EVENT_FIELDS: dict[str, tuple[str, str]] = {
    "session_id": ("session_id", "text"),
    "room_id": ("room_id", "id"),
    "connection_id": ("connection_id", "text"),
    "seq": ("seq", "int"),
    "type": ("event_type", "text"),
    "received_at_ms": ("received_at", "epoch_ms"),
    "timestamp_ms": ("event_at", "epoch_ms"),
    "msg_id": ("msg_id", "id"),
    "user_id": ("user_id", "id"),
    "viewer_count": ("viewer_count", "int"),
    "total_user": ("total_user", "int"),
    "like_count": ("like_count", "int"),
    "total_likes": ("total_likes", "int"),
    "gift_id": ("gift_id", "id"),
    "gift_name": ("gift_name", "text"),
    "gift_type": ("gift_type", "int"),
    "diamond_per_gift": ("diamond_per_gift", "int"),
    "repeat_count": ("repeat_count", "int"),
    "repeat_end": ("repeat_end", "bool"),
    "group_id": ("group_id", "id"),
    "to_user_id": ("to_user_id", "id"),
    "reason": ("reason", "text"),
    "handle": ("handle", "text"),
    "recorder": ("recorder", "text"),
    "ended_by": ("ended_by", "text"),
}
EVENT_COLUMNS = tuple(column for column, _ in EVENT_FIELDS.values())

RECORD_TYPES = frozenset(
    {
        "session_start",
        "connect",
        "viewers",
        "like",
        "gift",
        "comment",
        "follow",
        "share",
        "join",
        "live_end",
        "disconnect",
        "session_end",
    }
)
LIVE_END_REASONS = frozenset({"stream_ended", "stream_suspended"})
SESSION_ENDINGS = frozenset({"live_end", "interrupted", "disconnected", "error"})
# Epoch milliseconds a datetime64[ns] column holds with room to spare (1970..2100): a reader refuses others
# rather than overflow. Which years are plausible is the contract's business.
MAX_EPOCH_MS = 4_102_444_800_000
MAX_LIKES_PER_EVENT = 15  # TikTok batches hearts: one LikeEvent carries 1..15

# --- 2. LIVE Backstage "Creator data" exports ---------------------------------------------------

BACKSTAGE_QUIT_CREATOR_ID = "The creator has quit the network"

# Download moment in the file name: `Creator data 2026_06_02 14_59 UTC+0 (1).xlsx`,
# `Creator_data_2026_09_16_08_37_UTC0.xlsx`. The offset is what TikTok printed (always 0 so far); a name
# without one is UTC, as Backstage is.
BACKSTAGE_NAME_MOMENT = re.compile(
    r"(?P<y>\d{4})_(?P<mo>\d{2})_(?P<d>\d{2})[ _](?P<h>\d{2})_(?P<mi>\d{2})(?:[ _]UTC(?P<off>[+-]?\d{1,2})?)?(?!\d)"
)


@dataclass(frozen=True)
class BackstageColumn:
    column: str  # our column in raw.live_backstage_creators
    value: str  # how a cell is read: period, creator_id, text, timestamp, days, count, duration, share
    headers: tuple[str, ...]  # TikTok's spellings, compared after `normalize_header`


def _metric(column: str, value: str, *names: str) -> list[BackstageColumn]:
    """A counter of the selected period (plain, or "... in selected period") and its last-30-days twin."""
    selected = tuple(h for n in names for h in (n, f"{n} in selected period"))
    l30d = column[:-2] + "_l30d_s" if column.endswith("_s") else column + "_l30d"
    return [
        BackstageColumn(column, value, selected),
        BackstageColumn(l30d, value, tuple(f"{n} in L30D" for n in names)),
    ]


# canonical column → accepted header spellings (live-formats.md section 2, all [C]).
BACKSTAGE_COLUMNS: tuple[BackstageColumn, ...] = (
    BackstageColumn("data_period", "period", ("Data period", "Selected period")),
    BackstageColumn("creator_id", "creator_id", ("Creator ID", "Creator ID:")),
    BackstageColumn("creator_username", "text", ("Creator's username",)),
    BackstageColumn("network_manager", "text", ("Creator Network manager",)),
    BackstageColumn("joined_at", "timestamp", ("Join time",)),
    BackstageColumn("days_since_joining", "days", ("Days since joining",)),
    *_metric("diamonds", "count", "Diamonds", "Total Diamonds"),
    *_metric("live_duration_s", "duration", "LIVE duration"),
    *_metric("valid_live_days", "days", "Valid go LIVE days"),
    *_metric("new_followers", "count", "New followers"),
    *_metric("live_streams", "count", "LIVE streams"),
    BackstageColumn("diamonds_last_month", "count", ("Diamonds last month",)),
    *_metric("matches", "count", "Matches"),
    *_metric("diamonds_from_matches", "count", "Diamonds from matches"),
    *_metric("diamonds_multi_guest_host", "count", "Diamonds from multi-guest (as host)"),
    *_metric("diamonds_multi_guest_guest", "count", "Diamonds from multi-guest (as guest)"),
    BackstageColumn("tier_status", "text", ("Tier status",)),
    *_metric("fan_club_diamonds", "count", "Fan Club total Diamonds"),
    BackstageColumn("fan_contribution_share", "share", ("Fan contribution %",)),
)
BACKSTAGE_REQUIRED = ("data_period", "creator_id", "creator_username")
# The period cell becomes two dates; a quit creator's id becomes null plus has_quit.
BACKSTAGE_FRAME_COLUMNS = tuple(
    name
    for c in BACKSTAGE_COLUMNS
    for name in (
        ("period_start", "period_end")
        if c.column == "data_period"
        else ("creator_id", "has_quit")
        if c.column == "creator_id"
        else (c.column,)
    )
)


def normalize_header(text: str) -> str:
    """Compare headers as a reader would: case, spacing, curly quotes and a trailing colon do not matter."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\ufeff", "")
    return " ".join(text.split()).rstrip(":").strip().casefold()


BACKSTAGE_BY_HEADER: dict[str, BackstageColumn] = {
    normalize_header(header): c for c in BACKSTAGE_COLUMNS for header in c.headers
}
assert len(BACKSTAGE_BY_HEADER) == len(
    {(normalize_header(h), c.column) for c in BACKSTAGE_COLUMNS for h in c.headers}
), "one header spelling aliases two columns"

# --- 3. LIVE Center daily files ------------------------------------------------------------------


@dataclass(frozen=True)
class LiveCenterKind:
    kind: str  # raw table live_center_<kind>
    columns: tuple[str, ...]  # after the date column, in the order TikTok writes them
    decimals: frozenset[str]  # columns that may carry a fraction (averages)
    headers: dict[str, tuple[str, ...]]  # UI language → header of each column, same order


# ja: the headers a public parser reads ([C], live-formats.md section 3). en: the English labels are an
# inference ([I] there); "Average concurrent viewers" and "LIVEs" are ours, the source lists no English for
# them. Replace with the real labels when an English export is seen. The first column, the date, is
# recognised by position, whatever its header says.
LIVE_CENTER_KINDS: dict[str, LiveCenterKind] = {
    k.kind: k
    for k in (
        LiveCenterKind(
            "viewers",
            ("views", "unique_viewers", "avg_watch_time_s", "top_viewer_count", "avg_concurrent_viewers"),
            frozenset({"avg_watch_time_s", "avg_concurrent_viewers"}),
            {
                "ja": ("視聴数", "ユニーク視聴者数", "平均視聴時間", "最高同時視聴者数", "平均同時視聴者数"),
                "en": (
                    "Views",
                    "Unique viewers",
                    "Average watch time",
                    "Top viewer count",
                    "Average concurrent viewers",
                ),
            },
        ),
        LiveCenterKind(
            "engagement",
            ("gifters", "new_followers", "viewers_commented", "likes", "shares"),
            frozenset(),
            {
                "ja": ("ギフト贈呈者", "新規フォロワー", "コメントした視聴者", "いいね", "シェア"),
                "en": ("Gifters", "New followers", "Viewers who commented", "Likes", "Shares"),
            },
        ),
        LiveCenterKind("revenue", ("diamonds",), frozenset(), {"ja": ("ダイヤモンド",), "en": ("Diamonds",)}),
        LiveCenterKind(
            "activity",
            ("live_duration_s", "live_count"),
            frozenset(),
            {"ja": ("LIVE時間", "LIVEの合計数"), "en": ("LIVE duration", "LIVEs")},
        ),
    )
}

# The set of (normalized) headers after the date column → (kind, UI language, columns in the file's order).
LIVE_CENTER_BY_HEADER_SET: dict[frozenset[str], tuple[LiveCenterKind, str]] = {
    frozenset(normalize_header(h) for h in headers): (k, language)
    for k in LIVE_CENTER_KINDS.values()
    for language, headers in k.headers.items()
}
assert len(LIVE_CENTER_BY_HEADER_SET) == sum(len(k.headers) for k in LIVE_CENTER_KINDS.values())


def live_center_kind_of_header(header: Sequence[str]) -> LiveCenterKind | None:
    """The LIVE Center kind whose header set is this header's after its first (date) column, else None."""
    found = LIVE_CENTER_BY_HEADER_SET.get(frozenset(normalize_header(h) for h in header[1:]))
    return None if found is None else found[0]


def is_backstage_header(header: Sequence[str]) -> bool:
    """Whether a header holds Backstage's required columns (data period, creator id, username), by any alias."""
    found = {column.column for h in header if (column := BACKSTAGE_BY_HEADER.get(normalize_header(h)))}
    return set(BACKSTAGE_REQUIRED) <= found
