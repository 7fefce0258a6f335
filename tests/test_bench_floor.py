"""The benchmark's floor (bare DuckDB SQL over the generated drops) computes what the contract marts promise.

Values are worked out here with plain Python from the same files: csv rows out of the ZIPs, the newest
export (file mtime, the generator's export moment) winning, year-less dates mapped back through the
generator's own rendering of the known date range. No timing is asserted.
"""

import csv
import io
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest

from orchestration.devtools.bench_floor import run_floor
from orchestration.devtools.demo import generate_demo_inbox, yearless_date

SECTIONS = {"Overview": "Overview.csv", "Viewers": "Viewers.csv", "Followers": "FollowerHistory.csv"}


@pytest.fixture(scope="module")
def drop(tmp_path_factory):
    root = tmp_path_factory.mktemp("floor")
    summary = generate_demo_inbox(root / "inbox", accounts=2, days=10, variety=False, live=False)
    floor = run_floor(root / "inbox", root / "work")
    labels = {  # "13 de febrero" -> date(2026, 2, 13), per account, over the generated range
        handle: {
            yearless_date(summary.first_day - timedelta(days=k), locale): summary.first_day - timedelta(days=k)
            for k in range(-30, 300)
        }
        for handle, locale in zip(summary.accounts, summary.locales, strict=True)
    }
    newest: dict[tuple, tuple] = {}  # (section, handle, day[, video]) -> (exported at, row)
    for path in (root / "inbox").iterdir():
        name = path.stem.split(" (")[0]  # Content_maria.cocina (3) -> Content_maria.cocina
        section, handle = name.split("_")[0], name.split("_")[-1]  # neither named account has an "_"
        exported = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        with zipfile.ZipFile(path) as archive:
            member = SECTIONS.get(section, "Content.csv")
            rows = list(csv.reader(io.StringIO(archive.read(member).decode("utf-8-sig"))))[1:]
        for row in rows:
            day = labels[handle][row[0]]
            key = (section, handle, day) + ((row[2].rsplit("/", 1)[1],) if section == "Content" else ())
            if key not in newest or newest[key][0] < exported:
                newest[key] = (exported, row)
    return summary, floor, labels, newest


def _number(text):
    return None if text == "undefined" else int(text)


def test_every_studio_zip_is_read(drop):
    summary, floor, _, _ = drop
    assert (floor.files_read, floor.files_skipped) == (summary.files_written, 0)


def test_follower_growth_is_the_newest_total_on_a_continuous_calendar(drop):
    summary, floor, _, newest = drop
    for handle in summary.accounts:
        reported = {k[2]: _number(row[1]) for k, (_, row) in newest.items() if k[:2] == ("Followers", handle)}
        days = [min(reported) + timedelta(days=k) for k in range((max(reported) - min(reported)).days + 1)]
        expected = []
        for day in days:
            today, yesterday = reported.get(day), reported.get(day - timedelta(days=1))
            week_ago = reported.get(day - timedelta(days=7))
            expected.append(
                (
                    day,
                    today,
                    None if today is None or yesterday is None else today - yesterday,
                    None if today is None or week_ago is None else today - week_ago,
                )
            )
        got = floor.con.execute(
            """select metric_date, followers, net_follower_change, net_follower_change_7d
            from fct_follower_growth_daily where account_handle = ? order by metric_date""",
            [handle],
        ).fetchall()
        assert got == expected
        assert any(change not in (None, 0) for _, _, change, _ in got)  # a real growth figure was checked


def test_overview_joins_the_newest_overview_and_viewers_rows(drop):
    _, floor, _, newest = drop
    handle, day = "maria.cocina", date(2026, 2, 12)  # Spanish UI: "12 de febrero"
    overview_at, overview = newest[("Overview", handle, day)]
    viewers_at, viewers = newest[("Viewers", handle, day)]
    got = floor.con.execute(
        """select video_views, profile_views, shares, total_viewers, returning_viewers, is_provisional
        from fct_account_overview_daily where account_handle = ? and metric_date = ?""",
        [handle, day],
    ).fetchone()
    provisional = (overview_at.date() - day).days <= 3 or (viewers_at.date() - day).days <= 3
    assert got == (int(overview[1]), int(overview[2]), int(overview[5]), int(viewers[1]), int(viewers[3]), provisional)


def test_video_gains_are_the_difference_from_the_previous_snapshot(drop):
    summary, floor, labels, newest = drop
    snapshots: dict[tuple, list] = {}
    for (section, handle, day, *video), (_, row) in sorted(newest.items(), key=lambda item: item[0][2]):
        if section == "Content":
            posted = labels[handle][row[3]]
            snapshots.setdefault((handle, video[0]), []).append((day, int(row[7]), posted))
    expected = {}
    for (handle, video), seen in snapshots.items():
        for i, (day, views, posted) in enumerate(seen):
            first_gain = views if posted >= day - timedelta(days=1) else None
            expected[(handle, video, day)] = views - seen[i - 1][1] if i else first_gain
    got = floor.con.execute(
        "select account_handle, video_id, metric_date, views_gained from fct_video_engagement_daily"
    )
    assert {(h, v, d): g for h, v, d, g in got.fetchall()} == expected
    assert sum(1 for g in expected.values() if g) > 100


def test_trending_ranks_views_gained_over_seven_days(drop):
    summary, floor, labels, newest = drop
    views = {}  # (handle, video, day) -> (lifetime views, post date)
    for (section, handle, day, *video), (_, row) in newest.items():
        if section == "Content":
            views[(handle, video[0], day)] = (int(row[7]), labels[handle][row[3]])
    last, start = summary.last_day, summary.last_day - timedelta(days=7)
    for handle in summary.accounts:
        gains = []
        for (h, video, day), (total, posted) in views.items():
            if h != handle or day != last:
                continue
            inside = sorted(
                (d, v) for (hh, vv, d), (v, _) in views.items() if (hh, vv) == (h, video) and start < d < last
            )
            if (h, video, start) in views:  # a full window
                gains.append((total - views[(h, video, start)][0], video))
            elif posted > start:  # posted inside the window: all its views are growth
                gains.append((total, video))
            elif inside:  # else from its earliest snapshot inside the window
                gains.append((total - inside[0][1], video))
        got = floor.con.execute(
            """select views_gained_7d, video_id from rpt_trending_videos_7d
            where account_handle = ? and as_of_date = ? order by trending_rank""",
            [handle, last],
        ).fetchall()
        assert got == sorted(gains, key=lambda g: (-g[0], g[1]))[:9]
        assert len(got) == 9


def test_undefined_never_beats_a_number_in_the_floor_as_in_the_marts(tmp_path):
    """An older export's numbers and a newer one's "undefined" (a cell not computed, Viewers' "0","0" filler): the
    floor keeps the numbers as the staging models do (Overview cell by cell, Viewers' three as one unit), else the
    bench would report the marts as a mismatch. Worked out by hand from the rows below."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    older, newer = (2026, 3, 5, 10, 0, 0), (2026, 3, 6, 10, 0, 0)
    first, second = yearless_date(date(2026, 3, 1), "en"), yearless_date(date(2026, 3, 2), "en")
    files = {
        "Overview": ("Date,Video Views,Profile Views,Likes,Comments,Shares", "Overview.csv",
                     [(first, 100, 10, 5, 1, 1), (second, 200, 20, 7, 2, 2)],
                     [(first, "undefined", 11, "undefined", 1, 1), (second, *["undefined"] * 5)]),
        "Viewers": ("Date,Total Viewers,New Viewers,Returning Viewers", "Viewers.csv",
                    [(first, 100, 60, 40), (second, "undefined", 3, 4)],
                    [(first, "undefined", 0, 0), (second, "undefined", 0, 0)]),
        "Followers": ("Date,Followers,Difference in followers from previous day", "FollowerHistory.csv",
                      [(first, 500, 0), (second, 510, 10)], [(first, "undefined", 0), (second, 515, 5)]),
    }  # fmt: skip
    for section, (header, member, old_rows, new_rows) in files.items():
        for name, when, rows in ((f"{section}_acc.zip", older, old_rows), (f"{section}_acc (1).zip", newer, new_rows)):
            with zipfile.ZipFile(inbox / name, "w") as archive:
                body = "".join(",".join(f'"{cell}"' for cell in row) + "\n" for row in rows)
                archive.writestr(zipfile.ZipInfo(member, date_time=when), f"{header}\n{body}")
    floor = run_floor(inbox, tmp_path / "work")
    overview = floor.con.execute(
        """select metric_date, video_views, profile_views, likes, comments, shares, total_viewers, new_viewers,
            returning_viewers from fct_account_overview_daily order by metric_date"""
    ).fetchall()
    assert overview == [
        (date(2026, 3, 1), 100, 11, 5, 1, 1, 100, 60, 40),  # the newer profile views, the older rest
        (date(2026, 3, 2), 200, 20, 7, 2, 2, None, 3, 4),  # the older parts: the newer export's are filler
    ]
    followers = "select metric_date, followers from fct_follower_growth_daily order by metric_date"
    assert floor.con.execute(followers).fetchall() == [(date(2026, 3, 1), 500), (date(2026, 3, 2), 515)]
