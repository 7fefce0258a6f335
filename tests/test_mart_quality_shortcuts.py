"""quality._ge_shortcuts patches two GE internals process-wide while a suite is validated: undone whatever
happens, and one validation at a time, so two on threads cannot restore them in the wrong order."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from great_expectations.execution_engine import pandas_execution_engine as engine_module
from great_expectations.expectations.expectation import Expectation

from orchestration.lib.marts import quality
from tests.test_mart_quality import _marts, _run


def _ge_own() -> tuple:
    return engine_module.HASH_THRESHOLD, vars(Expectation)["configuration"]


def test_the_patch_is_undone_when_a_validation_raises(tmp_path: Path, monkeypatch) -> None:
    own, seen = _ge_own(), []

    def fails(*args):
        seen.append(_ge_own())
        raise RuntimeError("validation failed")

    monkeypatch.setattr(quality, "_run_suite", fails)
    with pytest.raises(RuntimeError, match="validation failed"):
        _run(tmp_path, _marts())

    assert seen and seen[0] != own and seen[0][0] == 0  # patched while it ran
    assert _ge_own() == own


def test_overlapping_validations_on_threads_restore_ge_as_it_was(monkeypatch) -> None:
    # unguarded: second enters while first is inside (keeping first's patch as "GE's own"), first leaves,
    # then second leaves and puts first's patch back for good
    own = _ge_own()
    monkeypatch.setattr(engine_module, "HASH_THRESHOLD", own[0])  # GE as it was for the next tests, whatever happens
    monkeypatch.setattr(Expectation, "configuration", own[1])
    first_inside, second_inside, first_left = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with quality._ge_shortcuts():
            first_inside.set()
            second_inside.wait(timeout=0.5)  # guarded, second cannot enter until this one has left
        first_left.set()

    def second() -> None:
        with quality._ge_shortcuts():
            second_inside.set()
            first_left.wait(timeout=5)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert first_inside.wait(timeout=5)
    threads[1].start()
    for thread in threads:
        thread.join()

    assert _ge_own() == own
