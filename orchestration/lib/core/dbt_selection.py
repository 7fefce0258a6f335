"""What the daily dbt build covers: the models downstream of the raw tables that changed, and their tests.

Landing records every raw table it wrote (`record_changed_sources`, kept in `landing.pending_sources`). The dbt
step builds the models downstream of those sources and the tests that read any of them or of those sources
(`plan_build`), then clears the record once the build succeeded; a failed build is retried over the same
tables, like the `min_date` watermark beside it. A dependent mart such as `dim_accounts` is downstream of
every source it reads, so it is rebuilt whenever any of them changed.

A build covers the whole project instead when the warehouse was last built by another dbt project (its
fingerprint, `dbt_manifest.project_fingerprint`, is recorded after each whole build: a first run, an
upgrade, an edited model), when a model's relation is missing from the warehouse, and on a full refresh:
asked for by `--full-refresh`, by a replay (`request_full_refresh`) until a daily build has done one, or by a
change of the dbt vars that key rows (`dbt_vars.KEYING_VARS`, their digest recorded with each whole build).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb

_DDL = (
    "create schema if not exists landing",
    "create table if not exists landing.pending_sources (source_table varchar primary key)",
    "create table if not exists landing.dbt_build (project_fingerprint varchar)",
    # the vars incremental marts key their rows by, as of the last whole build (null before this column existed)
    "alter table landing.dbt_build add column if not exists keying_vars varchar",
    "create table if not exists landing.pending_full_refresh (requested_at timestamp)",
)
RAW_SCHEMA = "raw"


def record_changed_sources(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """Note raw tables (names in schema raw) that received, replaced or lost rows; dbt rebuilds what reads them."""
    _ensure(con)
    for table in sorted(set(tables)):
        con.execute("insert or ignore into landing.pending_sources values (?)", [table])


def changed_sources(con: duckdb.DuckDBPyConnection) -> set[str]:
    _ensure(con)
    return {row[0] for row in con.execute("select source_table from landing.pending_sources").fetchall()}


def clear_changed_sources(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """Forget the tables a successful build covered (not one recorded since it started)."""
    _ensure(con)
    for table in set(tables):
        con.execute("delete from landing.pending_sources where source_table = ?", [table])


def built_fingerprint(con: duckdb.DuckDBPyConnection) -> str | None:
    """The dbt project fingerprint of the last whole build of this warehouse (None: never built whole)."""
    _ensure(con)
    row = con.execute("select project_fingerprint from landing.dbt_build").fetchone()
    return row[0] if row else None


def built_keying_vars(con: duckdb.DuckDBPyConnection) -> str | None:
    """`dbt_vars.keying_vars_digest()` as of the last whole build (None: not recorded yet)."""
    _ensure(con)
    row = con.execute("select keying_vars from landing.dbt_build").fetchone()
    return row[0] if row else None


def record_whole_build(con: duckdb.DuckDBPyConnection, fingerprint: str, keying_vars: str | None = None) -> None:
    _ensure(con)
    con.execute("delete from landing.dbt_build")
    con.execute("insert into landing.dbt_build values (?, ?)", [fingerprint, keying_vars])


def missing_relations(con: duckdb.DuckDBPyConnection, manifest: dict) -> list[str]:
    """Models of the manifest with no table or view in the warehouse (a first run, a dropped table)."""
    existing = {
        (schema, name)
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() union all "
            "select schema_name, view_name from duckdb_views() where not internal"
        ).fetchall()
    }
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"].get("materialized") != "ephemeral"
        and (node["schema"], node.get("alias") or node["name"]) not in existing
    )


@dataclass
class BuildPlan:
    """The models and tests a narrowed build runs, and the dbt `--exclude` names of everything else."""

    sources: set[str] = field(default_factory=set)  # unique ids of the changed sources
    models: set[str] = field(default_factory=set)  # unique ids
    tests: set[str] = field(default_factory=set)
    excluded: list[str] = field(default_factory=list)  # node names, for dbt --exclude

    @property
    def empty(self) -> bool:
        return not self.models and not self.tests


def plan_build(manifest: dict, changed: set[str]) -> BuildPlan:
    """Models downstream of the sources reading `changed` raw tables, and every test reading one of those
    models or sources (a relationships test to an unchanged dimension included)."""
    plan = BuildPlan()
    plan.sources = {
        unique_id
        for unique_id, source in manifest["sources"].items()
        if source["schema"] == RAW_SCHEMA and (source.get("identifier") or source["name"]) in changed
    }
    children = manifest["child_map"]
    frontier = list(plan.sources)
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child.startswith("model.") and child not in plan.models:
                plan.models.add(child)
                frontier.append(child)
    reach = plan.models | plan.sources
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] == "test" and reach.intersection(node["depends_on"]["nodes"]):
            plan.tests.add(unique_id)
    plan.excluded = sorted(
        node["name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "test") and unique_id not in plan.models | plan.tests
    )
    return plan


def request_full_refresh(con: duckdb.DuckDBPyConnection) -> None:
    """The next whole build must be a full refresh (a replay may have withdrawn rows, a changed keying var moved them
    to other keys, which only a full refresh removes from the marts): asked until a build does it, whichever run."""
    _ensure(con)
    con.execute(
        "insert into landing.pending_full_refresh select now() "
        "where not exists (select 1 from landing.pending_full_refresh)"
    )


def full_refresh_requested(con: duckdb.DuckDBPyConnection) -> bool:
    _ensure(con)
    return con.execute("select exists (select 1 from landing.pending_full_refresh)").fetchone()[0]


def clear_full_refresh(con: duckdb.DuckDBPyConnection) -> None:
    _ensure(con)
    con.execute("delete from landing.pending_full_refresh")


def _ensure(con: duckdb.DuckDBPyConnection) -> None:
    for statement in _DDL:
        con.execute(statement)
