"""The run says what happened: new files per account with their days, this run's quarantine with the
rule and row, flagged rows (this run and in total), and what is quarantined now."""

import json
import os
from datetime import UTC, date, datetime

import dagster as dg
import duckdb

from orchestration.cli import main
from orchestration.cli_summary import print_run
from orchestration.lib.core import dbt_worker
from orchestration.lib.core.warehouse import connect
from orchestration.lib.studio.run_summary import quarantined_now, summarize_run
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv, studio_zip

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
VIEWERS = ("Date", "Total Viewers", "New Viewers", "Returning Viewers")
GENDER = ("Gender", "Distribution")
EXPORTED = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)
NOON = datetime(2025, 3, 5, 12, 0)  # mtime of the bare files: their export day is 2025-03-05


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _drop_two_accounts(paths):
    """@a: a 3-day Overview ZIP (Comments -1 on March 2: one flag) and Viewers for 2 days.
    @b: an Overview with text in a count on row 2 (quarantined) and a gender file summing to 0.8 (one flag)."""
    overview = [
        ["March 1", "10", "1", "1", "0", "0"],
        ["March 2", "20", "2", "2", "-1", "0"],
        ["March 3", "30", "3", "3", "1", "1"],
    ]
    zip_name = f"Overview_2025-03-01_{int(EXPORTED.timestamp())}_a.zip"
    drop(paths, zip_name, studio_zip({"Overview.csv": studio_csv(OVERVIEW, overview)}, NOON))
    viewers = [["March 1", "30", "20", "10"], ["March 2", "12", "7", "5"]]
    drop(paths, "a/Viewers.csv", studio_csv(VIEWERS, viewers), NOON)
    bad = [["March 1", "5", "0", "0", "0", "0"], ["March 2", "many", "0", "0", "0", "0"]]
    drop(paths, "b/Overview.csv", studio_csv(OVERVIEW, bad), NOON)
    gender = [["Female", "0.59"], ["Male", "0.20"], ["Other", "0.01"]]
    drop(paths, "b/FollowerGender.csv", studio_csv(GENDER, gender), NOON)
    return zip_name


def test_summary_lists_new_files_per_account_quarantine_and_flags(tmp_path, capsys):
    paths = new_paths(tmp_path)
    _drop_two_accounts(paths)
    since = _now()
    land(paths)
    print_run(paths, since)
    assert capsys.readouterr().out.splitlines() == [
        "",
        "New export files this run: 3 (2 account(s)), from 4 file(s) received",  # b/Overview.csv quarantined
        "  @a: 2 file(s), covering 2025-03-01 → 2025-03-03 (3 days)",
        "      overview 1, viewers 1",
        "  @b: 1 file(s), covering 2025-03-05 → 2025-03-05 (1 day)",  # the gender snapshot: its export day
        "      follower_gender 1",
        "Quarantined in this run: 1",
        "  b/Overview.csv (@b): dtype('Int64') at row 2, column video_views: Overview contract: not a whole number "
        "(value 'many')",
        "Flagged rows (landed, worth a look): 2 this run (distribution_sums_to_about_1 1, net_daily_count_below_zero 1)"
        f", 2 in total (raw.row_flags in {paths.warehouse}: open it read-only, between runs)",
        f"Quarantined files now: 1 (listed in the report and rpt_quarantined_files; reports in {paths.quarantine}; "
        "a corrected file dropped at the same inbox path ends one)",
    ]


def test_files_a_failed_run_landed_are_told_by_the_next_summary_once(tmp_path, monkeypatch, capsys, dbt_manifest):
    """A run that landed files and then failed (or was stopped) printed no summary: the next run's summary told only
    its own files ("none"), so those files were never announced (review). They are now, once, saying so."""
    from orchestration.defs import dbt as dbt_defs

    paths = new_paths(tmp_path)
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    monkeypatch.setitem(os.environ, "DAGSTER_HOME", str(paths.dagster_home))
    assert main(["run"]) == 0  # a summary told (nothing yet): the next one starts where it ended
    capsys.readouterr()
    _drop_two_accounts(paths)

    def crash(*args, **kwargs):
        raise RuntimeError("dbt could not start")

    with monkeypatch.context() as failing:
        failing.setattr(dbt_defs, "plan_dbt_build", crash)
        assert main(["run"]) == 1  # landed, then failed before dbt built anything
    assert "New export files" not in capsys.readouterr().out
    assert main(["run"]) == 0
    out = capsys.readouterr().out.splitlines()
    told = out.index("New export files since the last summary: 3 (2 account(s)), from 4 file(s) received")
    assert out[told + 1] == (
        "  (3 of them landed by an earlier run that ended without a summary: stopped, failed, or run from the Dagster "
        "UI)"
    )
    quarantined = out.index("Quarantined since the last summary: 1")  # b/Overview.csv, by the failed run
    assert out[quarantined + 1].startswith("  b/Overview.csv (@b): dtype('Int64') at row 2, column video_views")
    assert any(line.startswith("Flagged rows (landed, worth a look): 2 since the last summary (") for line in out)
    assert main(["run"]) == 0  # told once: the next summary starts where this one ended
    out = capsys.readouterr().out
    assert "\nNew export files this run: none\n" in out and "landed by an earlier run" not in out
    assert "Quarantined in this run: none" in out and "Flagged rows (landed, worth a look): 0 this run" in out


def test_a_corrected_file_at_the_same_path_ends_its_quarantine(tmp_path, capsys):
    paths = new_paths(tmp_path)
    _drop_two_accounts(paths)
    land(paths)
    (report,) = paths.quarantine.glob("*.json")  # b/Overview.csv's
    fixed = [["March 1", "5", "0", "0", "0", "0"], ["March 2", "6", "0", "0", "0", "0"]]
    drop(paths, "b/Overview.csv", studio_csv(OVERVIEW, fixed), datetime(2025, 3, 6, 12))  # same path, new bytes
    since = _now()
    land(paths)
    print_run(paths, since)
    assert capsys.readouterr().out.splitlines() == [
        "",
        "New export files this run: 1 (1 account(s)), from 1 file(s) received",
        "  @b: 1 file(s), covering 2025-03-01 → 2025-03-02 (2 days)",
        "      overview 1",
        "Quarantined in this run: none",
        "Flagged rows (landed, worth a look): 0 this run, 2 in total "
        f"(raw.row_flags in {paths.warehouse}: open it read-only, between runs)",
        "Quarantined files now: 0",
    ]
    # the report is kept (never deleted), filed under resolved/: the folder holds what is quarantined now (it kept
    # the old report beside the current ones, which a user counted as still quarantined: review)
    assert list(paths.quarantine.glob("*.json")) == []
    assert json.loads((paths.quarantine / "resolved" / report.name).read_text())["inbox_path"] == "b/Overview.csv"


def test_a_report_whose_quarantine_stands_again_comes_back_and_others_are_filed_away(tmp_path):
    from orchestration.lib.core.quarantine import file_reports

    paths = new_paths(tmp_path)
    resolved = paths.quarantine / "resolved"
    resolved.mkdir(parents=True)
    (resolved / "again.json").write_text("{}")  # its file is quarantined once more (its correction moved away)
    (paths.quarantine / "ended.json").write_text("{}")
    (paths.quarantine / "still.json").write_text("{}")
    (paths.quarantine / "rewritten.json").write_text('{"issues": ["new"]}')  # quarantined again, written again
    (resolved / "rewritten.json").write_text('{"issues": ["old"]}')
    assert file_reports(paths, {"again.json", "still.json", "rewritten.json", "never_filed.json"}) == 2
    assert sorted(p.name for p in paths.quarantine.glob("*.json")) == ["again.json", "rewritten.json", "still.json"]
    assert [p.name for p in resolved.glob("*.json")] == ["ended.json"]  # the older copy of rewritten.json went
    assert json.loads((paths.quarantine / "rewritten.json").read_text()) == {"issues": ["new"]}


def test_make_run_on_a_tiny_drop_prints_the_run_and_exits_0_despite_warnings(
    tmp_path, monkeypatch, capsys, dbt_manifest
):
    paths = new_paths(tmp_path)
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    monkeypatch.setitem(os.environ, "DAGSTER_HOME", str(paths.dagster_home))
    zip_name = _drop_two_accounts(paths)
    # dbt builds in its worker process, as in `make run` (the rest of the suite builds in this one: conftest.py)
    monkeypatch.setattr(dbt_worker, "spawn_worker", True)
    taken = []
    monkeypatch.setattr(dbt_worker, "take", lambda take=dbt_worker.take: taken.append(take()) or taken[-1])
    assert main(["run"]) == 0, "a quarantined file and flagged rows are warnings, not a failed run"
    assert len(taken) == 1 and taken[0] is not None and taken[0].process.exitcode == 0, "the worker built, then ended"
    out = capsys.readouterr().out
    assert "New export files this run: 3 (2 account(s)), from 4 file(s) received" in out
    assert "  b/Overview.csv (@b): dtype('Int64') at row 2, column video_views" in out
    assert "Flagged rows (landed, worth a look): 2 this run" in out
    assert "Quarantined files now: 1" in out
    assert f"Dagster UI:        make ui DATA_DIR={paths.root}  → http://127.0.0.1:3000" in out  # not ./data
    warned = next(line for line in out.splitlines() if "check(s) warned" in line)
    assert "no_structural_problems on raw/documents" in warned
    assert "flagged_rows on raw/studio_overview" in warned and "flagged_rows on raw/studio_follower_gender" in warned
    # the mart keeps TikTok's net figure; dbt's range test on it only warns
    assert "on marts/fct_account_overview_daily" in warned
    with duckdb.connect(str(paths.analytics_db), read_only=True) as con:
        comments = con.execute(
            "select metric_date::varchar, comments from fct_account_overview_daily "
            "where account_handle = 'a' order by 1"
        ).fetchall()
    assert comments == [("2025-03-01", 0), ("2025-03-02", -1), ("2025-03-03", 1)], zip_name

    # what BI tools read is wrong (a day twice): great-expectations' ERROR check fails the Dagster run itself, so the
    # UI, the schedule's history and the run-failure alert see it (it passed as a record only, review); `make run`
    # tells it as a failed check after its summary, exit 1
    with connect(paths.warehouse) as con:
        con.execute(
            "insert into marts.fct_account_overview_daily select * from marts.fct_account_overview_daily "
            "where account_handle = 'a' and metric_date = '2025-03-01'"
        )
    assert main(["run"]) == 1
    told = capsys.readouterr()
    assert "1 check(s) failed: great_expectations on published/fct_account_overview_daily (grain)" in told.err
    assert "The pipeline failed in" not in told.err and "Quarantined files now: 1" in told.out
    # nothing new landed, so no mart was rebuilt: the dbt test that warned on its rows still warns (carried over from
    # the first run, defs/dbt_checks.py), where Dagster showed it skipped (review)
    warned_again = next(line for line in told.out.splitlines() if "check(s) warned" in line)
    assert "on marts/fct_account_overview_daily" in warned_again

    # great-expectations itself crashing is a failed step, even beside another ERROR check (an accounts.yaml left
    # unread fails every_account_pulled): it was told as that check alone, the marts unvalidated (review)
    from orchestration.lib.marts import quality_worker

    def crash(*args, **kwargs):
        raise RuntimeError("great-expectations could not start")

    monkeypatch.setattr(quality_worker, "check_published_marts", crash)
    (paths.root / "accounts.yaml").write_text("accounts: []\n")
    assert main(["run"]) == 1
    told = capsys.readouterr()
    assert "The pipeline failed in: published_marts_quality." in told.err

    # Ctrl-C while dbt plans: told as a stop by the user, exit 130, not as a failure (review)
    from orchestration.defs import dbt as dbt_defs

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(dbt_defs, "plan_dbt_build", stopped)
    assert main(["run"]) == 130
    told = capsys.readouterr()
    assert "Stopped (Ctrl-C) in: dbt_models. The next run does what this one left." in told.err
    assert "The pipeline failed in" not in told.err
    with dg.DagsterInstance.get() as instance:
        assert instance.get_runs(limit=1)[0].status == dg.DagsterRunStatus.FAILURE


def test_an_export_downloaded_twice_counts_once(tmp_path, dbt, capsys):
    """The browser saves a second download of the same export as `Overview (1).csv`: two files received, one export
    file in the summary, dim_accounts and rpt_account_freshness (each counted it twice). The same bytes for another
    day (a dated folder) stay two exports."""
    from tests.test_end_to_end import _land_and_build

    paths = new_paths(tmp_path)
    overview = studio_csv(OVERVIEW, [["March 1", "10", "1", "1", "0", "0"], ["March 2", "20", "2", "2", "1", "0"]])
    for name in ("a/Overview.csv", "a/Overview (1).csv"):
        drop(paths, name, overview, NOON)
    since = _now()
    _land_and_build(paths, tmp_path / "target", dbt)
    with connect(paths.warehouse, read_only=True) as con:
        assert summarize_run(con, since).new_files[0].files == 1
    print_run(paths, since)
    assert "New export files this run: 1 (1 account(s)), from 2 file(s) received" in capsys.readouterr().out
    counted = (
        "select d.documents_loaded, f.exports_loaded from marts.dim_accounts d "
        "join marts.rpt_account_freshness f using (account_handle) where f.export_source = 'studio'"
    )
    assert query(paths, counted) == [(1, 1)]
    drop(paths, "a/2025-03-06/Overview.csv", overview, NOON)  # the same bytes, labelled another export day
    _land_and_build(paths, tmp_path / "target", dbt)
    assert query(paths, counted) == [(2, 2)]


def test_the_marts_count_a_quarantined_file_a_corrected_one_replaced_as_the_summary_does(tmp_path, dbt):
    """@b's Overview is quarantined, then a corrected file is dropped at its path: the summary says 0 quarantined
    now; dim_accounts and rpt_account_freshness say the same (they counted the replaced file for ever)."""
    from tests.test_end_to_end import _land_and_build

    paths = new_paths(tmp_path)
    _drop_two_accounts(paths)
    _land_and_build(paths, tmp_path / "target", dbt)

    def counted() -> list[tuple]:
        return query(
            paths,
            "select d.documents_quarantined, f.exports_not_loaded from marts.dim_accounts d "
            "join marts.rpt_account_freshness f using (account_handle) "
            "where account_handle = 'b' and f.export_source = 'studio'",
        )

    def listed() -> list[tuple]:
        return query(paths, "select document_id, inbox_path, account_handle from marts.rpt_quarantined_files")

    assert counted() == [(1, 1)]
    with connect(paths.warehouse, read_only=True) as con:
        assert listed() == [(doc, "b/Overview.csv", "b") for doc in quarantined_now(con)]
    fixed = [["March 1", "5", "0", "0", "0", "0"], ["March 2", "6", "0", "0", "0", "0"]]
    drop(paths, "b/Overview.csv", studio_csv(OVERVIEW, fixed), datetime(2025, 3, 6, 12))  # same path, new bytes
    _land_and_build(paths, tmp_path / "target", dbt)

    assert counted() == [(0, 0)] and listed() == []
    assert query(paths, "select count(*) from staging.stg_studio__documents where is_superseded") == [(1,)]
    # a replay lands every receipt again, the replaced one too: told apart, not listed as quarantined (review)
    with connect(paths.warehouse, read_only=True) as con:
        replayed = summarize_run(con, datetime(2000, 1, 1))
    ended = (replayed.corrected_since, replayed.loaded_elsewhere)
    assert (replayed.quarantined_this_run, ended, replayed.quarantined_now) == ([], (1, 0), 0)


def _catalog(accounts: list[tuple], overview_days: list[tuple], freshness: list[tuple]):
    """The BI catalog's marts print_accounts reads, as tables of an in-memory DuckDB."""
    con = duckdb.connect()
    con.execute("create table dim_accounts (account_handle varchar, documents_loaded int, latest_followers int)")
    con.execute("create table fct_account_overview_daily (account_handle varchar, metric_date date)")
    con.execute("""create table rpt_account_freshness (account_handle varchar, export_source varchar,
        exports_loaded int, exports_not_loaded int, is_agency_wide_folder boolean)""")
    for table, rows in (("dim_accounts", accounts), ("fct_account_overview_daily", overview_days)):
        for row in rows:
            con.execute(f"insert into {table} values ({', '.join('?' * len(row))})", row)
    con.executemany("insert into rpt_account_freshness values (?, ?, ?, ?, ?)", freshness)
    return con


def test_agency_wide_folders_are_told_apart_from_accounts(tmp_path, capsys):
    """The folders are those rpt_account_freshness flags (its unit test holds the rule: a stray file quarantined
    in backstage/, an account's own LIVE files, an API account whose pulls all failed); summed over sources."""
    from orchestration.cli_summary import print_accounts

    marts = ["dim_accounts", "fct_account_overview_daily", "rpt_account_freshness"]
    backstage = [("backstage", "live", 31, 0, True), ("backstage", "studio", 0, 1, True)]
    # only Backstage's creator data at the inbox root: no account, but the files are not ignored either
    print_accounts(_catalog([], [], backstage), tmp_path / "inbox", marts)
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"No account yet: drop your TikTok Studio downloads into {tmp_path / 'inbox'} and run again.",
        "Agency-wide downloads (folders, not accounts; LIVE Backstage: fct_live_backstage_daily): "
        "backstage/ 31 loaded (1 quarantined)",
    ]
    # two accounts beside it, one of them with LIVE files too; a second folder with a quarantined download
    con = _catalog(
        [("a", 3, None), ("b", 1, None)],
        [("a", "2026-01-01"), ("a", "2026-01-02"), ("b", "2026-01-02")],
        [
            ("a", "studio", 3, 0, False),
            ("b", "live", 1, 0, False),
            *backstage,
            ("agency2", "live", 2, 1, True),
            ("newbrand", "api_display", 0, 2, False),
        ],
    )
    print_accounts(con, tmp_path / "inbox", marts)
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Accounts: 2   days covered: 2026-01-01 → 2026-01-02",
        "Agency-wide downloads (folders, not accounts; LIVE Backstage: fct_live_backstage_daily): "
        "agency2/ 2 loaded (1 quarantined), backstage/ 31 loaded (1 quarantined)",
    ]
    # a catalog without the freshness mart (not published yet) says nothing of folders
    print_accounts(con, tmp_path / "inbox", marts[:2])
    assert capsys.readouterr().out.splitlines()[1:] == ["Accounts: 2   days covered: 2026-01-01 → 2026-01-02"]


def test_creators_known_only_from_backstage_are_counted_apart_from_the_accounts(tmp_path, capsys):
    """dim_accounts holds every LIVE creator the agency's Backstage downloads name (known_from 'live_backstage'): not
    an account with something loaded (nothing is its own), but said, once, beside the downloads' folder."""
    from orchestration.cli_summary import print_accounts

    marts = ["dim_accounts", "fct_account_overview_daily", "rpt_account_freshness"]
    backstage = [("backstage", "live", 31, 0, True)]
    creators = [("s1", 0, None, "live_backstage"), ("s2", 0, None, "live_backstage")]
    con = _catalog([], [], backstage)
    con.execute("alter table dim_accounts add column known_from varchar")
    con.executemany("insert into dim_accounts values (?, ?, ?, ?)", creators)
    print_accounts(con, tmp_path / "inbox", marts)  # Backstage only: still no account
    folder = (
        "Agency-wide downloads (folders, not accounts; LIVE Backstage: fct_live_backstage_daily): backstage/ 31 loaded"
    )
    said = "LIVE creators known only from Backstage downloads: 2 (dim_accounts.known_from)"
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"No account yet: drop your TikTok Studio downloads into {tmp_path / 'inbox'} and run again.", folder, said
    ]  # fmt: skip
    # an account of its own with LIVE files only (no daily overview): one account, the two creators apart
    con.execute("insert into dim_accounts values ('a', 2, null, 'account_exports')")
    print_accounts(con, tmp_path / "inbox", marts)
    assert capsys.readouterr().out.splitlines()[1:] == [
        "Accounts: 1   no daily overview yet (it comes from Studio's Overview and Viewers downloads)", folder, said
    ]  # fmt: skip


def test_a_folder_of_agency_wide_downloads_is_flagged_and_an_accounts_own_download_is_not(tmp_path, dbt):
    """rpt_account_freshness.is_agency_wide_folder, from real files: a LIVE Backstage download at the inbox root
    (the backstage/ folder) and the same download in @a's folder; @b has no LIVE file."""
    from tests.live.test_live_landing import BACKSTAGE_CSV, BACKSTAGE_CSV_PATH, _land
    from tests.live.test_live_sheet_readers import csv_bytes
    from tests.test_end_to_end import _land_and_build

    paths = new_paths(tmp_path)
    _drop_two_accounts(paths)
    drop(paths, BACKSTAGE_CSV_PATH, csv_bytes(BACKSTAGE_CSV))
    drop(paths, f"a/{BACKSTAGE_CSV_PATH}", csv_bytes(BACKSTAGE_CSV))
    _land(paths)  # LIVE files (the daily job's LIVE landing); then Studio's, and the first build: the whole project
    _land_and_build(paths, tmp_path / "target", dbt)
    flags = "select account_handle, export_source, is_agency_wide_folder from marts.rpt_account_freshness order by all"
    assert query(paths, flags) == [
        ("a", "live", False),
        ("a", "studio", False),
        ("b", "studio", False),
        ("backstage", "live", True),
    ]


def test_a_misfiled_download_moved_where_it_belongs_ends_its_quarantine(tmp_path, dbt):
    """@a's Content download saved in @b's folder is quarantined (its links name @a); once the same file is dropped
    into @a's folder it lands there, and the summary and the marts no longer count the misfiled copy."""
    from tests.test_end_to_end import _land_and_build

    header = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares")
    link = "https://www.tiktok.com/@a/video/7546034661705796870"
    content = studio_csv((*header, "Total views"), [["March 5", "clip", link, "March 1", "1", "0", "0", "10"]])
    paths = new_paths(tmp_path)
    drop(paths, "b/Content.csv", content, NOON)
    _land_and_build(paths, tmp_path / "target", dbt)

    def counted() -> tuple:
        with duckdb.connect(str(paths.warehouse), read_only=True) as con:
            now = len(quarantined_now(con))
            accounts = con.execute(
                "select account_handle, documents_loaded, documents_quarantined from marts.dim_accounts order by 1"
            ).fetchall()
            not_loaded = con.execute(
                "select account_handle, exports_not_loaded from marts.rpt_account_freshness order by 1"
            ).fetchall()
            videos = con.execute("select account_handle, count(*) from raw.studio_content group by 1").fetchall()
            listed = con.execute("select inbox_path, account_handle, file_kind from marts.rpt_quarantined_files")
            return now, accounts, not_loaded, videos, listed.fetchall()

    assert counted() == (1, [("b", 0, 1)], [("b", 1)], [], [("b/Content.csv", "b", "content")])
    drop(paths, "a/Content.csv", content, NOON)  # the same bytes, where they belong
    _land_and_build(paths, tmp_path / "target", dbt)
    # @b, whose only file was the misfiled one, is no account any more
    assert counted() == (0, [("a", 1, 0)], [("a", 0)], [("a", 1)], [])


def test_the_agency_wide_kind_is_the_live_landing_s_backstage_kind():
    from orchestration.lib.live.routing import BACKSTAGE
    from orchestration.lib.studio.run_summary import AGENCY_WIDE_KIND

    assert AGENCY_WIDE_KIND == BACKSTAGE  # and stg_studio__documents.is_agency_wide's literal


def test_a_check_that_warned_is_told_with_what_failed_in_it():
    """The closing line named only the check ("great_expectations on published/fct_account_overview_daily"): it now
    says which of its expectations failed, as the check's `failed` metadata lists them."""
    from types import SimpleNamespace

    import dagster as dg

    from orchestration.cli import _told

    key = dg.AssetKey(["published", "fct_account_overview_daily"])
    recency = SimpleNamespace(check_name="great_expectations", asset_key=key,
                              metadata={"failed": dg.MetadataValue.json(["recency", "volume"])})  # fmt: skip
    plain = SimpleNamespace(check_name="flagged_rows", asset_key=dg.AssetKey(["raw", "studio_overview"]), metadata={})
    assert [_told(recency), _told(plain)] == [
        "great_expectations on published/fct_account_overview_daily (recency, volume)",
        "flagged_rows on raw/studio_overview",
    ]


def test_a_quarantined_file_is_named_by_its_place_and_control_characters_in_names_are_escaped(tmp_path, capsys):
    """Dagster's log named a quarantined file `Overview.csv`, one of many in an agency's drop; a name holding a line
    break forged a summary line, and an ESC sequence coloured the terminal (review). Both tell the inbox place, with
    control characters escaped; the stored name stays exact."""
    from orchestration.lib.studio.run_summary import issue_places

    paths = new_paths(tmp_path)
    bad = [["March 1", "many", "0", "0", "0", "0"]]
    drop(paths, "a/Overview.csv", studio_csv(OVERVIEW, bad), NOON)
    drop(paths, "nl/Overview\nquarantined evil.csv", studio_csv(OVERVIEW, bad), NOON)
    drop(paths, "esc/Over\x1b[31mview.csv", studio_csv(OVERVIEW, bad), NOON)
    since = _now()
    report = land(paths)
    with connect(paths.warehouse, read_only=True) as con:
        places = sorted(issue_places(con, report.issues))
    assert places == ["a/Overview.csv", "esc/Over\\x1b[31mview.csv", "nl/Overview\\nquarantined evil.csv"]
    print_run(paths, since)
    out = capsys.readouterr().out
    assert "  nl/Overview\\nquarantined evil.csv (@nl): dtype('Int64') at row 1" in out
    assert "\x1b" not in out and not any(line.startswith("quarantined evil.csv") for line in out.splitlines())
    assert query(paths, "select inbox_path from raw.archive_manifest order by 1") == [
        ("a/Overview.csv",),
        ("esc/Over\x1b[31mview.csv",),
        ("nl/Overview\nquarantined evil.csv",),
    ]


def test_every_count_of_the_run_is_written_with_thousands_separators(tmp_path, monkeypatch, capsys):
    """A review read "New export files this run: 2330" beside "from 1,382 file(s) received": all counts read 2,330."""
    from orchestration.lib.studio import run_summary
    from orchestration.lib.studio.run_summary import AccountFiles, QuarantinedFile, RunSummary

    paths = new_paths(tmp_path)
    land(paths)  # an empty warehouse to open; the figures are the summary's below
    many = RunSummary(
        new_files=[
            AccountFiles("a", 1_200, {"overview": 1_100, "viewers": 100}, date(2022, 1, 1), date(2025, 1, 1), 1_097),
            AccountFiles("b", 1_130, {"content": 1_130}, None, None, 0),
        ],
        quarantined_this_run=[QuarantinedFile("b/Overview.csv", "b", "studio_date")] * 1_001,
        flags_this_run={"net_daily_count_below_zero": 12_345},
        flags_in_total=67_890,
        quarantined_now=1_234,
        files_received=1_382,
        corrected_since=1_500,
    )
    monkeypatch.setattr(run_summary, "summarize_run", lambda con, since, paths=None, run_started=None: many)
    print_run(paths, datetime(2025, 3, 5))
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "",
        "New export files this run: 2,330 (2 account(s)), from 1,382 file(s) received",
        "  @a: 1,200 file(s), covering 2022-01-01 → 2025-01-01 (1,097 days)",
        "      overview 1,100, viewers 100",
        "  @b: 1,130 file(s), covering no days",
        "      content 1,130",
    ]
    assert lines[6].startswith("Quarantined in this run: 1,001 (1,500 more")
    assert lines[-3:] == [
        f"  … 981 more file(s): reports in {paths.quarantine}",
        "Flagged rows (landed, worth a look): 12,345 this run (net_daily_count_below_zero 12,345), 67,890 in total "
        f"(raw.row_flags in {paths.warehouse}: open it read-only, between runs)",
        f"Quarantined files now: 1,234 (listed in the report and rpt_quarantined_files; reports in {paths.quarantine}; "
        "a corrected file dropped at the same inbox path ends one)",
    ]


def test_no_trending_video_is_one_line_saying_why_not_an_empty_heading(tmp_path, capsys):
    """An account with Followers downloads only printed "Top trending videos on each account's latest day (top 3):"
    and nothing under it (review). With rows, the heading and the top 3 of the latest day, as before."""
    from orchestration.cli_summary import print_summary

    paths = new_paths(tmp_path)
    land(paths)  # the warehouse the run's part of the summary reads
    paths.analytics_db.parent.mkdir(parents=True, exist_ok=True)
    # the BI catalog's marts are views (over the published files): here over tables of a schema of its own
    with duckdb.connect(str(paths.analytics_db)) as con:
        con.execute("create schema t")
        con.execute("create table t.dim_accounts (account_handle varchar, documents_loaded int, latest_followers int)")
        con.execute("insert into t.dim_accounts values ('a', 1, 12)")
        con.execute("create table t.fct_account_overview_daily (account_handle varchar, metric_date date)")
        con.execute("""create table t.rpt_trending_videos_7d (account_handle varchar, as_of_date date,
            trending_rank int, video_id varchar, views_gained_7d bigint, has_full_window boolean)""")
        con.execute("create table t.dim_videos (account_handle varchar, video_id varchar, video_title varchar)")
        for mart in ("dim_accounts", "fct_account_overview_daily", "rpt_trending_videos_7d", "dim_videos"):
            con.execute(f"create view {mart} as select * from t.{mart}")

    def trending() -> list[str]:
        print_summary(paths)
        lines = capsys.readouterr().out.splitlines()
        start = next(n for n, line in enumerate(lines) if line.startswith("  rpt_trending_videos_7d")) + 1
        return lines[start : next(n for n, line in enumerate(lines) if line.startswith("Flagged rows"))]

    assert trending() == [
        "Top trending videos: none yet (ranked by view growth from Content downloads or TikTok API video pulls: a "
        "video is ranked once seen on two days up to 7 days apart, or posted within the last 7 days)"
    ]
    with duckdb.connect(str(paths.analytics_db)) as con:
        con.executemany(
            "insert into t.rpt_trending_videos_7d values (?, ?, ?, ?, ?, ?)",
            [("a", "2026-02-19", 1, "71", 900, True), ("a", "2026-02-20", 1, "72", 1_500, False)],
        )
        con.execute("insert into t.dim_videos values ('a', '72', 'clip')")
    assert trending() == [
        "Top trending videos on each account's latest day (top 3):",
        '  @a                  2026-02-20  #1  "clip" (72)  +1,500 views in 7 days  (partial window)',
    ]


def test_files_quarantined_in_this_run_that_no_longer_count_are_told_what_became_of_them(tmp_path, capsys):
    """@a's Content download saved in @a's, @b's and @c's folders: @b's and @c's copies are quarantined (their links
    name @a) and no longer count, as @a's copy loaded. The summary said "none (2 more, replaced since by corrected
    files)", when nothing was corrected (review). A replay reads an Overview quarantined, then replaced at its path,
    again: that one was corrected."""
    from orchestration.lib.studio.landing import replay_archive

    header = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares")
    link = "https://www.tiktok.com/@a/video/7546034661705796870"
    content = studio_csv((*header, "Total views"), [["March 5", "clip", link, "March 1", "1", "0", "0", "10"]])
    paths = new_paths(tmp_path)
    for folder in ("a", "b", "c"):
        drop(paths, f"{folder}/Content.csv", content, NOON)
    since = _now()
    land(paths)
    print_run(paths, since)
    assert capsys.readouterr().out.splitlines()[1:6] == [
        "New export files this run: 1 (1 account(s)), from 3 file(s) received",
        "  @a: 1 file(s), covering 2025-03-05 → 2025-03-05 (1 day)",
        "      content 1",
        "Quarantined in this run: none (2 more, the same file loaded from another inbox path, where it counts)",
        "Flagged rows (landed, worth a look): 0 this run, 0 in total",
    ]
    bad = [["March 1", "5", "0", "0", "0", "0"], ["March 2", "many", "0", "0", "0", "0"]]
    drop(paths, "b/Overview.csv", studio_csv(OVERVIEW, bad), NOON)
    land(paths)
    fixed = [["March 1", "5", "0", "0", "0", "0"], ["March 2", "6", "0", "0", "0", "0"]]
    drop(paths, "b/Overview.csv", studio_csv(OVERVIEW, fixed), datetime(2025, 3, 6, 12))  # same path, new bytes
    land(paths)
    since = _now()
    with connect(paths.warehouse) as con:
        replay_archive(paths, con)
    print_run(paths, since, replayed=True)
    told = capsys.readouterr().out.splitlines()
    assert told[1] == "Export files replayed: 2 (2 account(s))"  # @a's Content, @b's corrected Overview
    assert [line for line in told if line.startswith("Quarantined")] == [
        "Quarantined in this run: none (3 more: 1 replaced since by a corrected file at the same inbox path; 2 the "
        "same file loaded from another inbox path, where it counts)",
        "Quarantined files now: 0",
    ]


def test_a_zip_inside_a_zip_dropped_bare_ends_its_quarantine_everywhere_and_in_a_replay(
    tmp_path, monkeypatch, capsys, dbt_manifest
):
    """Two TikTok ZIPs zipped together: both entries quarantined (file_type). The user drops one of them bare, as
    the reason says: its entry no longer counts in the summary, rpt_quarantined_files or the report, its quarantine
    report is filed under resolved/ (they stayed quarantined for ever: the outer ZIP is never corrected), and a
    replay of the archive ends where the runs did."""
    from orchestration.lib.report.data import Marts, quarantined_files

    paths = new_paths(tmp_path)
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    monkeypatch.setitem(os.environ, "DAGSTER_HOME", str(paths.dagster_home))
    overview_zip = f"Overview_2025-03-01_{int(EXPORTED.timestamp())}_a.zip"
    overview = studio_zip({"Overview.csv": studio_csv(OVERVIEW, [["March 1", "10", "1", "1", "0", "0"]])}, NOON)
    viewers = studio_zip({"Viewers.csv": studio_csv(VIEWERS, [["March 1", "30", "20", "10"]])}, NOON)
    # and a member that is no ZIP, quarantined without an inner ZIP's hash: it stays quarantined (a null hash made
    # stg_studio__documents.is_superseded null once another entry's bytes landed: the build failed, review)
    drop(
        paths,
        "agency.zip",
        studio_zip({overview_zip: overview, "Viewers_b.zip": viewers, "notes.txt": b"hi"}, NOON),
        NOON,
    )

    def counted(command: str) -> tuple:
        assert main([command]) == 0
        now = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("Quarantined files now"))
        listed = query(paths, "select inbox_path, zip_member from marts.rpt_quarantined_files order by 2")
        marts = Marts(paths.marts)  # what the report shows
        shown, files = quarantined_files(marts)
        marts.con.close()

        def reports(folder):
            return sorted(p.name.split("agency.zip_")[1] for p in folder.glob("*.json"))

        in_report = [(row["inbox_path"], row["zip_member"]) for row in shown]
        return (
            now.split(" (")[0],
            listed,
            in_report,
            files,
            reports(paths.quarantine),
            reports(paths.quarantine / "resolved"),
        )

    entries = [("agency.zip", overview_zip), ("agency.zip", "Viewers_b.zip"), ("agency.zip", "notes.txt")]
    assert counted("run") == (
        "Quarantined files now: 3",
        entries,
        entries,
        3,
        [f"{overview_zip}.json", "Viewers_b.zip.json", "notes.txt.json"],
        [],
    )
    drop(paths, "b/Viewers_b.zip", viewers, NOON)  # one inner ZIP unzipped from the outer one, dropped bare
    standing = [entries[0], entries[2]]
    ended = ("Quarantined files now: 2", standing, standing, 2, [f"{overview_zip}.json", "notes.txt.json"],
             ["Viewers_b.zip.json"])  # fmt: skip
    assert counted("run") == ended
    assert query(paths, "select account_handle, total_viewers from raw.studio_viewers") == [("b", 30)]
    assert counted("replay") == ended
