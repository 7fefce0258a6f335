"""Raw tables keep the rows of a batch in file order (`rowid`), however DuckDB parallelises the load: the same
files always give the same table, row for row, not only the same set of rows."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from orchestration.lib.core.warehouse import connect, replace_documents
from tests.studio_fixtures import new_paths

DOCUMENTS, ROWS_PER_DOCUMENT = 2_000, 168  # 336,000 rows: several of DuckDB's row groups, scanned in parallel


def _batch() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ids = np.array([f"doc{n:05d}" for n in range(DOCUMENTS)], dtype=object)
    documents = _documents(ids)
    rows = pd.DataFrame(
        {
            "document_id": np.repeat(ids, ROWS_PER_DOCUMENT),
            "source_row": np.tile(np.arange(1, ROWS_PER_DOCUMENT + 1), DOCUMENTS),
            "metric_date": pd.Timestamp("2026-02-01"),
            "hour": np.tile(np.arange(ROWS_PER_DOCUMENT) % 24, DOCUMENTS),
            "active_followers": np.arange(DOCUMENTS * ROWS_PER_DOCUMENT),
        }
    )
    flags = pd.DataFrame(
        {
            "document_id": np.repeat(ids, 2),
            "file": "Followers_a.zip › FollowerActivity.csv",
            "source_row": np.tile([2, 1], DOCUMENTS),
            "column_name": "active_followers",
            "rule": "negative",
            "value": "-1",
            "severity": "warn",
            "message": "m",
        }
    )
    return rows, documents, flags


def _documents(ids) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "document_id": ids,
            "archive_sha256": "0" * 64,
            "original_name": "Followers_a.zip",
            "account_handle": "a",
            "file_kind": "follower_activity",
            "export_date": pd.Timestamp("2026-02-08"),
            "exported_at": pd.Timestamp("2026-02-08 10:00"),
            "status": "loaded",
            "row_count": ROWS_PER_DOCUMENT,
            "landed_at": pd.Timestamp("2026-02-08 11:00"),
        }
    )


def test_rows_and_flags_land_in_the_order_they_were_read(tmp_path):
    rows, documents, flags = _batch()
    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        con.execute("set threads = 4")  # a parallel load even on a one-core runner
        replace_documents(con, {"follower_activity": rows}, documents, flags)
        landed = con.execute("select active_followers from raw.studio_follower_activity order by rowid").fetchnumpy()
        flagged = con.execute("select document_id, source_row from raw.row_flags order by rowid").fetchall()
    assert landed["active_followers"].tolist() == list(range(DOCUMENTS * ROWS_PER_DOCUMENT))
    assert flagged == list(zip(flags["document_id"], flags["source_row"].tolist(), strict=True))


def test_rows_without_their_document_are_refused_loudly_and_nothing_lands(tmp_path):
    rows, documents, flags = _batch()
    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        with pytest.raises(ValueError, match="rows of document 'doc00000' came without their document"):
            replace_documents(con, {"follower_activity": rows}, documents.iloc[1:], flags)
        counts = [con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in ("documents", "row_flags")]
        counts.append(con.execute("select count(*) from raw.studio_follower_activity").fetchone()[0])
    assert counts == [0, 0, 0]


def test_a_document_landed_again_replaces_its_rows_flags_and_record_and_leaves_the_others(tmp_path):
    rows, documents, flags = _batch()
    paths = new_paths(tmp_path)
    again = lambda frame: frame[frame["document_id"].isin(["doc00007", "doc00009"])]  # noqa: E731
    with connect(paths.warehouse) as con:
        replace_documents(con, {"follower_activity": rows}, documents, flags)
        replace_documents(  # two of them again, read differently this time: one row each, no flag
            con,
            {"follower_activity": again(rows).groupby("document_id").head(1).assign(active_followers=-5)},
            again(documents).assign(row_count=1),
            flags.iloc[:0],
        )
        per_document = con.execute(
            """select document_id, count(*), sum(active_followers) from raw.studio_follower_activity
            where document_id in ('doc00006', 'doc00007', 'doc00009') group by all order by 1"""
        ).fetchall()
        recorded = con.execute("select count(*), sum(row_count) from raw.documents").fetchone()
        flagged = con.execute("select count(*), count(distinct document_id) from raw.row_flags").fetchone()
    first = 6 * ROWS_PER_DOCUMENT  # doc00006's first active_followers value
    assert per_document == [
        ("doc00006", ROWS_PER_DOCUMENT, sum(range(first, first + ROWS_PER_DOCUMENT))),
        ("doc00007", 1, -5),
        ("doc00009", 1, -5),
    ]
    assert recorded == (DOCUMENTS, (DOCUMENTS - 2) * ROWS_PER_DOCUMENT + 2)
    assert flagged == (2 * (DOCUMENTS - 2), DOCUMENTS - 2)


def test_each_row_takes_its_own_documents_lineage_even_when_documents_interleave(tmp_path):
    rows, documents, _ = _batch()
    documents = documents.assign(account_handle=[f"acct{n}" for n in range(DOCUMENTS)])
    picked = rows.iloc[[0, 200, 1, 1, 400, 201]]  # doc00000, doc00001, doc00000, doc00000, doc00002, doc00001
    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        replace_documents(con, {"follower_activity": picked}, documents, None)
        landed = con.execute(
            "select document_id, account_handle from raw.studio_follower_activity order by rowid"
        ).fetchall()
    assert landed == [
        ("doc00000", "acct0"),
        ("doc00001", "acct1"),
        ("doc00000", "acct0"),
        ("doc00000", "acct0"),
        ("doc00002", "acct2"),
        ("doc00001", "acct1"),
    ]


def _typed_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three rows of one document as a landing worker sends them: a categorical id, nullable integers, NaN, NaT."""
    rows = pd.DataFrame(
        {
            "document_id": pd.Categorical(["doc00000"] * 3),
            "source_row": [1, 2, 3],
            "metric_date": pd.to_datetime(["2026-02-01", None, "2026-02-03"]).astype("datetime64[s]"),
            "hour": pd.array([0, None, 23], dtype="Int64"),
            "active_followers": [5.0, np.nan, 7.0],
        }
    )
    return rows, _documents(["doc00000"])


def test_rows_land_as_read_whatever_their_column_types(tmp_path):
    rows, documents = _typed_rows()
    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        replace_documents(con, {"follower_activity": rows}, documents, None)
        landed = con.execute(
            """select document_id, source_row, cast(metric_date as varchar), hour, active_followers, account_handle
            from raw.studio_follower_activity order by rowid"""
        ).fetchall()
    assert landed == [
        ("doc00000", 1, "2026-02-01", 0, 5, "a"),
        ("doc00000", 2, None, None, None, "a"),  # NaT, NA and NaN are all NULL
        ("doc00000", 3, "2026-02-03", 23, 7, "a"),
    ]


def test_a_column_arrow_cannot_type_still_lands_through_the_pandas_scan(tmp_path):
    rows, documents = _typed_rows()
    rows["active_followers"] = pd.Series([5, "7", None], dtype=object)  # mixed Python objects: no Arrow type
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError)):
        pa.Table.from_pandas(rows, preserve_index=False)
    paths = new_paths(tmp_path)
    with connect(paths.warehouse) as con:
        replace_documents(con, {"follower_activity": rows}, documents, None)
        landed = con.execute("select active_followers from raw.studio_follower_activity order by rowid").fetchall()
    assert landed == [(5,), (7,), (None,)]
