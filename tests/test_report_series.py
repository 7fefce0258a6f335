"""Columns per account for the charts (lib/report/series.py): the values a row fetch gives, dates as ISO text."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import numpy as np
import pyarrow as pa

from orchestration.lib.report.series import by_account, column_values, groups, runs


def test_column_values_keep_every_value_and_null_of_a_sliced_or_chunked_column():
    # a slice starts inside the null bitmap's first byte: the offset is read, not assumed to be 0
    ints = pa.array([7, None, 3, 2**62 + 1, None, -5], pa.int64()).slice(1)
    assert column_values(pa.chunked_array([ints])) == [None, 3, 2**62 + 1, None, -5]  # exact past 2**53
    floats = pa.chunked_array([pa.array([0.1, None]), pa.array([1e-05, 2.5])])
    assert column_values(floats) == [0.1, None, 1e-05, 2.5]
    small = pa.chunked_array([pa.array([1, 2], pa.int32()), pa.array([None], pa.int32())])
    assert column_values(small) == [1, 2, None]
    decimals = pa.chunked_array([pa.array([Decimal("0.6"), None], pa.decimal128(2, 1))])
    assert column_values(decimals) == [Decimal("0.6"), None]
    assert column_values(pa.chunked_array([pa.array(["a", None])])) == ["a", None]
    assert column_values(pa.chunked_array([pa.array([True, None, False])])) == [True, None, False]


def test_dates_become_their_iso_text():
    days = pa.array([date(2025, 12, 31), None, date(1969, 12, 31), date(2025, 12, 31), date(2, 3, 4)]).slice(0)
    assert column_values(pa.chunked_array([days])) == ["2025-12-31", None, "1969-12-31", "2025-12-31", "0002-03-04"]
    later = pa.array([date(2026, 1, 1), None, date(2026, 1, 2)]).slice(1)
    assert column_values(pa.chunked_array([later])) == [None, "2026-01-02"]


def test_a_null_date_from_duckdb_is_none_whatever_its_slot_holds(tmp_path):
    # DuckDB's Arrow export leaves what its vector held in a null date's slot (here INT32_MIN, no day at all);
    # pyarrow's own arrays hold 0 there, a day that formats, so only DuckDB's result shows it
    mart = tmp_path / "n.parquet"
    con = duckdb.connect()
    con.execute(
        f"""copy (select 'a' as h, case when i = 1 then null else date '2020-01-01' + i::int end as d
        from range(3) r(i)) to '{mart}'"""
    )
    con.execute(f"create view v as select * from read_parquet('{mart}')")
    days = con.sql("select * from v order by h").to_arrow_table().column("d").combine_chunks()
    slot = np.frombuffer(days.buffers()[1], dtype=np.int32)[days.offset + 1]
    assert days.is_null().to_pylist() == [False, True, False] and slot == np.iinfo(np.int32).min
    assert column_values(pa.chunked_array([days])) == ["2020-01-01", None, "2020-01-03"]  # None, as a row fetch gives


def test_rows_by_account_and_by_key_keep_their_order():
    table = pa.table(
        {
            "account_handle": ["a", "a", "b", "a"],  # "a" again after "b": its rows still all go to "a", in order
            "metric_date": [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 1), date(2026, 1, 3)],
            "views": [1, 2, 3, 4],
        }
    )
    assert by_account(table) == {
        "a": {"metric_date": ["2026-01-01", "2026-01-02", "2026-01-03"], "views": [1, 2, 4]},
        "b": {"metric_date": ["2026-01-01"], "views": [3]},
    }
    series = {"gender": ["Male", "Male", "Female", "Male"], "share": [0.1, 0.2, 0.3, 0.4]}
    grouped = groups(series, "gender")
    assert list(grouped) == ["Male", "Female"]
    assert grouped["Male"] == {"gender": ["Male"] * 3, "share": [0.1, 0.2, 0.4]}
    assert runs([]) == [] and runs(["x"]) == [(0, 1)] and runs([None, None, "x"]) == [(0, 2), (2, 3)]
