"""What great-expectations validates of a published mart: small frames DuckDB computes from the file.

The whole file never goes to pandas: a daily run re-checks the marts that changed, and the largest of those hold
every video's every day of the history. DuckDB reads the file where it lies and hands GE (quality.py) only
- `rows_breaking_grain`: every row whose grain key has an empty column or is shared with another row, with all
  the file's columns. Those are all the rows GE's not-null and unique expectations can report, so their
  unexpected counts and examples are the whole file's; an empty frame is a file that keeps its grain. Its
  columns are the file's, so the schema expectation reads them from it.
  `counted_over_file` then gives their element counts and percentages over the file's rows.
- `row_count_frame`: the file's row count, one row (from the parquet footer), for the volume check.
- `recency_by_account`: one row per account of the mart, its newest date beside its newest loaded export.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pandas as pd

    from orchestration.lib.marts.quality import MartSpec

_ROW = "file_row_number"  # read_parquet's own column: a row's position in the file
# What each suite's frame holds of the published file, in its validation page's Batch Spec.
FRAMES = {
    "grain": "the file's rows that break its grain (a null key column, a key shared with another row); all columns",
    "volume": "the file's row count",
    "recency": "one row per account: its newest date and its newest loaded export date",
}


def _quoted(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def rows_breaking_grain(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, path: Path
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """The file's rows whose key (any of `spec.keys`) has a null column or repeats, in file order; and the figures
    the grain check reports: the file's rows and how many of them break the grain.

    A key naming a column the file lacks adds no rows: GE's expectation on it fails for the missing column.
    A file DuckDB cannot read gives no frame and an `error`: the checks on it fail."""
    parameters = {"path": str(path)}
    try:
        described = con.execute("describe select * from read_parquet($path)", parameters).fetchall()
        present = {row[0] for row in described}
        # each row's position in the file: the frame's index, so GE's example indexes are rows of the file
        position, source = _ROW, f"read_parquet($path, {_ROW} = true)"
        if _ROW in present:  # a column of the file has the name read_parquet gives it: count the rows instead
            position = next(f"_{_ROW}_{n}" for n in range(len(present) + 1) if f"_{_ROW}_{n}" not in present)
            source = f"(select *, row_number() over () - 1 as {position} from read_parquet($path))"
        keys = [key for key in spec.keys if set(key) <= present]
        nullable = dict.fromkeys(column for key in spec.keys for column in key if column in present)
        breaking = [f"{_quoted(column)} is null" for column in nullable] + [
            f"{position} in (select unnest(list({position})) from {source} group by {', '.join(map(_quoted, key))} "
            "having count(*) > 1)"
            for key in keys
        ]
        frame = con.sql(
            f"select * from {source} where {' or '.join(breaking) or 'false'} order by {position}", params=parameters
        ).to_arrow_table()
        [(rows,)] = con.execute("select count(*) from read_parquet($path)", parameters).fetchall()
    except duckdb.Error as error:
        return None, {"error": f"cannot read {path.name}: {error}"}
    import pandas as pd

    # pyarrow dtypes, as GE's parquet reader gave them: dates stay dates in the results ("2024-03-03")
    frame = frame.to_pandas(types_mapper=pd.ArrowDtype)
    frame.index = pd.Index(frame.pop(position).astype("int64").to_numpy())
    return frame, {"rows": rows, "rows_breaking_grain": len(frame)}


def read_error(figures: dict[str, Any]) -> dict[str, Any]:
    """Of `rows_breaking_grain`'s figures, what the other checks of the file report: why it could not be read."""
    return {"error": figures["error"]} if "error" in figures else {}


def counted_over_file(result: dict[str, Any], rows: int) -> None:
    """An expectation's result on `rows_breaking_grain`'s frame, told over the whole file of `rows` rows.

    Its unexpected and missing counts are the file's already (every null key and every shared key is in the
    frame); its element count and the percentages GE derives from it (`_format_map_output`) are the frame's."""
    if "element_count" not in result:
        return
    unexpected, missing = result.get("unexpected_count"), result.get("missing_count")
    result["element_count"] = rows
    if unexpected is None or rows == 0:
        return
    total = unexpected / rows * 100
    nonmissing = total
    if missing is not None and "missing_percent" in result:
        result["missing_percent"] = missing / rows * 100
        nonmissing = unexpected / (rows - missing) * 100 if rows > missing else None
    result["unexpected_percent"] = nonmissing
    for key, value in (("unexpected_percent_total", total), ("unexpected_percent_nonmissing", nonmissing)):
        if key in result:
            result[key] = value


def described(check: str, path: Path, figures: dict[str, Any]) -> dict[str, Any]:
    """What a suite's batch is, for its validation page (GE shows the batch spec's keys): the published file, what
    the frame holds of it and, for the grain's frame, how many of the file's rows it holds."""
    source = {"data_asset_name": path.name, "published_file": str(path), "frame": FRAMES[check]}
    if check == "grain" and "rows" in figures:
        source |= {"rows_in_file": figures["rows"], "rows_in_frame": figures["rows_breaking_grain"]}
    return source


def row_count_frame(figures: dict[str, Any]) -> pd.DataFrame | None:
    """The volume check's frame, from `rows_breaking_grain`'s figures: one row, the file's row count."""
    import pandas as pd

    return None if "error" in figures else pd.DataFrame({"row_count": [figures["rows"]]})


def recency_by_account(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    mart_file: Path,
    accounts_file: Path,
    export_dates: tuple[str, str],
    recency_days: int,
) -> tuple[pd.DataFrame | None, dict[str, Any]]:
    """One row per account of the mart: its newest date, its newest loaded export date and the days between
    (null when either is unknown), by handle; and the figures the check reports (`error`: it cannot pass)."""
    import pandas as pd

    accounts_mart, export_column = export_dates
    newest = f"newest_{spec.recency_column}"
    context: dict[str, Any] = {"recency_days": recency_days, "export_dates_from": ".".join(export_dates)}
    try:
        if not accounts_file.is_file():
            raise FileNotFoundError(f"{accounts_file.name} is not published")
        rows = con.execute(
            f"""
            select mart.account_handle, mart.newest, accounts.{export_column},
                datediff('day', mart.newest, accounts.{export_column})
            from (
                select account_handle, max("{spec.recency_column}") as newest from read_parquet($mart)
                where account_handle is not null group by account_handle
            ) as mart
            left join (  -- one row per handle, should dim_accounts repeat one (its grain check fails)
                select account_handle, max({export_column}) as {export_column} from read_parquet($accounts)
                group by account_handle
            ) as accounts on accounts.account_handle = mart.account_handle
            order by mart.account_handle
            """,
            {"mart": str(mart_file), "accounts": str(accounts_file)},
        ).fetchall()
    except (duckdb.Error, OSError) as error:
        context["error"] = f"cannot read the accounts and their export dates: {error}"
        return None, context
    # object columns: GE reports plain ints, dates and None for the accounts that fail
    frame = pd.DataFrame(rows, columns=["account_handle", newest, export_column, "lag_days"], dtype=object)
    unknown = [account for account, _, export_date, _ in rows if export_date is None]
    context["accounts"] = len(rows)
    if unknown:
        context["error"] = f"no loaded export date in {accounts_mart} for: {', '.join(unknown)}"
    elif not rows:
        context["error"] = f"{spec.name} has no account, so none can be up to date"
    return frame, context
