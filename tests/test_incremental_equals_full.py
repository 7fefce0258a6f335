"""Incremental dbt builds equal a full refresh after every drop, and no listed day vanishes.

Each seed makes a random history of drops for one or two accounts: FollowerHistory windows with gaps
between them and "undefined" days, audience snapshots (gender, territory; sometimes alone in their ZIP),
Overview/Viewers windows, Content snapshots, and API video snapshots (rows written straight into
raw.api_video_snapshots, as a complete pull would) of the same videos, some on the days Studio saw
them. Export days are drawn at random, so later drops bring late files and revise earlier days.

After EACH drop the daily job's steps run on the warehouse (landing, `record_pending_min_date` and
`record_changed_sources`, then the `dbt build` Dagster plans: the whole project the first time, afterwards
only the models downstream of the raw tables the drop wrote, incrementals from `min_date`, their tests from
`min_date` too: `_land_and_build`), then a copy of that warehouse is rebuilt with `--full-refresh`: every
mart table must equal the copy's, row for row. dbt runs in this process with the project parsed once (the
`dbt` fixture, tests/dbt_runner.py): a step costs a few seconds instead of about ten.

Seeds are fixed, so a failure reproduces; `test_the_seeds_cover_every_kind_of_drop` checks that they
exercise each thing an incremental build can get wrong.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from orchestration.defs.dbt import MIN_DATE_ENV, MODEL_MIN_DATES_ENV, TESTS_FROM_ENV
from orchestration.lib.core.dbt_selection import record_changed_sources
from orchestration.lib.core.warehouse import connect, record_pending_min_date
from tests.dbt_runner import mart_tables
from tests.studio_fixtures import drop, new_paths, query, studio_csv, studio_zip
from tests.test_end_to_end import _land_and_build

SEEDS = (18, 60)
STEPS = 3  # drops (and incremental builds) per seed
ACCOUNTS = ("alpha", "beta")
FIRST_DAY = date(2026, 1, 1)
CALENDAR_DAYS = 45  # long enough for the 28-day follower change
HISTORY = ("Date", "Followers", "Difference in followers from previous day")
CONTENT = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
           "Total views")  # fmt: skip


def _label(day: date) -> str:
    return f"{day:%B} {day.day}"  # Studio's year-less "January 5"


@dataclass
class Account:
    """What TikTok knows about one account; exports and API pulls report it with their own noise."""

    handle: str
    followers: dict[date, int]
    videos: dict[str, date]  # video id -> post date
    views: dict[tuple[str, date], int]  # lifetime views of a video at the end of a day


def _account(rng: random.Random, index: int) -> Account:
    days = [FIRST_DAY + timedelta(n) for n in range(CALENDAR_DAYS)]
    followers, count = {}, rng.randint(500, 2000)
    for day in days:
        count = max(0, count + rng.randint(-5, 12))
        followers[day] = count
    # one old video, two posted during the calendar (their first snapshot may count from zero)
    posted = [date(2025, 11, 20), FIRST_DAY + timedelta(rng.randint(2, 15)), FIRST_DAY + timedelta(rng.randint(16, 35))]
    videos = {f"7{index}{n:017d}": post for n, post in enumerate(posted)}
    views = {}
    for video, post in videos.items():
        total = rng.randint(1000, 5000) if post < FIRST_DAY else 0
        for day in days:
            if day >= post:
                total += rng.randint(0, 400)
            views[video, day] = total
    return Account(ACCOUNTS[index], followers, videos, views)


@dataclass
class Drop:
    """One exported file (or one API pull) of one account, taken at `moment`."""

    kind: str  # followers | audience | content | overview | api
    account: Account
    moment: datetime
    span: int = 0  # days listed before the export day (followers, overview)
    leading_undefined: int = 0  # followers: first listed days written "undefined"
    api: str = "display"
    noise: int = 0  # revisions: each export reports slightly different numbers

    @property
    def day(self) -> date:
        return self.moment.date()

    @property
    def listed_days(self) -> list[date]:
        if self.kind in ("followers", "overview"):
            return [self.day - timedelta(n) for n in range(self.span, 0, -1)]
        return [self.day]  # content and API: that day's snapshot; audience: the export day

    def describe(self) -> str:
        days = self.listed_days
        return (
            f"{self.kind}({self.account.handle}, at {self.moment:%m-%d %H:%M}, days {days[0]:%m-%d}..{days[-1]:%m-%d})"
        )

    def videos_posted(self) -> list[str]:
        return [v for v, post in self.account.videos.items() if post <= self.day]

    def files(self) -> dict[str, bytes]:
        """ZIP entries of the export (empty for an API pull)."""
        account, rng = self.account, random.Random(f"{self.moment}:{self.noise}")  # str seeds are stable
        if self.kind in ("followers", "audience"):
            entries = {}
            if self.kind == "followers":
                rows, previous = [], None
                for n, day in enumerate(self.listed_days):
                    known = n >= self.leading_undefined and rng.random() > 0.15
                    count = account.followers[day] + self.noise if known else None
                    difference = count - previous if count is not None and previous is not None else 0
                    rows.append([_label(day), str(count) if known else "undefined", str(difference)])
                    previous = count
                entries["FollowerHistory.csv"] = studio_csv(HISTORY, rows)
                last = self.listed_days[-1]  # its late hours are not computed yet (zeros)
                computed = rng.randint(10, 23)
                activity = [[_label(last), str(h), str(rng.randint(1, 50) if h <= computed else 0)] for h in range(24)]
                entries["FollowerActivity.csv"] = studio_csv(("Date", "Hour", "Active followers"), activity)
            female = rng.randint(30, 70)
            gender = [["Female", f"0.{female}"], ["Male", f"0.{100 - female}"]] if rng.random() > 0.2 else []
            entries["FollowerGender.csv"] = studio_csv(("Gender", "Distribution"), gender)
            us = rng.randint(20, 80)
            entries["FollowerTopTerritories.csv"] = studio_csv(
                ("Top territories", "Distribution"), [["US", f"0.{us}"], ["Others", f"0.{100 - us}"]]
            )
            return entries
        if self.kind == "overview":
            overview = [[_label(d), *(str(rng.randint(0, 900)) for _ in range(5))] for d in self.listed_days]
            viewers = []
            for day in self.listed_days:
                new, returning = rng.randint(0, 300), rng.randint(0, 300)
                viewers.append([_label(day), str(new + returning), str(new), str(returning)])
            return {
                "Overview.csv": studio_csv(
                    ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"), overview
                ),
                "Viewers.csv": studio_csv(("Date", "Total Viewers", "New Viewers", "Returning Viewers"), viewers),
            }
        if self.kind == "content":
            rows = []
            for video in self.videos_posted():
                views = max(0, account.views[video, self.day] - self.noise)  # Studio lags the API a little
                link = f"https://www.tiktok.com/@{account.handle}/video/{video}"
                post = _label(account.videos[video])
                rows.append([_label(self.day), f"video {video[-1]}", link, post, str(views // 10), str(views // 50),
                             str(views // 90), str(views)])  # fmt: skip
            return {"Content.csv": studio_csv(CONTENT, rows)}
        return {}

    def api_rows(self, pull_id: str) -> pd.DataFrame:
        rows = []
        for n, video in enumerate(self.videos_posted(), start=1):
            views = self.account.views[video, self.day] + self.noise
            rows.append(
                dict(
                    document_id=pull_id, account_handle=self.account.handle, export_date=self.day,
                    exported_at=self.moment, source_row=n, api=self.api, metric_date=self.day, video_id=video,
                    post_date=self.account.videos[video], views_total=views, likes_total=views // 10,
                    comments_total=views // 50, shares_total=views // 90,
                )
            )  # fmt: skip
        return pd.DataFrame(rows)


@dataclass
class Scenario:
    seed: int
    steps: list[list[Drop]] = field(default_factory=list)

    def describe(self, upto: int) -> str:
        return "\n".join(
            f"  step {n}: " + ", ".join(d.describe() for d in step) for n, step in enumerate(self.steps[: upto + 1])
        )


def scenario(seed: int) -> Scenario:
    rng = random.Random(seed)
    accounts = [_account(rng, n) for n in range(rng.choice((1, 2)))]
    result, minute = Scenario(seed), 0
    for _ in range(STEPS):
        step = []
        for _ in range(rng.randint(1, 4)):
            minute += 1  # every export a distinct moment, so "newest export wins" is never a tie
            kind = rng.choice(("followers", "followers", "audience", "content", "content", "overview", "api"))
            moment = datetime.combine(FIRST_DAY + timedelta(rng.randint(6, CALENDAR_DAYS - 1)), datetime.min.time())
            moment += timedelta(hours=8, minutes=minute)
            step.append(
                Drop(
                    kind, rng.choice(accounts), moment, span=rng.randint(2, 6),
                    leading_undefined=rng.choice((0, 0, 1, 2)), api=rng.choice(("display", "business")),
                    noise=rng.randint(0, 9),
                )
            )  # fmt: skip
        result.steps.append(step)
    return result


def coverage(plan: Scenario) -> set[str]:
    """What the plan exercises, beyond the first drop (which a full build handles anyway)."""
    covered: set[str] = set()
    listed: dict[tuple[str, str], set[date]] = {}  # (account, kind) -> days listed by earlier steps
    exported: dict[str, date] = {}  # account -> latest export day of earlier steps
    snapshots: dict[tuple[str, str, date], str] = {}  # (account, video, day) -> winning source so far
    for number, step in enumerate(plan.steps):
        later = number > 0
        for drop_ in step:
            handle, days = drop_.account.handle, drop_.listed_days
            earlier = listed.get((handle, drop_.kind), set())
            if later and drop_.kind == "followers":
                known = listed.get((handle, "followers"), set())
                if known and min(days) > max(known) + timedelta(1):
                    covered.add("follower gap after a built day")
            if later and earlier & set(days):
                covered.add("revision of a built day")
            if later and handle in exported and drop_.day < exported[handle]:
                covered.add("late file")
            if later and drop_.kind == "followers" and drop_.leading_undefined:
                covered.add("leading undefined days")
            others = [min(d.listed_days) for d in step if d is not drop_ and d.kind != "audience"]
            if later and drop_.kind == "audience" and others and min(others) > drop_.day:
                covered.add("audience snapshot older than the rest of its drop")
            # its own raw table's first day is later than the drop's: the follower marts take a later window
            if later and drop_.kind == "followers" and any(min(d.listed_days) < min(days) for d in step):
                covered.add("follower history later than the rest of its drop")
        for drop_ in step:
            listed.setdefault((drop_.account.handle, drop_.kind), set()).update(drop_.listed_days)
            exported[drop_.account.handle] = max(exported.get(drop_.account.handle, drop_.day), drop_.day)
            if drop_.kind in ("content", "api"):
                for video in drop_.videos_posted():
                    key = (drop_.account.handle, video, drop_.day)
                    source = "api" if drop_.kind == "api" or snapshots.get(key) == "api" else "studio"
                    snapshots[key] = source
    for (handle, video, day), source in snapshots.items():
        before = [d for (h, v, d) in snapshots if (h, v) == (handle, video) and d < day]
        if before and snapshots[handle, video, max(before)] != source:
            covered.add("video switches between API and Studio")
    return covered


EVERY_CASE = {
    "follower gap after a built day",
    "revision of a built day",
    "late file",
    "leading undefined days",
    "audience snapshot older than the rest of its drop",
    "video switches between API and Studio",
    "follower history later than the rest of its drop",
}


def test_the_seeds_cover_every_kind_of_drop():
    covered = set().union(*(coverage(scenario(seed)) for seed in SEEDS))
    assert covered == EVERY_CASE, f"not exercised by seeds {SEEDS}: {EVERY_CASE - covered}"


def _apply(paths, step: list[Drop], number: int) -> None:
    for n, drop_ in enumerate(step):
        if drop_.kind == "api":
            with connect(paths.warehouse) as con:
                con.register("pulled", drop_.api_rows(f"pull-{number}-{n}"))
                con.execute("insert into raw.api_video_snapshots by name select * from pulled")
                record_pending_min_date(con, drop_.day)  # what the API loader records for its pull
                # and its tables, each from the pull's first day, in the same transaction
                record_changed_sources(con, {"api_video_snapshots"}, {"api_video_snapshots": drop_.day})
        else:
            section = "Followers" if drop_.kind == "audience" else drop_.kind.capitalize()
            name = f"{section}_{drop_.account.handle} ({number}{n}).zip"
            drop(paths, name, studio_zip(drop_.files(), drop_.moment))


def _full_refresh_of_a_copy(paths, dbt, root: Path):
    copy = new_paths(root)
    for suffix in ("", ".wal"):
        source = paths.warehouse.with_name(paths.warehouse.name + suffix)
        if source.exists():
            shutil.copyfile(source, copy.warehouse.with_name(copy.warehouse.name + suffix))
    dbt(copy, ["run", "--full-refresh"], root / "target")
    return mart_tables(copy)


def _differences(incremental: dict, full: dict) -> list[str]:
    lines = []
    for table in sorted(set(incremental) | set(full)):
        ours, theirs = Counter(incremental.get(table, [])), Counter(full.get(table, []))
        lines += [f"  {table}: only incremental {row}" for row in sorted(ours - theirs, key=repr)]
        lines += [f"  {table}: only full refresh {row}" for row in sorted(theirs - ours, key=repr)]
    return lines


@pytest.mark.parametrize("seed", SEEDS)
def test_incremental_builds_equal_a_full_refresh_after_every_drop(seed, tmp_path, dbt):
    plan = scenario(seed)
    paths = new_paths(tmp_path / "incremental")
    later_windows = {}  # models that recomputed from a later day than their build's min_date, and that day
    for number, step in enumerate(plan.steps):
        _apply(paths, step, number)
        build = _land_and_build(paths, tmp_path / f"target-{number}", dbt)
        min_date = build.env[MIN_DATE_ENV]
        later = json.loads(build.env[MODEL_MIN_DATES_ENV] or "{}")
        assert all(day > min_date for day in later.values()), later
        later_windows.update(later)
        for model, day in later.items():  # the SQL dbt ran filtered that model's rows from its own day
            compiled = next((tmp_path / f"target-{number}" / "compiled").rglob(f"{model}.sql")).read_text()
            assert f"cast('{day}' as date)" in compiled and f"cast('{min_date}' as date)" not in compiled, model
        assert min_date, "every drop loads something, so the build is incremental"
        # the first build makes the whole project; later ones only what the drop's raw tables reach
        assert build.whole == (number == 0), build.reason
        if number:
            assert build.env[TESTS_FROM_ENV] == min_date and "--exclude" in build.args
        quarantined = query(
            paths, "select original_name, quarantine_reason from raw.documents where status <> 'loaded'"
        )
        assert not quarantined, f"the generated files must be valid: {quarantined}"

        if number:  # the first build creates the tables: a full build already
            incremental = mart_tables(paths)
            full = _full_refresh_of_a_copy(paths, dbt, tmp_path / f"full-{number}")
            differences = _differences(incremental, full)
            assert not differences, (
                f"seed {seed}, after step {number} (incremental from {min_date}, {later or 'no model later'}):\n"
                f"{plan.describe(number)}\n" + "\n".join(differences[:40])
            )

        # every day a FollowerHistory file lists has a row, on a spine without holes
        missing = query(
            paths,
            """select account_handle, metric_date from raw.studio_follower_history
            except select account_handle, metric_date from marts.fct_follower_growth_daily""",
        )
        assert not missing, f"seed {seed}, step {number}: listed days without a row: {missing}"
        holes = query(
            paths,
            """select account_handle from marts.fct_follower_growth_daily group by account_handle
            having count(*) <> max(metric_date) - min(metric_date) + 1""",
        )
        assert not holes, f"seed {seed}, step {number}: spine with holes: {holes}"
    # the drops of several raw tables with different first days made some models recompute from a later day
    assert later_windows, f"seed {seed}: no build recomputed a model from a later day than its drop's first"
    if "follower history later than the rest of its drop" in coverage(plan):  # the spine's gap days and lags too
        assert "fct_follower_growth_daily" in later_windows, later_windows
