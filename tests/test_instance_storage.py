"""The Dagster home's event log: the pooled SQLite storage (defs/instance_storage.py), as dagster_home.py
configures it, stores and reads back a run like Dagster's own, with one engine per database."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from orchestration.defs.instance_storage import MAX_OPEN_DATABASES, PooledSqliteEventLogStorage
from orchestration.lib.core.dagster_home import EVENT_LOG_MODULE, ensure_dagster_home

CHECKS = 30


@dg.multi_asset(
    specs=[dg.AssetSpec("left"), dg.AssetSpec("right", deps=["left"])],
    check_specs=[dg.AssetCheckSpec(f"check_{n}", asset="left" if n % 2 else "right") for n in range(CHECKS)],
)
def two_assets():
    yield dg.MaterializeResult(asset_key="left", metadata={"rows": 1})
    yield dg.MaterializeResult(asset_key="right", metadata={"rows": 2})
    for n in range(CHECKS):
        yield dg.AssetCheckResult(asset_key="left" if n % 2 else "right", check_name=f"check_{n}", passed=n != 7)


JOB = dg.Definitions(assets=[two_assets], jobs=[dg.define_asset_job("job", dg.AssetSelection.all())])
SEEN_AT_STEP_START: list[dict] = []  # what the planned events had stored when the step began (`planned_probe`)


@dg.multi_asset(
    specs=[dg.AssetSpec("left"), dg.AssetSpec("right", deps=["left"])],
    check_specs=[dg.AssetCheckSpec(f"check_{n}", asset="left" if n % 2 else "right") for n in range(CHECKS)],
)
def planned_probe(context):
    SEEN_AT_STEP_START.append(_planned_rows(context.instance, context.run.run_id))
    yield from two_assets()


PROBE_JOB = dg.Definitions(assets=[planned_probe], jobs=[dg.define_asset_job("job", dg.AssetSelection.all())])


def test_a_run_is_stored_and_read_back_through_pooled_connections(tmp_path):
    home = tmp_path / "home"
    ensure_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, PooledSqliteEventLogStorage)
        result = JOB.resolve_job_def("job").execute_in_process(instance=instance)
        assert result.success
        # the same files as Dagster's default storage: the run's own database and the cross-run index
        assert (home / "history" / "runs" / f"{result.run_id}.db").is_file()
        assert (home / "history" / "runs" / "index.db").is_file()
        assert set(storage._engines) == {result.run_id, "index"}
        engine = storage._engines["index"]

        records = instance.all_logs(result.run_id)
        evaluations = [
            r for r in records if r.dagster_event and r.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
        ]
        assert len(evaluations) == CHECKS
        latest = instance.get_latest_materialization_event(dg.AssetKey("right"))
        assert latest.asset_materialization.metadata["rows"] == dg.MetadataValue.int(2)
        failed = [e for e in evaluations if not e.dagster_event.event_specific_data.passed]
        assert [e.dagster_event.event_specific_data.check_name for e in failed] == ["check_7"]

        # a second run reuses the index's engine; only a few databases stay open
        second = JOB.resolve_job_def("job").execute_in_process(instance=instance)
        assert storage._engines["index"] is engine
        assert len(storage._engines) <= MAX_OPEN_DATABASES
        assert len(instance.get_runs()) == 2 and second.run_id in {r.run_id for r in instance.get_runs()}

        storage.wipe()  # deletes the run databases: no pooled connection may keep them
        assert storage._engines == {} or set(storage._engines) == {"index"}
        assert not (home / "history" / "runs" / f"{result.run_id}.db").exists()


def test_what_exists_is_asked_once_and_what_does_not_is_asked_again(tmp_path, monkeypatch):
    """Tables, asset_keys columns and completed data migrations are remembered once they exist; a wipe forgets."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    asked = []
    real_column = SqlEventLogStorage._has_asset_key_col_on_connection
    real_index = SqlEventLogStorage.has_secondary_index
    monkeypatch.setattr(SqlEventLogStorage, "_has_asset_key_col_on_connection",
                        lambda self, conn, name: asked.append(name) or real_column(self, conn, name))  # fmt: skip
    monkeypatch.setattr(SqlEventLogStorage, "has_secondary_index",
                        lambda self, name: asked.append(name) or real_index(self, name))  # fmt: skip
    home = tmp_path / "home"
    ensure_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        assert JOB.resolve_job_def("job").execute_in_process(instance=instance).success
        assert storage.has_asset_key_col("last_materialization_timestamp") and storage.has_table("asset_keys")
        asked.clear()
        for _ in range(3):
            assert storage.has_asset_key_col("last_materialization_timestamp")
            assert not storage.has_asset_key_col("no_such_column")
            assert not storage.has_secondary_index("no_such_migration")
        assert asked == ["no_such_column", "no_such_migration"] * 3
        storage.enable_secondary_index("a_migration")
        assert storage.has_secondary_index("a_migration") and storage.has_secondary_index("a_migration")
        assert asked.count("a_migration") == 1
        assert not storage.has_table("no_such_table") and storage.has_table("asset_keys")
        storage.wipe()
        asked.clear()
        assert storage.has_asset_key_col("last_materialization_timestamp")
        assert asked == ["last_materialization_timestamp"], "a wipe forgets"


def test_the_home_names_the_pooled_event_log_unless_it_chose_a_storage(tmp_path):
    home = tmp_path / "home"
    config = yaml.safe_load(ensure_dagster_home(home).read_text())
    assert config["event_log_storage"] == {
        "module": EVENT_LOG_MODULE,
        "class": "PooledSqliteEventLogStorage",
        "config": {"base_dir": str(home.resolve() / "history" / "runs")},
    }

    # the data directory moved: the absolute base_dir follows it
    moved = tmp_path / "moved"
    home.rename(moved)
    config = yaml.safe_load(ensure_dagster_home(moved).read_text())
    assert config["event_log_storage"]["config"]["base_dir"] == str(moved.resolve() / "history" / "runs")

    # a user's own storage is left alone, and ours is not added beside it
    postgres = tmp_path / "postgres"
    postgres.mkdir()
    (postgres / "dagster.yaml").write_text("storage:\n  postgres:\n    postgres_url: postgresql://x\n")
    assert "event_log_storage" not in yaml.safe_load(ensure_dagster_home(postgres).read_text())
    custom = tmp_path / "custom"
    custom.mkdir()
    mine = {"module": "my.module", "class": "MyStorage", "config": {"base_dir": "/x"}}
    (custom / "dagster.yaml").write_text(yaml.safe_dump({"event_log_storage": mine}))
    assert yaml.safe_load(ensure_dagster_home(custom).read_text())["event_log_storage"] == mine


def _planned_rows(instance, run_id: str) -> dict:
    """The index rows a run's planned events write: each asset's last run, each check's execution."""
    from sqlalchemy import text

    with instance.event_log_storage.index_connection() as conn:
        assets = conn.execute(text("select asset_key, last_run_id = :r from asset_keys order by 1"), {"r": run_id})
        checks = conn.execute(
            text(
                "select asset_key, check_name, partition, execution_status, evaluation_event is not null,"
                " evaluation_event_storage_id in (select id from event_logs where run_id = :r"
                " and dagster_event_type = 'ASSET_CHECK_EVALUATION_PLANNED')"
                " from asset_check_executions where run_id = :r order by asset_key, check_name"
            ),
            {"r": run_id},
        )
        return {"assets": assets.fetchall(), "checks": checks.fetchall()}


def _stored(instance, run_id: str) -> dict:
    """What a run left in the event log, without ids and times: its events in order, and in the index its events
    by type, each asset's last and planned run, each check's execution."""
    from sqlalchemy import text

    events = [
        (r.dagster_event.event_type_value, r.dagster_event.asset_key, r.step_key)
        for r in instance.all_logs(run_id)
        if r.dagster_event is not None
    ]
    storage = instance.event_log_storage
    with storage.index_connection() as conn:
        index = conn.execute(
            text("select dagster_event_type, count(*) from event_logs where run_id = :r group by 1 order by 1"),
            {"r": run_id},
        ).fetchall()
    planned_in_this_run = {
        key.to_user_string(): storage.get_latest_planned_materialization_info(key).run_id == run_id
        for key in (dg.AssetKey("left"), dg.AssetKey("right"))
    }
    return {"events": events, "index": index, **_planned_rows(instance, run_id), "planned": planned_in_this_run}


def _dagsters_store_event_recorded(monkeypatch):
    """The type of each event Dagster's own `store_event` stores from now on (a list), and that method."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    stored, real_store = [], SqliteEventLogStorage.store_event

    def store_event(self, event):
        stored.append(event.dagster_event_type)
        real_store(self, event)

    monkeypatch.setattr(SqliteEventLogStorage, "store_event", store_event)
    return stored, real_store


def test_planned_events_stored_as_one_batch_are_stored_as_one_by_one(tmp_path, monkeypatch):
    """With DAGSTER_EVENT_BATCH_SIZE set, Dagster hands a run's planned events over at once: stored as one batch,
    they leave the rows Dagster's one-by-one path leaves, and each check's planned execution is the row its
    evaluation then completes."""
    stored_one_by_one, _ = _dagsters_store_event_recorded(monkeypatch)
    results = {}
    for batch in ("0", "1000"):
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch)
        stored_one_by_one.clear()
        home = tmp_path / f"home{batch}"
        ensure_dagster_home(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            run = PROBE_JOB.resolve_job_def("job").execute_in_process(instance=instance)
            assert run.success
            results[batch] = {**_stored(instance, run.run_id), "at step start": SEEN_AT_STEP_START.pop()}
            planned = [t for t in stored_one_by_one if t.value.endswith("_PLANNED")]
            assert len(planned) == (0 if batch == "1000" else 2 + CHECKS)
    one_by_one, batched = results["0"], results["1000"]
    assert batched == one_by_one
    assert ("ASSET_CHECK_EVALUATION_PLANNED", CHECKS) in batched["index"]
    assert ("ASSET_MATERIALIZATION_PLANNED", 2) in batched["index"]
    statuses = sorted(row[3] for row in batched["checks"])
    assert statuses == ["FAILED"] + ["SUCCEEDED"] * (CHECKS - 1)  # check_7 failed; none left PLANNED
    assert batched["planned"] == {"left": True, "right": True}
    at_start = batched["at step start"]
    assert at_start["assets"] == [('["left"]', 1), ('["right"]', 1)]
    assert len(at_start["checks"]) == CHECKS and {row[3:] for row in at_start["checks"]} == {("PLANNED", 1, 1)}
    assert len(batched["events"]) > 2 * CHECKS


DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-10")


@dg.asset(partitions_def=DAYS, check_specs=[dg.AssetCheckSpec("day_check", asset="by_day")])
def by_day():
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(check_name="day_check", passed=True)


PARTITIONED = dg.Definitions(assets=[by_day], jobs=[dg.define_asset_job("days", [by_day])])


def _planned_batches(tmp_path, monkeypatch) -> list[list]:
    """The planned events Dagster hands over as batches: a run of the unpartitioned job twice (the assets' rows
    exist the second time), and one of a partition of a partitioned asset with a check."""
    batches = []
    real_batch = PooledSqliteEventLogStorage.store_event_batch

    def recorded(self, events):
        batches.append(list(events))
        real_batch(self, events)

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    monkeypatch.setattr(PooledSqliteEventLogStorage, "store_event_batch", recorded)
    home = tmp_path / "captured"
    ensure_dagster_home(home)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for _ in range(2):
            assert JOB.resolve_job_def("job").execute_in_process(instance=instance).success
        days = PARTITIONED.resolve_job_def("days")
        assert days.execute_in_process(instance=instance, partition_key="2024-01-03").success
    monkeypatch.setattr(PooledSqliteEventLogStorage, "store_event_batch", real_batch)
    return batches


def _databases(home) -> dict:
    """Every row of every table the events write in the home's event log databases (the runs' by position), creation
    times left out: the database sets them when the row is written."""
    import sqlite3

    tables = {}
    for path in sorted((home / "history" / "runs").glob("*.db")):
        name = "index" if path.stem == "index" else "a run"
        with sqlite3.connect(path) as db:
            for (table,) in db.execute(
                "select name from sqlite_master where type = 'table'"
                " and name not in ('alembic_version', 'secondary_indexes')"  # the schema's, with their own times
            ):
                columns = [
                    f'"{c[1]}"' for c in db.execute(f'pragma table_info("{table}")') if c[1] != "create_timestamp"
                ]
                rows = db.execute(f'select {", ".join(columns)} from "{table}" order by rowid').fetchall()
                tables.setdefault((name, table), []).append(rows)
    return tables


def test_a_batch_of_planned_events_leaves_every_row_one_by_one_leaves(tmp_path, monkeypatch):
    """The same planned events stored both ways, in two new homes: every table of every database holds the same rows
    (ids, serialized events, asset rows, tags, each check's planned execution, partitions)."""
    batches = _planned_batches(tmp_path, monkeypatch)
    # two runs of 2 assets + 30 checks, one run of an asset's partition and its check
    assert [len(batch) for batch in batches] == [2 + CHECKS, 2 + CHECKS, 2]
    homes = {}
    for way in ("one by one", "batched"):
        homes[way] = home = tmp_path / way.replace(" ", "-")
        ensure_dagster_home(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            storage = instance.event_log_storage
            for batch in batches:
                if way == "batched":
                    storage.store_event_batch(batch)
                else:
                    for event in batch:
                        storage.store_event(event)
    one_by_one, batched = _databases(homes["one by one"]), _databases(homes["batched"])
    assert batched == one_by_one
    executions = batched[("index", "asset_check_executions")][0]
    assert len(executions) == 2 * CHECKS + 1 and {row[5] for row in executions} == {"PLANNED"}
    assert {row[3] for row in executions} == {None, "2024-01-03"}  # (partition) the partitioned asset's check
    assert len(batched[("a run", "event_logs")]) == 3  # three runs, each its own database


def test_a_batch_whose_index_write_fails_leaves_nothing_for_dagster_to_store_twice(tmp_path, monkeypatch):
    """Dagster stores a batch again event by event when it raises: the run's rows are taken back first."""
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

    [batch, *_] = _planned_batches(tmp_path, monkeypatch)
    home = tmp_path / "failing"
    ensure_dagster_home(home)

    def broken(self, conn, event, event_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(SqlEventLogStorage, "_store_asset_event", broken)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storage = instance.event_log_storage
        with pytest.raises(RuntimeError, match="disk full"):
            storage.store_event_batch(batch)
        monkeypatch.undo()
        for event in batch:  # what Dagster's fallback does
            storage.store_event(event)
    reference = tmp_path / "reference"
    ensure_dagster_home(reference)
    with dg.DagsterInstance.from_config(str(reference)) as instance:
        for event in batch:
            instance.event_log_storage.store_event(event)
    assert _databases(home) == _databases(reference)
    assert len(_databases(home)[("a run", "event_logs")][0]) == 2 + CHECKS


def test_outputs_and_check_results_leave_the_rows_dagsters_own_store_event_leaves(tmp_path, monkeypatch):
    """Every event of three runs (30 checks, check_7 failing; a partition's check), stored one by one by Dagster's
    own `store_event` and by ours, which writes step outputs and check results itself: every table of every
    database holds the same rows. Also the cases a plain run has not: the first run's odd checks have no planned
    event (a step launcher's case: the result inserts the execution row); the second run's check_0 is planned
    twice (Dagster's error, raised once the rows are written); the day's check is planned on two partitions and
    its result, at a whole second, completes its own partition's row only."""
    from dagster._core.errors import DagsterInvariantViolationError
    from dagster._core.events import DagsterEventType

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    captured = tmp_path / "captured"
    ensure_dagster_home(captured)
    with dg.DagsterInstance.from_config(str(captured)) as instance:
        runs = [JOB.resolve_job_def("job").execute_in_process(instance=instance) for _ in range(2)]
        days = PARTITIONED.resolve_job_def("days")
        runs.append(days.execute_in_process(instance=instance, partition_key="2024-01-03"))
        events = [event for run in runs for event in instance.all_logs(run.run_id)]
    by_dagster, real_store = _dagsters_store_event_recorded(monkeypatch)
    homes, raised = {}, {}
    for way, store in (("dagster", real_store), ("ours", PooledSqliteEventLogStorage.store_event)):
        homes[way] = home = tmp_path / way
        ensure_dagster_home(home)
        raised[way] = []
        with dg.DagsterInstance.from_config(str(home)) as instance:
            for event in _unusual_check_events(events, [run.run_id for run in runs]):
                try:
                    store(instance.event_log_storage, event)
                except DagsterInvariantViolationError as error:
                    raised[way].append(str(error))
    stored_here = {DagsterEventType.STEP_OUTPUT, DagsterEventType.ASSET_CHECK_EVALUATION}
    assert by_dagster and not stored_here & set(by_dagster), "ours stores outputs and results itself"
    ours, dagsters = _databases(homes["ours"]), _databases(homes["dagster"])
    assert ours == dagsters
    assert raised["ours"] == raised["dagster"] and len(raised["ours"]) == 1 and "Updated 2 rows" in raised["ours"][0]
    # (id, asset_key, check_name, partition, run_id, status, ...): 30 checks a run, check_0 twice, two days
    executions = ours[("index", "asset_check_executions")][0]
    assert len(executions) == 2 * CHECKS + 1 + 2
    assert [row[5] for row in executions].count("FAILED") == 2  # check_7 in each run
    assert [(row[3], row[5]) for row in executions if row[2] == "day_check"] == [
        ("2024-01-03", "SUCCEEDED"),
        ("2024-01-04", "PLANNED"),
    ]
    assert {row[5] for row in executions if row[2] != "day_check"} == {"SUCCEEDED", "FAILED"}
    assert len(ours[("a run", "event_logs")]) == 3


def _unusual_check_events(events: list, run_ids: list[str]):
    """`events` of the three runs, with the unusual cases of the test above."""
    from dagster._core.events import DagsterEventType
    from dagster_shared.record import copy  # (the event and DagsterEvent are named tuples, their data records)

    for event in events:
        data = event.dagster_event.event_specific_data if event.dagster_event else None
        check = getattr(data, "check_name", None)
        planned = event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
        result = event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION
        if planned and event.run_id == run_ids[0] and int(check.split("_")[1]) % 2 == 1:
            continue  # no planned event
        if planned and event.run_id == run_ids[1] and check == "check_0":
            yield event  # planned twice
        if event.run_id == run_ids[2] and (planned or result):
            if planned:
                data = copy(data, partitions_subset=data.partitions_subset.with_partition_keys(["2024-01-04"]))
            else:
                data = copy(data, partition="2024-01-03")
                event = event._replace(timestamp=float(int(event.timestamp)))  # its text still has microseconds
            event = event._replace(dagster_event=event.dagster_event._replace(event_specific_data=data))
        yield event
