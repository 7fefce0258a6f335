"""A large drop is read and validated by worker processes (lib/studio/checking.py): what lands is what checking
it in this process lands, file for file and row for row, a file that cannot be read quarantined alone."""

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import pandas as pd
import pytest

from orchestration.lib.core import warehouse
from orchestration.lib.core.workers import worker_pool
from orchestration.lib.studio import checking, landing
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv, studio_zip
from tests.test_hostile_files import WHEN

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
HISTORY = ("Date", "Followers", "Difference in followers from previous day")


def _drop_agency(paths) -> None:
    for n in range(12):
        # a net-negative day (TikTok's own numbers) lands with a plausibility flag, in every chunk
        rows = [[f"April {d}", str(n * 10 + d), "1", "2", "-1" if d == 3 else "0", "0"] for d in range(1, 6)]
        drop(paths, f"acct{n:02d}/Overview.csv", studio_csv(OVERVIEW, rows), WHEN)
        history = studio_csv(HISTORY, [["April 21", str(100 + n), "2"], ["April 22", str(103 + n), "3"]])
        drop(paths, f"acct{n:02d}/Followers_acct{n:02d}.zip", studio_zip({"FollowerHistory.csv": history}, WHEN), WHEN)
    drop(paths, "broken/Overview.zip", b"PK\x03\x04 not a zip at all", WHEN)
    drop(paths, "dates/Overview.csv", studio_csv(OVERVIEW, [["Smarch 9", "1", "0", "0", "0", "0"]]), WHEN)


def _landed(paths, report) -> tuple:
    documents = report.documents[["original_name", "member_name", "account_handle", "status", "row_count"]]
    return (
        sorted((i.file, i.rule, i.row, i.message) for i in report.issues),
        sorted(documents.itertuples(index=False, name=None)),
        query(paths, "select * from raw.studio_overview order by rowid"),  # row for row, in order
        query(paths, "select * from raw.studio_follower_history order by rowid"),
        query(paths, "select * exclude (landed_at) from raw.row_flags order by all"),
    )


@pytest.mark.parametrize(
    ("workers", "batch_files"),
    [(2, 10_000), (1, 10_000), (2, 5)],  # 5: the drop flows, batches checked while the next files are hashed
)
def test_workers_land_what_this_process_lands(tmp_path, monkeypatch, workers, batch_files):
    here, there = new_paths(tmp_path / "here"), new_paths(tmp_path / "there")
    _drop_agency(here)
    _drop_agency(there)
    expected = _landed(here, land(here))  # 26 files: below WORKERS_FROM_FILES, checked in this process
    flags_in_order = "select document_id, source_row, rule from raw.row_flags order by rowid"
    expected_order = query(here, flags_in_order)
    monkeypatch.setattr(checking, "WORKERS_FROM_FILES", 1)
    monkeypatch.setattr(checking, "CHUNK_FILES", 4)  # 7 chunks, the last one short
    monkeypatch.setattr(checking, "WORKERS", workers)
    monkeypatch.setattr(landing, "BATCH_FILES", batch_files)
    monkeypatch.setattr(landing, "AHEAD_BATCHES", 1)
    pools = []

    def counted_pool(workers, **options):
        pools.append((workers, options))
        return worker_pool(workers, **options)

    monkeypatch.setattr(checking, "worker_pool", counted_pool)
    submitted, submit = [], checking.BatchChecker.submit

    def counted_submit(checker, received):
        submitted.append(len(received))
        return submit(checker, received)

    monkeypatch.setattr(checking.BatchChecker, "submit", counted_submit)
    report = land(there)
    assert submitted == ([26] if batch_files > 26 else [5, 5, 5, 5, 5, 1])
    # one pool for the landing, at a lower priority than this process; one core: no pool at all
    assert pools == ([(2, {"niceness": checking.WORKER_NICENESS})] if workers == 2 else [])
    landed = _landed(there, report)
    assert landed == expected
    if batch_files > 26:  # one batch, checked in 7 tasks: its flags land in the order one task gives them
        assert query(there, flags_in_order) == expected_order
    issues, documents, overview, history, flags = landed
    assert len(overview) == 12 * 5 and len(history) == 12 * 2 and len(flags) == 12
    # the broken ZIP is refused as a whole; the bad date is named at its row, once (the contract's not_nullable on
    # the date it could not read would only repeat it): the same issues as when checked here (the equality above),
    # none lost to a worker
    assert [(file, rule, row) for file, rule, row, _ in issues] == [
        ("Overview.csv", "studio_date", 1), ("Overview.zip", "safe_zip", None)
    ]  # fmt: skip
    assert ("read + validate (2 workers, waited for)" in report.seconds) == (workers == 2)


class _DyingPool:
    """A pool whose workers die (memory, a signal) after `tasks_taken` tasks: those end in BrokenProcessPool, and
    then, as with ProcessPoolExecutor once it knows, `submit` itself raises it."""

    def __init__(self, tasks_taken: int):
        self.tasks_taken, self.tasks = tasks_taken, 0

    def submit(self, fn, *args):
        if self.tasks >= self.tasks_taken:
            raise BrokenProcessPool("a child process terminated abruptly")
        self.tasks += 1
        future = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future

    def shutdown(self, **options):
        pass


@pytest.mark.parametrize("tasks_taken", [0, 3, 6])  # dies starting, in a batch handed over, with batches in flight
def test_batches_in_flight_when_the_workers_die_are_checked_here_and_land_the_same(
    tmp_path, monkeypatch, caplog, tasks_taken
):
    here, there = new_paths(tmp_path / "here"), new_paths(tmp_path / "there")
    _drop_agency(here)
    _drop_agency(there)
    expected = _landed(here, land(here))
    monkeypatch.setattr(checking, "WORKERS_FROM_FILES", 1)
    monkeypatch.setattr(checking, "WORKERS", 2)
    monkeypatch.setattr(checking, "CHUNK_FILES", 4)  # two tasks per batch of 5
    monkeypatch.setattr(landing, "BATCH_FILES", 5)  # 6 batches, up to 2 handed to the pool ahead of the load
    pools = []

    def dying_pool(workers, **options):
        pools.append(_DyingPool(tasks_taken))
        return pools[-1]

    monkeypatch.setattr(checking, "worker_pool", dying_pool)
    report = land(there)
    assert _landed(there, report) == expected
    assert len(pools) == 1 and pools[0].tasks == tasks_taken
    assert [r.message for r in caplog.records if "worker stopped" in r.message] == [
        "a landing worker stopped unexpectedly; checking the files in this process"
    ]
    assert not any("workers" in step for step in report.seconds)  # every batch was checked here in the end


def _as_from_worker(ids: list[str], rows: list[int]) -> pd.DataFrame:
    codes, uniques = pd.factorize(pd.Series(ids, dtype="str"))
    return pd.DataFrame(
        {"document_id": pd.Categorical.from_codes(codes, categories=uniques), "source_row": pd.array(rows, "int64")}
    )


def test_chunks_stack_with_their_document_ids_and_take_each_rows_lineage():
    # three workers' chunks of one kind, the middle one empty (all its documents quarantined)
    chunks = [_as_from_worker(["b", "b", "a"], [1, 2, 1]), _as_from_worker([], []), _as_from_worker(["c"], [1])]
    stacked = checking._stack(chunks)
    assert list(stacked.columns) == ["document_id", "source_row"]
    assert isinstance(stacked["document_id"].dtype, pd.CategoricalDtype)  # never 4.5 M Python strings
    assert list(zip(stacked["document_id"], stacked["source_row"], strict=True)) == [
        ("b", 1),
        ("b", 2),
        ("a", 1),
        ("c", 1),
    ]
    documents = pd.DataFrame(
        {
            "document_id": pd.Series(["a", "c", "b"], dtype="str"),
            "account_handle": pd.Series(["ana", None, "bo"], dtype="str"),
            "export_date": pd.to_datetime(["2026-01-01", "2026-01-03", "2026-01-02"]).astype("datetime64[s]"),
        }
    )
    lineage = warehouse._with_lineage(stacked, documents, ("account_handle", "export_date"))
    assert [None if pd.isna(h) else h for h in lineage["account_handle"]] == ["bo", "bo", "ana", None]
    assert [str(d.date()) for d in lineage["export_date"]] == ["2026-01-02", "2026-01-02", "2026-01-01", "2026-01-03"]
    # the same rows as text (checked in this process) take the same lineage
    as_text = stacked.assign(document_id=stacked["document_id"].astype("str"))
    by_text = warehouse._with_lineage(as_text, documents, ("account_handle", "export_date"))
    assert by_text["account_handle"].tolist() == lineage["account_handle"].astype(object).tolist()
    with pytest.raises(ValueError, match="document 'c' came without their document"):  # never dropped silently
        warehouse._with_lineage(stacked, documents[documents["document_id"] != "c"], ("export_date",))
    # a row without a document id is refused on both paths, never given some document's lineage
    no_id = pd.concat([stacked, _as_from_worker([None], [2])], ignore_index=True)
    for rows in (checking._stack([stacked, _as_from_worker([None], [2])]), no_id.astype({"document_id": "str"})):
        with pytest.raises(ValueError, match="document None came without their document"):
            warehouse._with_lineage(rows, documents, ("export_date",))
