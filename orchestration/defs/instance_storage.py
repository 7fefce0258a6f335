"""Dagster's SQLite event log, with one open connection per database instead of one per event.

Every event of a run (a dbt test result is three: planned, evaluated, its output) is a row in SQLite. Dagster's
`SqliteEventLogStorage` creates an engine, opens the database, commits, closes it and disposes the engine for
each of them; closing the last connection of a WAL database checkpoints it, and each commit waits for an
fsync. With ~1,800 events in a full build that was most of the dbt step's time beyond dbt itself. This
subclass keeps a small pool of connections per database (the run's and the cross-run index), and commits with
`synchronous=NORMAL`, which in WAL mode syncs at checkpoints only: a crash of the process loses nothing, a
power cut may lose the last events but never corrupts the database. It also remembers what the database has
(a table, a column of asset_keys, a completed data migration), which Dagster asks before most writes and reads:
~300 column listings in a whole build (a full-refresh run on the end-to-end test's drop: 5.22 -> 4.55 s, mean
of 6 runs). Same files, same schema: a Dagster home can switch to it and back.
`lib/core/dagster_home.py` configures it in `dagster.yaml`.

A run starts with one "planned" event per asset and per asset check (~580 for the daily job), which Dagster hands
over as one batch when `DAGSTER_EVENT_BATCH_SIZE` is set (`dagster_home.PLANNED_EVENTS_BATCH`, set by
`cli.run_pipeline` and the Makefile). Dagster's SQLite storage still stored them one by one, three transactions
each; `store_event_batch` writes the rows `store_event` writes in one transaction per database, in 0.43-0.47 s
instead of 1.02-1.13 s (the demo's rerun, alternating the two).

Then, two of every three events of a dbt build are a step's output (a row in the run's database) and a check's
result (a row in each database, and its planned execution completed). `store_event` writes those rows itself, the
values `_event_to_row` gives in one prepared SQL statement each, the result's index rows in one transaction;
Dagster builds an SQLAlchemy statement for each (most of its cost) and serializes a result twice. The demo's dbt
step's 1,010 events stored again: 0.78-0.97 s instead of 1.45-1.56 s (alternating, four each). Every other
event is stored by Dagster's own code.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import DagsterEventType
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

_CHECKS = frozenset({DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED})
_PLANNED = frozenset({DagsterEventType.ASSET_MATERIALIZATION_PLANNED, *_CHECKS})

_CHECK_RESULT = frozenset({DagsterEventType.ASSET_CHECK_EVALUATION})
_WRITTEN_HERE = frozenset({DagsterEventType.STEP_OUTPUT, *_CHECK_RESULT})  # by `store_event` (else Dagster's)
_EVENT_COLUMNS = ("run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition")
_INSERT_EVENT = f"insert into event_logs ({', '.join(_EVENT_COLUMNS)}) values ({', '.join('?' * 7)})"
_EXECUTION_COLUMNS = ("execution_status", "evaluation_event", "evaluation_event_timestamp",
                      "evaluation_event_storage_id", "materialization_event_storage_id", "partition")  # fmt: skip
_UPDATE_EXECUTION = (
    f"update asset_check_executions set {', '.join(c + ' = ?' for c in _EXECUTION_COLUMNS)}"
    " where asset_key = ? and check_name = ? and run_id = ? and partition"
)
_INSERT_EXECUTION = (
    f"insert into asset_check_executions (asset_key, check_name, run_id, {', '.join(_EXECUTION_COLUMNS)})"
    f" values ({', '.join('?' * 9)})"
)
_SUCCEEDED, _FAILED = AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED

# Open databases kept per process: a run writes to two (its own and the index); the web server reads many.
MAX_OPEN_DATABASES = 4


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses its connections (see the module docstring)."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        # ("table", name) of the index database, ("column", name) of its asset_keys, ("index", name) of a completed
        # data migration: each known to exist (`_remembered`)
        self._known: set[tuple[str, str]] = set()
        self._engines_lock = threading.RLock()
        self._datetime_bind = None  # SQLAlchemy's bind processor of a DATETIME column, once an engine exists
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls(inst_data=inst_data, **config_value)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:  # as the parent: one statement sequence at a time per process
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            return self._cached_engine(shard)

    def _cached_engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is not None:
            self._engines.move_to_end(shard)
            return engine
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=4,  # schema set-up opens a second connection while the first is held
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _sync_at_checkpoints)
        self._engines[shard] = engine
        while len(self._engines) > MAX_OPEN_DATABASES:
            self._engines.popitem(last=False)[1].dispose()
        return engine

    def store_event_batch(self, events) -> None:
        """A run's planned events as `store_event` stores each (the event in the run's database; in the index, the
        event, then the asset's row or the check's planned execution), in one transaction per database: the run's
        events in one statement, the checks' executions in one, the rest event by event (an index event for its id).
        Any other batch: one event at a time, as Dagster does. Should the index's part fail, the run's rows are
        taken back before the error reaches Dagster, which then stores the batch event by event: no event is
        stored twice (Dagster's own loop would repeat those stored before the failure)."""
        planned = bool(events) and all(event.dagster_event_type in _PLANNED for event in events)
        checks = any(event.dagster_event_type in _CHECKS for event in events)
        if not planned or len({event.run_id for event in events}) > 1 or (checks and not self.supports_asset_checks):
            super().store_event_batch(events)  # (an index without asset checks: Dagster's own error, per event)
            return
        table = SqlEventLogStorageTable
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            run_ids = conn.execute(table.insert().returning(table.c.id), rows).scalars().all()
        try:
            with self.index_connection() as conn:
                inserted = table.insert().returning(table.c.id, sort_by_parameter_order=True)
                stored = list(zip(events, rows, conn.execute(inserted, rows).scalars().all(), strict=True))
                # (no asset_event_tags: Dagster indexes the tags of materializations and observations only)
                for event, _, event_id in stored:
                    if event.dagster_event_type not in _CHECKS:
                        self._store_asset_event(conn, event, event_id)
                executions = [
                    execution
                    for event, row, event_id in stored
                    if event.dagster_event_type in _CHECKS
                    for execution in _planned_check_executions(
                        event, row, event_id, self._event_insert_timestamp(event)
                    )
                ]
                if executions:
                    conn.execute(AssetCheckExecutionsTable.insert(), executions)
        except Exception:
            with self.run_connection(events[0].run_id) as conn:
                conn.execute(table.delete().where(table.c.id.in_(run_ids)))
            raise

    def store_event(self, event) -> None:
        """A step's output and a check's result (two of every three events of a dbt build) written as Dagster
        writes them, with the rows `_event_to_row` gives in one SQL statement each, not through SQLAlchemy's
        statement building (~2/3 of their cost); a result's index rows in one transaction. Any other event, a
        result without a run, an index without asset checks: Dagster's own."""
        kind = event.dagster_event_type
        if kind not in _WRITTEN_HERE or not event.run_id or (kind in _CHECK_RESULT and not self.supports_asset_checks):
            super().store_event(event)
            return
        row = self._event_to_row(event)
        row["timestamp"] = self._datetime_value(row["timestamp"])
        values = tuple(row[column] for column in _EVENT_COLUMNS)
        # On the pooled connection's sqlite3 connection: its default isolation level opens a transaction at the first
        # write, which `_connect`'s commit (or rollback) ends, as for SQLAlchemy's own statements.
        with self.run_connection(event.run_id) as conn:
            conn.connection.driver_connection.execute(_INSERT_EVENT, values)
        if kind in _CHECK_RESULT:
            self._store_check_result(event, row, values)

    def _store_check_result(self, event, row: dict, values: tuple) -> None:
        """The result in the index, and its check's execution row completed, as `_update_asset_check_evaluation`
        does (inserted when no planned row exists; more than one is Dagster's error, raised once committed)."""
        evaluation = event.dagster_event.event_specific_data
        status = _SUCCEEDED if evaluation.passed else _FAILED
        target = evaluation.target_materialization_data
        with self.index_connection() as conn:
            db = conn.connection.driver_connection
            event_id = db.execute(_INSERT_EVENT, values).lastrowid
            execution = (status.value, row["event"], row["timestamp"], event_id,
                         target.storage_id if target else None, evaluation.partition)  # fmt: skip
            key = (evaluation.asset_key.to_string(), evaluation.check_name, event.run_id)
            partition = () if evaluation.partition is None else (evaluation.partition,)
            clause = " = ?" if partition else " is null"
            updated = db.execute(_UPDATE_EXECUTION + clause, execution + key + partition).rowcount
            if updated == 0:
                db.execute(_INSERT_EXECUTION, key + execution)
        if updated > 1:
            raise DagsterInvariantViolationError(
                f"Updated {updated} rows for asset check evaluation {evaluation.asset_check_key} "
                "as a result of duplicate AssetCheckPlanned events."
            )

    def _datetime_value(self, value):
        """A datetime as SQLAlchemy's SQLite dialect stores it (the text Dagster's own inserts write)."""
        if self._datetime_bind is None:
            engine = self._engine(INDEX_SHARD_NAME)
            column_type = SqlEventLogStorageTable.c.timestamp.type
            self._datetime_bind = column_type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        return self._datetime_bind(value)

    def has_table(self, table_name: str) -> bool:
        """Asked before every asset check event: through the pooled index connection, and once a table exists,
        remembered (Dagster creates tables, never drops them)."""
        return self._remembered(("table", table_name), self._index_has_table, table_name)

    def _index_has_table(self, table_name: str) -> bool:
        engine = self._engine(INDEX_SHARD_NAME)  # not under _db_lock: Dagster asks while it holds it
        with engine.connect() as conn:
            return engine.dialect.has_table(conn, table_name)

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        """Asked ~300 times a build (before each asset event and asset record read), each time listing the
        table's columns: remembered once a column exists (Dagster's migrations add columns, never drop them)."""
        return self._remembered(("column", column_name), super()._has_asset_key_col_on_connection, conn, column_name)

    def has_asset_key_col(self, column_name: str) -> bool:
        """As the parent, without opening a connection for a column already known."""
        return ("column", column_name) in self._known or super().has_asset_key_col(column_name)

    def has_secondary_index(self, name: str) -> bool:
        """Asked before each asset record read: remembered once the data migration it names has completed
        (a wipe forgets)."""
        return self._remembered(("index", name), super().has_secondary_index, name)

    def _remembered(self, key: tuple[str, str], ask, *args) -> bool:
        if key in self._known:
            return True
        exists = bool(ask(*args))
        if exists:
            self._known.add(key)
        return exists

    def _dispose_engines(self) -> None:
        with self._db_lock, self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the parent deletes the run databases: no connection may hold them
        self._known.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


def _planned_check_executions(event, row: dict, event_id: int, timestamp) -> list[dict]:
    """The asset_check_executions rows of a planned check, one per partition, as Dagster's
    `_store_asset_check_evaluation_planned` writes them (the event serialized once, for both tables)."""
    planned = event.dagster_event.event_specific_data
    partitions = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
    return [
        dict(
            asset_key=planned.asset_key.to_string(),
            check_name=planned.check_name,
            partition=partition,
            run_id=event.run_id,
            execution_status=AssetCheckExecutionRecordStatus.PLANNED.value,
            evaluation_event=row["event"],
            evaluation_event_timestamp=timestamp,
            evaluation_event_storage_id=event_id,
        )
        for partition in partitions
    ]


def _sync_at_checkpoints(dbapi_connection, _record) -> None:
    dbapi_connection.execute("pragma synchronous=NORMAL")
