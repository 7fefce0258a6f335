"""dagster-dbt loaded without dbt-core (what `python -m orchestration run` does while its dbt worker builds) gives
the definitions and the Dagster events it gives with dbt-core (what this test process, the UI and a run without a
worker load). Nothing at this module's top imports dagster-dbt: the other mode runs it in a fresh interpreter."""

import hashlib
import json
import sys
from pathlib import Path

import pytest

from orchestration.lib.core import dagster_dbt_import
from orchestration.lib.core.dbt_manifest import manifest_path
from tests.fresh_interpreter import run_fresh

MODEL = "model.tiktok_warehouse.fct_account_overview_daily"
# every status a model's or a test's result can carry: the translation compares them to dagster-dbt's enums
MODEL_STATUSES = ("success", "error", "skipped")
TEST_STATUSES = ("pass", "fail", "warn", "error", "skipped")


# Dagster's own snapshot of a schedule reads a property it deprecated
@pytest.mark.filterwarnings("ignore:Property `ScheduleDefinition.environment_vars` is deprecated")
def test_without_dbt_core_the_definitions_and_the_events_are_those_with_it(dbt_manifest, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(tmp_path))
    code = (
        "import json, sys\n"
        "from orchestration.lib.core import dagster_dbt_import\n"
        "assert dagster_dbt_import.load_without_dbt_core()\n"
        "from tests.test_dagster_dbt_import import definitions_and_events\n"
        "figures = definitions_and_events(sys.argv[1])\n"
        "figures['dbt_core_imported'] = 'dbt' in sys.modules\n"
        "from dagster_dbt import compat\n"
        "figures['dbt_core_seen'] = compat.DBT_PYTHON_VERSION is not None\n"
        "import logging\n"
        "handlers = list(logging.getLogger().handlers)\n"
        "with dagster_dbt_import.root_logging_kept():\n"
        "    import dbt.contracts.results  # unhidden once dagster-dbt is loaded; adds a root handler\n"
        "figures['root_handlers_kept'] = logging.getLogger().handlers == handlers\n"
        "print(json.dumps(figures))\n"
    )
    without = run_fresh(code, str(tmp_path / "other"))  # TIKTOK_DATA_DIR as set here
    assert (without.pop("dbt_core_imported"), without.pop("dbt_core_seen")) == (False, False)
    assert without.pop("root_handlers_kept") is True
    with_dbt_core = definitions_and_events(str(tmp_path / "here"))
    from dagster_dbt import compat

    assert compat.DBT_PYTHON_VERSION is not None  # this process: dagster-dbt as usual
    assert without["definitions"] == with_dbt_core["definitions"]
    # a materialization for the model that succeeded; a check result for each test that ran, with its severity
    assert [event[:4] for event in with_dbt_core["events"]] == [
        ["success", "AssetMaterialization", None, None],
        ["pass", "AssetCheckEvaluation", True, "ERROR"],
        ["fail", "AssetCheckEvaluation", False, "ERROR"],
        ["warn", "AssetCheckEvaluation", False, "WARN"],
        ["error", "AssetCheckEvaluation", False, "ERROR"],
    ]
    assert without["events"] == with_dbt_core["events"]


def test_dagster_dbt_is_left_as_it_is_once_imported():
    from dagster_dbt import compat  # the suite's mode: with dbt-core

    finders = list(sys.meta_path)
    assert dagster_dbt_import.load_without_dbt_core() is False
    assert sys.meta_path == finders and compat.DBT_PYTHON_VERSION is not None


def definitions_and_events(target: str) -> dict:
    """A digest of the job's definitions as Dagster serializes them for its UI, and each raw result of
    `_raw_results` as the Dagster events the dbt step yields for it: status, event, passed, severity, serialized."""
    from dagster._core.remote_representation.external_data import RepositorySnap
    from dagster._serdes import serialize_value

    from orchestration.definitions import defs
    from orchestration.defs.dbt import LayeredTranslator
    from orchestration.defs.dbt_run import _to_dagster

    snapshot = serialize_value(RepositorySnap.from_def(defs().get_repository_def()))
    manifest = json.loads(manifest_path().read_text())
    events = []
    for status, raw in _raw_results(manifest):
        for event in _to_dagster(raw, None, manifest, LayeredTranslator(), None, Path(target)):
            severity = getattr(event, "severity", None)
            passed = getattr(event, "passed", None)
            events.append([status, type(event).__name__, passed, severity and severity.name, serialize_value(event)])
    return {"definitions": hashlib.sha256(snapshot.encode()).hexdigest(), "events": events}


def _raw_results(manifest: dict):
    """dbt's result events (their JSON form, as the worker sends them) for one model and one of its tests."""
    test = next(
        uid for uid, node in sorted(manifest["nodes"].items())
        if node["resource_type"] == "test" and node.get("attached_node") == MODEL
    )  # fmt: skip
    results = (("LogModelResult", MODEL, MODEL_STATUSES), ("LogTestResult", test, TEST_STATUSES))
    for name, unique_id, statuses in results:
        for status in statuses:
            node_info = {
                "unique_id": unique_id,
                "node_status": status,
                "node_started_at": "2026-01-05T10:00:00.000000",
                "node_finished_at": "2026-01-05T10:00:01.500000",
            }
            data = {"node_info": node_info, "status": status, "execution_time": 1.5}
            if name == "LogTestResult":
                data["num_failures"] = 0 if status == "pass" else 3
            yield status, {"info": {"name": name, "invocation_id": "i", "level": "info", "msg": status}, "data": data}
