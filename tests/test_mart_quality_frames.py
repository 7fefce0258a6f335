"""What great-expectations is handed of a published mart (lib/marts/quality_frames.py): the rows that break its
grain, never the whole file, and the same verdicts and counts as the whole file would give."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from orchestration.lib.marts.quality import MartSpec
from orchestration.lib.marts.quality_frames import counted_over_file, row_count_frame, rows_breaking_grain
from tests.test_mart_quality import OVERVIEW, _failing, _marts, _result, _run

TRENDING = MartSpec(
    "rpt_trending_videos_7d",
    keys=(("account_handle", "as_of_date", "trending_rank"), ("account_handle", "as_of_date", "video_id")),
)


def _trending(rows: int) -> pd.DataFrame:
    """`rows` rows that keep both keys: one rank and one video per row, all on one day."""
    return pd.DataFrame(
        {
            "account_handle": ["alice"] * rows,
            "as_of_date": pd.to_datetime(["2024-03-03"] * rows).date,
            "trending_rank": range(1, rows + 1),
            "video_id": [f"v{i}" for i in range(rows)],
        }
    )


def test_only_the_rows_breaking_a_key_are_read_into_pandas_in_file_order(tmp_path: Path) -> None:
    frame = _trending(10_000)
    frame.loc[17, "trending_rank"] = 5  # shares rank 5 with row 4 (first key)
    frame.loc[9_000, "video_id"] = "v3"  # shares its video with row 3 (second key)
    frame.loc[42, "as_of_date"] = None  # an empty key column (both keys)
    frame.loc[43, "account_handle"] = None
    path = tmp_path / "rpt_trending_videos_7d.parquet"
    frame.to_parquet(path, index=False)

    breaking, figures = rows_breaking_grain(duckdb.connect(), TRENDING, path)

    assert figures == {"rows": 10_000, "rows_breaking_grain": 6}
    assert list(breaking.columns) == list(frame.columns)  # the file's columns: the schema check reads them
    assert list(breaking["video_id"]) == ["v3", "v4", "v17", "v42", "v43", "v3"]  # rows 3, 4, 17, 42, 43, 9000
    assert list(breaking["trending_rank"]) == [4, 5, 5, 43, 44, 9_001]


def test_a_file_keeping_its_grain_gives_an_empty_frame_with_its_columns(tmp_path: Path) -> None:
    path = tmp_path / "rpt_trending_videos_7d.parquet"
    _trending(500).to_parquet(path, index=False)

    breaking, figures = rows_breaking_grain(duckdb.connect(), TRENDING, path)

    assert figures == {"rows": 500, "rows_breaking_grain": 0}
    assert breaking.empty and list(breaking.columns) == ["account_handle", "as_of_date", "trending_rank", "video_id"]
    assert row_count_frame(figures).to_dict("list") == {"row_count": [500]}


def test_duplicates_and_nulls_are_counted_as_over_the_whole_file(tmp_path: Path) -> None:
    # 3 rows share (alice, 03-03), one row has no metric_date: GE counts 3 duplicates and 1 null, as pandas does
    marts = _marts()
    overview = marts[OVERVIEW]
    extra = overview.iloc[[2, 2]].assign(video_views=[7, 8])
    missing_date = overview.iloc[[0]].assign(metric_date=None)
    marts[OVERVIEW] = pd.concat([overview, extra, missing_date], ignore_index=True)
    whole = marts[OVERVIEW]
    duplicated = int(
        whole.dropna(subset=["metric_date"]).duplicated(["account_handle", "metric_date"], keep=False).sum()
    )
    assert (duplicated, int(whole["metric_date"].isna().sum())) == (3, 1)

    results = _run(tmp_path, marts)

    grain = _result(results, OVERVIEW, "grain")
    assert (grain.details["rows"], grain.details["rows_breaking_grain"]) == (len(whole), 4)
    failed = {
        r["label"]: (r["element_count"], r["unexpected_count"], r["unexpected_percent"])
        for r in grain.details["failed"]
    }
    assert failed == {  # counted over the file's 8 rows, not the frame's 4: 1 of 8 and 3 of 8
        "column_values_to_not_be_null(metric_date)": (8, 1, 12.5),
        "compound_columns_to_be_unique(account_handle,metric_date)": (8, duplicated, 37.5),
    }
    assert _result(results, OVERVIEW, "volume").details["observed"] == {"row_count": len(whole)}


def test_a_key_column_the_file_lacks_fails_grain_and_schema_without_stopping_the_others(tmp_path: Path) -> None:
    marts = _marts()
    marts[OVERVIEW] = marts[OVERVIEW].drop(columns=["metric_date"])

    results = _run(tmp_path, marts)

    assert (OVERVIEW, "grain") in _failing(results) and (OVERVIEW, "schema") in _failing(results)
    assert _result(results, OVERVIEW, "volume").passed and _result(results, "dim_accounts", "grain").passed
    grain = _result(results, OVERVIEW, "grain")
    assert grain.details["rows_breaking_grain"] == 0  # account_handle has no null; the missing column adds no rows
    assert any("metric_date" in " ".join(record.get("errors", [])) for record in grain.details["failed"])


def test_a_published_file_duckdb_cannot_read_fails_its_checks_with_the_reason(tmp_path: Path) -> None:
    marts_dir = tmp_path / "data" / "marts"
    marts_dir.mkdir(parents=True)
    (marts_dir / f"{OVERVIEW}.parquet").write_bytes(b"not a parquet file")
    marts = _marts()
    del marts[OVERVIEW]
    for name, frame in marts.items():
        frame.to_parquet(marts_dir / f"{name}.parquet", index=False)
    from orchestration.lib.marts.quality import check_published_marts
    from tests.test_mart_quality import _write_manifest

    results = check_published_marts(
        marts_dir, marts_dir / "quality", manifest_path=_write_manifest(tmp_path / "m.json")
    )

    assert [r.check for r in results if r.mart == OVERVIEW and not r.passed] == ["volume", "grain", "schema", "recency"]
    for check in ("volume", "grain", "schema"):
        assert _result(results, OVERVIEW, check).details["error"].startswith(f"cannot read {OVERVIEW}.parquet")
    assert [(r.mart, r.check) for r in results if not r.passed and r.mart != OVERVIEW] == []


def test_every_figure_ge_gives_on_the_frame_is_the_one_it_gives_on_the_whole_file(tmp_path: Path) -> None:
    """GE run twice on one file: over all its rows, and over `rows_breaking_grain`'s frame told over the file
    (`counted_over_file`). A single-column key with nulls and repeats, a compound key with half-empty and empty
    rows (GE ignores a compound key whose columns are all null), a repeated key with a null in it."""
    import great_expectations as gx

    rows = 200
    data = pd.DataFrame(
        {
            "video_id": [f"v{i}" for i in range(rows)],
            "account_handle": ["alice"] * rows,
            "metric_date": pd.date_range("2024-01-01", periods=rows, freq="D").date,
            "views": range(rows),
        }
    )
    data.loc[[5, 6], "video_id"] = None  # nulls of the single-column key
    data.loc[[30, 31, 32], "video_id"] = "v30"  # one id three times
    data.loc[[60, 61], "metric_date"] = data.loc[60, "metric_date"]  # a shared compound key
    data.loc[[90, 91], "metric_date"] = None  # (alice, null) twice: half-empty, repeated
    data.loc[[120], ["account_handle", "metric_date"]] = None  # an empty compound key
    data.loc[[150, 151], ["account_handle", "metric_date"]] = None  # empty twice
    path = tmp_path / "m.parquet"
    data.to_parquet(path, index=False)
    spec = MartSpec("m", keys=(("account_handle", "metric_date"), ("video_id",)))
    e = gx.expectations

    def results(frame: pd.DataFrame) -> dict[str, dict]:
        context = gx.get_context(mode="ephemeral")
        suite = gx.ExpectationSuite(
            name="m",
            expectations=[
                *(e.ExpectColumnValuesToNotBeNull(column=c) for c in ("account_handle", "metric_date", "video_id")),
                e.ExpectCompoundColumnsToBeUnique(column_list=["account_handle", "metric_date"]),
                e.ExpectColumnValuesToBeUnique(column="video_id"),
            ],
        )
        asset = context.data_sources.add_pandas("p").add_dataframe_asset("m")
        batch = asset.add_batch_definition_whole_dataframe("b").get_batch(batch_parameters={"dataframe": frame})
        outcomes = batch.validate(suite, result_format="SUMMARY").results
        return {
            f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', 'key')})": dict(r.result)
            for r in outcomes
        }

    whole = results(pd.read_parquet(path, dtype_backend="pyarrow"))
    breaking, figures = rows_breaking_grain(duckdb.connect(), spec, path)
    on_frame = results(breaking)
    for result in on_frame.values():
        counted_over_file(result, figures["rows"])

    assert on_frame == whole
    assert {name: (r["unexpected_count"], r.get("missing_count")) for name, r in whole.items()} == {
        "expect_column_values_to_not_be_null(account_handle)": (3, None),  # rows 120, 150, 151
        "expect_column_values_to_not_be_null(metric_date)": (5, None),  # 90, 91, 120, 150, 151
        "expect_column_values_to_not_be_null(video_id)": (2, None),  # 5, 6
        "expect_compound_columns_to_be_unique(key)": (4, 3),  # 60, 61 and (alice, null) 90, 91; 3 empty keys
        "expect_column_values_to_be_unique(video_id)": (3, 2),  # v30 x3; 2 nulls
    }
    assert whole["expect_compound_columns_to_be_unique(key)"]["unexpected_percent"] == 4 / 197 * 100
    assert figures == {"rows": rows, "rows_breaking_grain": 12}  # 5, 6, 30-32, 60, 61, 90, 91, 120, 150, 151


def test_a_file_with_its_own_file_row_number_column_is_read_all_the_same(tmp_path: Path) -> None:
    frame = _trending(50).assign(file_row_number=range(100, 150))  # the name read_parquet would give positions
    frame.loc[20, "trending_rank"] = 3  # shares rank 3 with row 2
    path = tmp_path / "rpt_trending_videos_7d.parquet"
    frame.to_parquet(path, index=False)

    breaking, figures = rows_breaking_grain(duckdb.connect(), TRENDING, path)

    assert figures == {"rows": 50, "rows_breaking_grain": 2}
    assert list(breaking.index) == [2, 20] and list(breaking["file_row_number"]) == [102, 120]
