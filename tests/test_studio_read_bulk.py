"""Reading in bulk says what reading row by row said: year-less dates resolved per distinct (rule, text),
caps checked per chunk of rows, ragged rows found on whole lists, each issue at the same row."""

from datetime import date, datetime

import pandas as pd
import pytest

from orchestration.lib.studio import reader
from orchestration.lib.studio.dates import earliest_not_before, latest_not_after, resolve_year_less
from schemas.studio_files import STUDIO_FILE_KINDS
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv

OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")


def test_year_less_dates_resolve_per_rule_and_text():
    texts = pd.Series(
        ["February 29", "March 1", "", None, "Smarch 3", "29 février", "February 29", "March 1", "9月13日"],
        dtype="string",
    )
    keys = pd.Series(["a", "a", "a", "a", "a", "b", "c", "nobody", "c"])
    rules = {
        "a": (latest_not_after, date(2026, 3, 5)),  # rows end on or before the export
        "b": (earliest_not_before, date(2025, 3, 1)),  # rows run forward from the window's first day
        "c": (latest_not_after, date(2027, 1, 10)),  # Content `Time`: not after the file's own time
    }
    values = resolve_year_less(texts, keys, rules)
    row_by_row = pd.to_datetime(pd.Series([date(2024, 2, 29), None], dtype="object"))  # what a per-row read gave
    assert values.dtype == row_by_row.dtype
    assert [None if pd.isna(v) else pd.Timestamp(v).date() for v in values] == [
        None,  # 2026 and 2025 have no 29 February: no day of a file exported in March 2026
        date(2026, 3, 1),
        None,  # an empty cell
        None,  # a missing one
        None,  # no month of any language
        None,  # 2025 and 2026 have no 29 February: none within a year from 2025-03-01 on
        None,  # nor in 2027 or 2026, on or before 2027-01-10
        None,  # a row whose document has no rule
        date(2026, 9, 13),  # the last 13 September on or before 2027-01-10
    ]


def test_an_unreadable_date_names_its_row_and_only_its_document_is_quarantined(tmp_path):
    paths = new_paths(tmp_path)
    rows = [["April 1", "1", "0", "0", "0", "0"], ["Smarch 2", "2", "0", "0", "0", "0"], ["", "3", "0", "0", "0", "0"]]
    drop(paths, "bad/Overview.csv", studio_csv(OVERVIEW, rows))
    drop(paths, "good/Overview.csv", studio_csv(OVERVIEW, [["April 1", "9", "0", "0", "0", "0"]]))
    report = land(paths)
    assert [(i.file, i.rule, i.row, i.column, i.value) for i in report.issues if i.rule == "studio_date"] == [
        ("Overview.csv", "studio_date", 2, "metric_date", "Smarch 2")
    ]
    assert query(paths, "select account_handle, video_views from raw.studio_overview") == [("good", 9)]


def test_a_29_february_no_year_near_the_export_has_is_quarantined_not_dated_years_away(tmp_path):
    """Exported on 2 March 2026 (the files' time), "February 29" is no day of 2026 or 2025: it was dated 29 February
    2024, and a ZIP's window from 1 March 2026 put it in 2028 (review). Each file is quarantined at that row; a
    file exported on 28 February 2025 keeps last year's leap day, and a video posted on one is still dated."""
    paths = new_paths(tmp_path)
    exported = datetime(2026, 3, 2, 12)
    leap = ["February 29", "100", "1", "1", "1", "1"]
    drop(paths, "leap1/Overview.csv", studio_csv(OVERVIEW, [["February 28", "1", "0", "0", "0", "0"], leap]), exported)
    drop(
        paths,
        "leap2/FollowerHistory.csv",
        studio_csv(STUDIO_FILE_KINDS["follower_history"].header, [["February 29", "5000", "3"]]),
        exported,
    )
    header = STUDIO_FILE_KINDS["content"].header
    link = "https://www.tiktok.com/@leap4/video/7546034661705796870"
    drop(
        paths,
        "leap4/Content.csv",
        studio_csv(header, [["February 29", "t", link, "March 1", "1", "0", "0", "9"]]),
        exported,
    )
    drop(
        paths,
        "posted/Content.csv",
        studio_csv(header, [["March 2", "t", link.replace("leap4", "posted"), "February 29", "1", "0", "0", "9"]]),
        exported,
    )
    drop(paths, "lastyear/Overview.csv", studio_csv(OVERVIEW, [leap]), datetime(2025, 2, 28, 12))
    report = land(paths)
    why = "no such day within a year of the file's export (no year written: a common year has no 29 February)"
    assert sorted((i.file, i.row, i.column, i.value, i.message) for i in report.issues) == [
        ("Content.csv", 1, "metric_date", "February 29", why),
        ("Content.csv", 1, "post_date", "March 1", "cannot be dated: the file's download day (Time) is no date"),
        ("FollowerHistory.csv", 1, "metric_date", "February 29", why),
        ("Overview.csv", 2, "metric_date", "February 29", why),
    ]
    assert query(paths, "select account_handle, metric_date::varchar from raw.studio_overview") == [
        ("lastyear", "2024-02-29")
    ]
    assert query(paths, "select account_handle, metric_date::varchar, post_date::varchar from raw.studio_content") == [
        ("posted", "2026-03-02", "2024-02-29")
    ]


@pytest.fixture
def small_caps(monkeypatch):
    """Caps and chunks small enough to cross: 3 data rows, 30 cells, chunks of 2 rows."""
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    monkeypatch.setattr(reader, "MAX_CELLS", 30)
    monkeypatch.setattr(reader, "_CHUNK_ROWS", 2)


def _issues(report) -> list[tuple]:
    return sorted((i.file, i.rule, i.row, i.message) for i in report.issues)


def test_caps_and_broken_rows_are_named_at_the_row_they_happen_across_chunks(tmp_path, small_caps):
    paths = new_paths(tmp_path)
    row = ["April 1", "1", "0", "0", "0", "0"]
    drop(paths, "rows/Overview.csv", studio_csv(OVERVIEW, [row] * 4))  # 30 cells, but the 4th row is too many
    fits = [row, ["April 2", "1", "0", "0", "0", "0"]]
    drop(paths, "fits/Overview.csv", studio_csv(OVERVIEW, fits))  # header + 2 rows: 18 cells
    wide = [["April 1", "1", "0"], ["April 2", *["0"] * 14]]
    drop(paths, "cells/Overview.csv", studio_csv(OVERVIEW, wide))  # 6 + 3 + 15 = 24 cells: only ragged
    drop(paths, "cells/Overview 2.csv", studio_csv(OVERVIEW, [*wide, ["April 3", *["0"] * 7]]))  # 32 > 30
    cut = studio_csv(OVERVIEW, fits) + b'\n"April 3","4'
    drop(paths, "cut/Overview.csv", cut)  # breaks in the second chunk, after 3 rows (header included)
    ragged = [*fits, ["April 3", "1", "0"]]
    drop(paths, "ragged/Overview.csv", studio_csv(OVERVIEW, ragged))
    report = land(paths)
    limit = "far larger than any Studio export"
    assert _issues(report) == [
        ("Overview 2.csv", "size_limit", 3, f"more than 30 cells: {limit}"),
        ("Overview.csv", "csv_structure", 3, "malformed CSV (unexpected end of data)"),
        ("Overview.csv", "row_width", 1, "row has 3 fields, expected 6"),  # cells/: under the cap, ragged
        ("Overview.csv", "row_width", 3, "row has 3 fields, expected 6"),
        ("Overview.csv", "size_limit", 4, f"more than 3 rows: {limit}"),
    ]
    assert query(paths, "select account_handle, count(*) from raw.studio_overview group by all") == [("fits", 2)]
