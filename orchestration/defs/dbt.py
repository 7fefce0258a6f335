"""dbt models as Dagster assets, their tests as asset checks; each build covers what the new data touches.

The dbt project object is built lazily (`build_dbt_assets` runs when Dagster loads definitions, not at
import); its manifest is parsed only when the project changed (`lib/core/dbt_manifest.py`).

The daily build (`plan_dbt_build`): landing records the raw tables it wrote and the earliest metric day it
touched; dbt then builds the models downstream of those tables, incrementals from that day, and the tests
reading what it built (`lib/core/dbt_selection.py`). The whole project is built on a first run, on a full refresh
(also after the project changed, and while one a replay asked for is pending) and when Dagster itself asked for a
subset (the UI); a subset is refused while a full refresh is due (`defs/dbt_subset.py`).

dbt runs in a worker process spawned when the run started (`lib/core/dbt_worker.py`), else inside this one
(`defs/dbt_run.py`, `lib/core/dbt_invocation.py`: the project parsed once, with one parse state for every data
directory); the generic tests of a build (of a subset, those its dbt selection would run) run as one statement per model
(`lib/core/dbt_batched_tests.py`): in the worker as soon as their models are built
(`lib/core/dbt_tests_alongside.py`), here after the build; either way reported as the same asset checks. dbt's
artifacts (run_results.json, compiled SQL, dbt.log) go to `<data>/warehouse/dbt_target/`.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject, dbt_assets
from dagster_dbt.asset_utils import DAGSTER_DBT_UNIQUE_ID_METADATA_KEY, get_subset_selection_for_context

from orchestration.defs.dbt_checks import carried_over_failures
from orchestration.defs.dbt_run import DbtRun
from orchestration.defs.dbt_subset import (
    SUBSET_REFUSED_PROJECT_CHANGED,
    SUBSET_REFUSED_REFRESH_PENDING,
    SUBSET_REFUSED_VAR_CHANGED,
    SUBSET_REFUSED_ZONE_MOVED,
    landing_after_dbt,
)
from orchestration.defs.resources import DataDirResource, validates_published_marts
from orchestration.lib.core import dbt_worker
from orchestration.lib.core.dbt_batched_tests import (
    BatchedTest,
    batched_test_results,
    batched_tests,
    excluded_from_dbt,
    in_background,
    write_results,
)
from orchestration.lib.core.dbt_manifest import ensure_manifest, project_fingerprint
from orchestration.lib.core.dbt_selection import (
    BuildPlan,
    built_fingerprint,
    built_keying_vars,
    changed_source_dates,
    changed_sources,
    clear_changed_sources,
    clear_full_refresh,
    full_refresh_requested,
    mark_whole_build_started,
    missing_relations,
    model_min_dates,
    models_in_dependency_order,
    moved_live_zones,
    moved_zones_reason,
    plan_build,
    planned_batched_tests,
    record_whole_build,
    request_full_refresh,
    whole_build_unfinished,
)
from orchestration.lib.core.dbt_vars import REBUILD_VARS, keying_vars_digest, live_zone_handles, project_vars
from orchestration.lib.core.paths import DBT_PROJECT_DIR, DataPaths, data_dir_from_env
from orchestration.lib.core.replay_state import refusal_while_unfinished
from orchestration.lib.core.warehouse import clear_pending_min_date, pending_min_date
from orchestration.lib.marts import quality_worker

# Read by macros/build_window.sql at run time; not `--vars`, which key dbt's parse state (a parse a day)
MIN_DATE_ENV = "TIKTOK_DBT_MIN_DATE"
TESTS_FROM_ENV = "TIKTOK_DBT_TESTS_FROM"
# JSON {model name: day}: the incremental models whose own inputs changed from a later day than MIN_DATE_ENV's
MODEL_MIN_DATES_ENV = "TIKTOK_DBT_MODEL_MIN_DATES"
UNTOUCHED_MART = {"rebuilt": False, "why": "no raw table it reads changed since its last build"}


class LayeredTranslator(DagsterDbtTranslator):
    """Asset keys and groups follow the dbt folders: staging/…, intermediate/…, marts/…."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)  # meta.dagster.asset_key → raw/…
        return dg.AssetKey([self._layer(dbt_resource_props), dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return self._layer(dbt_resource_props)

    @staticmethod
    def _layer(props: Mapping[str, Any]) -> str:
        fqn = props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


def dbt_project() -> DbtProject:
    ensure_manifest()  # parses only when the project changed since the last parse
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def dbt_target_dir(paths: DataPaths) -> Path:
    """dbt's target folder for builds of this data directory: run_results.json, batched_tests.json, dbt.log."""
    return paths.warehouse.parent / "dbt_target"


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step: `full_refresh` rebuilds every incremental mart from scratch."""

    full_refresh: bool = False


@dataclass
class DbtBuild:
    """One `dbt build`: its arguments, the environment the macros read, and why it covers what it covers."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    whole: bool = True  # every model and test (else only `plan`'s)
    reason: str = ""
    plan: BuildPlan | None = None
    changed: set[str] = field(default_factory=set)  # raw tables recorded as changed when it was planned
    fingerprint: str = ""  # of the dbt project it builds
    keying_vars: str | None = None  # dbt_vars.keying_vars_digest() when it was planned

    @property
    def nothing(self) -> bool:
        return self.plan is not None and self.plan.empty


def dbt_build(
    min_date: date | None, *, full_refresh: bool = False, plan: BuildPlan | None = None, reason: str = ""
) -> DbtBuild:
    """The production `dbt build`: incrementals from `min_date` (None: recompute them whole), no unit tests.

    With a `plan`, only its models and tests run (`--exclude` the rest, no indirect selection) and row tests
    look at rows from `min_date` on; a whole build tests every row. Unit tests check the SQL, not the data: the
    test suite runs them, production runs skip them. A planned daily build names the incrementals that
    recompute from a later day in MODEL_MIN_DATES_ENV (`plan_dbt_build`).
    """
    args = ["build", "--exclude-resource-type", "unit_test"] + (["--full-refresh"] if full_refresh else [])
    args += ["--log-level-file", "warn"]  # dbt.log: warnings and errors, not every query of every node
    args += ["--no-write-json"]  # no manifests after each build (~0.3 s, unread); DbtRun writes run_results.json
    env = {MIN_DATE_ENV: min_date.isoformat() if min_date and not full_refresh else ""}
    env[TESTS_FROM_ENV] = env[MIN_DATE_ENV] if plan is not None else ""
    env[MODEL_MIN_DATES_ENV] = ""
    if plan is not None:
        args += ["--exclude", " ".join(plan.dbt_exclude), "--indirect-selection", "empty"]
    return DbtBuild(args, env, whole=plan is None, reason=reason, plan=plan)


def dbt_build_args(min_date: date | None, *, full_refresh: bool = False) -> list[str]:
    """A whole daily build as a command line (`--vars`, not the environment): for a person or a test running dbt
    by hand. Each new min_date costs dbt a full parse this way."""
    dbt_vars = {"min_date": min_date.isoformat()} if min_date else {}
    args = ["build", "--vars", json.dumps(dbt_vars), "--exclude-resource-type", "unit_test"]
    return args + (["--full-refresh"] if full_refresh else [])


def plan_dbt_build(con, manifest: dict, *, full_refresh: bool, subset: bool) -> DbtBuild:
    """What this run's dbt step builds, from what landing recorded (see the module docstring)."""
    min_date, changed, fingerprint = pending_min_date(con), changed_sources(con), project_fingerprint()
    keying_vars, built_keying = keying_vars_digest(), built_keying_vars(con)
    var_changed = built_keying not in (None, keying_vars)  # None: a warehouse built before the digest was recorded
    moved = moved_live_zones(con, live_zone_handles())  # a LIVE zone an API pull brought: data, no var saw it
    if subset and var_changed:
        raise dg.Failure(description=SUBSET_REFUSED_VAR_CHANGED)
    if subset and moved:
        raise dg.Failure(description=SUBSET_REFUSED_ZONE_MOVED)
    if subset and full_refresh_requested(con):
        raise dg.Failure(description=SUBSET_REFUSED_REFRESH_PENDING)
    if subset and built_fingerprint(con) not in (None, fingerprint):
        raise dg.Failure(description=SUBSET_REFUSED_PROJECT_CHANGED)
    if full_refresh:
        build = dbt_build(min_date, full_refresh=True, reason="of a full refresh")
    elif subset:
        build = dbt_build(min_date, reason="these assets were selected in Dagster")
    elif full_refresh_requested(con):  # asked by a replay, a keying var or zone change, and not yet done by a build
        build = dbt_build(
            min_date,
            full_refresh=True,
            reason="a full refresh is pending (after a replay, a change of a var that keys or shapes rows, or of a "
            "LIVE time zone an API pull brought)",
        )
    elif var_changed:
        request_full_refresh(con)  # pending until one succeeds, even should the var be changed back meanwhile
        build = dbt_build(
            min_date,
            full_refresh=True,
            reason=f"a dbt var that keys or shapes rows changed ({', '.join(REBUILD_VARS)})",
        )
    elif moved:
        request_full_refresh(con)  # pending until one succeeds: a failed one may leave fct_live_sessions re-zoned
        build = dbt_build(min_date, full_refresh=True, reason=moved_zones_reason(moved))
    elif (built := built_fingerprint(con)) != fingerprint:  # an upgrade or an edited model: old rows may change
        why = "was not built by this dbt project yet" if built is None else "was built by another version of it"
        build = dbt_build(min_date, full_refresh=built is not None, reason=f"the warehouse {why}")
    elif whole_build_unfinished(con):
        build = dbt_build(min_date, reason="the last whole build did not finish: its views may be of another project")
    elif min_date is not None and not changed:
        build = dbt_build(min_date, reason="rows landed without a record of their raw tables")
    elif missing := missing_relations(con, manifest):
        build = dbt_build(min_date, reason=f"{len(missing)} model(s) are missing from the warehouse: {missing[0]}, …")
    else:
        plan = plan_build(manifest, changed)
        build = dbt_build(min_date, plan=plan, reason=", ".join(sorted(changed)) or "none")
        if later := model_min_dates(manifest, plan, changed_source_dates(con), min_date):
            build.env[MODEL_MIN_DATES_ENV] = json.dumps({name: day.isoformat() for name, day in sorted(later.items())})
    build.changed, build.fingerprint, build.keying_vars = changed, fingerprint, keying_vars
    if build.whole and not subset:
        mark_whole_build_started(con)
    return build


def finish_dbt_build(con, build: DbtBuild) -> None:
    """After a successful build: what it covered is no longer pending; a whole build records its project."""
    clear_pending_min_date(con)
    clear_changed_sources(con, build.changed)
    if build.whole:
        record_whole_build(con, build.fingerprint, build.keying_vars)
        if "--full-refresh" in build.args:
            clear_full_refresh(con)


def build_dbt_assets(project: DbtProject) -> dg.AssetsDefinition:
    manifest = json.loads(project.manifest_path.read_text())
    loaded_fingerprint = project_fingerprint()  # of the project this manifest was parsed from (dbt_project())
    translator = LayeredTranslator()
    # marts in dependency order: Dagster wants a multi-asset's outputs yielded parents first
    marts = [
        (unique_id, translator.get_asset_key(manifest["nodes"][unique_id]))
        for unique_id in models_in_dependency_order(manifest)
        if manifest["nodes"][unique_id]["fqn"][1:2] == ["marts"]
    ]

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=translator)
    def dbt_models(context: dg.AssetExecutionContext, data_dir: DataDirResource, config: DbtBuildConfig):
        """Build what the new data touches: staging → intermediate → marts, incrementals from the earliest new day."""
        paths = data_dir.paths
        if data_dir_from_env() != paths.root:
            # dbt's profile reads TIKTOK_DATA_DIR itself: a resource pointing elsewhere would split the warehouse.
            raise dg.Failure(
                f"dbt builds the warehouse under TIKTOK_DATA_DIR ({data_dir_from_env()}) but the data_dir "
                f"resource is {paths.root}: set TIKTOK_DATA_DIR rather than configuring the resource"
            )
        # assets or checks left out (picked in the UI, a re-execution "From asset failure", tiktok_api_repull):
        # `assets_def.keys` is the selection itself in Dagster 1.13, so comparing the two never told a subset
        subset = context.is_subset
        built = False  # whether great-expectations will have new marts to validate after this step
        with data_dir.exclusive():  # dbt writes the warehouse too: the whole build under the run lock
            try:
                with data_dir.warehouse() as con:
                    # no landing (picked in the UI), or a landing Dagster may run after dbt
                    if refused := refusal_while_unfinished(con) or (subset and landing_after_dbt(context)):
                        raise dg.Failure(refused)
                    build = plan_dbt_build(con, manifest, full_refresh=config.full_refresh, subset=subset)
                if build.nothing:
                    why = "views read them as they are" if build.plan.views else "nothing reads them"
                    context.log.info(f"dbt: nothing to build: {why if build.changed else 'no raw table changed'}")
                if build.plan is not None:
                    # The published marts wait for every mart of this step: one this build does not touch is as
                    # it was. Yielded first: none of them is downstream of what the build changes.
                    untouched = {key for unique_id, key in marts if unique_id not in build.plan.models}
                    for key in (key for _, key in marts if key in untouched and key in context.selected_asset_keys):
                        output_name = context.assets_def.get_output_name_for_asset_key(key)
                        yield dg.Output(None, output_name=output_name, metadata=UNTOUCHED_MART)
                    yield from carried_over_failures(context, untouched, build.plan.tests)
                if not build.nothing:
                    yield from _run_build(context, data_dir, build, manifest, translator, project, subset=subset,
                                          same_project=build.fingerprint == loaded_fingerprint)  # fmt: skip
                    built = True
            finally:  # the workers the landing spawned, if no build took them
                dbt_worker.discard()
                if not built or not validates_published_marts(context):  # nothing to validate: GE's, mid-import
                    quality_worker.discard()
            if not subset:  # a subset chosen in the UI leaves the rest pending for the next daily run
                with data_dir.warehouse() as con:
                    finish_dbt_build(con, build)

    return dbt_models


def _run_build(
    context: dg.AssetExecutionContext,
    data_dir: DataDirResource,
    build: DbtBuild,
    manifest: dict,
    translator: DagsterDbtTranslator,
    project: DbtProject,
    *,
    subset: bool,
    same_project: bool,
):
    """dbt's build, and the generic tests it left out, one statement per model (lib/core/dbt_batched_tests.py): in
    dbt's worker while it builds, else here after it; fails the step if either failed. The batched tests come from the
    manifest Dagster loaded: only while dbt parses that same project (a long-lived `make ui` whose project was edited
    since lets dbt run every test); for a subset, those its selection would run (`subset_build`)."""
    paths = data_dir.paths
    if subset:
        args, batched, models = subset_build(context, build, manifest, translator, same_project=same_project)
    elif same_project:
        (args, batched), models = split_batched_tests(build, manifest), _models_built(build, manifest)
    else:
        args, batched, models = build.args, {}, _models_built(build, manifest)
    context.log.info(_describe_subset(build, models, batched) if subset else _describe(build, len(batched)))
    if validates_published_marts(context):  # after publishing: GE's import (~2 s) on the core dbt leaves idle
        quality_worker.start()
    run = DbtRun(paths.root, args, dbt_target_dir(paths), build.env)
    tests_from = build.env.get(TESTS_FROM_ENV) or None
    try:
        alongside = (list(batched.values()), models, tests_from) if batched else None
        yield from run.stream(context, manifest, translator, project, alongside)
        ready = [] if run.tested_alongside else [test for test in batched.values() if run.may_test(test.parents)]
        if ready:
            with data_dir.warehouse() as con:  # each model's tests reported while the next model's run
                for results in in_background(con, batched_test_results(con, ready, tests_from)):
                    yield from run.stream_batched_tests(results, context, manifest, translator, project)
    finally:  # what ran, even when the step stops half-way: the step's error points at this file
        write_results(dbt_target_dir(paths), run.batched, tests_from)
    run.raise_if_failed()


def _models_built(build: DbtBuild, manifest: dict) -> set[str]:
    """The models a build runs: its plan's, else every model (a whole build excludes only tests)."""
    if build.plan is not None:
        return set(build.plan.models)
    return {unique_id for unique_id, node in manifest["nodes"].items() if node["resource_type"] == "model"}


def split_batched_tests(build: DbtBuild, manifest: dict) -> tuple[list[str], dict[str, BatchedTest]]:
    """`build`'s dbt arguments without the generic tests run apart, and those tests (of its plan, if it has one)."""
    batched = batched_tests(manifest, project_vars())
    args = build.args
    if batched:
        names = {test.name for test in batched.values()}
        args = exclude_nodes(args, excluded_from_dbt(manifest, batched), drop=names)
    if build.plan is not None:
        batched = planned_batched_tests(manifest, build.plan, batched)
    return args, batched


def subset_build(
    context: dg.AssetExecutionContext,
    build: DbtBuild,
    manifest: dict,
    translator: DagsterDbtTranslator,
    *,
    same_project: bool,
) -> tuple[list[str], dict[str, BatchedTest], set[str]]:
    """A subset's dbt arguments (dagster-dbt's selection), the tests batched in place of dbt's, and the models it
    builds. dbt runs none of the batchable tests; batched are those of the checks Dagster selected and, as dbt's
    eager indirect selection would add them, those reading a selected model: a relationships test of an unselected
    fact to a rebuilt dim still fails the step when it fails (dagster-dbt reports it as an observation, no check
    being selected). Where dagster-dbt turned indirect selection off (checks of a selected asset left out), only
    the selected checks run."""
    selection = _subset_selection(context, manifest, translator)
    args = build.args + selection
    models = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and translator.get_asset_key(node) in context.selected_asset_keys
    }
    if not same_project:
        return args, {}, models
    every = batched_tests(manifest, project_vars())
    assets_def = context.assets_def
    selected = {
        (assets_def.get_spec_for_check_key(key).metadata or {}).get(DAGSTER_DBT_UNIQUE_ID_METADATA_KEY)
        for key in context.selected_asset_check_keys
    }
    eager = "--indirect-selection" not in selection  # dbt's default
    batched = {
        unique_id: test
        for unique_id, test in every.items()
        if unique_id in selected or (eager and not models.isdisjoint(test.parents))
    }
    return exclude_nodes(args, excluded_from_dbt(manifest, every)), batched, models


def _describe(build: DbtBuild, batched: int) -> str:
    window = _window(build)
    apart = f"; {batched} of its generic tests run as one statement per model" if batched else ""
    if build.whole:
        return f"dbt {' '.join(build.args)} ({window}): the whole project, because {build.reason}{apart}"
    plan = build.plan
    return (
        f"dbt build ({window}) of {len(plan.models)} model(s) and {len(plan.tests)} test(s) downstream of "
        f"the raw tables that changed ({build.reason}); {len(plan.excluded)} node(s) untouched, "
        f"{len(plan.views)} of them views reading the new rows as they are{apart}"
    )


def _describe_subset(build: DbtBuild, models: set[str], batched: dict[str, BatchedTest]) -> str:
    apart = f"; {len(batched)} generic tests run as one statement per model" if batched else ""
    return f"dbt build ({_window(build)}) of the {len(models)} model(s) and the checks selected in Dagster{apart}"


def _window(build: DbtBuild) -> str:
    if not build.env.get(MIN_DATE_ENV):
        return "every day"
    since = f"from {build.env[MIN_DATE_ENV]}"
    if not (later := json.loads(build.env.get(MODEL_MIN_DATES_ENV) or "{}")):
        return since
    first = min(later, key=lambda name: (later[name], name))
    return (
        f"{since}; {len(later)} incremental model(s) from the later day their own raw tables changed from, e.g. "
        f"{first} from {later[first]}"
    )


def exclude_nodes(args: list[str], selectors: list[str], drop: set[str] = frozenset()) -> list[str]:
    """`args` with `selectors` added to its one `--exclude`, and the node names in `drop` taken out of it (they
    are excluded by a selector already: each name costs dbt's selection time)."""
    if "--exclude" not in args:
        return [*args, "--exclude", " ".join(selectors)] if selectors else args
    at = args.index("--exclude") + 1
    kept = [name for name in args[at].split() if name not in drop]
    return [*args[:at], " ".join([*kept, *selectors]), *args[at + 1 :]]


def _subset_selection(context: dg.AssetExecutionContext, manifest: dict, translator: DagsterDbtTranslator) -> list[str]:
    """dagster-dbt's dbt selection for the assets and checks picked in Dagster (the UI, a backfill)."""
    args, indirect = get_subset_selection_for_context(
        context=context,
        manifest=manifest,
        select="fqn:*",
        exclude=None,
        selector=None,
        dagster_dbt_translator=translator,
        current_dbt_indirect_selection_env=None,
    )
    return args + (["--indirect-selection", indirect] if indirect else [])
