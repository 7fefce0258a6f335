"""quality._domains_computed_once: while a suite is validated, GE's pandas engine computes each metric domain once,
and an `account_handle == '<handle>'` row condition takes that account's rows from one grouping of the column.

The rows must be exactly those GE's own `DataFrame.query` selects: the frames are compared with the engine's
own filter, and the recency check is run end to end on handles that need quoting in a query, beside a row
without a handle (its overview-fixture dates from test_mart_quality.py).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.execution_engine.pandas_batch_data import PandasBatchData
from great_expectations.expectations.row_conditions import Column

from orchestration.lib.marts.quality import _domains_computed_once
from tests.test_mart_quality import D2, D3, OVERVIEW, _failing, _marts, _result, _run

HANDLES = ["alice", None, "o'brien", "alice", 'say "hi"', "o'brien", "alice"]


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_handle": pd.array(HANDLES, dtype="str"),
            "handle_object": pd.Series(HANDLES, dtype=object),
            "views": [1, 2, 3, 4, 5, 6, 7],
        }
    )


CONDITIONS = [
    Column("account_handle") == "alice",  # rows 0, 3, 6
    Column("account_handle") == "o'brien",  # rows 2, 5
    Column("account_handle") == 'say "hi"',  # row 4
    Column("account_handle") == "nobody",  # no row
    Column("handle_object") == "o'brien",  # an object column: grouped too
    Column("views") == 4,  # not a string column: GE's query
    Column("account_handle") != "alice",  # not an equality: GE's query (null is not "not alice")
    Column("views") > 4,
]


@pytest.mark.parametrize("condition", CONDITIONS, ids=[str(c.dict()) for c in CONDITIONS])
def test_rows_of_a_row_condition_are_the_rows_ge_queries(condition) -> None:
    engine, data = PandasExecutionEngine(), _frame()
    expected = engine._apply_row_condition_filter(data, condition, {})
    with _domains_computed_once(engine):
        rows = engine._apply_row_condition_filter(data, condition, {})
        as_dict = engine._apply_row_condition_filter(data, condition.dict(), {})  # how a stored config gives it

    pd.testing.assert_frame_equal(rows, expected, check_index_type=True)
    pd.testing.assert_frame_equal(as_dict, expected, check_index_type=True)


def test_equality_rows_worked_out_by_hand() -> None:
    engine, data = PandasExecutionEngine(), _frame()
    with _domains_computed_once(engine):
        alice = engine._apply_row_condition_filter(data, Column("account_handle") == "alice", {})
        nobody = engine._apply_row_condition_filter(data, Column("account_handle") == "nobody", {})

    assert list(alice.index) == [0, 3, 6] and list(alice["views"]) == [1, 4, 7]
    assert nobody.empty and list(nobody.columns) == list(data.columns)
    assert list(nobody.dtypes) == list(data.dtypes)


def test_a_domain_is_computed_once_per_suite_and_the_engine_is_restored() -> None:
    engine, data = PandasExecutionEngine(), _frame()
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
    assert "get_domain_records" not in vars(engine)  # the engine's own method again, and its own filter:
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
    assert recency.details["expectations"] == 4  # alice, bob, o'brien, say "hi"
    [failed] = recency.details["failed"]
    assert failed["account"] == "o'brien"
    assert failed["observed_value"] == "2024-03-03"
    assert failed["expected"] == {"column": "metric_date", "min_value": "2024-03-04", "max_value": "2024-03-07"}
    assert recency.details["observed"]['max(metric_date)[say "hi"]'] == "2024-03-02"
    assert recency.details["observed"]["max(metric_date)[alice]"] == D3.isoformat()
