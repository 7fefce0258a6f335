"""Documents → one typed frame per kind, built column by column: values, NA, dtypes, dates and numbers."""

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.studio.dates import (
    UnknownDateText,
    earliest_not_before,
    latest_not_after,
    post_day_not_after,
    resolve_year_less,
)
from orchestration.lib.studio.frames import frames_by_kind
from orchestration.lib.studio.provenance import ExportAnchor
from orchestration.lib.studio.reader import Document
from schemas.studio_contracts import coerce_numbers

SEEN = ExportAnchor(date(2026, 4, 24), datetime(2026, 4, 24, 9, 37), "zip_entry_timestamp")
LINK = "https://www.tiktok.com/@a/video/7587113370108512882"


def _doc(document_id: str, kind: str, rows: list[list[str]], anchor: ExportAnchor = SEEN) -> Document:
    return Document(document_id, "sha", f"{document_id}.csv", "drop.zip", "acct", kind, anchor, rows)


def test_rows_of_several_documents_become_one_frame_with_their_ids_rows_and_na():
    docs = [
        _doc("a", "follower_activity", [["April 1", "0", "5"], ["April 1", "1", "undefined"]]),
        _doc("header-only", "follower_activity", []),
        _doc("c", "follower_activity", [["April 2", "23", "7"]]),
    ]
    frame = frames_by_kind(docs)["follower_activity"]
    expected = pd.DataFrame(
        {
            "document_id": pd.Series(["a", "a", "c"], dtype=pd.StringDtype(na_value=np.nan)),
            "source_row": np.array([1, 2, 1], dtype=np.int64),  # each file's rows from 1
            "metric_date": np.array(["2026-04-01", "2026-04-01", "2026-04-02"], dtype="datetime64[s]"),
            "hour": pd.Series(["0", "1", "23"], dtype="string"),
            "active_followers": pd.Series(["5", None, "7"], dtype="string"),  # "undefined" is NA
        }
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert [d.issues for d in docs] == [[], [], []]


def test_content_time_refines_a_folder_date_and_bounds_the_post_date():
    folder = ExportAnchor(date(2026, 4, 24), datetime(2026, 4, 24), "inbox_folder_date")
    row = ["April 20", "undefined", LINK, "December 30", "1", "2", "3", "4"]
    doc = _doc("v", "content", [row, [*row[:3], "Smarch 3", *row[4:]]], folder)
    frame = frames_by_kind([doc])["content"]
    assert frame["video_id"].tolist() == ["7587113370108512882"] * 2
    assert frame["video_title"].isna().tolist() == [True, True]
    assert frame["metric_date"].tolist() == [pd.Timestamp("2026-04-20")] * 2  # the latest April 20 by the label
    assert (doc.anchor.export_date, doc.anchor.source) == (date(2026, 4, 20), "content_time")
    assert frame["post_date"].iat[0] == pd.Timestamp("2025-12-30")  # posted on or before the day seen
    assert pd.isna(frame["post_date"].iat[1])
    assert [(i.rule, i.row, i.column, i.value) for i in doc.issues] == [("studio_date", 2, "post_date", "Smarch 3")]


def test_content_time_under_a_dated_folder_is_not_a_future_day():
    """An old Content.csv dropped into today's dated folder (1 December 2026): "April 22" is that April, not the next
    one, nearer; "December 5" is a download the folder's label put a few days early (a week of slack), when the file
    itself is from 5 December; "June 14" in a folder of 10 June 2026 is 2025's when the file is from then."""
    folder = ExportAnchor(date(2026, 12, 1), datetime(2026, 12, 1), "inbox_folder_date", file_day=date(2026, 12, 6))
    june = ExportAnchor(date(2026, 6, 10), datetime(2026, 6, 10), "inbox_folder_date", file_day=date(2025, 6, 14))
    row = ["April 22", "t", LINK, "June 1", "1", "2", "3", "4"]
    old, early = _doc("old", "content", [row], folder), _doc("early", "content", [["December 5", *row[1:]]], folder)
    kept = _doc("kept", "content", [["June 14", *row[1:]]], june)
    frame = frames_by_kind([old, early, kept])["content"]
    assert frame["metric_date"].tolist() == [
        pd.Timestamp("2026-04-22"),
        pd.Timestamp("2026-12-05"),
        pd.Timestamp("2025-06-14"),  # the label's week would allow 2026-06-14; the file's own day does not
    ]
    snapshots = [d.anchor.export_date for d in (old, early, kept)]
    assert snapshots == [date(2026, 4, 22), date(2026, 12, 5), date(2025, 6, 14)]


@pytest.mark.parametrize("source", ["file_mtime", "zip_entry_timestamp"])
def test_content_time_is_not_after_the_files_own_time(source):
    """An old Content export copied into the inbox today (its mtime: 1 December 2026): "April 22" is that April,
    not the next one, nearer; "December 2" is a download a time zone ahead of the file's UTC time."""
    own_time = ExportAnchor(date(2026, 12, 1), datetime(2026, 12, 1, 9, 0), source)
    row = ["April 22", "t", LINK, "June 1", "1", "2", "3", "4"]
    old, ahead = _doc("old", "content", [row], own_time), _doc("ahead", "content", [["December 2", *row[1:]]], own_time)
    frame = frames_by_kind([old, ahead])["content"]
    assert frame["metric_date"].tolist() == [pd.Timestamp("2026-04-22"), pd.Timestamp("2026-12-02")]
    assert frame["post_date"].tolist() == [pd.Timestamp("2025-06-01"), pd.Timestamp("2026-06-01")]  # not after
    if source == "file_mtime":  # the download day outranks an mtime as the export date; a ZIP entry's time stays
        assert [(d.anchor.export_date, d.anchor.source) for d in (old, ahead)] == [
            (date(2026, 4, 22), "content_time"),
            (date(2026, 12, 2), "content_time"),
        ]


@pytest.mark.parametrize(
    ("text", "rule", "expected"),
    [
        ("February 29", (latest_not_after, date(2026, 3, 5)), None),  # 2026 and 2025 have none: no row's day
        ("February 29", (latest_not_after, date(2025, 2, 28)), date(2024, 2, 29)),  # last year's
        ("February 29", (latest_not_after, date(2101, 2, 28)), None),  # 2100 is no leap year
        ("February 29", (earliest_not_before, date(2095, 3, 1)), date(2096, 2, 29)),  # next year's
        ("February 29", (earliest_not_before, date(2096, 3, 1)), None),
        ("February 29", (post_day_not_after, date(2104, 2, 28)), date(2096, 2, 29)),  # a post: 8 years back
        ("February 29", (post_day_not_after, date(3, 1, 1)), None),  # years 1-3 are common, year 0 is none
        ("December 31", (earliest_not_before, date(9999, 12, 31)), date(9999, 12, 31)),
        ("January 1", (earliest_not_before, date(9999, 12, 31)), None),  # year 10000 is none
    ],
)
def test_year_rules_at_their_edges(text, rule, expected):
    values = resolve_year_less(pd.Series([text], dtype="string"), pd.Series(["k"]), {"k": rule})
    assert (None if pd.isna(values[0]) else pd.Timestamp(values[0]).date()) == expected


def test_year_rules_on_arrays_give_what_their_loops_give():
    """Every month-day against anchors every 11 days over 12 years and at both ends of the calendar."""
    month_days = [date(2024, 1, 1) + timedelta(days=i) for i in range(366)]  # 2024: 29 February included
    texts = [f"{d:%B} {d.day}" for d in month_days]
    anchors = [date(2090, 1, 1) + timedelta(days=i) for i in range(0, 4383, 11)]
    anchors += [date(1, 1, 1) + timedelta(days=i) for i in range(0, 1500, 97)]
    anchors += [date(9999, 12, 31) - timedelta(days=i) for i in range(0, 1500, 97)]
    for function in (latest_not_after, earliest_not_before, post_day_not_after):
        rules = {i: (function, anchor) for i, anchor in enumerate(anchors)}
        keys = pd.Series(np.repeat(np.arange(len(anchors)), len(texts)))
        values = resolve_year_less(pd.Series(texts * len(anchors), dtype="string"), keys, rules)
        expected = []
        for anchor in anchors:
            for day in month_days:
                try:
                    expected.append(function(day.month, day.day, anchor))
                except UnknownDateText:
                    expected.append(None)
        assert values.tolist() == pd.to_datetime(pd.Series(expected, dtype="object")).to_numpy().tolist()


def _overview_numbers(texts: list[str | None]) -> pd.DataFrame:
    columns = ("video_views", "profile_views", "likes", "comments", "shares")
    return pd.DataFrame(
        {"document_id": ["d"] * len(texts), "source_row": range(1, len(texts) + 1)}
        | {"metric_date": [pd.Timestamp("2026-04-01")] * len(texts)}
        | {c: pd.Series(texts if c == "likes" else ["0"] * len(texts), dtype="string") for c in columns}
    )


@pytest.mark.parametrize(
    ("odd", "rule"),  # plain whole numbers only, then with one cell that is not
    [(None, None), ("1.5", "dtype('Int64')"), ("9223372036854775808", "within_int64"), ("inf", "finite_number")],
)
def test_whole_numbers_keep_their_value_and_fail_only_beyond_1e12(odd, rule):
    texts = ["7", "-0", " 007 ", None, "1000000000000", "999999999999999", *([odd] if odd else [])]
    typed, failures = coerce_numbers("overview", _overview_numbers(texts))
    expected = [7, 0, 7, None, 10**12, None, *([None] if odd else [])]
    assert [None if pd.isna(v) else v for v in typed["likes"]] == expected
    assert typed["likes"].dtype == "Int64"
    assert failures[["index", "column", "check", "failure_case"]].values.tolist() == [
        [5, "likes", "at_most_1e12", "999999999999999"],
        *([[6, "likes", rule, odd]] if odd else []),
    ]


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def _label(day: date) -> str:
    return f"{day:%B} {day.day}"


def test_a_year_long_export_takes_its_years_walking_back_from_its_last_row():
    """TikTok's rows are consecutive ascending days ending a day or two before the export. In a 365-day export taken on
    1 March 2026 the first rows' month and day ("March 1", or "February 28" in the formats guide's example) recur
    up to the export date, which alone would put them in 2026; walking back from the last row puts them in 2025.
    A file whose last row is the export day, a week-long file and an Overview ZIP's window are dated as before."""
    exported = ExportAnchor(date(2026, 3, 1), datetime(2026, 3, 1, 9, 0), "zip_entry_timestamp")
    window = ExportAnchor(
        date(2026, 3, 1), datetime(2026, 3, 1, 9, 0), "overview_zip_name", window_start=date(2025, 3, 1)
    )
    expected = {
        "lag_one_day": _days(date(2025, 3, 1), 365),  # "March 1" → "February 28"
        "lag_two_days": _days(date(2025, 2, 28), 365),  # "February 28" → "February 27", as in the formats guide
        "ends_on_export_day": _days(date(2025, 3, 2), 365),
        "week": _days(date(2026, 2, 22), 7),
    }
    docs = [
        _doc(name, "follower_history", [[_label(d), str(1000 + i), "1"] for i, d in enumerate(days)], exported)
        for name, days in expected.items()
    ]
    frame = frames_by_kind(docs)["follower_history"]
    for name, days in expected.items():
        dated = frame.loc[frame["document_id"] == name, "metric_date"]
        assert dated.tolist() == [pd.Timestamp(d) for d in days], name
    assert [d.issues for d in docs] == [[], [], [], []]

    overview = _doc(
        "window", "overview", [[_label(d), "1", "0", "0", "0", "0"] for d in expected["lag_one_day"]], window
    )
    dated = frames_by_kind([overview])["overview"]["metric_date"]
    assert dated.tolist() == [pd.Timestamp(d) for d in expected["lag_one_day"]]


def test_a_file_in_another_order_or_whose_last_row_is_no_date_is_dated_by_the_export_alone():
    """Only a file ending on its newest row (ascending, as TikTok writes) is walked back: a descending file (sorted
    the other way in a spreadsheet) and a shuffled one land as the export date dates them, as before; a file whose
    last row is no date fails `studio_date` (quarantined whole)."""
    exported = ExportAnchor(date(2026, 3, 1), datetime(2026, 3, 1, 9, 0), "zip_entry_timestamp")
    descending = _doc("descending", "viewers", [[_label(d), "3", "2", "1"] for d in _days(date(2026, 2, 22), 7)[::-1]],
                      exported)  # fmt: skip
    shuffled = _doc("shuffled", "viewers", [["February 27", "1", "1", "0"], ["February 28", "2", "1", "1"],
                                            ["February 26", "3", "2", "1"]], exported)  # fmt: skip
    cut = _doc("cut", "viewers", [["March 1", "1", "1", "0"], ["Smarch 3", "3", "2", "1"]], exported)
    frame = frames_by_kind([descending, shuffled, cut])["viewers"]
    assert frame["metric_date"].tolist()[:11] == [
        *(pd.Timestamp(d) for d in _days(date(2026, 2, 22), 7)[::-1]),
        pd.Timestamp("2026-02-27"),
        pd.Timestamp("2026-02-28"),
        pd.Timestamp("2026-02-26"),
        pd.Timestamp("2026-03-01"),  # the latest 1 March not after the export
    ]
    assert pd.isna(frame["metric_date"].iat[11])
    assert [(i.rule, i.row, i.value) for i in cut.issues] == [("studio_date", 2, "Smarch 3")]
    assert descending.issues == shuffled.issues == []


def test_a_dated_files_last_row_may_be_a_day_after_its_file_or_a_week_after_its_folder_label():
    """As for Content's download day: a file's time may be UTC while its rows are days in the creator's time zone (a
    day ahead), and a dated folder's label may be a few days early (not past the file's own day): the last row is
    then still this year's, and so is every row walking back from it."""
    ahead = ExportAnchor(date(2026, 3, 1), datetime(2026, 3, 1, 23, 0), "zip_entry_timestamp")
    label = ExportAnchor(date(2026, 4, 15), datetime(2026, 4, 15), "inbox_folder_date", file_day=date(2026, 4, 18))
    expected = {"ahead": (_days(date(2025, 3, 3), 365), ahead), "label": (_days(date(2026, 4, 10), 8), label)}
    docs = [
        _doc(name, "viewers", [[_label(d), "3", "2", "1"] for d in days], anchor)
        for name, (days, anchor) in expected.items()
    ]
    frame = frames_by_kind(docs)["viewers"]
    for name, (days, _) in expected.items():
        dated = frame.loc[frame["document_id"] == name, "metric_date"]
        assert dated.tolist() == [pd.Timestamp(d) for d in days], name
    # the label's file was downloaded after its newest row (17 April): exported the next day, not on the early
    # label, else an older ZIP exported on 17 April won every day this newer download revised (review)
    assert (docs[1].anchor.export_date, docs[1].anchor.exported_at) == (date(2026, 4, 18), datetime(2026, 4, 18))
    assert docs[0].anchor == ahead  # a ZIP entry's time stays as it is
    # FollowerActivity's last day is the download day itself (its later hours not computed yet): exported that day
    activity = _doc("hours", "follower_activity", [["April 16", "0", "5"], ["April 17", "0", "3"]], label)
    frames_by_kind([activity])
    assert (activity.anchor.export_date, activity.anchor.exported_at) == (date(2026, 4, 17), datetime(2026, 4, 17))
    late = ExportAnchor(date(2026, 4, 15), datetime(2026, 4, 15), "inbox_folder_date", file_day=date(2026, 4, 15))
    week = _doc("late", "viewers", [[_label(d), "3", "2", "1"] for d in _days(date(2026, 4, 10), 8)], late)
    # the file's own day (15 April) bounds the label's week: its rows up to 17 April are last year's
    assert frames_by_kind([week])["viewers"]["metric_date"].tolist()[-1] == pd.Timestamp("2025-04-17")
    early = _doc("early", "viewers", [[_label(d), "3", "2", "1"] for d in _days(date(2026, 4, 8), 5)], label)
    frames_by_kind([early])
    assert early.anchor == label  # its rows (to 12 April) end before the label: the label stays
