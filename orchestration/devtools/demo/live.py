"""The demo's LIVE side: recorded LIVEs of the named accounts, an agency's Backstage month, LIVE Center files.

`plan_lives` decides each named account's LIVEs over the demo period (four each, most in its last five
weeks); `write_live` simulates them (`live_sim`), records them (`live_logs`) into `inbox/<handle>/live/`
with their sidecars, writes the agency's Backstage downloads (`live_backstage`) into
`inbox/<BACKSTAGE_FOLDER>/` and techcreator's LIVE Center daily files (`live_center`) beside its logs.
Fixed quirks, so every pitfall of docs/live.md is in the demo: techcreator's third LIVE reconnects and
TikTok replays 50 events; maria.cocina's third starts at 23:15-23:35 Madrid time and runs past midnight
(local and UTC); le_petit_chef's last has a battle with one gift to the guest; le_petit_chef's logs and
techcreator's second are gzip. Every LIVE has a streak of 10 roses from the account's top fan, and ends
with `live_end`, `disconnect`, `session_end`.

The time zones are the demo's choice for its accounts (the logs, like TikTok, carry UTC only); the
warehouse learns them from the dbt var `live_account_timezones` (else it uses UTC).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from zoneinfo import ZoneInfo

from orchestration.devtools.demo.live_backstage import backstage_files, download_days, simulate_agency
from orchestration.devtools.demo.live_center import LIVE_CENTER_ACCOUNT, live_center_files
from orchestration.devtools.demo.live_logs import RecordedLive, record_live
from orchestration.devtools.demo.live_sim import LiveFacts, LivePlan, simulate_live
from orchestration.devtools.demo.sessions import Writer
from orchestration.devtools.demo.simulate import Account, epoch_seconds
from orchestration.lib.core.workers import worker_pool

BACKSTAGE_FOLDER = "backstage"  # the agency's folder: Backstage files are agency-wide, not one account's
# demo handle -> (IANA time zone, peak viewers range)
LIVE_ACCOUNTS = {
    "techcreator": ("America/New_York", (180, 420)),
    "maria.cocina": ("Europe/Madrid", (70, 220)),
    "le_petit_chef": ("Europe/London", (25, 80)),
}
_PLACES = (0.15, 0.7, 0.85, 0.97)  # where in the account's period its four LIVEs fall


@dataclass
class LiveDemo:
    """What `write_live` wrote, for the summary and the tests."""

    recorded: list[tuple[RecordedLive, LiveFacts]]
    backstage_files: int
    backstage_first: date | None
    backstage_last: date | None
    live_center_files: int = 0
    backstage_distinct: int = 0  # by their bytes: a download repeated byte for byte lands once


def plan_lives(account: Account, first_day: date, end_date: date, seed: int) -> list[LivePlan]:
    if account.handle not in LIVE_ACCOUNTS:
        return []
    zone_name, (low, high) = LIVE_ACCOUNTS[account.handle]
    zone = ZoneInfo(zone_name)
    rng = random.Random(f"tiktok-demo:{seed}:{account.handle}:lives")
    lo, hi = max(first_day, account.born + timedelta(days=1)), end_date - timedelta(days=1)
    if hi < lo:
        return []
    days: list[date] = []
    for place in _PLACES:
        d = lo + timedelta(days=round(place * (hi - lo).days) + rng.choice((-1, 0, 1)))
        d = min(max(d, lo), hi)
        if not days or d > days[-1]:
            days.append(d)
    plans = []
    for number, day in enumerate(days, start=1):
        midnight = account.handle == "maria.cocina" and number == 3
        if midnight:  # starts before midnight in Madrid, ends after it (and after midnight UTC)
            local = datetime(day.year, day.month, day.day, 23, rng.randrange(15, 36), rng.randrange(60))
            duration = rng.randrange(6600, 7500)
        else:
            local = datetime(day.year, day.month, day.day, rng.randrange(19, 22), rng.randrange(60), rng.randrange(60))
            duration = rng.randrange(2400, 6000)
        if 3500 <= duration < 3720:  # keep clear of the 1-hour line Backstage's valid days are judged by
            duration += 300
        start = local.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
        battle = account.handle == "le_petit_chef" and number == len(days)
        plans.append(
            LivePlan(
                handle=account.handle,
                number=number,
                room_id=str((epoch_seconds(start) << 32) | rng.getrandbits(32)),
                start=start,
                duration_s=duration,
                peak=rng.randrange(low, high),
                timezone=zone_name,
                recorder_lag_s=rng.uniform(20, 75),
                seed=f"{account.handle}:live{number}",
                reconnect_at_s=duration * 0.4 if account.handle == "techcreator" and number == 3 else None,
                battle_at_s=duration * 0.55 if battle else None,
                guest_id=str(rng.randrange(7_000_000_000_000_000_000, 7_400_000_000_000_000_000)) if battle else None,
                gzip=account.handle == "le_petit_chef" or (account.handle == "techcreator" and number == 2),
            )
        )
    return plans


Recording = tuple[RecordedLive, LiveFacts]


def record_planned_live(plan: LivePlan, seed: int) -> Recording:
    """Simulate one LIVE and record it: what `write_live` writes of it (its own random streams, so the LIVEs may
    be recorded in any order, or in other processes, with the same bytes)."""
    events, facts = simulate_live(plan, seed)
    return record_live(plan, events, seed), facts


@contextmanager
def recorded_lives(plans: list[LivePlan], seed: int, workers: int = 1) -> Iterator[Iterable[Recording]]:
    """Each plan's recording, in plan order. With `workers` > 1 they are recorded in that many processes, started
    now, so the caller writes the Studio side meanwhile (the LIVEs are ~3/4 of the demo's generation: `make run`
    seeds in 1.01-1.22 s instead of 1.34-1.51 s on 2 cores), spawned as the pipeline's workers are (`core.workers`)."""
    if workers <= 1 or len(plans) <= 1:
        yield (record_planned_live(plan, seed) for plan in plans)
        return
    with worker_pool(workers) as pool:
        try:
            yield pool.map(record_planned_live, plans, repeat(seed))
        except BaseException:  # the caller failed: the LIVEs not started yet are not recorded for nothing
            pool.shutdown(cancel_futures=True)
            raise


def write_live(
    plans: list[LivePlan],
    writer: Writer,
    end_date: date,
    seed: int,
    recordings: Iterable[Recording],
) -> LiveDemo:
    """Write every planned LIVE, its recording taken from `recordings` (`recorded_lives`, in plan order), then the
    agency's Backstage month."""
    recorded: list[Recording] = []
    by_handle: dict[str, list[tuple[LivePlan, LiveFacts]]] = {}
    for plan, (live, facts) in zip(plans, recordings, strict=True):
        folder = writer.inbox / plan.handle / "live"
        ended = datetime(1970, 1, 1) + timedelta(milliseconds=live.ended_at_ms)
        # The recorder writes the sidecar, then renames the log: both carry the end of the recording.
        writer.write(folder, live.sidecar_name, live.sidecar, ended)
        writer.write(folder, live.name, live.log, ended)
        recorded.append((live, facts))
        by_handle.setdefault(plan.handle, []).append((plan, facts))
    if not plans:
        return LiveDemo(recorded, 0, None, None)
    days = download_days(end_date)
    creators = simulate_agency(by_handle, days, seed)
    files = backstage_files(creators, days, seed)
    for file in files:
        writer.write(writer.inbox / BACKSTAGE_FOLDER, file.name, file.data, file.at)
    member = next((c for c in creators if c.username == LIVE_CENTER_ACCOUNT), None)
    daily = live_center_files([pf for pfs in by_handle.values() for pf in pfs], member, end_date, seed)
    for file in daily:
        writer.write(writer.inbox / LIVE_CENTER_ACCOUNT / "live", file.name, file.data, file.at)
    return LiveDemo(recorded, len(files), days[0], days[-1], len(daily), len({file.data for file in files}))
