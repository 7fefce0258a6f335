"""LIVE Center daily files for one account: the creator's own daily LIVE figures, four kinds, in English.

Headers are `LIVE_CENTER_KINDS`' English set (schemas/live_files.py; an inference, docs/live.md section 3)
after a first `Date` column (`yyyy-MM-dd`), numbers with thousands separators, the two averages with one
decimal; one row per day of the window, zeros on days without a LIVE. TikTok's file names are not known:
the demo calls them `LIVE Center <kind>.csv` and drops them into `inbox/<handle>/live/` (the reader tells
the kind by its headers). Two downloads a week apart with overlapping days, the second saved by the
browser as `... (1).csv`.

A day's figures: a recorded LIVE's from what the LIVE did (`LiveFacts`: peak and time-weighted average
viewers, cumulative viewers, hearts, gifters, follows, commenters, shares, diamonds to the host), on the
day it began in the account's time zone; the LIVEs nobody recorded from the Backstage simulation, with
viewer figures drawn to match their length.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from orchestration.devtools.demo.formats import BOM
from orchestration.devtools.demo.live_backstage import Creator
from orchestration.devtools.demo.live_sim import LiveFacts, LivePlan
from schemas.live_files import LIVE_CENTER_KINDS

LIVE_CENTER_ACCOUNT = "techcreator"
WINDOW_DAYS = (28, 14)  # days covered by the first and the second download


@dataclass(frozen=True)
class LiveCenterFile:
    name: str
    data: bytes
    at: datetime  # naive UTC download moment (the mtime)


def _recorded_day(plan: LivePlan, facts: LiveFacts) -> tuple[date, dict[str, float]]:
    local = plan.start.replace(tzinfo=UTC).astimezone(ZoneInfo(plan.timezone)).date()
    avg = facts.viewer_seconds / max(1.0, plan.duration_s - plan.recorder_lag_s)
    unique = max(facts.total_viewers, 1)
    return local, {
        "views": round(unique * 1.35),
        "unique_viewers": unique,
        "watch_seconds": avg * plan.duration_s,  # Little's law: viewer-seconds over viewers is the watch time
        "top_viewer_count": facts.peak_viewers,
        "concurrent_seconds": avg * plan.duration_s,
        "gifters": len(facts.gifters),
        "new_followers": facts.follows,
        "viewers_commented": len(facts.commenters),
        "likes": facts.hearts,
        "shares": facts.shares,
        "diamonds": facts.host_diamonds,
        "live_duration_s": plan.duration_s,
        "live_count": 1,
    }


def _unrecorded_day(rng: random.Random, duration_s: int, diamonds: int, follows: int, streams: int) -> dict:
    peak = rng.randrange(150, 400)
    avg = peak * rng.uniform(0.5, 0.7)
    unique = round(avg * duration_s / rng.uniform(150, 240))
    return {
        "views": round(unique * rng.uniform(1.2, 1.5)),
        "unique_viewers": unique,
        "watch_seconds": avg * duration_s,
        "top_viewer_count": peak,
        "concurrent_seconds": avg * duration_s,
        "gifters": rng.randrange(10, 40),
        "new_followers": follows,
        "viewers_commented": round(unique * rng.uniform(0.05, 0.12)),
        "likes": round(avg * duration_s * rng.uniform(0.02, 0.04)),
        "shares": rng.randrange(2, 20),
        "diamonds": diamonds,
        "live_duration_s": duration_s,
        "live_count": streams,
    }


def _days(
    recorded: list[tuple[LivePlan, LiveFacts]], creator: Creator | None, seed: int
) -> dict[date, dict[str, float]]:
    rng = random.Random(f"tiktok-demo:{seed}:{LIVE_CENTER_ACCOUNT}:live-center")
    days: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    recorded_utc = {plan.start.date() for plan, _ in recorded}
    figures = [_recorded_day(plan, facts) for plan, facts in recorded]
    if creator is not None:  # Backstage's UTC day stands in for the local one: these LIVEs have no clock
        figures += [
            (d, _unrecorded_day(rng, b.duration_s, b.diamonds, b.new_followers, b.streams))
            for d, b in sorted(creator.days.items())
            if d not in recorded_utc
        ]
    for day, values in figures:
        for name, value in values.items():
            if name == "top_viewer_count":
                days[day][name] = max(days[day][name], value)
            else:
                days[day][name] += value
    return days


def _row(kind: str, day: date, v: dict[str, float]) -> list[str]:
    unique = v.get("unique_viewers", 0)
    duration = v.get("live_duration_s", 0)
    derived = {
        **v,
        "avg_watch_time_s": v.get("watch_seconds", 0) / unique if unique else 0.0,
        "avg_concurrent_viewers": v.get("concurrent_seconds", 0) / duration if duration else 0.0,
    }
    cells = [day.isoformat()]
    spec = LIVE_CENTER_KINDS[kind]
    for column in spec.columns:
        value = derived.get(column, 0)
        cells.append(f"{value:,.1f}" if column in spec.decimals else f"{round(value):,}")
    return cells


def live_center_files(
    recorded: list[tuple[LivePlan, LiveFacts]], creator: Creator | None, end_date: date, seed: int
) -> list[LiveCenterFile]:
    """Two downloads of the four kinds for `LIVE_CENTER_ACCOUNT`: a week before `end_date` and on it."""
    ours = [(plan, facts) for plan, facts in recorded if plan.handle == LIVE_CENTER_ACCOUNT]
    if not ours:
        return []
    days = _days(ours, creator, seed)
    rng = random.Random(f"tiktok-demo:{seed}:{LIVE_CENTER_ACCOUNT}:live-center-downloads")
    files = []
    for downloaded, window in zip((end_date - timedelta(days=7), end_date), WINDOW_DAYS, strict=True):
        at = datetime(downloaded.year, downloaded.month, downloaded.day, rng.randrange(16, 20), rng.randrange(60))
        shown = [downloaded - timedelta(days=k) for k in range(window, 0, -1)]
        for minute, kind in enumerate(LIVE_CENTER_KINDS):
            buffer = io.StringIO()
            rows = [_row(kind, d, days.get(d, {})) for d in shown]
            csv.writer(buffer).writerows([["Date", *LIVE_CENTER_KINDS[kind].headers["en"]], *rows])
            data = (BOM + buffer.getvalue()).encode("utf-8")
            files.append(LiveCenterFile(f"LIVE Center {kind}.csv", data, at + timedelta(seconds=20 * minute)))
    return files
