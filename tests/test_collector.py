"""When full garbage collections run (lib/core/collector.py). gc.freeze acts on a whole process: the process-wide
cases run in a fresh interpreter each."""

import gc

import pytest

from orchestration.lib.core import collector
from tests.fresh_interpreter import run_fresh


def test_the_deferred_start_up_ends_frozen_with_the_thresholds_it_began_with():
    seen = run_fresh(
        "import gc, json\n"
        "from orchestration.lib.core import collector\n"
        "before = gc.get_threshold()\n"
        "collector.defer_until_started()\n"
        "deferred = gc.get_threshold()\n"
        "frozen_before = gc.get_freeze_count()\n"
        "objects = [[i] for i in range(1000)]  # alive when start-up ends\n"
        "first, second = collector.started(), collector.started()\n"
        "print(json.dumps({'before': before, 'deferred': deferred, 'after': gc.get_threshold(),\n"
        "                  'first': first, 'second': second, 'frozen': gc.get_freeze_count() - frozen_before}))\n"
    )
    assert seen["deferred"] == [seen["before"][0], seen["before"][1], collector.NO_FULL_COLLECTION]
    assert seen["after"] == seen["before"]
    assert (seen["first"], seen["second"]) == (True, False)  # frozen once
    assert seen["frozen"] >= 1000


def test_without_a_deferred_start_up_nothing_is_frozen():
    # this test process calls run_pipeline again and again: it must keep collecting what each run leaves.
    # A freeze would move these young objects (and every other) to the permanent generation: the count would grow.
    # It may shrink meanwhile (a frozen object freed, here or on another thread of the worker): equality was flaky.
    young = [[i] for i in range(1000)]
    thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert collector.started() is False
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() <= frozen, "started() froze a process whose start-up was not deferred"
    assert len(young) == 1000


def test_a_command_other_than_run_ends_the_deferral_before_its_work(tmp_path):
    seen = run_fresh(
        "import gc, json\n"
        "from orchestration.lib.core import collector\n"
        "before = gc.get_threshold()\n"
        "collector.defer_until_started()\n"
        "from orchestration import cli\n"
        "during = []\n"
        "cli.report = lambda paths: during.append(gc.get_threshold()) or 1  # the command's work\n"
        "code = cli.main(['report'])\n"
        "print(json.dumps({'code': code, 'before': before, 'during': during, 'after': gc.get_threshold()}))\n",
        env={"TIKTOK_DATA_DIR": str(tmp_path)},
    )
    assert seen["code"] == 1 and seen["during"] == [seen["before"]] and seen["after"] == seen["before"]


def test_full_collections_wait_inside_and_resume_after_an_error():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector.full_collections_deferred():
        assert gc.get_threshold() == (before[0], before[1], collector.NO_FULL_COLLECTION)
        raise RuntimeError
    assert gc.get_threshold() == before
