"""quality._domains_computed_once: while a suite is validated, GE's pandas engine computes each metric domain once;
and the recency check's accounts, end to end, on handles that need quoting beside a row without a handle (its
overview-fixture dates from test_mart_quality.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.execution_engine.pandas_batch_data import PandasBatchData
from great_expectations.expectations.row_conditions import Column

from orchestration.lib.marts.quality import _domains_computed_once
from tests.test_mart_quality import D2, D3, OVERVIEW, _failing, _marts, _result, _run


def test_a_domain_is_computed_once_per_suite_and_the_engine_is_restored() -> None:
    engine, data = PandasExecutionEngine(), pd.DataFrame({"views": [1, 2, 3, 4, 5, 6, 7]})
    engine.load_batch_data("batch", PandasBatchData(engine, data))
    calls = []
    own_filter = engine._apply_row_condition_filter
    engine._apply_row_condition_filter = lambda *args: calls.append(args[1]) or own_filter(*args)
    kwargs = {"batch_id": "batch", "row_condition": Column("views") > 4, "column": "views"}

    with _domains_computed_once(engine):
        first = engine.get_domain_records(dict(kwargs))
        again = engine.get_domain_records(dict(kwargs))
        table = engine.get_domain_records({k: v for k, v in kwargs.items() if k != "column"})

    assert first is again and list(first["views"]) == [5, 6, 7] and list(table.index) == [4, 5, 6]
    assert len(calls) == 2  # the column domain once, the table domain once
    assert "get_domain_records" not in vars(engine)  # the engine's own method again:
    assert list(engine.get_domain_records(dict(kwargs))["views"]) == [5, 6, 7] and len(calls) == 3


def test_recency_of_handles_that_need_quoting_beside_a_row_without_a_handle(tmp_path: Path) -> None:
    # o'brien: newest day 03-03, export 03-07 (4 days: lags); say "hi": newest day 03-02, export 03-03 (passes);
    # the row without a handle belongs to no account and counts in no account's newest day.
    marts = _marts()
    extra = pd.DataFrame(
        {
            "account_handle": ["o'brien", "o'brien", 'say "hi"', None],
            "metric_date": [D2, D3, D2, dt.date(2024, 3, 9)],
            "video_views": [1, 2, 3, 4],
            "likes": [1, 1, 1, 1],
            "is_provisional": [False, True, True, True],
            "extra_column": [6, 7, 8, 9],
        }
    )
    marts[OVERVIEW] = pd.concat([marts[OVERVIEW], extra], ignore_index=True)
    accounts = pd.DataFrame({"account_handle": ["o'brien", 'say "hi"'], "last_export_date": [D3, D3]})
    accounts.loc[0, "last_export_date"] = dt.date(2024, 3, 7)
    marts["dim_accounts"] = pd.concat([marts["dim_accounts"], accounts], ignore_index=True)

    results = _run(tmp_path, marts)

    assert (OVERVIEW, "recency") in _failing(results)
    recency = _result(results, OVERVIEW, "recency")
    assert recency.details["accounts"] == 4  # alice, bob, o'brien, say "hi": no account for the row without one
    [failed] = recency.details["failed"]
    assert failed["unexpected_rows"] == [
        {
            "account_handle": "o'brien",
            "lag_days": 4,
            "newest_metric_date": "2024-03-03",
            "last_export_date": "2024-03-07",
        }
    ]
    assert (failed["element_count"], failed["unexpected_count"]) == (4, 1)  # say "hi" (1 day) passed
