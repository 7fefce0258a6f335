"""Every receipt counts (the same bytes received for two days or two accounts are two documents), the
manifest survives a crash mid-append, and `replay` rebuilds a deleted warehouse from the archive alone."""

import hashlib
import json
import shutil
from datetime import date, timedelta

import duckdb
import pytest

from orchestration.cli import main, run_pipeline
from orchestration.lib.api.landing import pull_account
from orchestration.lib.core.archive import ManifestRow, append_manifest, append_manifest_lines
from orchestration.lib.core.dbt_selection import full_refresh_requested
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import connect
from tests.api.conftest import T0, business_metrics, business_videos, setup_business, setup_display, write_both_accounts
from tests.api.fake_tiktok import CLIENT_KEY, CLIENT_SECRET, FakeTikTok
from tests.dbt_runner import mart_tables
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv
from tests.test_end_to_end import _drop_fixture, _land_and_build, _published_digests

GENDER = studio_csv(("Gender", "Distribution"), [["Female", "0.6"], ["Male", "0.4"]])
GENDER_RECEIPTS = ("acct/2026-01-05/FollowerGender.csv", "acct/2026-01-06/FollowerGender.csv")


def test_the_same_bytes_for_two_days_and_two_accounts_are_separate_snapshots(tmp_path, dbt, monkeypatch):
    # the archive copies (as for CI's root): a file landed 2 s after its drop would be linked read-only for another
    # user, and the second drop below writes over it in place
    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    paths = new_paths(tmp_path)
    for relative in (*GENDER_RECEIPTS, "other/2026-01-05/FollowerGender.csv"):
        drop(paths, relative, GENDER)
    _land_and_build(paths, tmp_path / "target-1", dbt)

    marts = mart_tables(paths)
    assert marts["fct_follower_gender_snapshot"] == [
        ("acct", date(2026, 1, 5), "Female", 0.6),
        ("acct", date(2026, 1, 5), "Male", 0.4),
        ("acct", date(2026, 1, 6), "Female", 0.6),
        ("acct", date(2026, 1, 6), "Male", 0.4),
        ("other", date(2026, 1, 5), "Female", 0.6),
        ("other", date(2026, 1, 5), "Male", 0.4),
    ]
    sha = hashlib.sha256(GENDER).hexdigest()
    assert query(
        paths, "select archive_sha256, account_handle, export_date::varchar from raw.documents order by 2, 3"
    ) == [
        (sha, "acct", "2026-01-05"),
        (sha, "acct", "2026-01-06"),
        (sha, "other", "2026-01-05"),
    ]
    assert len({d for (d,) in query(paths, "select document_id from raw.documents")}) == 3
    assert [p.read_bytes() for p in paths.archive.rglob("*.csv")] == [GENDER], "the bytes are stored once"
    receipts = [json.loads(line) for line in paths.manifest.read_text().splitlines()]
    assert sorted((r["inbox_path"], r["account_handle"], r["export_date"]) for r in receipts) == [
        ("acct/2026-01-05/FollowerGender.csv", "acct", "2026-01-05"),
        ("acct/2026-01-06/FollowerGender.csv", "acct", "2026-01-06"),
        ("other/2026-01-05/FollowerGender.csv", "other", "2026-01-05"),
    ]

    # re-dropping the same path with the same bytes (a new mtime) is no new receipt and changes nothing
    manifest_before, documents_before = paths.manifest.read_bytes(), query(paths, "select * from raw.documents")
    drop(paths, GENDER_RECEIPTS[1], GENDER)
    assert land(paths).files_new == 0
    _land_and_build(paths, tmp_path / "target-2", dbt)
    assert mart_tables(paths) == marts
    assert paths.manifest.read_bytes() == manifest_before
    assert query(paths, "select * from raw.documents") == documents_before


def test_document_ids_do_not_depend_on_drop_order(tmp_path):
    def documents(folder, relatives):
        paths = new_paths(folder)
        for relative in relatives:  # one drop per file
            drop(paths, relative, GENDER)
            land(paths)
        return query(paths, "select document_id, account_handle, export_date from raw.documents order by 1")

    relatives = (*GENDER_RECEIPTS, "other/FollowerGender.csv", "Followers_third.zip")
    forward = documents(tmp_path / "forward", relatives)
    assert forward == documents(tmp_path / "reverse", relatives[::-1])
    assert len(forward) == 4


def _receipt(inbox_path: str) -> ManifestRow:
    return ManifestRow("ab" * 32, "x.csv", inbox_path, "ab/x.csv", "acct", "overview", None, None, 1, "t", "t")


def test_a_torn_or_repeated_manifest_tail_leaves_each_receipt_once(tmp_path):
    paths = new_paths(tmp_path)
    for relative in (*GENDER_RECEIPTS, "other/FollowerGender.csv"):
        drop(paths, relative, GENDER)
    land(paths)
    lines = paths.manifest.read_bytes().splitlines(keepends=True)
    assert len(lines) == 3
    # a kill -9 after the lines were written but before the database committed them, and one in the middle
    # of a second append: the last line repeated, then half of a line
    paths.manifest.write_bytes(b"".join(lines) + lines[-1] + lines[0][: len(lines[0]) // 2])
    shutil.rmtree(paths.warehouse.parent)  # the working database never saw those receipts

    report = land(paths)

    assert report.files_new == 3, "every receipt is landed again"
    rows = [json.loads(line) for line in paths.manifest.read_text().splitlines()]  # every line whole JSON
    assert sorted(r["inbox_path"] for r in rows) == sorted([*GENDER_RECEIPTS, "other/FollowerGender.csv"])
    assert len(rows) == 3, "the repeated line is gone, nothing was added twice"
    assert query(paths, "select count(*) from raw.archive_manifest") == [(3,)]


def test_manifest_appends_repair_a_torn_line_and_skip_known_keys(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    assert append_manifest(manifest, [_receipt("a.csv"), _receipt("a.csv"), _receipt("b.csv")]) == 2
    whole = manifest.read_bytes()
    manifest.write_bytes(whole + b'{"sha256": "ab')  # torn: cut off
    assert append_manifest(manifest, [_receipt("b.csv"), _receipt("c.csv")]) == 1
    assert [json.loads(line)["inbox_path"] for line in manifest.read_text().splitlines()] == ["a.csv", "b.csv", "c.csv"]
    # a whole line whose newline was not written yet is kept, not cut
    manifest.write_bytes(manifest.read_bytes() + json.dumps({"archive_path": "api/x.json"}).encode())
    assert append_manifest_lines(manifest, [{"archive_path": "api/y.json"}]) == 1
    assert manifest.read_text().splitlines()[-2:] == [
        '{"archive_path": "api/x.json"}',
        '{"archive_path": "api/y.json"}',
    ]


# --- replay -------------------------------------------------------------------------------------------


def _raw_tables(paths: DataPaths) -> dict[str, list[tuple]]:
    """Every raw table, row for row, without the moment the rows were written."""
    tables = {}
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        names = con.execute("select table_name from duckdb_tables() where schema_name = 'raw' order by 1").fetchall()
        for (table,) in names:
            columns = [d[0] for d in con.execute(f"select * from raw.{table} limit 0").description]
            written = " exclude (landed_at)" if "landed_at" in columns else ""
            tables[table] = con.execute(f"select *{written} from raw.{table} order by all").fetchall()
    return tables


def _pull_api_history(paths: DataPaths) -> dict[str, str]:
    """Pulls of both accounts through the fake TikTok, retries and failures included; their statuses."""
    fake = FakeTikTok().start()
    try:
        setup_business(fake, paths, videos=2)
        fake.business_metrics = business_metrics("2026-04-20", 20)
        setup_display(fake, paths, videos=25)
        config = write_both_accounts(fake, paths)
        display, business = config.account("techcreator"), config.account("shop")
        statuses = {}
        with connect(paths.warehouse) as con:

            def pull(name, account, moment):
                result = pull_account(paths, con, config, account, now=lambda: moment, sleep=lambda s: None)
                statuses[name] = result.status

            fake.add_fault("video_list", "429", page=2)  # retried
            fake.add_fault("user_info", "401")  # refreshed, asked again
            pull("display day 1", display, T0)
            fake.videos[0]["view_count"] += 500
            fake.user["follower_count"] += 7
            pull("display day 2", display, T0 + timedelta(days=1))
            pull("display day 2 again", display, T0 + timedelta(days=1, hours=2))
            fake.add_fault("video_list", "500", page=2, times=99)
            pull("display day 3 broken off", display, T0 + timedelta(days=2))
            fake.faults.clear()
            fake.business_videos = business_videos(2)
            pull("business day 1", business, T0)
            fake.business_profile["videos_count"] = 9  # 2 listed: an unexplained shortfall
            pull("business day 2 short", business, T0 + timedelta(days=1))
        return statuses
    finally:
        fake.stop()


@pytest.fixture
def replay_env(tmp_path, monkeypatch, dbt_manifest):
    paths = new_paths(tmp_path)
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", CLIENT_KEY)
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.delenv("TIKTOK_ACCOUNTS_FILE", raising=False)
    return paths


def test_replay_rebuilds_a_deleted_warehouse_from_the_archive_with_identical_marts(replay_env, capsys):
    paths = replay_env
    _drop_fixture(paths)
    for relative in GENDER_RECEIPTS:
        drop(paths, relative, GENDER)
    statuses = _pull_api_history(paths)
    assert statuses == {
        "display day 1": "complete",
        "display day 2": "complete",
        "display day 2 again": "unchanged",
        "display day 3 broken off": "incomplete",
        "business day 1": "complete",
        "business day 2 short": "incomplete",
    }
    (paths.root / "accounts.yml").unlink()  # the job must not pull again (the fake is gone)
    assert run_pipeline(paths).success
    digests, raw = _published_digests(paths), _raw_tables(paths)
    assert (
        len(digests) == 21  # 12 + 5 LIVE marts + 4 report marts
        and len(raw["api_video_snapshots"]) == 25 + 25 + 2
        and len(raw["studio_follower_gender"]) == 4
    )

    shutil.rmtree(paths.root / "warehouse")
    assert main(["replay"]) == 0

    assert _published_digests(paths) == digests
    with duckdb.connect(str(paths.warehouse)) as con:  # the replay's full refresh ended well: none is pending
        assert not full_refresh_requested(con)
    assert _raw_tables(paths) == raw
    out = capsys.readouterr().out
    assert "Replayed 10 Studio receipts" in out
    assert "Replayed 6 API account pulls (3 complete, 2 incomplete, 1 unchanged)" in out

    # lost again, and the received files deleted from the inbox since (as the README allows): a plain run, not
    # `replay`, landed the inbox alone and published marts without that history, exit 0 (review). A warehouse
    # created beside an archive that lists receipts is a replay not yet done: the run replays the archive first.
    shutil.rmtree(paths.root / "warehouse")
    shutil.rmtree(paths.inbox)
    paths.inbox.mkdir()
    assert main(["run"]) == 0
    assert _published_digests(paths) == digests
    assert _raw_tables(paths) == raw
    told = capsys.readouterr().out
    assert "\nExport files replayed: " in told and "New export files" not in told


def test_a_replay_stopped_half_way_is_replayed_again_by_the_next_run_before_anything_is_built(
    replay_env, monkeypatch, capsys
):
    """Ctrl-C after the replay forgot the documents and before it loaded them again: the raw tables hold none of
    the history while the manifest lists every receipt, so the next run saw nothing to land and published empty
    marts. The replay's mark stays until it finishes; the next run replays again, then builds the same marts."""
    from orchestration.lib.core.replay_state import unfinished_replay
    from orchestration.lib.studio import landing

    paths = replay_env
    _drop_fixture(paths)
    assert main(["run"]) == 0
    digests, raw = _published_digests(paths), _raw_tables(paths)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as stopped:
        stopped.setattr(landing._Routed, "finish", interrupted)
        with pytest.raises(KeyboardInterrupt):
            main(["replay"])
    assert query(paths, "select count(*) from raw.documents") == [(0,)]  # half-way: forgotten, not loaded again
    with connect(paths.warehouse) as con:
        assert unfinished_replay(con) is not None
    capsys.readouterr()

    assert main(["run"]) == 0
    assert _raw_tables(paths) == raw and _published_digests(paths) == digests
    told = capsys.readouterr()
    assert (
        "or a replay started then did not finish): replaying the whole archive before this landing"
        in told.out + told.err
    )
    # the summary says the files were replayed (the drop's nine export files, in eight files), not received anew
    assert "\nExport files replayed: 9 (1 account(s))\n" in told.out and "New export files" not in told.out
    with connect(paths.warehouse) as con:
        assert unfinished_replay(con) is None and not full_refresh_requested(con)


def test_a_replay_started_again_before_one_finished_keeps_the_first_mark(tmp_path):
    from datetime import datetime

    from orchestration.lib.core.replay_state import mark_replay_started, replay_finished, unfinished_replay

    with connect(new_paths(tmp_path).warehouse) as con:
        mark_replay_started(con, datetime(2026, 1, 1))
        mark_replay_started(con, datetime(2026, 1, 2))  # replayed again before the first one finished
        assert unfinished_replay(con) == datetime(2026, 1, 1)
        replay_finished(con)
        assert unfinished_replay(con) is None


def test_a_replay_refused_before_it_changed_anything_leaves_no_mark(replay_env):
    from orchestration.lib.core.replay_state import unfinished_replay

    paths = replay_env
    _drop_fixture(paths)
    land(paths)
    altered = next(paths.archive.glob("[0-9a-f][0-9a-f]/*"))
    altered.chmod(0o644)
    altered.write_bytes(b"other bytes")  # the replay refuses to rebuild from it
    assert main(["replay"]) == 1
    with connect(paths.warehouse) as con:
        assert unfinished_replay(con) is None


def test_a_replay_stopped_while_it_checks_the_archive_leaves_no_mark(replay_env, monkeypatch):
    """Ctrl-C while the replay hashes the archive (minutes for a large one): no row changed yet, so the next run
    must not replay the whole archive again."""
    from orchestration.lib.core.replay_state import unfinished_replay
    from orchestration.lib.studio import landing

    paths = replay_env
    _drop_fixture(paths)
    land(paths)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(landing, "altered_objects", interrupted)
    with pytest.raises(KeyboardInterrupt):
        main(["replay"])
    with connect(paths.warehouse) as con:
        assert unfinished_replay(con) is None and not full_refresh_requested(con)


def _api_tables(paths: DataPaths) -> dict[str, list[tuple]]:
    raw = _raw_tables(paths)
    return {t: rows for t, rows in raw.items() if t.startswith("api_")}


def test_api_replay_of_archives_without_pull_ids_or_manifest_lines_gives_the_same_tables(replay_env):
    """Archives written before `account_pull_id`, and pull files whose manifest line a crash lost."""
    from orchestration.lib.api.replay import replay_api_archive

    paths = replay_env
    _pull_api_history(paths)
    before = _api_tables(paths)
    manifest = paths.archive / "api" / "manifest.jsonl"
    for wrapper_file in (paths.archive / "api").rglob("*.json"):
        wrapper = json.loads(wrapper_file.read_text())
        del wrapper["account_pull_id"], wrapper["business_id"]
        wrapper_file.chmod(0o644)
        wrapper_file.write_text(json.dumps(wrapper, ensure_ascii=False, indent=1) + "\n")
    lines = manifest.read_text().splitlines()
    manifest.write_text("\n".join(lines[:-3]) + "\n" + lines[-3][:40])  # the last pull's lines lost, one torn
    shutil.rmtree(paths.warehouse.parent)

    with connect(paths.warehouse) as con:
        report = replay_api_archive(paths, con)

    assert [(p.handle, p.status) for p in report.pulls] == [
        ("techcreator", "complete"),
        ("techcreator", "complete"),
        ("techcreator", "unchanged"),
        ("techcreator", "incomplete"),
        ("shop", "complete"),
        ("shop", "incomplete"),
    ]
    assert report.manifest_lines_added == 3 and report.unreadable == [] and report.missing == []
    columns = {t: _columns(paths, t) for t in before}

    def without_sha(tables):  # the wrappers were rewritten above: their hashes changed, nothing else
        return {
            t: [tuple(v for c, v in zip(columns[t], row, strict=True) if c != "archive_sha256") for row in rows]
            for t, rows in tables.items()
        }

    assert without_sha(_api_tables(paths)) == without_sha(before)
    listed = [json.loads(line)["archive_path"] for line in manifest.read_text().splitlines()]
    assert sorted(listed) == sorted(
        p.relative_to(paths.archive).as_posix() for p in (paths.archive / "api").rglob("*.json")
    )


def _columns(paths: DataPaths, table: str) -> list[str]:
    with duckdb.connect(str(paths.warehouse), read_only=True) as con:
        columns = [d[0] for d in con.execute(f"select * from raw.{table} limit 0").description]
    return [c for c in columns if c != "landed_at"]


def test_replay_refuses_an_archive_without_its_manifest(tmp_path):
    from orchestration.lib.studio.landing import ReplayError, replay_archive

    paths = new_paths(tmp_path)
    drop(paths, GENDER_RECEIPTS[0], GENDER)
    land(paths)
    paths.manifest.unlink()
    with connect(paths.warehouse) as con, pytest.raises(ReplayError, match="lists no receipt"):
        replay_archive(paths, con)
    assert query(paths, "select count(*) from raw.studio_follower_gender") == [(2,)], "nothing was emptied"
    with connect(paths.warehouse) as con:
        assert not full_refresh_requested(con), "nor a full refresh asked for"


def test_replay_refuses_an_archived_file_changed_in_place_and_changes_nothing(tmp_path, monkeypatch, capsys):
    """An archived object no longer holding the bytes of its hash (root's `cp` over a linked inbox file, a disk
    fault): replaying it would publish other numbers under the same receipt. The replay says which, and stops."""
    from orchestration.lib.studio.landing import ReplayError, replay_archive

    monkeypatch.setenv("TIKTOK_ARCHIVE_MODE", "copy")
    paths = new_paths(tmp_path)
    for relative in GENDER_RECEIPTS:
        drop(paths, relative, GENDER)
    land(paths)
    [archived] = [p for p in paths.archive.glob("??/*") if p.is_file()]  # the same bytes: one object
    archived.chmod(0o644)
    archived.write_bytes(GENDER.replace(b"0.6", b"0.9"))

    with connect(paths.warehouse) as con, pytest.raises(ReplayError, match="1 archived file") as refused:
        replay_archive(paths, con)
    assert f"{archived} (changed)" in str(refused.value) and "nothing was replayed" in str(refused.value)
    assert query(paths, "select count(*) from raw.studio_follower_gender") == [(4,)], "nothing was emptied"
    with connect(paths.warehouse) as con:
        assert not full_refresh_requested(con), "nor a full refresh asked for"
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(paths.root))
    assert main(["replay"]) == 1, "the command stops before the run, with the message"
    assert "no longer hold the bytes" in capsys.readouterr().err

    archived.unlink()  # a missing object: its rows could not be rebuilt either
    with connect(paths.warehouse) as con, pytest.raises(ReplayError, match=r"\(missing\)"):
        replay_archive(paths, con)
    assert query(paths, "select count(*) from raw.studio_follower_gender") == [(4,)]


def test_a_warehouse_keyed_by_sha256_is_migrated_and_the_lost_receipt_is_recorded(tmp_path):
    paths = new_paths(tmp_path)
    for relative in GENDER_RECEIPTS:
        drop(paths, relative, GENDER)
    paths.warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(paths.warehouse)) as con:  # as the warehouse was before receipts
        con.execute("create schema raw")
        con.execute("create schema landing")
        con.execute(
            """create table raw.archive_manifest (
            sha256 varchar primary key, original_name varchar not null, inbox_path varchar not null,
            archive_path varchar not null, account_handle varchar, file_kind varchar, export_date date,
            export_date_source varchar, size_bytes bigint, source_mtime timestamp, received_at timestamp)"""
        )
        con.execute(
            "insert into raw.archive_manifest values (?, 'FollowerGender.csv', ?, 'x', 'acct', 'follower_gender',"
            " '2026-01-05', 'inbox_folder_date', 1, '2026-01-05', '2026-01-05')",
            [hashlib.sha256(GENDER).hexdigest(), GENDER_RECEIPTS[0]],
        )
        con.execute("create table landing.inbox_files (inbox_path varchar primary key, size_bytes bigint not null,"
                    " mtime_ns bigint not null, sha256 varchar not null)")  # fmt: skip

    land(paths)

    assert query(paths, "select inbox_path from raw.archive_manifest order by 1") == [(r,) for r in GENDER_RECEIPTS]
    assert query(paths, "select export_date::varchar from raw.documents") == [("2026-01-06",)], (
        "the first receipt was landed before; the second, lost then, lands now"
    )


def test_a_replay_asks_for_a_full_refresh(tmp_path):
    """The refresh that removes withdrawn rows from the marts is pending once a replay ran (should the run after it
    die, the next one does it: test_dbt_selection); a refused replay asks for none (the test above)."""
    from orchestration.lib.studio.landing import replay_archive

    paths = new_paths(tmp_path)
    drop(paths, GENDER_RECEIPTS[0], GENDER)
    land(paths)
    with connect(paths.warehouse) as con:
        assert not full_refresh_requested(con)
        replay_archive(paths, con)
        assert full_refresh_requested(con)
