"""LIVE Backstage "Creator data" exports and LIVE Center daily files: files built here, values checked exactly."""

import io
from datetime import date, datetime

import openpyxl
import pandas as pd
import pytest

from orchestration.lib.live.backstage import read_backstage_export
from orchestration.lib.live.live_center import read_live_center_file
from orchestration.lib.live.validation import apply_contract
from orchestration.lib.live.values import (
    download_moment,
    read_count,
    read_days,
    read_duration_s,
    read_period,
    read_share,
    read_utc_moment,
)
from schemas.live_contracts import LIVE_CONTRACTS


def xlsx(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(lines) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")  # Excel's CSV: BOM, CRLF


def rules(doc, severity=None):
    return [(i.rule, i.row, i.column) for i in doc.issues if severity is None or i.severity == severity]


# --- value shapes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reader", "cell", "expected"),
    [
        (read_duration_s, "119h 47m 31s", 431_251),  # 119×3600 + 47×60 + 31
        (read_duration_s, "88.46h", 318_456),  # 88.46 × 3600
        (read_duration_s, "45m", 2_700),
        (read_duration_s, "0s", 0),
        (read_days, "21d", 21),
        (read_days, 21, 21),
        (read_share, "90.13%", 0.9013),
        (read_share, "0.94618", 0.94618),
        (read_share, 0.94618, 0.94618),  # an XLSX percentage cell holds the fraction
        (read_count, "1,234,567", 1_234_567),
        (read_count, 1234567.0, 1_234_567),
        (read_count, "-", None),
        (read_utc_moment, "2023-08-05 00:11:00 (UTC+0)", datetime(2023, 8, 5, 0, 11)),
        (read_utc_moment, "2023-08-05 00:11:00 (UTC+8)", datetime(2023, 8, 4, 16, 11)),
        (read_period, "2026-07-01 ~ 2026-07-07", (date(2026, 7, 1), date(2026, 7, 7))),
        (read_period, "2026/07/01", (date(2026, 7, 1), date(2026, 7, 1))),
    ],
)
def test_value_shapes_are_read_to_exact_numbers(reader, cell, expected):
    assert reader(cell) == expected


@pytest.mark.parametrize(
    ("reader", "cell"),
    [(read_duration_s, "431251"), (read_count, "12.5"), (read_count, "1,23"), (read_period, "2026-07-01 ~ soon")],
)
def test_value_shapes_refuse_what_they_cannot_read_exactly(reader, cell):
    with pytest.raises(ValueError):
        reader(cell)


@pytest.mark.parametrize(
    ("name", "moment"),
    [
        ("Creator data 2026_06_02 14_59 UTC+0 (1).xlsx", datetime(2026, 6, 2, 14, 59)),
        ("Creator_data_2026_09_16_08_37_UTC0.xlsx", datetime(2026, 9, 16, 8, 37)),
        ("Creator data 2026_06_02 14_59 UTC+8.xlsx", datetime(2026, 6, 2, 6, 59)),  # local time 8 h ahead
        ("Creator data 2026_06_02 14_59.xlsx", datetime(2026, 6, 2, 14, 59)),  # no zone: Backstage is UTC
        ("Creator data.xlsx", None),
    ],
)
def test_the_download_moment_comes_from_the_file_name(name, moment):
    assert download_moment(name) == moment


# --- Backstage -------------------------------------------------------------------------------------

DATED = "Creator data 2026_07_08 09_00 UTC+0.csv"

BACKSTAGE_XLSX = [
    [
        "Selected period",
        "Creator ID:",
        "Creator’s username",  # a curly apostrophe, as a browser may save it
        "Creator Network manager",
        "Join time",
        "Days since joining",
        "Total Diamonds",
        "LIVE duration in selected period",
        "Valid go LIVE days in selected period",
        "New followers",
        "LIVE streams",
        "Diamonds last month",
        "Diamonds in L30D",
        "Tier status",
        "Fan contribution %",
    ],
    [
        "2026-07-01 ~ 2026-07-07",
        "7000000000000000001",
        "alice",
        "manager.one",
        "2023-08-05 00:11:00 (UTC+0)",
        "21d",
        "1,234,567",
        "119h 47m 31s",
        "5d",
        "1,002",
        "6",
        "987,654",
        "2,000,000",
        "Tier 2",
        "90.13%",
    ],
    [
        "2026-07-01 ~ 2026-07-07",
        "The creator has quit the network",
        "bob",
        None,
        datetime(2024, 1, 2, 3, 4, 5),  # a date cell: Backstage times are UTC
        "910d",
        5000,
        "88.46h",
        "7d",
        "0",
        "4",
        None,
        None,
        None,
        0.94618,
    ],
]


def test_a_backstage_xlsx_with_header_variants_reads_every_value_shape():
    export = read_backstage_export(
        xlsx(BACKSTAGE_XLSX), document_id="b1", file_name="Creator data 2026_06_02 14_59 UTC+0 (1).xlsx"
    )
    doc = export.document
    assert doc.issues == []
    assert doc.exported_at == datetime(2026, 6, 2, 14, 59)
    creators = apply_contract("live_backstage_creators", export.creators, {"b1": doc})
    assert doc.issues == []
    alice, bob = (row for _, row in creators.iterrows())
    assert (alice["period_start"], alice["period_end"]) == (pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-07"))
    assert (alice["creator_id"], bool(alice["has_quit"]), alice["creator_username"]) == (
        "7000000000000000001",
        False,
        "alice",
    )
    assert alice["joined_at"] == pd.Timestamp("2023-08-05 00:11:00")
    assert (alice["days_since_joining"], alice["diamonds"], alice["live_duration_s"]) == (21, 1_234_567, 431_251)
    assert (alice["valid_live_days"], alice["new_followers"], alice["live_streams"]) == (5, 1_002, 6)
    assert (alice["diamonds_last_month"], alice["diamonds_l30d"]) == (987_654, 2_000_000)
    assert (alice["tier_status"], alice["fan_contribution_share"]) == ("Tier 2", 0.9013)
    assert pd.isna(alice["matches"])  # a column this export does not have
    # The creator who left: no id, kept by username.
    assert pd.isna(bob["creator_id"]) and bool(bob["has_quit"]) and bob["creator_username"] == "bob"
    assert (bob["live_duration_s"], bob["diamonds"], bob["fan_contribution_share"]) == (318_456, 5_000, 0.94618)
    assert bob["joined_at"] == pd.Timestamp("2024-01-02 03:04:05")
    assert creators["source_row"].tolist() == [1, 2]


def test_a_backstage_csv_reads_like_the_xlsx():
    lines = [
        "Data period,Creator ID,Creator's username,Diamonds in selected period,LIVE duration,Fan contribution %",
        '2026-09-01 ~ 2026-09-15,7000000000000000001,alice,"1,234,567",119h 47m 31s,90.13%',
        "2026-09-01 ~ 2026-09-15,The creator has quit the network,bob,12,88.46h,0.94618",
    ]
    export = read_backstage_export(
        csv_bytes(lines), document_id="b2", file_name="Creator_data_2026_09_16_08_37_UTC0.csv"
    )
    assert export.document.issues == []
    assert export.document.exported_at == datetime(2026, 9, 16, 8, 37)
    creators = export.creators
    assert creators["diamonds"].tolist() == [1_234_567, 12]
    assert creators["live_duration_s"].tolist() == [431_251, 318_456]
    assert creators["fan_contribution_share"].tolist() == [0.9013, 0.94618]
    assert creators["has_quit"].tolist() == [False, True]
    LIVE_CONTRACTS["live_backstage_creators"].validate(creators)


def test_a_backstage_file_name_without_a_date_loads_with_a_flag():
    lines = ["Data period,Creator ID,Creator's username", "2026-07-01 ~ 2026-07-07,7000000000000000001,alice"]
    export = read_backstage_export(csv_bytes(lines), document_id="b3", file_name="creators.csv")
    assert export.document.exported_at is None
    assert rules(export.document) == [("download_time_in_name", None, None)]
    assert not export.document.quarantined and len(export.creators) == 1


def test_a_file_that_is_not_a_workbook_is_refused_before_any_xml_is_parsed():
    export = read_backstage_export(b"PK\x03\x04 not really a zip", document_id="b9", file_name=DATED[:-3] + "xlsx")
    assert [(i.rule, i.severity) for i in export.document.issues] == [("safe_zip", "structural")]


def test_an_unknown_backstage_column_is_flagged_and_ignored():
    lines = ["Data period,Creator ID,Creator's username,Gaming hours", "2026-07-01,7000000000000000001,alice,3"]
    export = read_backstage_export(
        csv_bytes(lines), document_id="b4", file_name="Creator data 2026_07_02 10_00 UTC+0.csv"
    )
    assert [(i.rule, i.value, i.severity) for i in export.document.issues] == [
        ("unknown_column", "Gaming hours", "plausibility")
    ]
    assert "gaming_hours" not in export.creators.columns and len(export.creators) == 1


def test_a_file_without_the_creator_columns_is_not_a_backstage_export():
    export = read_backstage_export(csv_bytes(["Date,Views", "2026-07-01,3"]), document_id="b5", file_name=DATED)
    issue = export.document.issues[0]
    assert (issue.rule, issue.row) == ("backstage_header", 0)
    assert "'Data period' / 'Creator ID' / \"Creator's username\"" in issue.message
    assert export.creators.empty


def test_an_unreadable_backstage_value_quarantines_naming_row_and_column():
    lines = [
        "Data period,Creator ID,Creator's username,LIVE duration",
        "2026-07-01 ~ 2026-07-07,7000000000000000001,alice,1h",
        "2026-07-01 ~ 2026-07-07,7000000000000000002,carol,about an hour",
    ]
    export = read_backstage_export(csv_bytes(lines), document_id="b6", file_name="creators.csv")
    issue = export.document.issues[-1]
    assert (issue.rule, issue.row, issue.column, issue.value) == ("value_shape", 2, "live_duration_s", "about an hour")
    assert "'LIVE duration'" in issue.message and "119h 47m 31s" in issue.message
    assert export.document.quarantined and export.creators.empty


def test_backstage_contract_rules():
    lines = [
        "Data period,Creator ID,Creator's username,Valid go LIVE days,LIVE duration",
        "2026-07-01 ~ 2026-07-07,7000000000000000001,alice,9d,10h",  # 9 valid days in a 7-day period
        "2026-07-01 ~ 2026-07-07,7000000000000000002,carol,3d,2h",  # 3 valid days need at least 3 h
    ]
    export = read_backstage_export(csv_bytes(lines), document_id="b7", file_name=DATED)
    kept = apply_contract("live_backstage_creators", export.creators, {"b7": export.document})
    assert len(kept) == 2
    assert rules(export.document, "plausibility") == [
        ("valid_days_within_period", 1, "valid_live_days"),
        ("duration_covers_valid_days", 2, "live_duration_s"),
    ]
    repeated = read_backstage_export(csv_bytes([*lines[:2], lines[1]]), document_id="b8", file_name="creators.csv")
    assert apply_contract("live_backstage_creators", repeated.creators, {"b8": repeated.document}).empty
    assert ("one_row_per_creator_per_file", 2, "creator_id") in rules(repeated.document, "structural")


# --- LIVE Center -----------------------------------------------------------------------------------


def test_a_japanese_viewers_file_with_slashed_dates_and_thousands_separators():
    lines = [
        "日付,視聴数,ユニーク視聴者数,平均視聴時間,最高同時視聴者数,平均同時視聴者数",
        '2026/07/01,"12,345","1,234",45.5,120,33.3',
        "2026/07/02,987,654,30,80,20",
    ]
    read = read_live_center_file(csv_bytes(lines), document_id="c1", file_name="LIVE_viewers.csv")
    assert (read.kind, read.language, read.table) == ("viewers", "ja", "live_center_viewers")
    days = apply_contract(read.table, read.days, {"c1": read.document})
    assert read.document.issues == []
    assert days["metric_date"].tolist() == [pd.Timestamp("2026-07-01"), pd.Timestamp("2026-07-02")]
    assert days["views"].tolist() == [12_345, 987]
    assert days["unique_viewers"].tolist() == [1_234, 654]
    assert days["avg_watch_time_s"].tolist() == [45.5, 30.0]
    assert days["top_viewer_count"].tolist() == [120, 80]
    assert days["avg_concurrent_viewers"].tolist() == [33.3, 20.0]


def test_an_english_engagement_file_with_dashed_dates_in_any_column_order():
    lines = [
        "Date,Likes,Gifters,New followers,Shares,Viewers who commented",
        '2026-07-01,"12,345",12,30,7,45',
    ]
    read = read_live_center_file(csv_bytes(lines), document_id="c2", file_name="engagement.csv")
    assert (read.kind, read.language) == ("engagement", "en")
    row = read.days.iloc[0]
    assert (row["gifters"], row["new_followers"], row["viewers_commented"], row["likes"], row["shares"]) == (
        12,
        30,
        45,
        12_345,
        7,
    )
    LIVE_CONTRACTS["live_center_engagement"].validate(read.days)


@pytest.mark.parametrize(
    ("header", "kind", "language", "values"),
    [
        (["日付", "ダイヤモンド"], "revenue", "ja", {"diamonds": 1_500}),
        (["日付", "LIVE時間", "LIVEの合計数"], "activity", "ja", {"live_duration_s": 1_500, "live_count": 2}),
        (["Date", "Diamonds"], "revenue", "en", {"diamonds": 1_500}),
        (["Date", "LIVE duration", "LIVEs"], "activity", "en", {"live_duration_s": 1_500, "live_count": 2}),
    ],
)
def test_revenue_and_activity_files_in_both_languages_from_xlsx(header, kind, language, values):
    rows = [header, [datetime(2026, 7, 1), "1,500", 2][: len(header)]]
    read = read_live_center_file(xlsx(rows), document_id="c3", file_name="daily.xlsx")
    assert (read.kind, read.language, read.document.issues) == (kind, language, [])
    assert read.days["metric_date"].tolist() == [pd.Timestamp("2026-07-01")]
    assert {c: read.days[c].iloc[0] for c in values} == values


def test_an_unknown_header_set_is_a_clear_structural_error():
    read = read_live_center_file(csv_bytes(["Date,Views,Coins", "2026-07-01,1,2"]), document_id="c4", file_name="x.csv")
    issue = read.document.issues[0]
    assert (issue.rule, issue.row, issue.severity) == ("live_center_header", 0, "structural")
    assert "the headers after the date are ['Views', 'Coins']" in issue.message
    assert "revenue (ja): ダイヤモンド" in issue.message
    assert read.kind is None and read.days.empty


def test_a_day_twice_in_one_live_center_file_is_structural():
    lines = ["日付,ダイヤモンド", "2026-07-01,10", "2026/07/01,12"]
    read = read_live_center_file(csv_bytes(lines), document_id="c5", file_name="revenue.csv")
    assert apply_contract(read.table, read.days, {"c5": read.document}).empty
    assert rules(read.document) == [
        ("one_row_per_day_per_file", 1, "metric_date"),
        ("one_row_per_day_per_file", 2, "metric_date"),
    ]


def test_a_live_center_date_that_is_not_a_date_names_its_row():
    read = read_live_center_file(csv_bytes(["日付,ダイヤモンド", "合計,22"]), document_id="c6", file_name="r.csv")
    assert rules(read.document) == [("value_shape", 1, "metric_date")]
