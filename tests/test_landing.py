"""Landing: archive once by hash, never touch the inbox, refuse unsafe ZIPs, quarantine with reasons."""

import gc
import io
import json
import zipfile
from datetime import datetime

import pandas as pd
import pytest

from orchestration.lib.core import collector
from orchestration.lib.core.warehouse import connect
from orchestration.lib.studio import landing
from orchestration.lib.studio.landing import land_inbox
from tests.studio_fixtures import SAMPLES, drop, land, new_paths, query, studio_csv, studio_zip

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
WHEN = datetime(2026, 4, 24, 9, 37, 56)


def test_real_sample_exports_land_with_years_from_their_anchors(tmp_path):
    paths = new_paths(tmp_path)
    # TikTok's own name for the first sample ZIP (the sample repository renamed it).
    drop(
        paths,
        "Overview_2026-04-16_1777023476_bosszy.zip",
        (SAMPLES / "studio-overview-7d-export.zip").read_bytes(),
    )
    drop(
        paths,
        "bosszy/studio-overview-7d-export-2.zip",
        (SAMPLES / "studio-overview-7d-export-2.zip").read_bytes(),
    )
    drop(paths, "other/Overview.csv", (SAMPLES / "Overview.csv").read_bytes(), datetime(2026, 4, 20, 12))
    drop(paths, "other/Overview.xlsx", (SAMPLES / "Overview.xlsx").read_bytes(), datetime(2026, 4, 20, 12))
    report = land(paths)
    assert report.issues == []
    docs = report.documents.set_index("original_name")
    assert docs.loc["Overview_2026-04-16_1777023476_bosszy.zip", "export_date_source"] == "overview_zip_name"
    assert docs.loc["studio-overview-7d-export-2.zip", "export_date_source"] == "zip_entry_timestamp"
    rows = query(
        paths,
        "select account_handle, min(metric_date)::varchar, max(metric_date)::varchar, sum(video_views), count(*)"
        " from raw.studio_overview group by 1 order by 1",
    )
    # bosszy: two ZIPs × 7 days (16–22 April), 1 view in total per ZIP; other: CSV + XLSX × 7 days,
    # 1591+1154+1737+1082+561+310+1484 = 7919 views per file.
    assert rows == [
        ("bosszy", "2026-04-16", "2026-04-22", 2, 14),
        ("other", "2026-04-12", "2026-04-18", 15838, 14),
    ]


def test_same_bytes_are_archived_once_each_receipt_is_recorded_and_the_inbox_is_untouched(tmp_path):
    paths = new_paths(tmp_path)
    data = studio_zip({"Overview.csv": studio_csv(OVERVIEW, [["April 1", "1", "0", "0", "0", "0"]])}, WHEN)
    first = drop(paths, "Overview_2026-04-01_1777023476_acct.zip", data)
    second = drop(paths, "acct/Overview_2026-04-01_1777023476_acct (1).zip", data)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (first, second)}
    report = land(paths)
    assert report.files_new == 2, "two receipts of the same bytes"
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (first, second)} == before
    manifest = [json.loads(line) for line in paths.manifest.read_text().splitlines()]
    assert [(m["inbox_path"], m["account_handle"], m["file_kind"], m["export_date"]) for m in manifest] == [
        ("Overview_2026-04-01_1777023476_acct.zip", "acct", "overview", "2026-04-24"),
        ("acct/Overview_2026-04-01_1777023476_acct (1).zip", "acct", "overview", "2026-04-24"),
    ]
    assert manifest[0]["archive_path"] == manifest[1]["archive_path"]
    assert [p for p in paths.archive.rglob("*.zip")] == [paths.archive / manifest[0]["archive_path"]]
    assert (paths.archive / manifest[0]["archive_path"]).read_bytes() == data
    assert land(paths).files_new == 0, "a rerun archives nothing"
    told = []  # what `on_new` learns (the Dagster step warms dbt up when it is not 0): nothing new on a rerun
    with connect(paths.warehouse) as con:
        assert land_inbox(paths, con, on_new=told.append).files_new == 0
    assert told == [0]
    drop(paths, "acct/Viewers.csv", studio_csv(("Date", "Total Viewers", "New Viewers", "Returning Viewers"), []))
    with connect(paths.warehouse) as con:
        land_inbox(paths, con, on_new=told.append)
    assert told == [0, 1]


def _zip_with(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_zip_entries_escaping_their_folder_are_refused(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, "Content_acct.zip", _zip_with("../../etc/Content.csv", b"x"))
    report = land(paths)
    assert [(i.rule, "escape" in i.message) for i in report.issues] == [("safe_zip", True)]
    assert not (tmp_path / "etc").exists()


def test_zip_bombs_are_refused(tmp_path):
    paths = new_paths(tmp_path)
    drop(paths, "Content_acct.zip", _zip_with("Content.csv", b"0" * (70 * 1024 * 1024)))
    report = land(paths)
    assert [i.rule for i in report.issues] == ["safe_zip"]
    assert "expands past" in report.issues[0].message


def test_bad_files_are_quarantined_while_the_rest_of_the_drop_goes_through(tmp_path):
    paths = new_paths(tmp_path)
    good = studio_csv(OVERVIEW, [["April 1", "5", "0", "0", "0", "0"], ["April 2", "7", "0", "0", "0", "0"]])
    drop(paths, "Overview_2026-04-01_1777023476_good.zip", studio_zip({"Overview.csv": good}, WHEN))
    drop(paths, "Content_broken.zip", b"PK\x03\x04 this is not really a zip")
    drop(
        paths,
        "acct/Viewers.csv",
        studio_csv(("Day", "Total", "New", "Returning"), [["April 1", "1", "1", "0"]]),
    )
    drop(paths, "acct/Overview.csv", b"")
    drop(paths, "acct/Overview 2.csv", studio_csv(OVERVIEW, [["April 1", "many", "0", "0", "0", "0"]]))
    # a negative daily count would land with a flag (plausibility); a repeated day is structural
    repeated_day = [["April 1", "2", "0", "0", "0", "0"], ["April 1", "3", "0", "0", "0", "0"]]
    drop(paths, "acct/Overview 3.csv", studio_csv(OVERVIEW, repeated_day))
    drop(
        paths,
        "Content.csv",
        studio_csv(
            (
                "Time",
                "Video title",
                "Video link",
                "Post time",
                "Total likes",
                "Total comments",
                "Total shares",
                "Total views",
            ),
            [["April 1", "t", "no link", "April 1", "1", "1", "1", "1"]],
        ),
    )
    report = land(paths)
    reasons = {i.file: i.rule for i in report.issues}
    assert reasons == {
        "Content_broken.zip": "safe_zip",
        "Viewers.csv": "header",
        "Overview.csv": "not_empty",
        "Overview 2.csv": "dtype('Int64')",
        "Overview 3.csv": "one_row_per_metric_date_per_file",
        "Content.csv": "account_handle",
    }
    assert query(paths, "select account_handle, sum(video_views) from raw.studio_overview group by 1") == [("good", 12)]
    reports = sorted(p.name for p in paths.quarantine.glob("*.json"))
    assert len(reports) == 6
    overview_2 = json.loads(next(paths.quarantine.glob("*Overview_2.csv.json")).read_text())
    assert overview_2["issues"][0] | {"message": None} == {
        "row": 1,
        "column": "video_views",
        "rule": "dtype('Int64')",
        "value": "many",
        "message": None,
    }


def test_landing_in_small_batches_gives_the_same_raw_tables(tmp_path, monkeypatch):
    import orchestration.lib.studio.landing as landing

    def land_all(folder):
        paths = new_paths(folder)
        drop(paths, "Overview_2026-04-16_1777023476_a.zip", (SAMPLES / "studio-overview-7d-export.zip").read_bytes())
        drop(paths, "b/Overview.csv", (SAMPLES / "Overview.csv").read_bytes(), datetime(2026, 4, 20, 12))
        drop(paths, "b/Overview.xlsx", (SAMPLES / "Overview.xlsx").read_bytes(), datetime(2026, 4, 20, 12))
        drop(paths, "b/Viewers.csv", b"")
        report = land(paths)
        rows = query(paths, "select * exclude (document_id) from raw.studio_overview order by all")
        return report, rows

    whole, whole_rows = land_all(tmp_path / "whole")
    monkeypatch.setattr(landing, "BATCH_FILES", 1)
    batched, batched_rows = land_all(tmp_path / "batched")
    assert batched_rows == whole_rows and len(whole_rows) == 21
    assert sorted(batched.documents["status"]) == sorted(whole.documents["status"]) == ["loaded"] * 3 + ["quarantined"]


@pytest.mark.parametrize("failing", ["in Python", "in DuckDB"])
def test_a_landing_failing_part_way_keeps_what_it_committed_and_the_next_one_lands_every_file(
    tmp_path, monkeypatch, failing
):
    """Batches load `BATCHES_PER_TRANSACTION` to a transaction: a failure (a Python error, or one in DuckDB that
    aborts the transaction) rolls back those loaded since the last commit, writes no quarantine report for their
    documents and records no receipt; the next landing lands every file, as one landing without the failure does."""
    views = "select account_handle, video_views from raw.studio_overview order by all"

    def drop_six(paths):  # one file a batch below, in path order: acct0, acct1, acct1b (empty: quarantined), acct2-4
        for n in range(5):
            drop(paths, f"acct{n}/Overview.csv", studio_csv(OVERVIEW, [["April 1", str(n + 1), "0", "0", "0", "0"]]))
        drop(paths, "acct1b/Overview.csv", b"")

    whole = new_paths(tmp_path / "whole")
    drop_six(whole)
    land(whole)
    assert query(whole, views) == [(f"acct{n}", n + 1) for n in range(5)]

    paths = new_paths(tmp_path / "failed")
    drop_six(paths)
    monkeypatch.setattr(landing, "BATCH_FILES", 1)
    monkeypatch.setattr(landing, "BATCHES_PER_TRANSACTION", 2)
    load, loads = landing._load_batch, iter(range(1, 7))

    def failing_fourth(con, checked, report):
        if next(loads) == 4:
            if failing == "in DuckDB":
                con.execute("select error('the disk filled up')")
            raise RuntimeError("the disk filled up")
        return load(con, checked, report)

    monkeypatch.setattr(landing, "_load_batch", failing_fourth)
    with connect(paths.warehouse) as con:
        with pytest.raises(Exception, match="the disk filled up"):
            land_inbox(paths, con)
        # batches 1 and 2 committed together; the third (the empty file) went with the transaction the fourth failed
        # in, rolled back before the landing gave the connection back
        assert con.execute(views).fetchall() == [("acct0", 1), ("acct1", 2)]
    assert query(paths, views) == [("acct0", 1), ("acct1", 2)]
    assert query(paths, "select count(*) from raw.documents") == [(2,)]
    assert query(paths, "select count(*) from raw.archive_manifest") == [(0,)]
    assert not list(paths.quarantine.glob("*.json"))  # the rolled-back batch's quarantined file: no report yet
    monkeypatch.setattr(landing, "_load_batch", load)
    report = land(paths)
    assert report.files_new == 6 and [(i.file, i.rule) for i in report.issues] == [("Overview.csv", "not_empty")]
    assert query(paths, views) == query(whole, views)
    assert query(paths, "select count(*) from raw.documents") == query(whole, "select count(*) from raw.documents")
    assert len(list(paths.quarantine.glob("*.json"))) == len(list(whole.quarantine.glob("*.json"))) == 1


def test_batches_in_a_transaction_an_error_aborted_are_never_committed_as_nothing(tmp_path):
    """DuckDB ends an aborted transaction with a commit that raises nothing and keeps nothing: were a DuckDB error in a
    batch ever swallowed, the commit of its transaction raises instead of losing the batches loaded before it."""
    import duckdb

    from orchestration.lib.studio.checking import BatchChecker

    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con, BatchChecker(workers=1) as checker:
        batches = landing._StudioBatches(paths, con, landing.LandingReport(), checker)
        con.execute("create table loaded (batch integer)")
        con.execute("begin transaction")
        batches.uncommitted = 1
        con.execute("insert into loaded values (1)")  # a batch loaded before
        with pytest.raises(duckdb.Error):
            con.execute("select error('a failure someone swallowed')")
        with pytest.raises(duckdb.TransactionException, match="aborted"):
            batches._commit()
        with batches:  # leaving rolls the transaction back
            pass
        assert batches.uncommitted == 0 and con.execute("select count(*) from loaded").fetchall() == [(0,)]


def test_full_collections_wait_for_the_landing_to_end_even_when_it_fails(tmp_path, monkeypatch):
    paths = new_paths(tmp_path)
    before = gc.get_threshold()
    seen = []
    scan = landing.archive_new_inbox_files

    def scan_noting_thresholds(*args, **kwargs):
        seen.append(gc.get_threshold())
        return scan(*args, **kwargs)

    monkeypatch.setattr(landing, "archive_new_inbox_files", scan_noting_thresholds)
    land(paths)
    assert seen == [(before[0], before[1], collector.NO_FULL_COLLECTION)] and gc.get_threshold() == before

    def failing_scan(*args, **kwargs):
        raise OSError("the inbox went away")

    monkeypatch.setattr(landing, "archive_new_inbox_files", failing_scan)
    with pytest.raises(OSError, match="the inbox went away"):
        land(paths)
    assert gc.get_threshold() == before


def test_each_flag_takes_its_documents_file_kind_and_a_stranger_none():
    from orchestration.defs.studio import _file_kinds_of

    documents = pd.DataFrame(
        {"document_id": ["a", "b", "c", "b"], "file_kind": ["overview", "viewers", "content", "follower_gender"]}
    )
    flagged = pd.Series(["b", "a", "a", "zz"], index=[10, 11, 12, 13])
    kinds = _file_kinds_of(flagged, documents)
    # an id listed twice keeps its last kind
    assert kinds.tolist()[:3] == ["follower_gender", "overview", "overview"]
    assert pd.isna(kinds[13]) and kinds.index.tolist() == [10, 11, 12, 13]
    assert _file_kinds_of(flagged.iloc[:0], documents).empty
    assert _file_kinds_of(flagged, documents.iloc[:0]).isna().all()


def test_the_same_bad_bytes_in_two_accounts_folders_get_a_report_each(tmp_path):
    """Reports are named by bytes and receipt: the second account's report does not overwrite the first's."""
    paths = new_paths(tmp_path)
    empty = b""
    drop(paths, "alpha/Overview.csv", empty)
    drop(paths, "beta/Overview.csv", empty)

    report = land(paths)

    assert sorted((i.file, i.rule) for i in report.issues) == [("Overview.csv", "not_empty")] * 2
    reports = [json.loads(p.read_text()) for p in sorted(paths.quarantine.glob("*.json"))]
    assert sorted(r["account_handle"] for r in reports) == ["alpha", "beta"]
    assert land(paths).files_new == 0 and len(list(paths.quarantine.glob("*.json"))) == 2


def test_a_report_named_the_former_way_is_replaced_by_its_new_name(tmp_path):
    """Reports were named by bytes and file only; landing the file again writes it under its new name, once."""
    paths = new_paths(tmp_path)
    drop(paths, "alpha/Overview.csv", b"")
    land(paths)
    [report] = paths.quarantine.glob("*.json")
    sha12, receipt, rest = report.name.split("_", 2)
    former = paths.quarantine / f"{sha12}_{rest}"
    report.rename(former)  # as an earlier version wrote it
    with connect(paths.warehouse) as con:
        landing.replay_archive(paths, con)
    assert sorted(p.name for p in paths.quarantine.glob("*.json")) == [report.name]
