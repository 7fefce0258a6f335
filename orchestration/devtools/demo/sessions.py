"""The user's downloads: which sections each account's user downloads on which day, then writing them.

`plan_sessions` decides the days and quirks (seeded per account); `write_account` clicks through them,
naming repeats like a browser and stamping each file's mtime with its export moment.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from orchestration.devtools.demo.files import content_csv, followers_members, overview_zip, viewers_members
from orchestration.devtools.demo.formats import BOM, zip_bytes
from orchestration.devtools.demo.simulate import Account, epoch_seconds


@dataclass
class Session:
    """Everything one account's user downloaded on one day."""

    day: date
    start: datetime
    lag: int = 1
    window: int = 7
    overview: bool = True
    followers: bool = True
    viewers: bool = True
    content: bool = True
    second_overview: int | None = None  # window length of an extra Overview download minutes later
    identical_overview_again: bool = False  # same window again (like the real sample pair)
    redownload: str | None = None  # section re-downloaded byte-identically ("Overview", "Content")
    viewers_xlsx: bool = False
    undefined_last: bool = False
    bare: list[tuple[str, str, bool]] = field(default_factory=list)  # (section, file name, dated?)


def plan_sessions(account: Account, first_day: date, end_date: date, seed: int, variety: bool) -> list[Session]:
    rng = random.Random(f"tiktok-demo:{seed}:{account.handle}:downloads")
    start_day = max(first_day, account.born + timedelta(days=2))
    days = [start_day + timedelta(days=k) for k in range((end_date - start_day).days + 1)]
    if not days:
        return []
    sessions = []
    if not variety:
        for d in days:
            start = datetime(d.year, d.month, d.day, rng.randrange(8, 20), rng.randrange(60), rng.randrange(60))
            sessions.append(Session(day=d, start=start))
        return sessions

    # a holiday gap for the second account (over New Year when the range crosses it): more than 7 days,
    # so that week's FollowerActivity is lost for good
    holiday: set[date] = set()
    if account.index == 1 and len(days) > 40:
        new_years = [d for d in days if d.month == 1 and d.day == 1]
        gap_end = new_years[0] if new_years else days[len(days) // 2]
        holiday = {gap_end - timedelta(days=k) for k in range(1, 10)}
    gap = 0
    for n, d in enumerate(days):
        last = d == end_date
        if not last and n > 0 and (d in holiday or rng.random() < 0.07):
            gap += 1
            continue
        start = datetime(d.year, d.month, d.day, rng.randrange(7, 21), rng.randrange(60), rng.randrange(60))
        session = Session(
            day=d,
            start=start,
            lag=1 if rng.random() < 0.7 else 2,
            window=28 if (gap >= 2 or n == 0 or rng.random() < 0.25) else 7,
            followers=rng.random() < 0.92 or last,
            viewers=rng.random() < 0.88 or last,
            content=rng.random() < 0.85 or last,
            undefined_last=account.index == 0 and rng.random() < 0.12,
            viewers_xlsx=account.index == 1 and rng.random() < 0.25,
        )
        if session.lag == 1 and rng.random() < 0.07:
            session.second_overview = 7 if session.window == 28 else 28
        if rng.random() < 0.03:
            session.identical_overview_again = True
        sessions.append(session)
        gap = 0

    # Fixed quirks for the named accounts, placed at stable points of their history.
    def pick(fraction: float, need: str | None = None) -> Session:
        candidates = [s for s in sessions if need is None or getattr(s, need)]
        return candidates[min(len(candidates) - 1, int(len(candidates) * fraction))]

    if account.index == 0:
        pick(0.3, "content").redownload = "Content"  # browser "download again": byte-identical
        pick(0.55, "content").bare.append(("Content", "Content 2.csv", False))  # same bytes, bare
        pick(0.9, "viewers").bare.append(("Viewers", "Viewers (1).csv", True))  # dated folder
        pick(0.7).second_overview = 28 if pick(0.7).window == 7 else 7
    elif account.index == 1:
        pick(0.4).redownload = "Overview"
        pick(0.65, "content").bare.append(("Content", "Content 2.csv", True))  # rows reordered
        pick(0.2).identical_overview_again = True
    elif account.index == 2:
        sessions[0].window = 28  # reaches back before the account had data: zero rows, "undefined"
        pick(0.5, "content").bare.append(("Content", "Content 2.csv", False))
    return sessions


class Writer:
    """Writes files, naming repeats like a browser does, and stamps mtimes with the export moment."""

    def __init__(self, inbox: Path) -> None:
        self.inbox = inbox
        self.seen: dict[Path, int] = {}
        self.files = 0
        self.bytes = 0
        self.made: set[Path] = set()

    def write(self, folder: Path, name: str, data: bytes, moment: datetime) -> Path:
        key = folder / name
        count = self.seen.get(key, 0)
        self.seen[key] = count + 1
        if count:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem} ({count}).{ext}" if dot else f"{name} ({count})"
        if folder not in self.made:
            folder.mkdir(parents=True, exist_ok=True)
            self.made.add(folder)
        path = folder / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, data)
            stamp = epoch_seconds(moment)
            os.utime(fd, (stamp, stamp))
        finally:
            os.close(fd)
        self.files += 1
        self.bytes += len(data)
        return path


@dataclass
class _Download:
    name: str
    data: bytes
    at: datetime
    members: list[tuple[str, bytes]]


def _write_session(account: Account, s: Session, writer: Writer, rng: random.Random, dated_folders: bool) -> None:
    """The clicks of one day: Overview (maybe twice), then Followers, Viewers, Content, then repeats."""
    zip_folder = writer.inbox / s.day.isoformat() if dated_folders else writer.inbox
    made: dict[str, _Download] = {}

    def drop(section: str, name: str, members: list[tuple[str, bytes]], at: datetime) -> None:
        data = zip_bytes(members, (at.year, at.month, at.day, at.hour, at.minute, at.second))
        writer.write(zip_folder, name, data, at)
        made[section] = _Download(name, data, at, members)

    handle = account.handle
    moment = s.start
    drop("Overview", *overview_zip(account, s, s.window, moment), moment)
    if s.identical_overview_again:  # the same window two minutes later: same CSV, another ZIP
        at = moment + timedelta(seconds=rng.randrange(90, 150))
        drop("Overview", *overview_zip(account, s, s.window, at), at)
    if s.second_overview:  # the other window length: overlapping rows
        at = moment + timedelta(seconds=rng.randrange(160, 400))
        drop("Overview", *overview_zip(account, s, s.second_overview, at), at)
    moment += timedelta(seconds=rng.randrange(400, 500))
    if s.followers:
        moment += timedelta(seconds=rng.randrange(15, 120))
        drop(
            "Followers",
            f"Followers_{handle}.zip",
            followers_members(account, s, rng.randrange(6, 21)),
            moment,
        )
    if s.viewers:
        moment += timedelta(seconds=rng.randrange(15, 120))
        drop("Viewers", f"Viewers_{handle}.zip", viewers_members(account, s), moment)
    if s.content:
        moment += timedelta(seconds=rng.randrange(15, 120))
        content = content_csv(account, moment, rng.randrange(12, 16))
        drop("Content", f"Content_{handle}.zip", [("Content.csv", content)], moment)
    if s.redownload and s.redownload in made:  # "download again": the very same bytes
        again = made[s.redownload]
        writer.write(zip_folder, again.name, again.data, again.at + timedelta(seconds=rng.randrange(60, 180)))
    for section, bare_name, dated in s.bare:
        if section not in made:
            continue
        download = made[section]
        data = download.members[0][1]
        if section == "Content" and dated:  # a re-download that came back in another row order
            header, *lines = data.decode("utf-8")[1:].split("\n")
            rng.shuffle(lines)
            data = (BOM + "\n".join([header, *lines])).encode("utf-8")
        folder = writer.inbox / handle / s.day.isoformat() if dated else writer.inbox / handle
        writer.write(folder, bare_name, data, download.at + timedelta(seconds=rng.randrange(5, 40)))


def write_account(account: Account, sessions: list[Session], writer: Writer, seed: int, dated_folders: bool) -> None:
    rng = random.Random(f"tiktok-demo:{seed}:{account.handle}:clicks")
    for session in sessions:
        _write_session(account, session, writer, rng, dated_folders)
