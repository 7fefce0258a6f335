"""What the daily dbt build covers: the models downstream of the raw tables that changed, and their tests.

Landing records every raw table it wrote (`record_changed_sources`, kept in `landing.pending_sources`). The dbt
step builds the models downstream of those sources and the tests that read any of them or of those sources
(`plan_build`), then clears the record once the build succeeded; a failed build is retried over the same
tables, like the `min_date` watermark beside it. A dependent mart such as `dim_accounts` is downstream of
every source it reads, so it is rebuilt whenever any of them changed.

Each changed raw table keeps the earliest metric day its new rows touch (null: not known). An incremental model
recomputes from the earliest day of the changed tables it reads (`model_min_dates`), not from the earliest of the
whole drop: a daily drop whose Overview re-reports the last 60 days and whose Content brings today's snapshot
rebuilds the account models from 60 days back and the video models from today. Its window is never later than
the day its own inputs changed, so it ends where a full refresh does (tests/test_incremental_equals_full.py).

Views downstream of the changed tables are kept as they are, their tests run: a view holds a query, not rows, and
DuckDB binds it again at every read, so new rows reach it without re-creating it (dbt took 50-75 ms a view in a
whole build of a small warehouse; a daily drop of every Studio file kind reaches 12 of the 29 views). Its query
changes only with the project, and a changed project is built whole; so is the next build after a whole build that
did not finish (`mark_whole_build_started`: it may have left views of an edit since undone). A batched test of a
kept view waits for the models the view reads (`through_kept_views`), as dbt orders its own tests across an
excluded node.

A build covers the whole project instead when the warehouse was last built by another dbt project (its
fingerprint, `dbt_manifest.project_fingerprint`, is recorded after each whole build: a first run, an
upgrade, an edited model), when a model's relation is missing from the warehouse, and on a full refresh:
asked for by `--full-refresh`, by a replay (`request_full_refresh`) until a daily build has done one, or by a
change of the dbt vars that key rows (`dbt_vars.KEYING_VARS`, their digest recorded with each whole build), or
by an account's LIVE time zone that an API pull brought or changed (`moved_live_zones`: data, which no var digest
sees).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pandas as pd

_DDL = (
    "create schema if not exists landing",
    "create table if not exists landing.pending_sources (source_table varchar primary key)",
    # the earliest metric day its new rows touch; null: not known (its readers recompute from the drop's earliest)
    "alter table landing.pending_sources add column if not exists min_date date",
    "create table if not exists landing.dbt_build (project_fingerprint varchar)",
    # the vars incremental marts key their rows by, as of the last whole build (null before this column existed)
    "alter table landing.dbt_build add column if not exists keying_vars varchar",
    "create table if not exists landing.pending_full_refresh (requested_at timestamp)",
    # set when a whole build starts, cleared by `record_whole_build`: whether the last one did not finish
    "alter table landing.dbt_build add column if not exists unfinished boolean default false",
)
RAW_SCHEMA = "raw"
VIEW_SELECTOR = "config.materialized:view"


def record_changed_sources(
    con: duckdb.DuckDBPyConnection, tables: Iterable[str], min_dates: Mapping[str, date | None] | None = None
) -> None:
    """Note raw tables (names in schema raw) that received, replaced or lost rows; dbt rebuilds what reads them.
    `min_dates`: the earliest metric day each table's new rows touch; a table without one (or with None) is
    recomputed from the whole drop's earliest day. Only ever lowered until a build clears it; unknown stays so."""
    _ensure(con)
    names = sorted(set(tables))
    if not names:
        return
    days = [(min_dates or {}).get(table) for table in names]
    days = [None if day is None or pd.isna(day) else pd.Timestamp(day).date() for day in days]
    # one statement, one commit: a statement per table cost ~4 ms of CPU each (~0.1 s of every landing)
    con.execute(
        """insert into landing.pending_sources (source_table, min_date)
        select unnest(?::varchar[]), unnest(?::date[])
        on conflict (source_table) do update set min_date = case
            when pending_sources.min_date is null or excluded.min_date is null then null
            else least(pending_sources.min_date, excluded.min_date) end""",
        [names, days],
    )


def changed_sources(con: duckdb.DuckDBPyConnection) -> set[str]:
    _ensure(con)
    return {row[0] for row in con.execute("select source_table from landing.pending_sources").fetchall()}


def changed_source_dates(con: duckdb.DuckDBPyConnection) -> dict[str, date | None]:
    """Each changed raw table and the earliest metric day its new rows touch (None: not known)."""
    _ensure(con)
    return dict(con.execute("select source_table, min_date from landing.pending_sources").fetchall())


def clear_changed_sources(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """Forget the tables a successful build covered (not one recorded since it started)."""
    _ensure(con)
    con.execute("delete from landing.pending_sources where list_contains(?::varchar[], source_table)", [list(tables)])


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
    con.execute(
        "insert into landing.dbt_build (project_fingerprint, keying_vars) values (?, ?)", [fingerprint, keying_vars]
    )


def mark_whole_build_started(con: duckdb.DuckDBPyConnection) -> None:
    """A whole build re-creates every view. One that fails half-way may leave views of an edited project, edited back
    since (the fingerprint then matches again), which planned builds keep as they are: until a whole build finishes
    (`record_whole_build`), the next build is whole again."""
    _ensure(con)
    con.execute("update landing.dbt_build set unfinished = true")


def whole_build_unfinished(con: duckdb.DuckDBPyConnection) -> bool:
    _ensure(con)
    return con.execute("select coalesce(bool_or(unfinished), false) from landing.dbt_build").fetchone()[0]


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
    excluded: list[str] = field(default_factory=list)  # node names not run, views included
    views: set[str] = field(default_factory=set)  # unique ids of the views downstream of the sources: kept as they are
    view_names: set[str] = field(default_factory=set)  # of every view of the project

    @property
    def empty(self) -> bool:
        return not self.models and not self.tests

    @property
    def dbt_exclude(self) -> list[str]:
        """`excluded` for dbt's --exclude: every view by one selector instead of 29 names (each costs dbt's
        selection time)."""
        return [name for name in self.excluded if name not in self.view_names] + [VIEW_SELECTOR]


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
    views = _views(manifest)
    plan.view_names = {manifest["nodes"][unique_id]["name"] for unique_id in views}
    plan.views = plan.models & views  # their tests stay planned: the rows they read changed
    plan.models -= views
    plan.excluded = sorted(
        node["name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "test") and unique_id not in plan.models | plan.tests
    )
    return plan


def through_kept_views(manifest: dict, parents: Iterable[str], views: set[str]) -> tuple[str, ...]:
    """`parents` with each kept view (of `views`) replaced by what it reads, through views: what a test of a kept view
    waits for and needs built without failure, as dbt's own test would across the view it no longer runs."""
    found: list[str] = []
    frontier = list(parents)
    while frontier:
        parent = frontier.pop(0)
        if parent in views:
            frontier += manifest["parent_map"].get(parent, [])
        elif parent not in found:
            found.append(parent)
    return tuple(found)


def planned_batched_tests(manifest: dict, plan: BuildPlan, batched: dict) -> dict:
    """The batched tests (`dbt_batched_tests.BatchedTest` by unique id) that `plan` runs, each waiting for what its
    kept views read."""
    return {
        unique_id: replace(test, parents=through_kept_views(manifest, test.parents, plan.views))
        for unique_id, test in batched.items()
        if unique_id in plan.tests
    }


def models_in_dependency_order(manifest: dict) -> list[str]:
    """Every model's unique id, each after the models it reads (Kahn's algorithm, ties in name order)."""
    models = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    parents = {u: {p for p in n["depends_on"]["nodes"] if p in models} for u, n in models.items()}
    ordered: list[str] = []
    ready = sorted(u for u, p in parents.items() if not p)
    while ready:
        current = ready.pop(0)
        ordered.append(current)
        for child in sorted(manifest["child_map"].get(current, ())):
            if child in parents and current in parents[child]:
                parents[child].discard(current)
                if not parents[child]:
                    ready.append(child)
    return ordered


def _views(manifest: dict) -> set[str]:
    return {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "view"
    }


def model_min_dates(
    manifest: dict, plan: BuildPlan, source_dates: Mapping[str, date | None], min_date: date | None
) -> dict[str, date]:
    """The planned incremental models that may recompute from a later day than `min_date` (the drop's earliest):
    each from the earliest day of the changed raw tables it reads, when every one of them has a day. Models
    without an entry recompute from `min_date`, as does everything when it is None (the whole history)."""
    if min_date is None:
        return {}
    table_of = {
        unique_id: source.get("identifier") or source["name"]
        for unique_id, source in manifest["sources"].items()
        if unique_id in plan.sources
    }
    parents, windows = manifest["parent_map"], {}
    for unique_id in sorted(plan.models):
        node = manifest["nodes"][unique_id]
        if node["config"].get("materialized") != "incremental":
            continue
        seen, frontier, days = set(), [unique_id], []
        while frontier:
            for parent in parents.get(frontier.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
                    if parent in table_of:
                        days.append(source_dates.get(table_of[parent]))
        if days and None not in days and min(days) > min_date:
            windows[node["name"]] = min(days)
    return windows


def moved_live_zones(con: duckdb.DuckDBPyConnection, configured: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """The accounts whose LIVE days the marts took in another time zone than their newest API pull now names:
    (handle, zone built, zone now). accounts.yml's zone reaches dbt as data (`raw.api_pulls`), so an incremental
    build would leave the account's LIVEs before its window on their old days. The marts themselves record the zone
    they used (`fct_live_sessions.account_timezone`, every LIVE's); the newest pull is int_live_accounts__timezones'
    rule. Accounts `configured` in the var live_account_timezones are left out: the var wins over a pull, and a
    change of it goes by the vars' digest. [] before a first build (nothing built to compare)."""
    try:
        return con.execute(
            """with built as (
                select distinct account_handle, account_timezone from marts.fct_live_sessions
            ),
            pulled as (
                select account_handle, account_timezone from staging.stg_tiktok_api__pulls
                where account_timezone is not null
                qualify row_number() over (partition by account_handle order by pulled_at desc, pull_id desc) = 1
            )
            select built.account_handle, built.account_timezone, pulled.account_timezone
            from built inner join pulled on built.account_handle = pulled.account_handle
            where built.account_timezone is distinct from pulled.account_timezone
                and not list_contains(?::varchar[], built.account_handle)
            order by all""",
            [sorted(configured)],
        ).fetchall()
    except duckdb.CatalogException:  # no marts or staging views yet
        return []


def moved_zones_reason(moved: list[tuple[str, str, str]]) -> str:
    """Why a build after `moved_live_zones` is a full refresh, for the run's log."""
    told = "; ".join(f"@{handle} from {built} to {now}" for handle, built, now in moved[:3])
    return (
        f"the time zone of {len(moved)} account(s)' LIVE days changed with an API pull (accounts.yml) since the "
        f"marts were built ({told}{'; …' if len(moved) > 3 else ''}): their older LIVEs move to other days"
    )


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
