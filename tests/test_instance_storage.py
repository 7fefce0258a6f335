"""The Dagster home's event log: the pooled SQLite storage (defs/instance_storage.py), as dagster_home.py
configures it, stores and reads back a run like Dagster's own, with one engine per database."""

from __future__ import annotations

import dagster as dg
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
