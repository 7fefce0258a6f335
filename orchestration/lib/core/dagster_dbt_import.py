"""dagster-dbt for a process whose dbt runs elsewhere, loaded without dbt-core: ~1 s of every `make run` that spawns
its dbt worker (2 cores or more).

dagster-dbt imports dbt-core when it is imported itself (`dagster_dbt/compat.py`), for dbt's status and node-type
enums and its version; where dbt-core is not installed (its mode for dbt Fusion) it defines the same enums with the
same string values. `python -m orchestration run` builds in its dbt worker (`dbt_worker.py`), so its own process
needs dagster-dbt's asset definitions and its translation of the worker's events into Dagster's, which read the
manifest and the strings of dbt's events, never dbt-core. `load_without_dbt_core()` imports dagster-dbt with
dbt-core hidden, then unhides it: a later `import dbt` (a build on a thread once the worker is gone) works as usual,
and the two modes' enums compare equal as the strings they are. What else the mode changes is out of our way:
`@dbt_assets` with a `select`/`exclude` other than the default needs dbt-core to resolve it (ours selects
everything), and dagster-dbt's CLI resource would take dbt Fusion for the engine (we do not use it).

tests/test_dagster_dbt_import.py holds the definitions and the translated events of this mode to those of the other.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import logging
import sys

HIDDEN_PACKAGE = "dbt"  # dbt-core, its adapters and their namespace; dbt_common (no enum of theirs) stays visible


class _HideDbtCore(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == HIDDEN_PACKAGE or name.startswith(HIDDEN_PACKAGE + "."):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while dagster-dbt loads)", name=name)
        return None  # any other module: the usual finders


def load_without_dbt_core() -> bool:
    """Import dagster-dbt without dbt-core; whether it was loaded so (False: dagster-dbt or dbt-core was imported
    already, and dagster-dbt is as it was)."""
    if "dagster_dbt" in sys.modules or HIDDEN_PACKAGE in sys.modules:
        return False
    finder = _HideDbtCore()
    sys.meta_path.insert(0, finder)
    try:
        importlib.import_module("dagster_dbt")
    finally:
        sys.meta_path.remove(finder)
    return True


@contextlib.contextmanager
def root_logging_kept():
    """The root logger's handlers as they were: dbt-core's first import adds one writing to stderr (snowplow_tracker
    calls `logging.basicConfig`), which dagster-dbt takes off again when it imports dbt-core itself. A process that
    loaded dagster-dbt without it imports dbt-core later, inside this."""
    handlers = list(logging.getLogger().handlers)
    try:
        yield
    finally:
        logging.getLogger().handlers = handlers
