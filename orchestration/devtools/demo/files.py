"""One download of one section -> file contents: the CSV lines, XLSX rows and ZIP members Studio returns.

Rendered lines are cached on the account (`Account.cache`), so a day shown by many exports is built once.
"""

from __future__ import annotations

import bisect
import heapq
import math
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from orchestration.devtools.demo.catalog import TERRITORIES
from orchestration.devtools.demo.formats import UNDEFINED, csv_bytes, csv_line, csv_quote, xlsx_bytes
from orchestration.devtools.demo.simulate import Account, epoch_days, epoch_seconds
from schemas.studio_files import STUDIO_FILE_KINDS

if TYPE_CHECKING:
    from orchestration.devtools.demo.sessions import Session


# The exact headers, spelled once in the format spec the landing code also reads.
OVERVIEW_HEADER = STUDIO_FILE_KINDS["overview"].header
VIEWERS_HEADER = STUDIO_FILE_KINDS["viewers"].header
FOLLOWER_HISTORY_HEADER = STUDIO_FILE_KINDS["follower_history"].header
FOLLOWER_ACTIVITY_HEADER = STUDIO_FILE_KINDS["follower_activity"].header
FOLLOWER_GENDER_HEADER = STUDIO_FILE_KINDS["follower_gender"].header
FOLLOWER_TERRITORIES_HEADER = STUDIO_FILE_KINDS["follower_territories"].header
CONTENT_HEADER = STUDIO_FILE_KINDS["content"].header

HEADER_ONLY_BELOW_FOLLOWERS = 100  # audience files come back empty for small accounts


def _fraction(x: float) -> str:
    return repr(round(x, 3))


def _provisional(account: Account, i: int, age: int) -> float:
    """Factor applied to day `i` as seen `age` days later: < 1 for the 1-3 most recent days, then 1."""
    depth = account.revise_depth[i]
    if age > depth:
        return 1.0
    return 1.0 - account.revise_amount[i] * (depth - age + 1) / depth


def _window(export_day: date, lag: int, length: int) -> list[date]:
    last = export_day - timedelta(days=lag)
    return [last - timedelta(days=k) for k in range(length - 1, -1, -1)]


def _overview_lines(account: Account, export_day: date, days: list[date], undefined_last: bool) -> list[str]:
    lines = []
    cache = account.cache
    for d in days:
        i = account.i(d)
        age = (export_day - d).days
        stage = age if age <= account.revise_depth[i] else 0  # every settled age renders the same
        key = ("overview", i, stage)
        line = cache.get(key)
        if line is None:
            f = _provisional(account, i, age)
            line = cache[key] = csv_line(
                (
                    account.dates(d),
                    str(int(account.views[i] * f)),
                    str(int(account.profile_views[i] * f)),
                    str(int(account.likes[i] * f)),
                    str(int(account.comments[i] * f)),
                    str(int(account.shares[i] * f)),
                )
            )
        lines.append(line)
    if undefined_last and lines and days[-1] >= account.born:
        fields = lines[-1][1:-1].split('","')
        fields[2] = UNDEFINED  # Profile Views not computed yet; a later export fills it in
        lines[-1] = csv_line(fields)
    return lines


def _viewers_rows(account: Account, export_day: date, days: list[date]) -> list[list[str]]:
    rows = []
    for d in days:
        i = account.i(d)
        if d < account.viewers_since:
            rows.append([account.dates(d), UNDEFINED, "0", "0"])
            continue
        f = _provisional(account, i, (export_day - d).days)
        new = int(account.new_viewers[i] * f)
        returning = int(account.returning_viewers[i] * (f + (1.0 - f) * 0.4))
        rows.append([account.dates(d), str(new + returning), str(new), str(returning)])
    return rows


def _follower_history_lines(account: Account, days: list[date]) -> list[str]:
    lines = []
    cache = account.cache
    for d in days:
        i = account.i(d)
        line = cache.get(("history", i))
        if line is None:
            if d <= account.born:  # the first day with data still shows "undefined"
                fields = (account.dates(d), UNDEFINED, "0")
            elif d == account.born + timedelta(days=1):
                fields = (account.dates(d), str(account.followers[i]), "0")
            else:
                difference = account.followers[i] - account.followers[i - 1]
                fields = (account.dates(d), str(account.followers[i]), str(difference))
            line = cache[("history", i)] = csv_line(fields)
        lines.append(line)
    return lines


def _follower_activity_lines(account: Account, last: date, computed_hours: int) -> list[str]:
    """The 7 days ending `last`, 24 hours each; `last` only has its first `computed_hours` hours."""
    blocks = []
    for k in range(6, -1, -1):
        d = last - timedelta(days=k)
        i = account.i(d)
        hours = 24 if k else computed_hours
        key = ("activity", i, hours)
        block = account.cache.get(key)
        if block is None:
            label = account.dates(d)
            activity = account.activity[i]
            block = account.cache[key] = "\n".join(
                f'"{label}","{hour}","{activity[hour] if hour < hours else 0}"' for hour in range(24)
            )
        blocks.append(block)
    return blocks


def _audience_rows(account: Account, export_day: date) -> tuple[list[list[str]], list[list[str]]]:
    followers = account.followers[account.i(export_day - timedelta(days=1))]
    if followers is None or followers < HEADER_ONLY_BELOW_FOLLOWERS:
        return [], []
    drift = math.sin(account.i(export_day) / 23.0 + account.index) * 0.02
    female, male, other = account.gender_base
    female += drift
    male -= drift
    gender = [["Female", _fraction(female)], ["Male", _fraction(male)], ["Other", _fraction(other)]]
    territories = TERRITORIES[account.locale]
    weights = [
        w * (1.0 + 0.06 * math.sin(account.i(export_day) / 9.0 + k)) for k, w in enumerate(account.territory_weights)
    ]
    total = sum(weights) / 0.82  # the top 10 cover ~75-85% of the audience
    ranked = sorted(zip(weights, territories, strict=True), reverse=True)[:10]
    top = [[code, _fraction(w / total)] for w, code in ranked]
    others = max(0.001, 1.0 - sum(round(w / total, 3) for w, _ in ranked))
    return gender, [*top, ["Others", _fraction(others)]]


def _content_lines(account: Account, export_at: datetime, n_rows: int) -> list[str]:
    """Recent posts (last 7 days) plus the older ones still growing fastest, newest post first."""
    now = epoch_days(export_at)
    videos = account.videos  # sorted by post time
    posted = bisect.bisect_right(account.post_days, now)
    week_old = bisect.bisect_right(account.post_days, now - 7.0)
    recent = videos[week_old:posted]
    older = [(-v.week_growth(now - v.post_day), v.video_id, v) for v in videos[:week_old]]
    fastest = heapq.nsmallest(max(0, n_rows - len(recent)), older)
    chosen = recent[-n_rows:] + [video for _, _, video in fastest]
    chosen.sort(key=lambda v: v.post_at, reverse=True)
    snapshot = account.dates(export_at.date())
    lines = []
    for video in chosen:
        likes, comments, shares, views = video.totals(export_at)
        link = f"https://www.tiktok.com/@{account.handle}/video/{video.video_id}"
        fields = (snapshot, csv_quote(video.title), link, account.dates(video.post_at.date()))
        lines.append(csv_line((*fields, str(likes), str(comments), str(shares), str(views))))
    return lines


def overview_zip(account: Account, s: Session, window: int, at: datetime) -> tuple[str, list]:
    days = _window(s.day, s.lag, window)
    lines = _overview_lines(account, s.day, days, s.undefined_last)
    epoch = epoch_seconds(at)
    name = f"Overview_{days[0].isoformat()}_{epoch}_{account.handle}.zip"
    return name, [("Overview.csv", csv_bytes(OVERVIEW_HEADER, lines))]


def followers_members(account: Account, s: Session, computed_hours: int) -> list[tuple[str, bytes]]:
    days = _window(s.day, s.lag, s.window)
    gender, territories = _audience_rows(account, s.day)
    history = _follower_history_lines(account, days)
    activity = _follower_activity_lines(account, days[-1], computed_hours)
    return [
        ("FollowerHistory.csv", csv_bytes(FOLLOWER_HISTORY_HEADER, history)),
        ("FollowerActivity.csv", csv_bytes(FOLLOWER_ACTIVITY_HEADER, activity)),
        ("FollowerGender.csv", csv_bytes(FOLLOWER_GENDER_HEADER, [csv_line(r) for r in gender])),
        (
            "FollowerTopTerritories.csv",
            csv_bytes(FOLLOWER_TERRITORIES_HEADER, [csv_line(r) for r in territories]),
        ),
    ]


def viewers_members(account: Account, s: Session) -> list[tuple[str, bytes]]:
    rows = _viewers_rows(account, s.day, _window(s.day, s.lag, s.window))
    if s.viewers_xlsx:  # what some accounts get although they chose CSV
        return [("Viewers.xlsx", xlsx_bytes("Viewers", VIEWERS_HEADER, rows))]
    return [("Viewers.csv", csv_bytes(VIEWERS_HEADER, [csv_line(r) for r in rows]))]


def content_csv(account: Account, export_at: datetime, n_rows: int) -> bytes:
    """Content.csv as downloaded at `export_at`, with `n_rows` videos."""
    return csv_bytes(CONTENT_HEADER, _content_lines(account, export_at, n_rows))
