"""What a mart promises, checked twice: dbt's singular tests on the working warehouse, great-expectations on
the published files (with its expectations derived from the dbt manifest).

great-expectations part: a hand-written manifest of four marts (plus a staging model that must be ignored)
and hand-built parquet files. Two accounts: alice has days 03-01..03-03 and her newest loaded export is
03-04 (1 day later); bob has days 03-01..03-02 and his newest export is 03-05 (3 days later, exactly the
allowed lag); carol (API only) has no Studio export and no overview day. Every check passes; each
failing case then breaks exactly one thing.

dbt part: one account landed from Studio files and built by `dbt run` on a temporary warehouse, every
dbt call with its own target and log folders under tmp_path.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.lib.marts import quality_worker
from orchestration.lib.marts.quality import MartCheckResult, check_published_marts, mart_specs
from tests.dbt_runner import failures, run_results
from tests.studio_fixtures import drop, land, new_paths, studio_csv

D1, D2, D3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)
VIDEO_A, VIDEO_B = "7546034661705796877", "7531345990947851551"
OVERVIEW = "fct_account_overview_daily"


# --- great-expectations on the published files ---------------------------------------------------


def _model(name: str, columns: list[str], meta: dict | None = None, folder: str = "marts") -> tuple[str, dict]:
    return f"model.tiktok_warehouse.{name}", {
        "resource_type": "model",
        "name": name,
        "fqn": ["tiktok_warehouse", folder, name],
        "columns": {c: {"name": c, "description": ""} for c in columns},
        "config": {"meta": meta or {}},
    }


def _test(model: str, test: str | None, **kwargs) -> tuple[str, dict]:
    node = {"resource_type": "test", "attached_node": f"model.tiktok_warehouse.{model}"}
    if test:
        node["test_metadata"] = {"name": test, "kwargs": kwargs}
    return f"test.tiktok_warehouse.{test or 'assert'}_{model}_{json.dumps(kwargs, sort_keys=True)}", node


def _write_manifest(path: Path) -> Path:
    nodes = dict(
        [
            _model(
                OVERVIEW,
                ["account_handle", "metric_date", "video_views", "likes", "is_provisional"],
                {"recency_column": "metric_date"},
            ),
            _test(OVERVIEW, "unique_combination", combination_of_columns=["account_handle", "metric_date"]),
            _test(OVERVIEW, "not_null", column_name="video_views"),  # not a grain test
            _test(OVERVIEW, None),  # a singular test: no test_metadata
            _model("dim_accounts", ["account_handle", "last_export_date"]),
            _test("dim_accounts", "unique", column_name="account_handle"),
            _model(
                "rpt_trending_videos_7d",
                ["account_handle", "as_of_date", "trending_rank", "video_id"],
                {"may_be_empty": True},
            ),  # fmt: skip
            _test(
                "rpt_trending_videos_7d",
                "unique_combination",
                combination_of_columns=["account_handle", "as_of_date", "video_id"],
            ),  # fmt: skip
            _test(
                "rpt_trending_videos_7d",
                "unique_combination",
                combination_of_columns=["account_handle", "as_of_date", "trending_rank"],
            ),  # fmt: skip
            _model(
                "fct_follower_gender_snapshot",
                ["account_handle", "snapshot_date", "gender", "distribution"],
                {"may_be_empty": True},
            ),  # fmt: skip
            _test(
                "fct_follower_gender_snapshot",
                "unique_combination",
                combination_of_columns=["account_handle", "snapshot_date", "gender"],
            ),  # fmt: skip
            # not in the marts folder: no checks at all, even with a grain test
            _model("stg_studio__overview", ["account_handle", "metric_date"], folder="staging"),
            _test("stg_studio__overview", "unique_combination", combination_of_columns=["account_handle"]),
        ]
    )
    path.write_text(json.dumps({"metadata": {"project_name": "tiktok_warehouse"}, "nodes": nodes}))
    return path


def _marts() -> dict[str, pd.DataFrame]:
    return {
        OVERVIEW: pd.DataFrame(
            {
                "account_handle": ["alice"] * 3 + ["bob"] * 2,
                "metric_date": [D1, D2, D3, D1, D2],
                "video_views": [100, 200, 300, 5, None],
                "likes": [10, 20, 30, 1, 2],
                "is_provisional": [False, True, True, False, True],
                "extra_column": [1, 2, 3, 4, 5],  # not documented: allowed
            }
        ),
        "dim_accounts": pd.DataFrame(
            {
                "account_handle": ["alice", "bob", "carol"],
                "last_export_date": [dt.date(2024, 3, 4), dt.date(2024, 3, 5), None],
            }
        ),
        "rpt_trending_videos_7d": pd.DataFrame(
            {
                "account_handle": ["alice"] * 2,
                "as_of_date": [D3, D3],
                "trending_rank": [1, 2],
                "video_id": [VIDEO_A, VIDEO_B],
            }
        ),
        "fct_follower_gender_snapshot": pd.DataFrame(  # small account: headers only
            {c: pd.Series([], dtype="string") for c in ("account_handle", "gender")}
            | {"snapshot_date": pd.Series([], dtype="datetime64[ns]"), "distribution": pd.Series([], dtype="float64")}
        ),
    }


def _run(
    tmp_path: Path, marts: dict[str, pd.DataFrame], check=check_published_marts, **kwargs
) -> list[MartCheckResult]:
    marts_dir = tmp_path / "data" / "marts"
    marts_dir.mkdir(parents=True)
    for name, frame in marts.items():
        frame.to_parquet(marts_dir / f"{name}.parquet", index=False)
    manifest = _write_manifest(tmp_path / "manifest.json")
    return check(marts_dir, marts_dir / "quality", manifest_path=manifest, **kwargs)


def _failing(results: list[MartCheckResult]) -> list[tuple[str, str]]:
    return [(r.mart, r.check) for r in results if not r.passed]


def _result(results: list[MartCheckResult], mart: str, check: str) -> MartCheckResult:
    [result] = [r for r in results if (r.mart, r.check) == (mart, check)]
    return result


def test_consistent_marts_pass_the_checks_the_manifest_declares_and_docs_are_written(tmp_path: Path) -> None:
    results = _run(tmp_path, _marts())

    assert [(r.mart, r.check, r.passed) for r in results] == [
        ("dim_accounts", "volume", True),
        ("dim_accounts", "grain", True),
        ("dim_accounts", "schema", True),
        (OVERVIEW, "volume", True),
        (OVERVIEW, "grain", True),
        (OVERVIEW, "schema", True),
        (OVERVIEW, "recency", True),
        ("fct_follower_gender_snapshot", "grain", True),  # may be empty: no volume check
        ("fct_follower_gender_snapshot", "schema", True),
        ("rpt_trending_videos_7d", "grain", True),
        ("rpt_trending_videos_7d", "schema", True),
    ]
    json.dumps([r.details for r in results])  # details are plain JSON

    grain = _result(results, "rpt_trending_videos_7d", "grain")
    assert grain.details["expectations"] == 6  # 4 key columns not null + 2 unique keys
    recency = _result(results, OVERVIEW, "recency")
    assert recency.details["accounts"] == 2  # carol has no overview day: nothing to be recent about
    # alice lags 1 day, bob 3 (his export of 03-05 after his newest day, 03-02): the limit, included
    assert (recency.details["expectations"], recency.details["failed"]) == (2, [])

    docs = tmp_path / "data" / "marts" / "quality"
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert OVERVIEW in index and "stg_studio__overview" not in index
    assert list((docs / "validations").rglob("*.html"))
    assert "Published marts: 11 of 11 checks passed" in (docs / "checks.html").read_text(encoding="utf-8")


def test_the_worker_process_gives_the_results_this_process_gives(tmp_path: Path, monkeypatch) -> None:
    """quality_worker: GE imported in a spawned process while dbt builds; the check then runs there."""
    marts = _marts()
    marts[OVERVIEW] = pd.concat([marts[OVERVIEW], marts[OVERVIEW].head(1)])  # a duplicate key: grain fails
    here = _run(tmp_path / "here", marts)
    monkeypatch.setattr(quality_worker, "spawn_worker", False)  # as the test suite runs the pipeline (conftest.py)
    quality_worker.start()
    assert quality_worker._worker is None, "spawn_worker off: the check runs in this process"
    monkeypatch.setattr(quality_worker, "spawn_worker", True)  # as a run of the pipeline does
    quality_worker.start()
    quality_worker.start()  # once per process: a second call starts nothing
    warm = quality_worker._warm

    def submitted_then_checked(marts_dir, docs_dir, **options):  # what the publishing step, then the check, do
        quality_worker.submit(marts_dir, docs_dir, **options)
        assert quality_worker._pending is not None
        return quality_worker.check_published_marts(marts_dir, docs_dir, **options)

    there = _run(tmp_path / "there", marts, check=submitted_then_checked)
    assert warm.result() is None and quality_worker._worker is None, "the worker imported GE, then was let go"
    assert quality_worker._pending is None
    assert _failing(there) == _failing(here) == [(OVERVIEW, "grain")]
    assert [(r.mart, r.check, r.passed, r.description) for r in there] == [
        (r.mart, r.check, r.passed, r.description) for r in here
    ]
    page = "data/marts/quality/checks.html"
    assert (tmp_path / "there" / page).read_text() == (tmp_path / "here" / page).read_text()


def test_a_discarded_worker_is_killed_mid_import_and_the_check_runs_here(tmp_path: Path, monkeypatch, request) -> None:
    """A dbt step that built nothing discards the worker the landing started: killed at once, though still importing
    GE (not waited for, as `stop` would), and nothing is left to the publishing step, whose check runs here."""
    monkeypatch.setattr(quality_worker, "spawn_worker", True)
    quality_worker.start()
    request.addfinalizer(quality_worker.stop)  # a failure below leaves no worker to the next tests
    processes = list(quality_worker._worker._processes.values())
    assert processes and not quality_worker._warm.done(), "still importing great_expectations"
    quality_worker.discard()
    assert quality_worker._worker is None and quality_worker._warm is None and quality_worker._pending is None
    # The executor's own thread reaps its processes too (its shutdown joins them): when it takes the exit status
    # first, this thread's join returns before the status is recorded, so wait for either thread to record it.
    deadline = time.monotonic() + 10
    for process in processes:
        while process.exitcode is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.exitcode == -9, "killed, not let finish its import"  # SIGKILL
    checked_here = []

    def check_here(*args, **options):
        checked_here.append(args)
        return []

    monkeypatch.setattr(quality_worker.quality, "check_published_marts", check_here)
    quality_worker.submit(tmp_path / "marts", tmp_path / "docs")
    assert quality_worker._pending is None
    assert quality_worker.check_published_marts(tmp_path / "marts", tmp_path / "docs") == []
    assert checked_here == [(tmp_path / "marts", tmp_path / "docs")]
    quality_worker.discard()  # nothing to discard: nothing happens


def test_a_worker_that_died_before_the_marts_were_published_leaves_the_check_to_this_process(
    tmp_path: Path, monkeypatch, caplog, request
) -> None:
    """The worker killed (memory, a signal) between the dbt step's `start` and the publishing step's `submit`: the
    publishing step goes on, and the check runs here with the results this process gives."""
    import os
    import signal
    import time

    marts = _marts()
    marts[OVERVIEW] = pd.concat([marts[OVERVIEW], marts[OVERVIEW].head(1)])  # a duplicate key: grain fails
    here = _run(tmp_path / "here", marts)
    monkeypatch.setattr(quality_worker, "spawn_worker", True)
    quality_worker.start()
    request.addfinalizer(quality_worker.stop)  # a failure below leaves no broken pool to the next tests
    assert quality_worker._worker._processes, "spawned"
    for pid in list(quality_worker._worker._processes):  # while it imports great_expectations
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not quality_worker._worker._broken and time.monotonic() < deadline:  # the pool notices the death
        time.sleep(0.05)
    assert quality_worker._worker._broken

    def submitted_then_checked(marts_dir, docs_dir, **options):
        quality_worker.submit(marts_dir, docs_dir, **options)  # (raised BrokenProcessPool before b35a240)
        assert quality_worker._worker is None and quality_worker._pending is None
        return quality_worker.check_published_marts(marts_dir, docs_dir, **options)

    with caplog.at_level("WARNING", logger=quality_worker.__name__):
        there = _run(tmp_path / "there", marts, check=submitted_then_checked)
    assert "great-expectations worker stopped unexpectedly" in caplog.text
    assert _failing(there) == _failing(here) == [(OVERVIEW, "grain")]
    assert [(r.mart, r.check, r.passed) for r in there] == [(r.mart, r.check, r.passed) for r in here]


def test_a_published_file_missing_a_documented_column_fails_schema(tmp_path: Path) -> None:
    marts = _marts()
    marts[OVERVIEW] = marts[OVERVIEW].drop(columns=["likes"])

    results = _run(tmp_path, marts)

    assert _failing(results) == [(OVERVIEW, "schema")]
    [failed] = _result(results, OVERVIEW, "schema").details["failed"]
    # GE lists the undocumented column too; alone it fails nothing (see the consistent case)
    assert failed["mismatched"] == {"missing": ["likes"], "unexpected": ["extra_column"]}
    page = (tmp_path / "data" / "marts" / "quality" / "checks.html").read_text(encoding="utf-8")
    assert "Published marts: 10 of 11 checks passed" in page


def test_a_duplicate_key_fails_grain(tmp_path: Path) -> None:
    marts = _marts()
    overview = marts[OVERVIEW]
    marts[OVERVIEW] = pd.concat([overview, overview.iloc[[2]].assign(video_views=301)], ignore_index=True)

    results = _run(tmp_path, marts)

    assert _failing(results) == [(OVERVIEW, "grain")]
    [failed] = _result(results, OVERVIEW, "grain").details["failed"]
    assert failed["expected"] == {"column_list": ["account_handle", "metric_date"]}
    assert failed["unexpected_count"] == 2  # both rows of (alice, 03-03)


def test_two_videos_sharing_a_trending_rank_fail_grain(tmp_path: Path) -> None:
    marts = _marts()
    marts["rpt_trending_videos_7d"].loc[1, "trending_rank"] = 1

    results = _run(tmp_path, marts)

    assert _failing(results) == [("rpt_trending_videos_7d", "grain")]
    [failed] = _result(results, "rpt_trending_videos_7d", "grain").details["failed"]
    assert failed["expected"] == {"column_list": ["account_handle", "as_of_date", "trending_rank"]}


def test_an_account_lagging_its_own_newest_export_fails_recency_while_another_passes(tmp_path: Path) -> None:
    # bob's newest export is now 03-06: his newest day (03-02) is 4 days older. Over all accounts the
    # newest day (03-03) is only 3 days older than the newest export, so only a per-account check sees it.
    marts = _marts()
    marts["dim_accounts"].loc[1, "last_export_date"] = dt.date(2024, 3, 6)

    results = _run(tmp_path, marts)

    assert _failing(results) == [(OVERVIEW, "recency")]
    recency = _result(results, OVERVIEW, "recency")
    [failed] = recency.details["failed"]  # every account has an export date: the not-null expectation passed
    assert failed["expected"] == {"column": "lag_days", "min_value": 0, "max_value": 3}
    assert (failed["element_count"], failed["unexpected_count"]) == (2, 1)  # alice's 1 day passed
    assert failed["unexpected_rows"] == [
        {"account_handle": "bob", "lag_days": 4, "newest_metric_date": "2024-03-02", "last_export_date": "2024-03-06"}
    ]


def test_an_account_newer_than_its_newest_export_fails_recency(tmp_path: Path) -> None:
    # alice's newest export is now 03-02, her newest day 03-03: data no loaded export explains
    marts = _marts()
    marts["dim_accounts"].loc[0, "last_export_date"] = D2

    results = _run(tmp_path, marts)

    assert _failing(results) == [(OVERVIEW, "recency")]
    [failed] = _result(results, OVERVIEW, "recency").details["failed"]
    assert [(row["account_handle"], row["lag_days"]) for row in failed["unexpected_rows"]] == [("alice", -1)]


def test_a_tighter_recency_window_fails_both_accounts(tmp_path: Path) -> None:
    results = _run(tmp_path, _marts(), recency_days=0)  # alice lags 1 day, bob 3

    assert _failing(results) == [(OVERVIEW, "recency")]
    [failed] = _result(results, OVERVIEW, "recency").details["failed"]
    assert failed["expected"] == {"column": "lag_days", "min_value": 0, "max_value": 0}
    assert [(row["account_handle"], row["lag_days"]) for row in failed["unexpected_rows"]] == [("alice", 1), ("bob", 3)]


def test_an_account_without_a_known_export_date_fails_recency(tmp_path: Path) -> None:
    marts = _marts()
    marts["dim_accounts"].loc[1, "last_export_date"] = None

    results = _run(tmp_path, marts)

    assert _failing(results) == [(OVERVIEW, "recency")]
    recency = _result(results, OVERVIEW, "recency")
    assert recency.details["error"] == "no loaded export date in dim_accounts for: bob"
    [failed] = recency.details["failed"]  # bob has no lag: the not-null expectation names him
    assert failed["expectation"] == "expect_column_values_to_not_be_null"
    assert failed["unexpected_rows"] == [
        {"account_handle": "bob", "lag_days": None, "newest_metric_date": "2024-03-02", "last_export_date": None}
    ]  # alice's lag (1 day) passed the range, which leaves bob's unknown one out


def test_a_missing_mart_fails_its_volume_check_and_an_unknown_one_is_still_counted(tmp_path: Path) -> None:
    marts = _marts()
    del marts["fct_follower_gender_snapshot"]  # may be empty, but must be published
    marts["rpt_new_report"] = pd.DataFrame({"account_handle": pd.Series([], dtype="string")})

    results = _run(tmp_path, marts)

    assert _failing(results) == [("fct_follower_gender_snapshot", "volume"), ("rpt_new_report", "volume")]
    assert [r.check for r in results if r.mart == "fct_follower_gender_snapshot"] == ["volume"]
    assert results[-1].mart == "rpt_new_report" and results[-1].details["observed"] == {"row_count": 0}
    assert (tmp_path / "data" / "marts" / "quality" / "index.html").is_file()


def test_without_published_dim_accounts_recency_cannot_pass(tmp_path: Path) -> None:
    marts = _marts()
    del marts["dim_accounts"]

    results = _run(tmp_path, marts)

    assert _failing(results) == [("dim_accounts", "volume"), (OVERVIEW, "recency")]
    assert "dim_accounts.parquet is not published" in _result(results, OVERVIEW, "recency").details["error"]


# --- dbt: the project's manifest and its singular reconciliation tests ------------------------------

RECONCILIATION_TESTS = (
    "assert_overview_video_views_reconcile_with_staging",
    "assert_follower_growth_keeps_every_known_count",
    "assert_video_engagement_has_one_row_per_snapshot",
)
CONTENT = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
           "Total views")  # fmt: skip


def _dbt(dbt, command: list[str], data_dir: Path, work: Path) -> tuple[bool, list[dict]]:
    """One dbt call with its own target and log folders; returns whether it passed and its run_results entries."""
    result = dbt.invoke(data_dir, command, work / "target")
    return result.success, run_results(work / "target")


@pytest.fixture(scope="module")
def built(tmp_path_factory, dbt):
    """One account (@acct) landed from Studio files, every model built once; yields (data dir, manifest).

    Overview (exported 5 Jan): 1 Jan 10 views, 2 Jan 20, 3 Jan 30 (total 60). FollowerHistory (5 Jan):
    100, 103, 101 (highest 103). Content exported 2 Jan (videos A and B) and 4 Jan (A): A has 2
    snapshots, B has 1.
    """
    root = tmp_path_factory.mktemp("dbt_reconciliation")
    paths = new_paths(root)

    def video(day: str, video_id: str, views: int) -> list[str]:
        return [day, "t", f"https://www.tiktok.com/@acct/video/{video_id}", "December 1", "1", "0", "0", str(views)]

    overview = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
    drop(paths, "acct/2026-01-05/Overview.csv", studio_csv(overview, [
        ["January 1", "10", "1", "1", "0", "0"], ["January 2", "20", "2", "2", "0", "0"],
        ["January 3", "30", "3", "3", "1", "0"],
    ]))  # fmt: skip
    drop(paths, "acct/2026-01-05/FollowerHistory.csv", studio_csv(
        ("Date", "Followers", "Difference in followers from previous day"),
        [["January 1", "100", "0"], ["January 2", "103", "3"], ["January 3", "101", "-2"]],
    ))  # fmt: skip
    drop(paths, "acct/2026-01-02/Content.csv", studio_csv(CONTENT, [
        video("January 2", VIDEO_A, 100), video("January 2", VIDEO_B, 50),
    ]))  # fmt: skip
    drop(paths, "acct/2026-01-04/Content.csv", studio_csv(CONTENT, [video("January 4", VIDEO_A, 150)]))
    report = land(paths)
    assert sorted(report.documents["status"]) == ["loaded"] * 4, report.issues

    passed, _ = _dbt(dbt, ["run"], paths.root, root / "run")
    assert passed, failures(root / "run" / "target")
    return paths.root, root / "run" / "target" / "manifest.json"


def test_mart_specs_follow_the_model_yml(built) -> None:
    specs = mart_specs(built[1])

    assert {
        "dim_accounts",
        "dim_videos",
        OVERVIEW,
        "fct_follower_activity_hourly",
        "fct_follower_gender_snapshot",
        "fct_follower_growth_daily",
        "fct_follower_territory_snapshot",
        "fct_video_engagement_daily",
        "rpt_trending_videos_7d",
    } <= set(specs)
    assert not any(name.startswith(("stg_", "int_")) for name in specs)
    overview = specs[OVERVIEW]
    assert overview.columns == (  # the README's table, in yml order
        "account_handle", "metric_date", "video_views", "profile_views", "likes", "comments", "shares",
        "total_viewers", "new_viewers", "returning_viewers", "is_provisional",
    )  # fmt: skip
    assert overview.keys == (("account_handle", "metric_date"),)
    assert (overview.may_be_empty, overview.recency_column) == (False, "metric_date")
    assert specs["dim_accounts"].keys == (("account_handle",),)
    assert "last_export_date" in specs["dim_accounts"].columns
    assert not specs["dim_accounts"].may_be_empty
    assert specs["rpt_trending_videos_7d"].keys == (
        ("account_handle", "as_of_date", "trending_rank"),
        ("account_handle", "as_of_date", "video_id"),
    )
    assert [n for n, s in specs.items() if not s.may_be_empty] == ["dim_accounts", OVERVIEW]
    assert [n for n, s in specs.items() if s.recency_column] == [OVERVIEW]


def _offending_rows(data_dir: Path, result: dict) -> list[tuple]:
    """Run a test's compiled SQL: the rows it found."""
    with duckdb.connect(str(data_dir / "warehouse" / "pipeline.duckdb"), read_only=True) as con:
        return con.execute(f"select * from ({result['compiled_code']}) order by all").fetchall()


def test_reconciliation_tests_pass_on_a_consistent_build(built, dbt, tmp_path: Path) -> None:
    passed, results = _dbt(dbt, ["test", "--select", *RECONCILIATION_TESTS], built[0], tmp_path)

    assert passed, failures(tmp_path / "target")
    assert sorted((r["unique_id"].split(".")[-1], r["status"]) for r in results) == sorted(
        (name, "pass") for name in RECONCILIATION_TESTS
    )


def test_each_reconciliation_test_fails_when_its_mart_drifts_from_its_source(built, dbt, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(built[0] / "warehouse", data / "warehouse", ignore=shutil.ignore_patterns("dagster_home"))
    with duckdb.connect(str(data / "warehouse" / "pipeline.duckdb")) as con:
        # a day no export has: 60 + 5 views
        con.execute(f"insert into marts.{OVERVIEW} (account_handle, metric_date, video_views) values "
                    "('acct', date '2026-01-04', 5)")  # fmt: skip
        # a follower total no export has for that day (101)
        con.execute("update marts.fct_follower_growth_daily set followers = 120 where metric_date = '2026-01-03'")
        # a lost snapshot: B's only one
        con.execute(f"delete from marts.fct_video_engagement_daily where video_id = '{VIDEO_B}'")

    passed, results = _dbt(dbt, ["test", "--select", *RECONCILIATION_TESTS], data, tmp_path / "dbt")

    assert not passed
    by_name = {r["unique_id"].split(".")[-1]: r for r in results}
    assert {name: (r["status"], r["failures"]) for name, r in by_name.items()} == {
        name: ("fail", 1) for name in RECONCILIATION_TESTS
    }
    assert _offending_rows(data, by_name[RECONCILIATION_TESTS[0]]) == [("acct", 65, 60)]
    assert _offending_rows(data, by_name[RECONCILIATION_TESTS[1]]) == [("acct", dt.date(2026, 1, 3), 101, 120, True)]
    assert _offending_rows(data, by_name[RECONCILIATION_TESTS[2]]) == [("acct", VIDEO_B, 0, 1)]
