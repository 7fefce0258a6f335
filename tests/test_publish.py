"""Publishing marts for BI: versioned parquet files, a catalog DuckDB 1.x opens, reads during republishing."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
import venv
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.marts import publish
from orchestration.lib.marts.publish import (
    current_parquet,
    list_versions,
    publish_marts,
    remove_old_versions,
    versions_dir,
)


def _warehouse(path: Path, n: int) -> Path:
    """A working database whose mart `m` has 1000 + n rows, each carrying n."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema if not exists marts")
        con.execute(f"create or replace table marts.m as select range as a, {n} as n from range({1000 + n})")
        con.execute("create or replace table marts.titles as select 'v1' as video_id, 'First dance' as title")
    finally:
        con.close()
    return path


def test_versions_are_new_files_and_an_unchanged_mart_is_not_rewritten(tmp_path):
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 0), tmp_path / "marts"
    first = publish_marts(warehouse, marts, ["m", "titles"])
    assert first["m"]["changed"] and first["m"]["rows"] == 1000
    assert Path(first["m"]["path"]).name.startswith("v999999999-")
    catalog_inode = (marts / "analytics.duckdb").stat().st_ino

    again = publish_marts(warehouse, marts, ["m", "titles"])
    assert not again["m"]["changed"] and again["m"]["path"] == first["m"]["path"]
    assert len(list_versions(marts, "m")) == 1
    # same views: the catalog file is kept, so an open connection is never left on a replaced file
    assert (marts / "analytics.duckdb").stat().st_ino == catalog_inode

    _warehouse(warehouse, 5)
    third = publish_marts(warehouse, marts, ["m", "titles"])
    assert third["m"]["changed"] and third["m"]["rows"] == 1005
    assert Path(third["m"]["path"]).name.startswith("v999999998-")  # newest sorts first
    assert current_parquet(marts, "m") == Path(third["m"]["path"])
    assert [p.name[:10] for p in list_versions(marts, "m")] == ["v999999998", "v999999999"]
    # the stable name is the newest version (a hard link), for tools that read a file once
    assert os.path.samefile(marts / "m.parquet", third["m"]["path"])
    assert current_parquet(marts, "never_published") is None


def test_marts_published_two_at_a_time_are_those_published_one_by_one_and_a_failure_is_raised(tmp_path, monkeypatch):
    warehouse = _warehouse(tmp_path / "w.duckdb", 7)
    together = publish_marts(warehouse, tmp_path / "together", ["m", "titles"])
    monkeypatch.setattr(publish, "PUBLISH_THREADS", 1)
    alone = publish_marts(warehouse, tmp_path / "alone", ["m", "titles"])
    assert list(together) == list(alone) == ["m", "titles"] and [r["rows"] for r in together.values()] == [1007, 1]
    for model in ("m", "titles"):
        assert (
            current_parquet(tmp_path / "together", model).read_bytes()
            == current_parquet(tmp_path / "alone", model).read_bytes()
        )
    monkeypatch.setattr(publish, "PUBLISH_THREADS", 2)
    with pytest.raises(duckdb.CatalogException, match="no_such_mart"):  # a failed mart fails the publication
        publish_marts(warehouse, tmp_path / "failed", ["m", "no_such_mart", "titles"])


def test_no_mart_is_started_once_one_failed_and_none_of_the_run_is_switched_in(tmp_path, monkeypatch):
    started, beside, failed = [], threading.Event(), threading.Event()
    real = publish._written

    def written_noting(cursor, marts_dir, model):
        started.append(model)
        if model == "broken":  # fails while the other thread writes "beside", which ends after the failure
            beside.wait(5)
            failed.set()
            raise RuntimeError("broken mart")
        if model == "beside":
            beside.set()
            failed.wait(5)
            time.sleep(1)  # the failing thread has stopped the pool by then, even in a stalled process
        return real(cursor, marts_dir, "m")

    monkeypatch.setattr(publish, "_written", written_noting)
    marts = tmp_path / "marts"
    with pytest.raises(RuntimeError, match="broken mart"):
        publish_marts(_warehouse(tmp_path / "w.duckdb", 0), marts, ["broken", "beside", "a", "b", "c"])
    assert sorted(started) == ["beside", "broken"]  # as one by one: nothing after the failure was started
    # "beside" was written whole, yet neither switched in nor left behind
    assert sorted(p.name for p in marts.rglob("*")) == ["m", "versions"]


def test_every_mart_is_written_before_any_is_switched_in(tmp_path, monkeypatch):
    """A BI tool reading several marts while a run publishes sees the old set or the new one, but for the
    millisecond the switches take; before, each mart switched as soon as it was written, a second apart."""
    steps, write, switch = [], publish._written, publish._switched
    monkeypatch.setattr(publish, "_written", lambda c, d, model: steps.append(("write", model)) or write(c, d, model))
    monkeypatch.setattr(
        publish, "_switched", lambda d, model, w: steps.append(("switch", model)) or switch(d, model, w)
    )
    published = publish_marts(_warehouse(tmp_path / "w.duckdb", 0), tmp_path / "marts", ["m", "titles"])
    assert [kind for kind, _ in steps] == ["write", "write", "switch", "switch"]
    assert [(model, meta["changed"]) for model, meta in published.items()] == [("m", True), ("titles", True)]


def test_a_publication_stopped_while_switching_leaves_no_temporary_and_a_new_version_is_dated_when_switched(
    tmp_path, monkeypatch
):
    """Ctrl-C after the first of two marts was switched in: the other's written file goes; a killed run's
    temporaries go at the next publication. A version's time is when it was switched in, not when it was written
    (the version it replaced gets its full grace)."""
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 0), tmp_path / "marts"
    switch, write, moments = publish._switched, publish._written, {}

    def written_then_wait(cursor, marts_dir, model):
        files = write(cursor, marts_dir, model)
        time.sleep(1.1)  # a long write phase
        return files

    def switched_once(marts_dir, model, files):
        if model == "titles":
            raise KeyboardInterrupt
        moments[model] = time.time()
        return switch(marts_dir, model, files)

    with monkeypatch.context() as stopped:
        stopped.setattr(publish, "_written", written_then_wait)
        stopped.setattr(publish, "_switched", switched_once)
        with pytest.raises(KeyboardInterrupt):
            publish_marts(warehouse, marts, ["m", "titles"])
    assert sorted(p.relative_to(marts).as_posix() for p in marts.rglob("*.tmp")) == []
    (version,) = list_versions(marts, "m")
    assert version.stat().st_mtime >= moments["m"] - 0.01  # COPY ended > 1 s before the switch
    assert current_parquet(marts, "titles") is None

    stale = versions_dir(marts, "titles") / ".titles.99999.tmp"
    stale.write_bytes(b"a killed run's")
    publish_marts(warehouse, marts, ["m", "titles"])
    assert not stale.exists() and current_parquet(marts, "titles") is not None


def test_old_versions_go_after_the_grace_period_never_the_newest(tmp_path):
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 0), tmp_path / "marts"
    for n in range(3):
        _warehouse(warehouse, n)
        publish_marts(warehouse, marts, ["m"], grace=timedelta(minutes=15))
    newest, middle, oldest = list_versions(marts, "m")
    now = time.time()
    # middle replaced oldest 20 minutes ago; newest replaced middle 5 minutes ago
    os.utime(middle, (now - 20 * 60, now - 20 * 60))
    os.utime(newest, (now - 5 * 60, now - 5 * 60))
    assert remove_old_versions(marts, "m", grace=timedelta(minutes=15), now=now) == [oldest]
    assert list_versions(marts, "m") == [newest, middle]
    # 16 minutes after the last switch the middle one goes too; the newest stays, however old
    assert remove_old_versions(marts, "m", grace=timedelta(minutes=15), now=now + 11 * 60) == [middle]
    assert remove_old_versions(marts, "m", grace=timedelta(0), now=now + 10**6) == []
    assert list_versions(marts, "m") == [newest]


def test_a_reader_never_fails_while_publishing_and_sees_new_data_on_one_connection(tmp_path):
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 0), tmp_path / "marts"
    publish_marts(warehouse, marts, ["m"])
    reader = duckdb.connect(str(marts / "analytics.duckdb"), read_only=True)
    errors, seen, reads, stop = [], set(), [0], threading.Event()

    def read_in_a_loop():
        while not stop.is_set():
            try:
                rows, n, versions = reader.execute("select count(*), max(n), count(distinct n) from m").fetchone()
                assert versions == 1 and rows == 1000 + n, (rows, n, versions)  # one whole version, never a mix
                seen.add(n)
                reads[0] += 1
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                errors.append(repr(error))

    thread = threading.Thread(target=read_in_a_loop)
    thread.start()
    try:
        for n in range(1, 25):
            _warehouse(warehouse, n)
            publish_marts(warehouse, marts, ["m"], grace=timedelta(seconds=2))
            time.sleep(0.02)
        deadline = time.time() + 10
        while 24 not in seen and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
        reader.close()
    assert errors == []
    assert reads[0] > 24 and 24 in seen  # the same connection saw the last publication


def _old_duckdb_python(cache_dir: Path) -> Path:
    """A throwaway venv with a DuckDB 1.x wheel, kept in pytest's cache so CI installs it once: made by the uv the
    Makefile bootstrapped (.tools/, ~1 s), else by venv and pip (~6 s of CPU). Two tests use it, often at once on a
    fresh clone (two test workers): one makes it under a lock while the other waits, then finds it made (else each
    cleared the folder, perhaps while the other was installing into it)."""
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(cache_dir.parent / f"{cache_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or with the process
        return _made_old_duckdb_python(cache_dir)


def _made_old_duckdb_python(cache_dir: Path) -> Path:
    python = cache_dir / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import duckdb"], capture_output=True).returncode == 0:
        return python
    requirement = "duckdb>=1.0,<1.5"
    uv = min(Path(__file__).parents[1].glob(".tools/uv-*/bin/uv"), default=None)
    made = uv and subprocess.run([uv, "venv", "--quiet", "--clear", "--python", sys.executable, cache_dir],
                                 capture_output=True, timeout=120)  # fmt: skip
    if made and made.returncode == 0:
        install = [uv, "pip", "install", "--quiet", "--python", python, requirement]
    else:
        venv.create(cache_dir, with_pip=True, clear=True)
        install = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement]
    pip = subprocess.run(install, capture_output=True, text=True, timeout=600)
    if pip.returncode != 0:
        pytest.skip(f"no DuckDB 1.x wheel could be installed (no package registry?): {pip.stderr.strip()[-300:]}")
    return python


def _duckdb_1x(request, tmp_path) -> Path:
    # pytest's cache, unless its plugin is off (`-p no:cacheprovider`, e.g. a read-only checkout): then this test's own
    cache = getattr(request.config, "cache", None)
    return _old_duckdb_python(Path(cache.mkdir("duckdb-1x-venv")) if cache else tmp_path / "duckdb-1x-venv")


def test_the_catalog_opens_with_duckdb_1x(tmp_path, request):
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 3), tmp_path / "marts"
    publish_marts(warehouse, marts, ["m", "titles"])
    python = _duckdb_1x(request, tmp_path)
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(duckdb.__version__, con.execute('select count(*), max(n) from m').fetchone(), "
        "con.execute('select title from titles').fetchone()[0])"
    )
    out = subprocess.run(
        [python, "-c", script, str(marts / "analytics.duckdb")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    version, rest = out.stdout.split(" ", 1)
    assert version.startswith("1.")
    assert rest.strip() == "(1003, 3) First dance"


def test_a_mart_whose_columns_changed_gets_its_view_made_again_for_duckdb_1x(tmp_path, request):
    """DuckDB 1.x stores a view's column names and types when it is created and refuses the view once its query
    binds to others: the catalog was rewritten only when the views' SQL changed, so after a mart's columns changed
    1.x readers failed ("Contents of view were altered") on every run after."""
    warehouse, marts = _warehouse(tmp_path / "w.duckdb", 3), tmp_path / "marts"
    publish_marts(warehouse, marts, ["m", "titles"])
    catalog = marts / "analytics.duckdb"
    before = catalog.stat().st_ino
    con = duckdb.connect(str(warehouse))
    try:  # a BIGINT -> INTEGER, n renamed to batch, a column added
        con.execute(
            "create or replace table marts.m as select range::integer as a, 3 as batch, 'x' as note from range(4)"
        )
    finally:
        con.close()
    publish_marts(warehouse, marts, ["m", "titles"])  # default grace: the replaced version is still there
    assert len(list_versions(marts, "m")) == 2
    wanted = "[('a', 'INTEGER'), ('batch', 'INTEGER'), ('note', 'VARCHAR')] (4, 6, 3, 'x')"
    script = (
        "import duckdb, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(duckdb.__version__, [tuple(c[:2]) for c in con.execute('describe m').fetchall()], "
        "con.execute('select count(*), sum(a), max(batch), max(note) from m').fetchone())"
    )
    answers = []
    for python in (sys.executable, _duckdb_1x(request, tmp_path)):  # the venv's DuckDB, then a 1.x wheel's
        out = subprocess.run([python, "-c", script, str(catalog)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        answers.append(out.stdout.strip().split(" ", 1))
    assert answers[1][0].startswith("1.") and [answer for _, answer in answers] == [wanted, wanted]
    after = catalog.stat().st_ino
    assert after != before  # made again, though its views' SQL is the same
    publish_marts(warehouse, marts, ["m", "titles"])  # unchanged again: the catalog file is kept
    assert catalog.stat().st_ino == after


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
