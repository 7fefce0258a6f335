"""A query's result as columns of plain Python values per account, for the charts: no row dict per data point.

A chart draws columns (a trace's x and y), so the rows of a section are taken from DuckDB as Arrow and cut into
one `Series` (column name → list) per account. Values are the ones a row fetch gives (int, float, bool, str,
Decimal, None), except dates: a date is its ISO text, what the figure JSON writes for it, so encoding a figure
never calls back into Python for a date (at 300 accounts x 90 days that was half a million calls).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa

Series = dict[str, list]  # column name → values, all columns of one length

_EPOCH = date(1970, 1, 1).toordinal()


def by_account(table: pa.Table, handle: str = "account_handle") -> dict[str, Series]:
    """`table`'s rows by `handle` (the column is left out), in row order; the table is ordered by `handle`."""
    columns = {name: column_values(table.column(name)) for name in table.column_names if name != handle}
    return _grouped(columns, table.column(handle).to_pylist())


def groups(series: Series, key: str) -> dict[object, Series]:
    """The rows of `series` by the value of `key`, in row order, keys in order of appearance."""
    return _grouped(series, series[key])


def _grouped(columns: Series, keys: list) -> dict[object, Series]:
    """The rows of `columns` by their value in `keys` (one per row), in row order, keys in order of appearance."""
    out: dict[object, Series] = {}
    for start, stop in runs(keys):
        part = {name: values[start:stop] for name, values in columns.items()}
        previous = out.get(keys[start])
        if previous is None:
            out[keys[start]] = part
        else:  # a key met again further down (not in an ordered table): its rows follow, as a grouping gives
            for name, values in part.items():
                previous[name].extend(values)
    return out


def runs(values: list) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values."""
    if not values:
        return []
    if len(values) == 1:
        return [(0, 1)]
    array = np.empty(len(values), dtype=object)
    array[:] = values
    starts = [0, *(np.flatnonzero(array[1:] != array[:-1]) + 1).tolist()]
    return list(zip(starts, [*starts[1:], len(values)], strict=True))


def column_values(column: pa.ChunkedArray) -> list:
    """A column as Python values; dates as ISO text. Numbers are read from Arrow's buffers by numpy (no
    pyarrow.compute: its first use imports pandas)."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    kind = array.type
    if not (pa.types.is_date32(kind) or pa.types.is_integer(kind) or pa.types.is_floating(kind)):
        return array.to_pylist()  # text, booleans, decimals: Arrow's Python values are a row fetch's
    valid = _valid(array) if array.null_count else None
    if pa.types.is_date32(kind):
        days = _numbers(array, np.int32)
        # a null slot holds whatever DuckDB's vector held (INT32_MIN, no day at all): day 0 there, None below
        values = _iso_dates(days if valid is None else np.where(valid, days, 0))
    else:
        values = _numbers(array, kind.to_pandas_dtype()).tolist()
    if valid is not None:
        for i in np.flatnonzero(~valid).tolist():
            values[i] = None
    return values


def _numbers(array: pa.Array, dtype) -> np.ndarray:
    """The values buffer as numpy (whatever a null slot holds: the caller puts None there)."""
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=array.offset + len(array))[array.offset :]


def _valid(array: pa.Array) -> np.ndarray:
    bits = np.frombuffer(array.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little", count=array.offset + len(array))[array.offset :].astype(bool)


def _iso_dates(days: np.ndarray) -> list:
    """ISO text of each day number (days since 1970-01-01): each distinct day is formatted once."""
    distinct, index = np.unique(days, return_inverse=True)
    text = np.empty(len(distinct), dtype=object)
    text[:] = [date.fromordinal(int(d) + _EPOCH).isoformat() for d in distinct]
    return text[index].tolist()
