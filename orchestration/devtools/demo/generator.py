"""`generate_demo_inbox`: simulate the accounts, plan their downloads, write them into an inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.devtools.demo.live import LIVE_ACCOUNTS, plan_lives, recorded_lives, write_live
from orchestration.devtools.demo.sessions import Writer, plan_sessions, write_account
from orchestration.devtools.demo.simulate import account_handles, simulate_account
from orchestration.lib.core.workers import usable_cores


def spare_workers(most: int = 2) -> int:
    """Processes to record the LIVEs in when nothing else runs (seeding the demo): the cores this process may use,
    at most `most` (two already record them faster than the Studio side is written)."""
    return max(1, min(most, usable_cores()))


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo_inbox` wrote."""

    inbox: Path
    files_written: int
    bytes_written: int
    accounts: tuple[str, ...]
    locales: tuple[str, ...]  # UI language of each account, same order
    first_day: date  # first day of the simulated download period
    last_day: date  # = end_date, the last download day
    live_logs: int = 0  # recorded LIVEs (each a log and its .session.json sidecar)
    backstage_files: int = 0  # the agency's Backstage "Creator data" downloads
    backstage_distinct: int = 0  # of them, distinct by their bytes (one is downloaded twice: the archive keeps it once)
    backstage_first: date | None = None  # first and last Backstage download day
    backstage_last: date | None = None
    live_center_files: int = 0  # LIVE Center daily files (English, one account)

    @property
    def backstage_distinct_told(self) -> str:
        """` (30 distinct: ...)` after the Backstage downloads: the run counts 30 of 31."""
        if self.backstage_distinct >= self.backstage_files:
            return ""
        return f" ({self.backstage_distinct:,} distinct: a repeat byte for byte is archived and counted once)"


def generate_demo_inbox(
    inbox: Path,
    *,
    accounts: int = 3,
    days: int = 130,
    end_date: date = date(2026, 2, 20),
    seed: int = 7,
    variety: bool = True,
    dated_folders: bool = False,
    live: bool = True,
    workers: int = 1,
) -> DemoSummary:
    """Write `accounts` accounts' worth of `days` days of Studio downloads into `inbox`.

    The default (3 accounts, 130 days to 2026-02-20) runs 2025-10-14 -> 2026-02-20, across New Year.
    `variety=False` gives plain regular drops for benchmarks: every day, each account, one download of
    each of the four sections with a 7-day window ending yesterday, CSV only.
    `live=True` adds the LIVE side for the named accounts (at most three): recorded LIVE logs with their
    sidecars in `inbox/<handle>/live/`, an agency's month of Backstage downloads and techcreator's LIVE
    Center daily files (see `live`). `workers` > 1 records the LIVEs in that many processes while this one writes
    the Studio side: the same files, sooner on an idle machine (`make run`'s seeding).
    """
    if accounts < 1 or days < 1:
        raise ValueError("accounts and days must be >= 1")
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    first_day = end_date - timedelta(days=days - 1)
    sim_start = first_day - timedelta(days=40)  # room for a 28-day window on the first day
    writer = Writer(inbox)
    handles, locales = [], []
    named = list(enumerate(account_handles(accounts)))
    # The accounts that go LIVE (the named ones, at most three) are simulated first, so that their LIVEs are
    # recorded while the Studio side is written; every other account is simulated, written and let go in turn.
    going_live = {
        index: simulate_account(index, handle, topic, seed, sim_start, first_day, end_date)
        for index, (handle, topic) in named
        if live and handle in LIVE_ACCOUNTS
    }
    lives = [plan for account in going_live.values() for plan in plan_lives(account, first_day, end_date, seed)]
    with recorded_lives(lives, seed, workers) as recordings:  # (in other processes, meanwhile, if workers > 1)
        for index, (handle, topic) in named:
            if index in going_live:
                account = going_live.pop(index)
            else:
                account = simulate_account(index, handle, topic, seed, sim_start, first_day, end_date)
            sessions = plan_sessions(account, first_day, end_date, seed, variety)
            write_account(account, sessions, writer, seed, dated_folders)
            handles.append(handle)
            locales.append(account.locale)
        written = write_live(lives, writer, end_date, seed, recordings)
    return DemoSummary(
        inbox=inbox,
        files_written=writer.files,
        bytes_written=writer.bytes,
        accounts=tuple(handles),
        locales=tuple(locales),
        first_day=first_day,
        last_day=end_date,
        live_logs=len(written.recorded),
        backstage_files=written.backstage_files,
        backstage_distinct=written.backstage_distinct,
        backstage_first=written.backstage_first,
        backstage_last=written.backstage_last,
        live_center_files=written.live_center_files,
    )
