"""A LIVE agency's Backstage "Creator data" downloads: one a day for a month, across the 1st.

Each download lists the agency's creators with month-to-date counters (docs/live.md section 2): the
data period runs from the 1st of the month to the day before the download (Backstage is UTC), so the
download of the 1st still shows the whole previous month and the one of the 2nd shows the new month's
first day: the counters reset. The demo accounts' counters include their recorded LIVEs (duration,
diamonds to the host, follows, the battle as a match, on the UTC day each began) plus LIVEs nobody
recorded; the other creators are simulated, one of them quit the network (`The creator has quit the
network` as Creator ID, kept by username, counters frozen).

Headers and value shapes are TikTok's (schemas/live_files.py `BACKSTAGE_COLUMNS`, live-formats.md):
XLSX files use the plain headers, numbers as number cells, `119h 47m 31s` durations and a fraction for
`Fan contribution %`; CSV files use the `Total Diamonds` / `... in selected period` / `Creator ID:`
variants, `1,234,567` counts, `88.46h` durations and `90.13%`. Names as TikTok gives them:
`Creator data 2026_02_02 14_59 UTC+0.xlsx`, a few `Creator_data_2026_02_09_15_02_UTC0.csv`, and one
download repeated in the same minute, which the browser saves as `... (1).xlsx` (the same bytes).
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from orchestration.devtools.demo.formats import BOM, xlsx_bytes
from orchestration.devtools.demo.live_sim import LiveFacts, LivePlan

QUIT = "The creator has quit the network"
XLSX_HEADER = (
    "Data period", "Creator ID", "Creator's username", "Creator Network manager", "Join time",
    "Days since joining", "Diamonds", "LIVE duration", "Valid go LIVE days", "New followers", "LIVE streams",
    "Diamonds last month", "Matches", "Diamonds from matches", "Diamonds from multi-guest (as host)",
    "Diamonds from multi-guest (as guest)", "Tier status", "Fan Club total Diamonds", "Fan contribution %",
)  # fmt: skip
CSV_RENAMED = {
    "Creator ID": "Creator ID:",
    "Diamonds": "Total Diamonds",
    "LIVE duration": "LIVE duration in selected period",
    "Valid go LIVE days": "Valid go LIVE days in selected period",
}
CSV_HEADER = tuple(CSV_RENAMED.get(h, h) for h in XLSX_HEADER)
VALID_DAY_S = 3600  # a valid go-LIVE day has at least one hour LIVE
# (username, manager, joined, tier, chance of a LIVE a day, diamonds per LIVE hour, quit on) for the
# agency's other creators; the demo accounts are added with their recorded LIVEs.
OTHERS = (
    ("sofia.streams", "ana.agency", datetime(2023, 8, 5, 0, 11), "Tier 3", 0.8, 9000, None),
    ("kai.plays", "marc.agency", datetime(2024, 6, 17, 9, 40, 2), "Tier 2", 0.55, 2200, None),
    ("luna.paints", "ana.agency", datetime(2025, 9, 30, 21, 5, 44), "Tier 1", 0.35, 600, None),
    ("dani.vibes", "marc.agency", datetime(2024, 2, 11, 13, 0, 9), "Tier 1", 0.5, 900, 9),  # quit on the 9th
)
DEMO_MEMBERS = {  # demo handle -> (manager, joined, tier, chance of an unrecorded LIVE a day, diamonds per hour)
    "techcreator": ("ana.agency", datetime(2024, 3, 5, 18, 22, 10), "Tier 2", 0.3, 1500),
    "maria.cocina": ("marc.agency", datetime(2024, 11, 19, 7, 3, 51), "Tier 1", 0.25, 700),
    "le_petit_chef": ("ana.agency", datetime(2025, 10, 28, 16, 45, 0), "Tier 1", 0.2, 150),
}


@dataclass
class Day:
    duration_s: int = 0
    diamonds: int = 0
    new_followers: int = 0
    streams: int = 0
    matches: int = 0
    diamonds_from_matches: int = 0
    multi_guest_host: int = 0
    multi_guest_guest: int = 0
    fan_club: int = 0


@dataclass
class Creator:
    username: str
    creator_id: str
    manager: str
    joined: datetime
    tier: str
    quit_on: date | None = None
    days: dict[date, Day] = field(default_factory=dict)

    def total(self, first: date, last: date, name: str) -> int:
        return sum(getattr(day, name) for d, day in self.days.items() if first <= d <= last)


@dataclass(frozen=True)
class BackstageFile:
    name: str
    data: bytes
    at: datetime  # naive UTC download moment (the name's, and the mtime)


def download_days(end_date: date) -> list[date]:
    """A month of daily downloads ending `end_date`, reaching back before the latest 2nd (the reset)."""
    reset = (
        end_date.replace(day=2) if end_date.day >= 2 else (end_date.replace(day=1) - timedelta(days=1)).replace(day=2)
    )
    first = min(end_date - timedelta(days=29), reset - timedelta(days=10))
    return [first + timedelta(days=k) for k in range((end_date - first).days + 1)]


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _simulate_day(rng: random.Random, chance: float, per_hour: int) -> Day | None:
    if rng.random() >= chance:
        return None
    streams = 1 if rng.random() < 0.85 else 2
    duration = int(rng.uniform(1500, 3000)) if rng.random() < 0.3 else int(rng.uniform(3720, 11000))
    diamonds = int(per_hour * duration / 3600 * rng.lognormvariate(0, 0.5))
    matches = rng.choice((0, 0, 1, 2, 3))
    from_matches = int(diamonds * rng.uniform(0.1, 0.4)) if matches else 0
    host = int(diamonds * rng.uniform(0, 0.15)) if rng.random() < 0.3 else 0
    return Day(
        duration_s=duration,
        diamonds=diamonds,
        new_followers=int(duration / 3600 * rng.uniform(5, 40)),
        streams=streams,
        matches=matches,
        diamonds_from_matches=from_matches,
        multi_guest_host=host,
        multi_guest_guest=int(rng.uniform(0, 300)) if rng.random() < 0.2 else 0,
        fan_club=int(diamonds * rng.uniform(0.05, 0.3)),
    )


def simulate_agency(
    recorded: dict[str, list[tuple[LivePlan, LiveFacts]]], days: list[date], seed: int
) -> list[Creator]:
    """The agency's creators day by day, from the 1st of the month before the first download's period."""
    first_day = _month_start(_month_start(days[0] - timedelta(days=1)) - timedelta(days=1))
    sim_days = [first_day + timedelta(days=k) for k in range((days[-1] - first_day).days)]
    creators = []
    members = [(h, *DEMO_MEMBERS[h], None) for h in recorded if h in DEMO_MEMBERS]
    members += [(h, m, j, t, c, p, q) for h, m, j, t, c, p, q in OTHERS]
    for username, manager, joined, tier, chance, per_hour, quit_day in members:
        rng = random.Random(f"tiktok-demo:{seed}:{username}:backstage")
        creator_id = str(rng.randrange(7_000_000_000_000_000_000, 7_400_000_000_000_000_000))
        creator = Creator(username, creator_id, manager, joined, tier)
        lives = {plan.start.date(): (plan, facts) for plan, facts in recorded.get(username, [])}
        if quit_day is not None:
            creator.quit_on = days[0].replace(day=quit_day) if days[0].day > quit_day else days[0].replace(day=1)
        for d in sim_days:
            if d < joined.date() or (creator.quit_on is not None and d >= creator.quit_on):
                continue
            if d in lives:
                plan, facts = lives[d]
                matches = 1 if plan.battle_at_s is not None else 0
                day = Day(
                    duration_s=plan.duration_s,
                    diamonds=facts.host_diamonds,
                    new_followers=facts.follows,
                    streams=1,
                    matches=matches,
                    diamonds_from_matches=facts.battle_diamonds,
                    fan_club=int(facts.host_diamonds * rng.uniform(0.05, 0.3)),
                )
            else:
                day = _simulate_day(rng, chance, per_hour)
            if day is not None:
                creator.days[d] = day
        creators.append(creator)
    return creators


def _row(creator: Creator, download: date, as_csv: bool) -> list:
    period_end = download - timedelta(days=1)
    period_start = _month_start(period_end)
    last_month_end = period_start - timedelta(days=1)

    def total(name: str, first: date = period_start, last: date = period_end) -> int:
        return creator.total(first, last, name)

    diamonds, fan_club = total("diamonds"), total("fan_club")
    duration = total("duration_s")
    valid = sum(
        1 for d, day in creator.days.items() if period_start <= d <= period_end and day.duration_s >= VALID_DAY_S
    )
    share = fan_club / diamonds if diamonds else 0.0
    h, rest = divmod(duration, 3600)
    counts = [
        diamonds,
        None,  # the duration, below
        f"{valid}d",
        total("new_followers"),
        total("streams"),
        total("diamonds", _month_start(last_month_end), last_month_end),
        total("matches"),
        total("diamonds_from_matches"),
        total("multi_guest_host"),
        total("multi_guest_guest"),
    ]
    counts[1] = f"{duration / 3600:.2f}h" if as_csv else f"{h}h {rest // 60}m {rest % 60}s"
    if as_csv:
        counts = [f"{v:,}" if isinstance(v, int) else v for v in counts]
    quit_now = creator.quit_on is not None
    return [
        f"{period_start.isoformat()} ~ {period_end.isoformat()}",
        QUIT if quit_now else creator.creator_id,
        creator.username,
        None if quit_now else creator.manager,
        f"{creator.joined:%Y-%m-%d %H:%M:%S} (UTC+0)",
        f"{(download - creator.joined.date()).days}d",
        *counts,
        creator.tier,
        f"{fan_club:,}" if as_csv else fan_club,
        f"{share * 100:.2f}%" if as_csv else round(share, 5),
    ]


def backstage_files(creators: list[Creator], days: list[date], seed: int) -> list[BackstageFile]:
    """One download a day (mostly XLSX, every fourth a CSV), and one repeated in the same minute."""
    rng = random.Random(f"tiktok-demo:{seed}:backstage:downloads")
    files = []
    for n, download in enumerate(days):
        at = datetime(download.year, download.month, download.day, rng.choice((14, 15)), rng.randrange(60))
        as_csv = n % 4 == 3
        listed = [c for c in creators if c.joined.date() < download]
        rows = sorted((_row(c, download, as_csv) for c in listed), key=lambda r: (-_diamonds(r[6]), r[2]))
        ext = "csv" if as_csv else "xlsx"
        # TikTok's two spellings of the name (live-formats.md): most downloads the first, a few the second
        name = (
            f"Creator_data_{at:%Y_%m_%d_%H_%M}_UTC0.{ext}"
            if n % 9 == 5
            else f"Creator data {at:%Y_%m_%d %H_%M} UTC+0.{ext}"
        )
        if as_csv:
            buffer = io.StringIO()
            csv.writer(buffer).writerows([CSV_HEADER, *([("" if v is None else v) for v in r] for r in rows)])
            data = (BOM + buffer.getvalue()).encode("utf-8")
        else:
            data = xlsx_bytes("Creator data", XLSX_HEADER, rows)
        files.append(BackstageFile(name, data, at))
        if n == len(days) // 3:  # clicked twice: the browser keeps both, the second as "(1)"
            files.append(BackstageFile(name, data, at + timedelta(seconds=rng.randrange(5, 40))))
    return files


def _diamonds(cell) -> int:
    return cell if isinstance(cell, int) else int(str(cell).replace(",", ""))
