"""Severity: plausibility problems land every row and record a flag; structural ones quarantine the file
(API pulls too: shares past 1 land and a dbt test warns).

The 365-day Overview is shaped like the real one (tiktok-formats.md): a ZIP named
`Overview_<first day>_<epoch>_<handle>.zip`, one row per day from "February 28" to "February 27" across
New Year, every field quoted, and Comments net of removals: -1 and -4 on a few days.
"""

import json
from datetime import UTC, date, datetime, timedelta

import pandas as pd

from orchestration.lib.core.warehouse import connect
from orchestration.lib.studio.landing import replay_archive
from schemas.api_contracts import validate
from tests.dbt_runner import failures
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv, studio_zip

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
VIEWERS = ("Date", "Total Viewers", "New Viewers", "Returning Viewers")
HISTORY = ("Date", "Followers", "Difference in followers from previous day")
FIRST_DAY = date(2025, 2, 28)
EXPORTED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ZIP_NAME = f"Overview_{FIRST_DAY}_{int(EXPORTED.timestamp())}_acct.zip"
# day → (column index, value) that differs from the ordinary day (100 views, 5 profile views, 10 likes,
# 3 comments, 1 share)
NEGATIVE_DAYS = {
    date(2025, 3, 26): (4, "-1"),  # row 27: 26 days after February 28
    date(2025, 7, 4): (4, "-4"),  # row 127: Mar 28 (28) + 31 + 30 + 31 + 30 → Jun 28 (120), + 6
    date(2025, 12, 31): (4, "-1"),  # row 307: Jul 4 (126) + 31 + 31 + 30 + 31 + 30 → Dec 4 (279), + 27
    date(2026, 2, 27): (3, "-2"),  # row 365: the last day, likes net of removed likes
}


def _year_rows() -> list[list[str]]:
    rows = []
    for offset in range(365):
        day = FIRST_DAY + timedelta(days=offset)
        row = [f"{day:%B} {day.day}", "100", "5", "10", "3", "1"]
        if day in NEGATIVE_DAYS:
            column, value = NEGATIVE_DAYS[day]
            row[column] = value
        rows.append(row)
    return rows


def _year_of_overview(broken_cell: tuple[int, int, str] | None = None) -> tuple[str, bytes]:
    rows = _year_rows()
    if broken_cell:
        index, column, value = broken_cell
        rows[index][column] = value
    return ZIP_NAME, studio_zip({"Overview.csv": studio_csv(OVERVIEW, rows)}, EXPORTED.replace(tzinfo=None))


FILE = f"{ZIP_NAME} › Overview.csv"


def test_a_year_of_overview_with_negative_comments_lands_every_day_with_exactly_those_flags(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, *_year_of_overview())
    report = land(paths)
    assert report.issues == []
    count, first, last, comments, likes = query(
        paths, "select count(*), min(metric_date), max(metric_date), sum(comments), sum(likes) from raw.studio_overview"
    )[0]
    assert (count, first, last) == (365, date(2025, 2, 28), date(2026, 2, 27))
    assert comments == 362 * 3 - 1 - 4 - 1  # 1080: the negative days count as TikTok sent them
    assert likes == 364 * 10 - 2  # 3638
    flags = query(
        paths,
        """select f.file, f.source_row, o.metric_date, f.column_name, f.rule, f.value, f.severity
        from raw.row_flags f join raw.studio_overview o using (document_id, source_row) order by f.source_row""",
    )
    assert flags == [
        (FILE, 27, date(2025, 3, 26), "comments", "net_daily_count_below_zero", "-1", "warn"),
        (FILE, 127, date(2025, 7, 4), "comments", "net_daily_count_below_zero", "-4", "warn"),
        (FILE, 307, date(2025, 12, 31), "comments", "net_daily_count_below_zero", "-1", "warn"),
        (FILE, 365, date(2026, 2, 27), "likes", "net_daily_count_below_zero", "-2", "warn"),
    ]
    assert query(paths, "select status from raw.documents") == [("loaded",)]


def test_a_year_long_export_without_the_overview_zip_name_lands_on_its_own_days(tmp_path):
    """The same year of Overview unzipped (a bare CSV whose modification time is the export) and a year of
    FollowerHistory in a Followers ZIP (its entries' time is the export): nothing names the window's first day, so the
    years come from walking back from the last row (27 February 2026, two days before the export). The first rows,
    "February 28" and "March 1", are 2025's; the export date alone made them the 2026 days just before it, and the
    file still looked consecutive."""
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", studio_csv(OVERVIEW, _year_rows()), EXPORTED)
    history = [[row[0], str(1000 + i), "1" if i else "0"] for i, row in enumerate(_year_rows())]
    followers = studio_zip({"FollowerHistory.csv": studio_csv(HISTORY, history)}, EXPORTED.replace(tzinfo=None))
    drop(paths, "Followers_acct.zip", followers)
    report = land(paths)
    assert report.issues == []
    assert query(paths, "select export_date_source, status from raw.documents order by 1") == [
        ("file_mtime", "loaded"),
        ("zip_entry_timestamp", "loaded"),
    ]
    for table in ("studio_overview", "studio_follower_history"):
        days = query(paths, f"select count(distinct metric_date), min(metric_date), max(metric_date) from raw.{table}")
        assert days == [(365, date(2025, 2, 28), date(2026, 2, 27))], table
    assert query(paths, "select metric_date, followers from raw.studio_follower_history order by 1 limit 2") == [
        (date(2025, 2, 28), 1000),
        (date(2025, 3, 1), 1001),
    ]
    last_days = "select metric_date, likes from raw.studio_overview where metric_date >= '2026-02-26' order by 1"
    assert query(paths, last_days) == [(date(2026, 2, 26), 10), (date(2026, 2, 27), -2)]


def test_flags_are_replaced_with_their_document_never_doubled(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, *_year_of_overview())
    land(paths)
    land(paths)  # nothing new
    with connect(paths.warehouse) as con:
        replay_archive(paths, con)  # everything re-read through today's contracts
    assert query(paths, "select count(*), count(distinct source_row) from raw.row_flags") == [(4, 4)]
    assert query(paths, "select count(*) from raw.studio_overview") == [(365,)]


def test_a_non_numeric_count_still_quarantines_the_whole_year_and_records_no_flags(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, *_year_of_overview(broken_cell=(199, 1, "1,2K")))  # row 200: text where a count belongs
    report = land(paths)
    assert [(i.rule, i.row, i.column, i.value) for i in report.issues] == [
        ("dtype('Int64')", 200, "video_views", "1,2K")
    ]
    assert query(paths, "select count(*) from raw.studio_overview") == [(0,)]
    assert query(paths, "select count(*) from raw.row_flags") == [(0,)], "flags only for rows that landed"
    (status, reason) = query(paths, "select status, quarantine_reason from raw.documents")[0]
    assert status == "quarantined"
    assert reason.startswith("dtype('Int64') at row 200, column video_views: ")


def test_viewers_flag_only_the_row_that_does_not_add_up(tmp_path):
    paths = new_paths(tmp_path)
    rows = [
        ["February 28", "undefined", "0", "0"],  # unknown total: nothing to check
        ["March 1", "30", "20", "10"],
        ["March 2", "41", "30", "10"],  # 41 != 30 + 10
        ["March 3", "25", "5", "20"],
    ]
    drop(paths, "acct/Viewers.csv", studio_csv(VIEWERS, rows), datetime(2025, 3, 4, 12))
    report = land(paths)
    assert report.issues == []
    assert query(paths, "select count(*) from raw.studio_viewers") == [(4,)]
    assert query(paths, "select file, source_row, column_name, rule, value, message from raw.row_flags") == [
        ("Viewers.csv", 3, "total_viewers", "total_equals_new_plus_returning", "41",
         "Total Viewers 41 is not New 30 + Returning 10 (= 40)"),
    ]  # fmt: skip


def test_a_gender_file_summing_to_0_8_lands_with_one_flag_for_the_file(tmp_path):
    paths = new_paths(tmp_path)
    rows = [["Female", "0.59"], ["Male", "0.20"], ["Other", "0.01"]]  # 0.59 + 0.20 + 0.01 = 0.80
    drop(paths, "acct/FollowerGender.csv", studio_csv(("Gender", "Distribution"), rows), datetime(2025, 3, 4, 12))
    report = land(paths)
    assert report.issues == []
    assert query(paths, "select gender, distribution from raw.studio_follower_gender order by source_row") == [
        ("Female", 0.59),
        ("Male", 0.2),
        ("Other", 0.01),
    ]
    assert query(paths, "select file, source_row, column_name, rule, value from raw.row_flags") == [
        ("FollowerGender.csv", None, "distribution", "distribution_sums_to_about_1", "0.8")
    ]


def test_api_shares_summing_past_1_land_and_dbt_warns(tmp_path, dbt):
    """Plausibility for the APIs too: the contract lets the pull land; the dbt test warns on the group."""

    def rows(pull, video, shares):
        return [
            {"document_id": pull, "account_handle": "shop", "export_date": "2026-05-04",
             "exported_at": "2026-05-04 06:00:00", "source_row": i + 1, "metric_date": "2026-05-04",
             "video_id": video, "impression_source": source, "share": share}
            for i, (source, share) in enumerate(shares.items())
        ]  # fmt: skip

    # 0.9 + 0.4 = 1.3 for video 1 (past 1.05); 0.6 + 0.42 = 1.02 for video 2 (TikTok's rounding: fine)
    frame = pd.DataFrame(
        rows("api-1", "71", {"For You": 0.9, "Search": 0.4}) + rows("api-1", "72", {"For You": 0.6, "Follow": 0.42})
    )
    typed, problems = validate("api_video_traffic_sources", frame)
    assert problems == [], "a sum past 1 no longer refuses the pull"
    _, problems = validate("api_video_traffic_sources", frame.assign(share=[0.9, 1.4, 0.6, 0.42]))
    assert problems and problems[0].startswith("in_range(0, 1) on share"), "a share outside 0..1 still does"

    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        con.register("incoming", typed)
        con.execute("insert into raw.api_video_traffic_sources by name select * from incoming")
    target = tmp_path / "dbt_target"
    build = dbt.invoke(paths.root, ["build", "--select", "stg_tiktok_api__video_traffic_sources",
                                    "--exclude-resource-type", "unit_test"], target)  # fmt: skip
    assert build.success, build.exception or failures(target)
    results = json.loads((target / "run_results.json").read_text())["results"]
    shares = [r for r in results if "shares_sum_to_at_most" in r["unique_id"]]
    assert [(r["status"], r["failures"]) for r in shares] == [("warn", 1)]  # video 71 only
