"""Opening the working DuckDB for writing creates its raw and landing tables once, then only checks they are there
(lib/core/warehouse.py: `connect`): the 32 statements ran on every open of a run and of a test."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from orchestration.lib.core import warehouse
from orchestration.lib.core.warehouse import connect


def _catalog(database) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            """select schema_name, table_name, column_name, data_type from duckdb_columns()
            where schema_name in ('raw', 'landing') order by all"""
        ).fetchall()


def _keys(database) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(
            """select constraint_column_names from duckdb_constraints()
            where schema_name = 'raw' and table_name = 'archive_manifest' and constraint_type = 'PRIMARY KEY'"""
        ).fetchall()


def test_a_current_warehouse_opens_without_running_its_ddl_and_a_missing_table_is_created_again(tmp_path, monkeypatch):
    database = tmp_path / "warehouse.duckdb"
    connect(database).close()
    created = _catalog(database)
    assert {(s, t) for s, t, _, _ in created} >= {("raw", "documents"), ("landing", "manifest_stamp")}
    assert len({(s, t) for s, t, _, _ in created}) == len(warehouse._DDL_TABLES) == 32

    ddl = warehouse._DDL
    monkeypatch.setattr(warehouse, "_DDL", ["select error('the DDL ran')"])
    with connect(database) as con:  # every table there: no statement of the DDL runs
        con.register("frame", pd.DataFrame({"n": [1, 2]}))  # and the check's result is finished (DuckDB 2 refuses
        assert con.execute("select sum(n) from frame").fetchall() == [(3,)]  # a register while one is not)
    with duckdb.connect(str(database)) as con:
        con.execute("drop table raw.row_flags")
    with pytest.raises(duckdb.Error, match="the DDL ran"):
        connect(database)  # one table missing: the DDL runs

    monkeypatch.setattr(warehouse, "_DDL", ddl)
    connect(database).close()
    assert _catalog(database) == created


def test_a_manifest_keyed_by_sha256_is_migrated_even_with_every_table_there(tmp_path):
    database = tmp_path / "warehouse.duckdb"
    connect(database).close()
    with duckdb.connect(str(database)) as con:  # the pre-receipts key, every other table current
        con.execute("drop table raw.archive_manifest")
        con.execute(
            """create table raw.archive_manifest (
            sha256 varchar primary key, inbox_path varchar not null, original_name varchar not null,
            archive_path varchar not null, account_handle varchar, file_kind varchar, export_date date,
            export_date_source varchar, size_bytes bigint, source_mtime timestamp, received_at timestamp)"""
        )
        con.execute("insert into landing.inbox_files values ('a/b.csv', 1, 1, 'x')")
    assert _keys(database) == [(["sha256"],)]

    connect(database).close()

    assert _keys(database) == [(["sha256", "inbox_path"],)]
    with duckdb.connect(str(database), read_only=True) as con:  # the migration forgot the hashed inbox files
        assert con.execute("select count(*) from landing.inbox_files").fetchone() == (0,)


def test_the_ddl_is_only_what_the_check_covers():
    """The check looks for tables: any other kind of statement in `_DDL` would never run on an existing warehouse."""
    schemas = [s for s in warehouse._DDL if s.startswith("create schema if not exists ")]
    assert len(schemas) == 2 and len(warehouse._DDL_TABLES) == len(set(warehouse._DDL_TABLES))
    assert len(schemas) + len(warehouse._DDL_TABLES) == len(warehouse._DDL)


def test_a_failed_ddl_leaves_the_file_unlocked(tmp_path, monkeypatch):
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setattr(warehouse, "_DDL", ["select error('the DDL failed')"])
    with pytest.raises(duckdb.Error, match="the DDL failed") as raised:
        connect(database)
    # Dagster keeps a failed step's exception, whose traceback holds connect's frame and so its connection: another
    # process can open the file all the same, as the failed connection was closed, not left to be collected
    assert raised.traceback[-1].frame.f_locals.get("con") is not None
    script = f"import duckdb; duckdb.connect({str(database)!r}).close()"
    opened = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert opened.returncode == 0, opened.stderr


def test_a_column_added_since_is_added_to_a_warehouse_built_before_it(tmp_path):
    """raw.documents.inner_zip_sha256 (a ZIP inside a ZIP's bytes) came later: a warehouse built before it, every
    table there, gets it on its next writable open, its rows kept."""
    database = tmp_path / "warehouse.duckdb"
    connect(database).close()
    with duckdb.connect(str(database)) as con:
        con.execute("alter table raw.documents drop column inner_zip_sha256")
        con.execute("insert into raw.documents (document_id, archive_sha256, original_name, status, landed_at) "
                    "values ('d', 's', 'Overview.csv', 'loaded', now())")  # fmt: skip

    with connect(database) as con:
        assert con.execute("select document_id, inner_zip_sha256 from raw.documents").fetchall() == [("d", None)]
