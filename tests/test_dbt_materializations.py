"""The project's own `table` and `view` materializations (dbt_project/macros/materializations/replace_in_place.sql):
one `create or replace` in a transaction instead of dbt-duckdb's rename swap. What the swap guaranteed still
holds: a relation of the other type is replaced, a model whose query fails leaves the old relation (of either
type) as it was, and what the swap supports and this one does not is refused by name. A scratch project with
the same macro file, run by dbt in this process on a DuckDB file of its own."""

from __future__ import annotations

import shutil

import duckdb

from orchestration.lib.core import dbt_invocation
from orchestration.lib.core.dbt_invocation import invoke_dbt
from orchestration.lib.core.paths import DBT_PROJECT_DIR

MACRO = DBT_PROJECT_DIR / "macros" / "materializations" / "replace_in_place.sql"
MODELS = {
    "thing": "{{ config(materialized='table') }} select 1 as n",  # a view of this name is there before
    "shown": "{{ config(materialized='view') }} select 2 as n",  # a table of this name is there before
    "broken": "{{ config(materialized='table') }} select 'not a number'::integer as n",  # fails when it runs
    "retyped": "{{ config(materialized='table') }} select 'not a number'::integer as n",  # and a view was there
    "granted": "{{ config(materialized='table', grants={'select': ['reporter']}) }} select 3 as n",
}


def test_relations_are_replaced_in_place_and_a_failed_model_keeps_the_old_one(tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    shutil.copyfile(MACRO, project / "macros" / MACRO.name)
    shutil.copyfile(DBT_PROJECT_DIR / "profiles.yml", project / "profiles.yml")
    (project / "dbt_project.yml").write_text("name: scratch\nversion: '1.0'\nprofile: tiktok_warehouse\n")
    for name, sql in MODELS.items():
        (project / "models" / f"{name}.sql").write_text(sql + "\n")
    data_dir = tmp_path / "data"
    (data_dir / "warehouse").mkdir(parents=True)
    with duckdb.connect(str(data_dir / "warehouse" / "pipeline.duckdb")) as con:
        con.execute("create view main.thing as select 'old view' as n")
        con.execute("create table main.shown as select 'old table' as n")
        con.execute("create table main.broken as select 7 as n")
        con.execute("create view main.retyped as select 8 as n")
    monkeypatch.setattr(dbt_invocation, "_parsed", {})  # the project's own Manifest stays for the other tests

    result = invoke_dbt(data_dir, ["run", "--threads", "1"], tmp_path / "target", quiet=True, project_dir=project)

    statuses = {r.node.name: (r.status, r.message or "") for r in result.result.results}
    assert {name: status for name, (status, _) in statuses.items()} == {
        "thing": "success",
        "shown": "success",
        "broken": "error",
        "retyped": "error",
        "granted": "error",
    }
    assert "Conversion Error" in statuses["broken"][1]
    assert "grants is not supported by this project's table materialization" in statuses["granted"][1]
    with duckdb.connect(str(data_dir / "warehouse" / "pipeline.duckdb"), read_only=True) as con:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables").fetchall())
        assert kinds == {"thing": "BASE TABLE", "shown": "VIEW", "broken": "BASE TABLE", "retyped": "VIEW"}
        assert con.execute("select n from main.thing").fetchall() == [(1,)]
        assert con.execute("select n from main.shown").fetchall() == [(2,)]
        assert con.execute("select n from main.broken").fetchall() == [(7,)]  # as it was before the failed run
        assert con.execute("select n from main.retyped").fetchall() == [(8,)]  # the view dropped is back
    # one statement built the table: no `__dbt_tmp` relation renamed into place
    compiled = (tmp_path / "target" / "run" / "scratch" / "models" / "thing.sql").read_text()
    assert "create or replace table" in compiled and "__dbt_tmp" not in compiled
