"""Hostile received files: each one is quarantined with its rule, and the good files next to it land.

Every hostile file is built here, small: a damaged or password-protected ZIP, ZIP entries without a
date, an XLSX bomb, a sheet that claims a million rows, numbers past int64 or infinite, a cut quote.
"""

import codecs
import io
import json
import os
import warnings
import zipfile
from datetime import datetime

import pandas as pd
import pytest

from orchestration.lib.core.containers import entry_timestamp
from orchestration.lib.studio import checking, frames, landing, reader
from schemas.studio_contracts import coerce_numbers
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv, studio_zip
from tests.test_end_to_end import _land_and_build

WHEN = datetime(2026, 4, 24, 9, 37, 56)  # mtime of every dropped file
OVERVIEW = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
VIEWERS = ("Date", "Total Viewers", "New Viewers", "Returning Viewers")
HISTORY = ("Date", "Followers", "Difference in followers from previous day")
ACTIVITY = ("Date", "Hour", "Active followers")
GENDER = ("Gender", "Distribution")
CONTENT = ("Time", "Video title", "Video link", "Post time") + ("Total likes", "Total comments", "Total shares")
CONTENT += ("Total views",)
VIDEO = "https://www.tiktok.com/@good/video/{}"
UNREADABLE = "the file could not be read"
LONG_TITLE = "t" * 1_000_000  # a 1 MB title is data (csv's default field limit is 128 KiB)


def _overview(views: str) -> bytes:
    return studio_csv(OVERVIEW, [["April 1", views, "0", "0", "0", "0"]])


def _zip_dated(name: str, data: bytes, date_time: tuple) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(name, date_time), data)
    return buffer.getvalue()


def _content(link: str, second_link: str | None = None) -> bytes:
    links = [link.format("7546034661705796870"), (second_link or link).format("7546034661705796871")]
    return studio_csv(CONTENT, [["April 24", "clip", url, "April 20", "3", "1", "0", "120"] for url in links])


def _damaged_zip() -> bytes:
    """A deflated entry whose compressed stream is overwritten in the middle (headers intact)."""
    rows = [[f"April {day}", str(day), "0", "0", "0", "0"] for day in range(1, 29)]
    buffer = io.BytesIO()
    entry = zipfile.ZipInfo("Overview.csv", WHEN.timetuple()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(entry, studio_csv(OVERVIEW, rows))
    data = bytearray(buffer.getvalue())
    start = 30 + len("Overview.csv")  # local header, then the name, then the deflate stream
    data[start + 5 : start + 25] = bytes(b ^ 0xFF for b in data[start + 5 : start + 25])
    return bytes(data)


def _password_protected_zip() -> bytes:
    """Python cannot encrypt: set the 'encrypted' flag bit in the local and central headers."""
    data = bytearray(studio_zip({"Overview.csv": _overview("1")}, WHEN))
    data[6] |= 1
    data[data.rfind(b"PK\x01\x02") + 8] |= 1
    return bytes(data)


def _xlsx(rows: list[list[str]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SHEET = "xl/worksheets/sheet1.xml"


def _with_sheet(xlsx: bytes, write) -> bytes:
    """The same workbook with its sheet written by `write(stream, original_sheet_xml)`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            body = source.read(info)
            entry = zipfile.ZipInfo(info.filename, WHEN.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            with out.open(entry, "w") as stream:
                write(stream, body) if info.filename == SHEET else stream.write(body)
    return buffer.getvalue()


def _replaced(old: bytes, new: bytes):
    def write(stream, xml: bytes) -> None:
        assert old in xml, "the workbook openpyxl writes changed: the hostile edit would be a no-op"
        stream.write(xml.replace(old, new))

    return write


def _xlsx_bomb() -> bytes:
    """128 MiB of sheet XML deflated to about 130 KB (written in 1 MiB chunks, never held whole)."""

    def write(stream, _xml: bytes) -> None:
        for _ in range(128):
            stream.write(b" " * (1 << 20))

    return _with_sheet(_xlsx([list(OVERVIEW)]), write)


def _xlsx_claiming_a_million_rows() -> bytes:
    """5 KB: one header row and a cell on row 1,048,576; a reader fills in the rows between."""
    last = b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    return _with_sheet(_xlsx([list(OVERVIEW)]), _replaced(b"</sheetData>", last))


def _xlsx_declaring_fewer_rows_than_it_holds(rows: list[list[str]]) -> bytes:
    """The sheet's <dimension> says 2 rows of 4; openpyxl stopped reading there and dropped the rest."""
    return _with_sheet(_xlsx(rows), _replaced(b'<dimension ref="A1:B4" />', b'<dimension ref="A1:B2" />'))


def _zip_with_one_name_twice() -> bytes:
    """Two Overview.csv entries (zipfile writes them, with a warning): once, this stopped the whole landing."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # "Duplicate name"
        archive.writestr("Overview.csv", _overview("1"))
        archive.writestr("Overview.csv", _overview("2"))
    return buffer.getvalue()


# account → (file dropped, bytes, the rule it must fail, the value or row named)
HOSTILE = {
    "twice": ("Overview_2026-04-01_1777023476_twice.zip", _zip_with_one_name_twice, "safe_zip", "appears twice"),
    "damaged": ("Overview_2026-04-01_1777023476_damaged.zip", _damaged_zip, "safe_zip", "is damaged (zlib.error"),
    "locked": ("Overview_2026-04-01_1777023476_locked.zip", _password_protected_zip, "safe_zip", "password-protected"),
    "bomb": ("bomb/Overview.xlsx", _xlsx_bomb, "safe_xlsx", "expands past 67108864 bytes"),
    # an error page (or an old .xls-as-HTML export) saved under an .xlsx name: said what it is, not "BadZipFile"
    "webpage": (
        "webpage/Overview.xlsx",
        lambda: b"\xef\xbb\xbf<!DOCTYPE html><html><body><table><tr><td>Date</td></tr></table></body></html>",
        "safe_xlsx",
        "a web page (HTML/XML text) saved under an .xlsx name",
    ),
    "sparse": ("sparse/Overview.xlsx", _xlsx_claiming_a_million_rows, "size_limit", "more than 200,000 rows"),
    "wide": (
        "wide/Overview.csv",
        lambda: studio_csv(OVERVIEW, []) + b"\n" + b"," * 2_000_000,
        "size_limit",
        "more than 2,000,000 cells",
    ),
    "overflow": ("overflow/Overview.csv", lambda: _overview(str(2**63 - 1)), "at_most_1e12", "9223372036854775807"),
    "wrapped": ("wrapped/Overview.csv", lambda: _overview(str(2**63 + 5)), "within_int64", "9223372036854775813"),
    "infinite": ("infinite/Overview.csv", lambda: _overview("inf"), "finite_number", "inf"),
    "minus_inf": ("minus_inf/Overview.csv", lambda: _overview("-inf"), "finite_number", "-inf"),
    "not_a_number": (
        "not_a_number/FollowerGender.csv",
        lambda: studio_csv(GENDER, [["Female", "NaN"], ["Male", "1"]]),
        "finite_number",
        "NaN",
    ),
    # another creator's Content download saved in this account's folder, or under this account's ZIP name: TikTok
    # writes the account's own @handle into every video link (the first row is named, whatever the case of it)
    "misfiled": (
        "misfiled/2026-04-24/Content.csv",
        lambda: _content("https://www.TikTok.com/@Techcreator/video/{}"),
        "links_name_the_account",
        "name @techcreator, never @misfiled, the account it was filed under (its folder): move it to "
        "inbox/techcreator/",
    ),
    "zipnamed": (  # the ZIP's name wins over any folder: renaming it is the fix
        "Content_zipnamed (3) (1).zip",
        lambda: studio_zip({"Content.csv": _content("https://www.tiktok.com/@techcreator/video/{}")}, WHEN),
        "links_name_the_account",
        "(its ZIP name): rename the ZIP Content_techcreator.zip",
    ),
    "mixed": (  # links of two accounts, neither of them this one
        "mixed/Content.csv",
        lambda: _content("https://www.tiktok.com/@techcreator/video/{}", "https://www.tiktok.com/@le_chef/video/{}"),
        "links_name_the_account",
        "name @le_chef, @techcreator, never @mixed",
    ),
    "cut": (
        "cut/Overview.csv",
        lambda: _overview("1") + b'\n"April 2","4',  # the file ends inside the quoted 47
        "csv_structure",
        "unexpected end of data",
    ),
}


def _drop_good_files(paths) -> None:
    overview = [["April 1", "5", "1", "2", "0", "0"], ["April 2", "7", "1", "2", "0", "0"]]
    overview += [["April 3", "11", "1", "2", "0", "0"]]
    drop(
        paths,
        "Overview_2026-04-01_1777023476_good.zip",
        studio_zip({"Overview.csv": studio_csv(OVERVIEW, overview)}, WHEN),
    )
    content = [
        ["April 24", LONG_TITLE, VIDEO.format("7546034661705796877"), "April 20", "3", "1", "0", "120"],
        ["April 24", "short", VIDEO.format("7546034661705796878"), "April 23", "1", "0", "0", "40"],
    ]
    drop(paths, "good/Content.csv", studio_csv(CONTENT, content), WHEN)
    history = [["April 21", "100", "2"], ["April 22", "103", "3"], ["April 23", "110", "7"]]
    # Entries dated 1980-01-01 00:00 (ZIP's "no date") and all-zero: the anchor falls back to the mtime.
    followers = _zip_dated("FollowerHistory.csv", studio_csv(HISTORY, history), (1980, 1, 1, 0, 0, 0))
    drop(paths, "Followers_good.zip", followers, WHEN)
    viewers = _zip_dated("Viewers.csv", studio_csv(VIEWERS, [["April 23", "9", "4", "5"]]), (1980, 0, 0, 0, 0, 0))
    drop(paths, "Viewers_good.zip", viewers, WHEN)
    activity = studio_csv(ACTIVITY, [["April 23", "0", "12"], ["April 23", "1", "8"]]) + b"\n\n\n"
    drop(paths, "good/FollowerActivity.csv", activity, WHEN)
    genders = [list(GENDER), ["Female", "0.5"], ["Male", "0.4"], ["Other", "0.1"]]
    drop(paths, "good/FollowerGender.xlsx", _xlsx_declaring_fewer_rows_than_it_holds(genders), WHEN)


def _drop_hostile_files(paths) -> None:
    for name, build, _, _ in HOSTILE.values():
        drop(paths, name, build(), WHEN)


GOOD_ROWS = {
    "overview": 3,
    "content": 2,
    "follower_history": 3,
    "viewers": 1,
    "follower_activity": 2,
    "follower_gender": 3,
}


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    """Every good and every hostile file in one inbox, landed once."""
    paths = new_paths(tmp_path_factory.mktemp("hostile"))
    _drop_good_files(paths)
    _drop_hostile_files(paths)
    return paths, land(paths)


def test_each_hostile_file_is_quarantined_with_its_rule_and_the_good_files_land(landed):
    paths, report = landed
    documents = report.documents.set_index("document_id")
    issues = {}
    for issue in report.issues:
        issues.setdefault(documents.loc[issue.document_id, "account_handle"], []).append(issue)
    assert sorted(issues) == sorted(HOSTILE), "exactly the hostile files fail"
    for account, (_, _, rule, named) in HOSTILE.items():
        issue = issues[account][0]  # a NaN share is also a missing one (not_nullable): the first issue is ours
        assert (issue.rule, named in f"{issue.message} {issue.value}") == (rule, True), account
    assert issues["cut"][0].row == 2  # the second data row is the cut one
    assert issues["wrapped"][0].column == "video_views"
    assert [(i.row, i.column) for i in issues["misfiled"] + issues["zipnamed"]] == [(1, "video_link")] * 2
    assert issues["misfiled"][0].value == "https://www.TikTok.com/@Techcreator/video/7546034661705796870"
    # each report says where in the inbox the file is (many files share a name in dated folders)
    placed = {json.loads(r.read_text())["inbox_path"] for r in paths.quarantine.glob("*.json")}
    assert placed == {name for name, _, _, _ in HOSTILE.values()}

    statuses = report.documents.groupby("account_handle")["status"].agg(sorted).to_dict()
    assert statuses == {"good": ["loaded"] * 6} | {account: ["quarantined"] for account in HOSTILE}
    for kind, count in GOOD_ROWS.items():
        assert query(paths, f"select account_handle, count(*) from raw.studio_{kind} group by 1") == [("good", count)]
    assert report.rows_by_kind == GOOD_ROWS
    # Every quarantine report stays small whatever the file held (messages and values are cut short).
    reports = list(paths.quarantine.glob("*.json"))
    assert len(reports) == len(HOSTILE)
    assert max(p.stat().st_size for p in reports) < 4_000


def test_good_files_keep_their_exact_values_next_to_hostile_ones(landed):
    paths, report = landed
    assert query(paths, "select metric_date::varchar, video_views from raw.studio_overview order by 1") == [
        ("2026-04-01", 5),
        ("2026-04-02", 7),
        ("2026-04-03", 11),
    ]
    assert query(paths, "select video_id, length(video_title), views_total from raw.studio_content order by 1") == [
        ("7546034661705796877", 1_000_000, 120),
        ("7546034661705796878", 5, 40),
    ]
    # ZIP entries without a date are no anchor: the mtime (2026-04-24) is, so April is April 2026, not 1979.
    anchors = report.documents.set_index("original_name")
    for name in ("Followers_good.zip", "Viewers_good.zip"):
        assert (anchors.loc[name, "export_date_source"], anchors.loc[name, "export_date"]) == (
            "file_mtime",
            pd.Timestamp("2026-04-24"),
        )
    assert query(paths, "select metric_date::varchar, followers from raw.studio_follower_history order by 1") == [
        ("2026-04-21", 100),
        ("2026-04-22", 103),
        ("2026-04-23", 110),
    ]
    assert query(paths, "select metric_date::varchar, total_viewers from raw.studio_viewers") == [("2026-04-23", 9)]
    # All four rows of the sheet, not the two its <dimension> declares.
    assert query(paths, "select gender, distribution from raw.studio_follower_gender order by 1") == [
        ("Female", 0.5),
        ("Male", 0.4),
        ("Other", 0.1),
    ]


def test_good_rows_reach_the_marts_despite_hostile_files(tmp_path, dbt):
    paths = new_paths(tmp_path / "run")
    _drop_good_files(paths)
    _drop_hostile_files(paths)
    _land_and_build(paths, tmp_path / "target", dbt)
    accounts = "select account_handle, documents_loaded, documents_quarantined from marts.dim_accounts order by 1"
    assert query(paths, accounts) == sorted([("good", 6, 0)] + [(account, 0, 1) for account in HOSTILE])
    # the same files, listed where people look (the report, BI): by their place in the inbox, with their rule
    listed = """select inbox_path, account_handle, regexp_extract(quarantine_reason, '^[a-z0-9_]+'), zip_member
        from marts.rpt_quarantined_files order by 1"""
    # a ZIP refused whole names no entry; the ZIP of a misfiled Content file names the CSV in it
    members = {"zipnamed": "Content.csv"}
    assert query(paths, listed) == sorted(
        (name, account, rule, members.get(account)) for account, (name, _, rule, _) in HOSTILE.items()
    )
    for mart in ("fct_account_overview_daily", "fct_follower_growth_daily", "fct_video_engagement_daily"):
        assert query(paths, f"select distinct account_handle from marts.{mart}") == [("good",)], mart
    overview = "select metric_date::varchar, video_views, total_viewers from marts.fct_account_overview_daily"
    assert query(paths, overview + " order by 1") == [
        ("2026-04-01", 5, None),
        ("2026-04-02", 7, None),
        ("2026-04-03", 11, None),
        ("2026-04-23", None, 9),
    ]
    followers = "select metric_date::varchar, followers from marts.fct_follower_growth_daily order by 1"
    assert query(paths, followers) == [("2026-04-21", 100), ("2026-04-22", 103), ("2026-04-23", 110)]
    assert query(paths, "select video_id, length(video_title) from marts.dim_videos order by 1") == [
        ("7546034661705796877", 1_000_000),
        ("7546034661705796878", 5),
    ]


# --- failures nobody foresaw --------------------------------------------------------------------


def test_an_unforeseen_error_quarantines_only_the_file_or_document_it_hit(tmp_path, monkeypatch):
    """Stand-ins for bugs we have not imagined, at each stage a received file passes through."""
    paths = new_paths(tmp_path)
    history = studio_csv(HISTORY, [["April 21", "100", "2"], ["April 22", "103", "3"]])
    genders = studio_csv(GENDER, [["Female", "0.6"], ["Male", "0.4"]])
    drop(paths, "Followers_acct.zip", studio_zip({"FollowerHistory.csv": history, "FollowerGender.csv": genders}, WHEN))
    drop(paths, "boom/Overview.csv", _overview("1"), WHEN)  # fails while its name is read
    drop(paths, "dates/Overview.csv", studio_csv(OVERVIEW, [["April 9", "1", "0", "0", "0", "0"]]), WHEN)
    drop(paths, "acct/Overview.csv", studio_csv(OVERVIEW, [["April 8", "4", "0", "0", "0", "0"]]), WHEN)

    real_stem, real_names, real_parse = reader.strip_browser_repeat, checking.facts_from_name, frames.parse_month_day

    def stem(text):
        if text == "FollowerGender":
            raise KeyError("a bug reading one ZIP entry")
        return real_stem(text)

    def names(relative):
        if relative.startswith("boom/"):
            raise RuntimeError("a bug reading a name")
        return real_names(relative)

    def parse(text):
        if text == "April 9":
            raise ZeroDivisionError("a bug resolving a date")
        return real_parse(text)

    monkeypatch.setattr(reader, "strip_browser_repeat", stem)
    monkeypatch.setattr(landing, "facts_from_name", names)  # the manifest's claim
    monkeypatch.setattr(checking, "facts_from_name", names)  # reading (a small drop: in this process)
    monkeypatch.setattr(frames, "parse_month_day", parse)
    report = land(paths)

    assert sorted((i.file, i.rule, i.message) for i in report.issues) == [
        (
            "Followers_acct.zip › FollowerGender.csv",
            "unreadable",
            f"{UNREADABLE} (KeyError: 'a bug reading one ZIP entry')",
        ),
        ("Overview.csv", "unreadable", f"{UNREADABLE} (RuntimeError: a bug reading a name)"),
        ("Overview.csv", "unreadable", f"{UNREADABLE} (ZeroDivisionError: a bug resolving a date)"),
    ]
    documents = report.documents[["original_name", "member_name", "status"]].itertuples(index=False, name=None)
    assert sorted(documents) == [
        ("Followers_acct.zip", "FollowerGender.csv", "quarantined"),
        ("Followers_acct.zip", "FollowerHistory.csv", "loaded"),  # its sibling in the same ZIP
        ("Overview.csv", "", "quarantined"),  # boom/: the whole file, before it was split into documents
        ("Overview.csv", "Overview.csv", "loaded"),  # acct/
        ("Overview.csv", "Overview.csv", "quarantined"),  # dates/: set aside, then the batch built again
    ]
    assert query(paths, "select account_handle, metric_date::varchar, video_views from raw.studio_overview") == [
        ("acct", "2026-04-08", 4)
    ]
    assert query(paths, "select count(*) from raw.studio_follower_history") == [(2,)]


# --- the rules themselves -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_time", "expected"),
    [
        ((2026, 4, 24, 9, 37, 56), datetime(2026, 4, 24, 9, 37, 56)),
        ((1980, 1, 1, 0, 0, 0), None),  # the DOS epoch: no date recorded
        ((1980, 0, 0, 0, 0, 0), None),  # all-zero DOS date: month 0
        ((2026, 2, 30, 0, 0, 0), None),
        ((2026, 4, 24, 24, 0, 0), None),
    ],
)
def test_zip_entry_timestamps_without_a_real_date_are_none(date_time, expected):
    assert entry_timestamp(date_time) == expected


@pytest.mark.parametrize(
    ("column", "text", "rule"),
    [
        ("video_views", "1000000000000", None),  # 10^12 is the largest count accepted
        ("video_views", "1000000000001", "at_most_1e12"),
        ("video_views", "9223372036854775807", "at_most_1e12"),  # int64's max: sums of it overflow
        ("video_views", "9223372036854775808", "within_int64"),
        ("video_views", "-9223372036854775809", "within_int64"),
        ("video_views", "1e999", "finite_number"),
        ("video_views", "Infinity", "finite_number"),
        ("video_views", "nan", "finite_number"),
        ("video_views", "1.5", "dtype('Int64')"),
        ("video_views", "many", "dtype('Int64')"),
        ("video_views", "12", None),
    ],
)
def test_numbers_that_cannot_be_a_count_fail_with_their_rule(column, text, rule):
    frame = pd.DataFrame(
        {"document_id": ["d"], "source_row": [1], "metric_date": [pd.Timestamp("2026-04-01")]}
        | {c: pd.Series(["0"], dtype="string") for c in OVERVIEW_COLUMNS}
    )
    frame[column] = pd.Series([text], dtype="string")
    typed, failures = coerce_numbers("overview", frame)
    assert failures[["column", "check", "failure_case"]].values.tolist() == ([[column, rule, text]] if rule else [])
    assert typed[column].isna().iat[0] == (rule is not None)


OVERVIEW_COLUMNS = ("video_views", "profile_views", "likes", "comments", "shares")


def test_a_share_that_is_not_finite_fails():
    frame = pd.DataFrame(
        {
            "document_id": ["d", "d", "d"],
            "source_row": [1, 2, 3],
            "gender": ["Female", "Male", "Other"],
            "distribution": pd.Series(["-inf", "0.4", "NaN"], dtype="string"),
        }
    )
    _, failures = coerce_numbers("follower_gender", frame)
    assert failures[["index", "check", "failure_case"]].values.tolist() == [
        [0, "finite_number", "-inf"],
        [2, "finite_number", "NaN"],
    ]


def test_spreadsheet_re_saves_are_told_what_happened_and_what_to_do(tmp_path):
    """An Overview re-saved by a spreadsheet: as 'Unicode Text' (UTF-16), in Latin-1 (a title's é on line 3), with
    semicolons for a regional setting (its cells quoted or not). Each is quarantined with a reason that says so, the
    line it broke on, and to save it again as CSV UTF-8; the good file beside them lands."""
    header = ("Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares")
    rows = [["April 1", "5", "0", "0", "0", "0"], ["April 2", "7", "0", "0", "0", "0"]]
    text = studio_csv(header, rows).decode("utf-8-sig")
    paths = new_paths(tmp_path)
    drop(paths, "acct/Overview.csv", studio_csv(header, rows))
    drop(paths, "utf16/Overview.csv", text.encode("utf-16"))
    # è is byte 38: "Time,Video title\n" (17) + "April 1,ok\n" (11) + "April 2,Cr" (10)
    drop(paths, "latin1/Content.csv", "Time,Video title\nApril 1,ok\nApril 2,Crème brûlée\n".encode("latin-1"))
    # a Japanese title in Shift-JIS after TikTok's BOM (byte 3 + 17 + 11 + 8 = 39, line 3), and Latin-1 with a
    # spreadsheet's 'CSV (Macintosh)' line ends (lone CRs): é is byte 38, on line 3
    drop(
        paths, "sjis/Content.csv", codecs.BOM_UTF8 + "Time,Video title\nApril 1,ok\nApril 2,料理\n".encode("shift_jis")
    )
    drop(paths, "mac/Content.csv", "Time,Video title\rApril 1,ok\rApril 2,Crème brûlée\r".encode("latin-1"))
    drop(paths, "semicolons/Overview.csv", "\n".join(";".join(line) for line in [header, *rows]).encode("utf-8"))
    # quoted cells, as spreadsheets write them: the comma-separated reading breaks on the header's first quote
    quoted = "\r\n".join(";".join(f'"{cell}"' for cell in line) for line in [header, *rows])
    drop(paths, "quoted/Overview.csv", quoted.encode("utf-8"))
    # a spreadsheet's 'Text (Tab delimited)', its cells quoted or not, and UTF-16 without its byte-order mark (a
    # malformed-CSV message at row 0 for each, review)
    drop(paths, "tabs/Overview.csv", "\n".join("\t".join(line) for line in [header, *rows]).encode("utf-8"))
    drop(paths, "qtabs/Overview.csv", quoted.replace(";", "\t").encode("utf-8"))
    drop(paths, "utf16le/Overview.csv", text.encode("utf-16-le"))
    report = land(paths)
    resave = "save it again as CSV UTF-8 (comma-separated), or download it again from TikTok Studio"
    told = {issue.document_id.split(":")[1]: (issue.rule, issue.row, issue.message) for issue in report.issues}
    assert sorted(told.values()) == [
        ("header", 0, f"UTF-16 text without a byte-order mark (NUL bytes between letters), not UTF-8: {resave}"),
        ("header", 0, f"a Studio header with its columns separated by semicolons, not commas: {resave}"),
        ("header", 0, f"a Studio header with its columns separated by semicolons, not commas: {resave}"),
        ("header", 0, f"a Studio header with its columns separated by tabs, not commas: {resave}"),
        ("header", 0, f"a Studio header with its columns separated by tabs, not commas: {resave}"),
        ("utf8", 0, f"UTF-16 text (a spreadsheet's 'Unicode Text'), not the UTF-8 TikTok writes: {resave}"),
        ("utf8", 2, f"not UTF-8 text (invalid continuation byte at byte 38, line 3): another encoding, as a "
                    f"spreadsheet may save it: {resave}"),
        ("utf8", 2, f"not UTF-8 text (invalid continuation byte at byte 38, line 3): another encoding, as a "
                    f"spreadsheet may save it: {resave}"),
        ("utf8", 2, f"not UTF-8 text (invalid start byte at byte 39, line 3): another encoding, as a "
                    f"spreadsheet may save it: {resave}"),
    ]  # fmt: skip
    assert query(paths, "select account_handle, sum(video_views) from raw.studio_overview group by 1") == [("acct", 12)]


def test_a_modification_time_in_the_future_dates_nothing_after_the_file_was_received(tmp_path):
    """A file whose modification time is a year and more ahead (a clock set ahead, a `touch`): its Content `Time`, a
    day ten days ago, took the year of that future time. The file's time counts as no later than its receipt, in
    the landing and in a replay alike; the manifest keeps the time the file had."""
    from datetime import UTC, timedelta

    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.landing import replay_archive

    paths = new_paths(tmp_path)
    today = datetime.now(UTC).replace(tzinfo=None)
    seen = (today - timedelta(days=10)).date()
    header = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
              "Total views")  # fmt: skip
    day = f"{seen:%B} {seen.day}"
    row = [day, "t", "https://www.tiktok.com/@acct/video/7546034661705796877", day, "1", "0", "0", "10"]
    future = today + timedelta(days=400)
    drop(paths, "acct/Content.csv", studio_csv(header, [row]), future)
    land(paths)
    assert query(paths, "select metric_date, post_date from raw.studio_content") == [(seen, seen)]
    (kept,) = query(paths, "select source_mtime from raw.archive_manifest")[0]
    assert abs(kept - future) < timedelta(seconds=1)
    with connect(paths.warehouse) as con:
        replay_archive(paths, con)
    assert query(paths, "select metric_date, post_date from raw.studio_content") == [(seen, seen)]


def test_a_zip_whose_entries_differ_only_in_case_is_refused(tmp_path):
    """`Overview.csv` and `OVERVIEW.CSV` with other figures: both landed and one won silently; a case-insensitive
    disk (macOS, Windows) would keep only one of them when unzipped. Refused as two entries of one name are."""
    paths = new_paths(tmp_path)
    when = datetime(2026, 4, 2, 9, 0)
    drop(paths, "acct/Overview.zip", studio_zip({"Overview.csv": _overview("1"), "OVERVIEW.CSV": _overview("9")}, when))
    (issue,) = land(paths).issues
    assert (issue.rule, issue.message) == (
        "safe_zip",
        "ZIP refused: entry 'OVERVIEW.CSV' and 'Overview.csv' differ only in case: which one is the export cannot be "
        "told",
    )
    assert query(paths, "select count(*) from raw.studio_overview") == [(0,)]


def test_a_live_file_saved_under_a_studio_file_s_name_is_told_what_it_is(tmp_path):
    """A LIVE Center viewers file saved as `viewers.csv` was quarantined as a Studio Viewers file whose header does
    not match (review). The routing does not open files by Studio's names (it would read every bare Studio file of
    an agency's drop once more), so the quarantine says what the file is and how to land it; renamed, it lands."""
    paths = new_paths(tmp_path)
    drop(paths, "hana/2026-07-06/viewers.csv", b"Date,Diamonds,,\n2026-07-05,90,,\n")  # LIVE Center revenue
    drop(paths, "agency/Overview.csv", b"Data period,Creator ID,Creator's username,Diamonds\n")
    report = land(paths)
    assert sorted((i.file, i.rule, i.message) for i in report.issues) == [
        ("Overview.csv", "header", "a LIVE Backstage file saved under a TikTok Studio file's name (Overview.csv): "
         "give it another name (e.g. 'Creator data.csv') and drop it again; it is then read as LIVE data"),
        ("viewers.csv", "header", "a LIVE Center file saved under a TikTok Studio file's name (viewers.csv): give it "
         "another name (e.g. 'LIVE Center revenue.csv') and drop it again; it is then read as LIVE data"),
    ]  # fmt: skip
    os.rename(paths.inbox / "hana/2026-07-06/viewers.csv", paths.inbox / "hana/2026-07-06/LIVE Center revenue.csv")
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.live.landing import LiveSource

    with connect(paths.warehouse) as con:
        landing.land_inbox(paths, con, sources=[LiveSource()])
    assert query(paths, "select account_handle, metric_date::varchar, diamonds from raw.live_center_revenue") == [
        ("hana", "2026-07-05", 90)
    ]


def _spreadsheet_xlsx(dates: list) -> bytes:
    """An Overview saved by a spreadsheet as XLSX: numbers as numbers, the dates as whatever cells it made of them."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(list(OVERVIEW))
    for day in dates:
        book.active.append([day, 5, 0, 0, 0, 0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_dates_a_spreadsheet_rewrote_are_told_to_download_again_or_save_as_csv_utf8(tmp_path):
    """A TikTok CSV opened in a spreadsheet and saved again: its "April 12" became `12-Apr` (Excel's d-mmm),
    `04/12/26` (LibreOffice), `12.04.2026`, a date cell of an XLSX, or an Excel serial number. Each is quarantined by
    the date rule, now with what to do; a real TikTok date in a UI language not supported yet is not told that."""
    from datetime import date

    paths = new_paths(tmp_path)

    def resaved(dates: list[str]) -> bytes:  # as a spreadsheet writes CSV: no BOM, no quotes, CRLF
        return "\r\n".join([",".join(OVERVIEW), *(f"{day},5,0,0,0,0" for day in dates)]).encode()

    drop(paths, "excel/Overview.csv", resaved(["12-Apr", "13-Apr"]), WHEN)
    drop(paths, "libre/Overview.csv", resaved(["04/12/26"]), WHEN)
    drop(paths, "german/Overview.csv", resaved(["12.04.2026"]), WHEN)
    drop(paths, "long/Overview.csv", resaved(['"April 12, 2026"']), WHEN)
    drop(paths, "cells/Overview.xlsx", _spreadsheet_xlsx([date(2026, 4, 12)]), WHEN)  # read back with its time
    drop(paths, "serial/Overview.xlsx", _spreadsheet_xlsx([46124]), WHEN)  # 46124 days after 1899-12-30
    posted = studio_csv(CONTENT, [["April 24", "clip", VIDEO.format("7546034661705796870"), "4/12/2026", "3", "1",
                                   "0", "120"]])  # fmt: skip
    drop(paths, "good/Content.csv", posted, WHEN)
    drop(paths, "polish/Overview.csv", studio_csv(OVERVIEW, [["12 kwietnia", "5", "0", "0", "0", "0"]]), WHEN)
    drop(paths, "acct/Overview.csv", studio_csv(OVERVIEW, [["April 12", "5", "0", "0", "0", "0"]]), WHEN)
    land(paths)
    told = "studio_date at row 1, column {}: {} (value {!r}){}"
    advice = (
        "a date as a spreadsheet rewrites it, not as TikTok writes it ('April 12'): download the file again from "
        "TikTok Studio, or, if you edited it in a spreadsheet, keep the dates as TikTok wrote them and save it as "
        '"CSV UTF-8"'
    )
    assert query(paths, "select account_handle, quarantine_reason from raw.documents order by 1") == [
        ("acct", None),
        ("cells", told.format("metric_date", advice, "2026-04-12 00:00:00", "")),
        ("excel", told.format("metric_date", advice, "12-Apr", "; 1 more issue(s)")),
        ("german", told.format("metric_date", advice, "12.04.2026", "")),
        ("good", told.format("post_date", advice, "4/12/2026", "")),
        ("libre", told.format("metric_date", advice, "04/12/26", "")),
        ("long", told.format("metric_date", advice, "April 12, 2026", "")),
        ("polish", told.format("metric_date", "not a date in any supported UI language", "12 kwietnia", "")),
        ("serial", told.format("metric_date", advice, "46124", "")),
    ]


@pytest.mark.parametrize(
    "text",
    # the dates of tiktok-formats.md (US, day-first English, Spanish, Russian, Vietnamese, Japanese), a Korean one, a
    # German one with its dot, and TikTok's missing value
    ["February 28", "28 August", "8 de marzo", "18 января", "18 tháng Tám", "9月13日", "9월 13일", "18. August",
     "undefined", "12 kwietnia", "31 February"],
)  # fmt: skip
def test_no_date_tiktok_writes_gets_the_spreadsheet_advice(text):
    from orchestration.lib.studio.advice import spreadsheet_date

    assert not spreadsheet_date(text)


ENDS = " (each one landed ends its entry's quarantine)"


def test_a_zip_inside_a_zip_is_told_to_unzip_the_outer_one(tmp_path):
    """Downloads zipped together to share them (`downloads.zip` holding TikTok's ZIPs), or a ZIP zipped again under
    its own name: each inner ZIP was "not a Studio export (.csv or .xlsx expected)", when it is one (review). The
    reason says to unzip the outer ZIP and where to drop what it holds; done so, the exports land."""
    paths = new_paths(tmp_path)
    overview = studio_zip({"Overview.csv": _overview("7")}, WHEN)
    viewers = studio_zip({"Viewers.csv": studio_csv(VIEWERS, [["April 1", "3", "2", "1"]])}, WHEN)
    inner = {"Overview_2026-04-01_1777023476_good.zip": overview, "Viewers_good.zip": viewers}
    drop(paths, "good/downloads.zip", studio_zip(inner, WHEN), WHEN)
    drop(paths, "Viewers_other.zip", studio_zip({"Viewers_other.zip": viewers}, WHEN), WHEN)
    drop(paths, "good/notes.txt", b"my notes", WHEN)
    report = land(paths)
    unzip = "unzip {0!r} and drop the ZIPs it holds, as they are, into {1} instead" + ENDS
    assert sorted((issue.file, issue.rule, issue.message) for issue in report.issues) == [
        ("Viewers_other.zip", "file_type", "'Viewers_other.zip' is a ZIP inside the ZIP "
         f"'Viewers_other.zip': {unzip.format('Viewers_other.zip', 'the inbox')}"),
        ("downloads.zip › Overview_2026-04-01_1777023476_good.zip", "file_type", "'Overview_2026-04-01_1777023476_"
         f"good.zip' is a ZIP inside the ZIP 'downloads.zip': {unzip.format('downloads.zip', 'inbox/good/')}"),
        ("downloads.zip › Viewers_good.zip", "file_type", "'Viewers_good.zip' is a ZIP inside the ZIP "
         f"'downloads.zip': {unzip.format('downloads.zip', 'inbox/good/')}"),
        ("notes.txt", "file_type", "'notes.txt' is not a Studio export (.csv or .xlsx expected)"),
    ]  # fmt: skip
    for name, data in inner.items():  # as told
        drop(paths, f"good/{name}", data, WHEN)
    drop(paths, "Viewers_other.zip", viewers, WHEN)  # over the outer ZIP: its place, so its quarantine ends
    assert land(paths).issues == []
    assert query(paths, "select account_handle, sum(video_views) from raw.studio_overview group by 1") == [("good", 7)]
    assert query(paths, "select account_handle from raw.studio_viewers order by 1") == [("good",), ("other",)]


def test_a_zip_inside_a_zip_is_no_longer_quarantined_once_its_bytes_land_bare(tmp_path):
    """Downloads zipped together: each inner ZIP is quarantined, and stayed so for ever once the user did as told (the
    outer ZIP's bytes are never corrected). An entry's quarantine ends once the very same bytes (its sha256, recorded
    with it) land as a file of their own, in any folder: its report goes to resolved/; a replay ends the same."""
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.run_summary import quarantined_now, summarize_run

    paths = new_paths(tmp_path)
    overview = studio_zip({"Overview.csv": _overview("7")}, WHEN)
    viewers = studio_zip({"Viewers.csv": studio_csv(VIEWERS, [["April 1", "3", "2", "1"]])}, WHEN)
    inner = {"Overview_2026-04-01_1777023476_good.zip": overview, "Viewers_good.zip": viewers}
    drop(paths, "good/downloads.zip", studio_zip(inner, WHEN), WHEN)
    land(paths)

    def standing() -> tuple[list[str], list[str], list[str]]:
        with connect(paths.warehouse, read_only=True) as con:
            now = con.execute(
                "select member_name from raw.documents where list_contains(?, document_id) order by 1",
                [quarantined_now(con)],
            ).fetchall()
        reports = [p.name.split("downloads.zip_")[1] for p in sorted(paths.quarantine.glob("*.json"))]
        resolved = [p.name.split("downloads.zip_")[1] for p in sorted(paths.quarantine.glob("resolved/*.json"))]
        return [member for (member,) in now], reports, resolved

    assert standing() == (sorted(inner), [f"{name}.json" for name in sorted(inner)], [])
    drop(paths, "Viewers_good.zip", viewers, WHEN)  # one inner ZIP dropped bare, at the top of the inbox
    land(paths)
    ended = (["Overview_2026-04-01_1777023476_good.zip"], ["Overview_2026-04-01_1777023476_good.zip.json"])
    assert standing() == (*ended, ["Viewers_good.zip.json"])
    assert query(paths, "select account_handle from raw.studio_viewers") == [("good",)]
    with connect(paths.warehouse, read_only=True) as con:
        summary = summarize_run(con, datetime(2000, 1, 1))
    assert (summary.quarantined_now, summary.unzipped_since, len(summary.quarantined_this_run)) == (1, 1, 1)

    with connect(paths.warehouse) as con:  # the archive again: the outer ZIP quarantined, one entry ended anew
        landing.replay_archive(paths, con)
    assert standing() == (*ended, ["Viewers_good.zip.json"])
