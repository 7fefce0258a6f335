"""Well-formed CSV bodies are read in bulk by Arrow exactly as the csv module reads them row by row; any other
body is left to the row-by-row reader, so its issue stays what it was."""

import csv
import io
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest

from orchestration.lib.studio.csv_bodies import read_bodies, well_formed_rows
from orchestration.lib.studio.frames import frames_by_kind
from orchestration.lib.studio.provenance import ExportAnchor, NameFacts
from orchestration.lib.studio.reader import Document, read_received_file

BOM = b"\xef\xbb\xbf"
ACTIVITY_HEADER = b'"Date","Hour","Active followers"'
SEEN = ExportAnchor(date(2026, 2, 10), datetime(2026, 2, 10, 12, 46), "zip_entry_timestamp")


@pytest.mark.parametrize(
    "body, rows",
    [
        (b"", 0),  # a header-only file
        (b'"February 4","0","2"', 1),  # TikTok writes no line break after the last row
        (b'"February 4","0","2"\n"February 4","1","1"\n', 2),
        (b'"February 4","0","2"\r\n"February 4","1","1"\r\n', 2),  # CRLF
        (b'February 4,0,2\n"February 4",1,"1"', 2),  # bare and quoted fields mixed
        (b'"Feb ""4""","","2"', 1),  # doubled quotes, an empty field
        (b'"a\xe2\x80\xa8b",\x0b,"\xc2\x85"', 1),  # U+2028, VT and NEL are no line breaks for the csv module
        (b'"February 4","0"', None),  # a row one field short
        (b'"February 4","0","2","9"', None),  # one field too many
        (b'"February 4","0","2"\n\n"February 5","0","2"', None),  # a blank line inside
        (b'"February 4","0","2"\n\n', None),  # trailing blank lines: the row-by-row reader drops them
        (b'"February 4","0","2"\n,,', None),  # a trailing row of empty cells, dropped row by row too
        (b'"February 4","0","2"\n"\xc2\xa0"," ",""\r\n', None),  # or of blank ones (NBSP is blank to str.strip)
        (b'"February 4","0","2"\n,,\n"February 5","0","2"', 3),  # such a row inside is a row like any other
        (b'"Feb\n4","0","2"', None),  # a line break inside a quoted field
        (b'"February 4","0","2"\r"February 5","0","2"', None),  # a lone CR ends a row for the csv module
        (b'"February 4"x,"0","2"', None),  # text after a closing quote (the csv module refuses it)
        (b'Feb "4",0,2', None),  # a quote inside a bare field
        (b'"Feb\x004","0","2"', None),  # NUL
        (b"\xef\xbb\xbfFebruary 4,0,2", None),  # a second byte-order mark: Arrow would drop it, the csv module keeps it
    ],
)
def test_a_body_is_well_formed_only_when_each_line_is_one_whole_row(body, rows):
    assert well_formed_rows(body, 3) == rows


def test_width_one_is_never_well_formed():  # a blank line would be a row of one empty cell
    assert well_formed_rows(b'"a"\n"b"', 1) is None


def test_arrow_reads_the_cells_the_csv_module_reads():
    bodies = [
        b'"February 4","0","2"\r\n"Feb ""4""","","undefined"\r\n',
        b"",
        b'plain, spaced ,"a\xe2\x80\xa8b"',
        b'"\xf0\x9f\x98\x80 emoji","a,b","\t"\n',
    ]
    counts = [well_formed_rows(body, 3) for body in bodies]
    assert counts == [2, 0, 1, 1]
    columns = read_bodies(bodies, counts, 3)
    by_csv = [row for body in bodies for row in csv.reader(io.StringIO(body.decode(), newline=""), strict=True)]
    assert [[column[i].as_py() for column in columns] for i in range(4)] == by_csv
    assert by_csv[1] == ['Feb "4"', "", "undefined"] and by_csv[2] == ["plain", " spaced ", "a\u2028b"]


def _followers_csv(body: bytes) -> bytes:
    return BOM + ACTIVITY_HEADER + b"\n" + body


def _read(tmp_path, name: str, data: bytes) -> Document:
    stored = tmp_path / name
    stored.write_bytes(data)
    facts = NameFacts(handle="acct")
    (doc,) = read_received_file("sha", name, stored, facts, SEEN.exported_at, receipt_path=f"acct/{name}")
    return doc


def test_a_tiktok_file_keeps_its_body_and_any_other_is_read_row_by_row_with_its_issue(tmp_path):
    whole = _read(tmp_path, "FollowerActivity.csv", _followers_csv(b'"February 4","0","2"\n"February 4","1","1"'))
    assert (whole.kind, whole.body_rows, whole.rows, whole.issues) == ("follower_activity", 2, [], [])
    assert whole.body == b'"February 4","0","2"\n"February 4","1","1"'

    ragged = _read(tmp_path, "FollowerActivity.csv", _followers_csv(b'"February 4","0","2"\n"February 4","1"'))
    assert ragged.body is None
    assert [(i.rule, i.row, i.message) for i in ragged.issues] == [("row_width", 2, "row has 2 fields, expected 3")]

    titled = _read(tmp_path, "FollowerActivity.csv", _followers_csv(b'"Feb\n4","0","2"'))  # read row by row
    assert (titled.body, titled.rows, titled.issues) == (None, [["Feb\n4", "0", "2"]], [])


def test_a_kind_mixing_bodies_and_rows_keeps_document_order():
    def doc(document_id, rows=(), body=None):
        d = Document(document_id, "sha", "FollowerActivity.csv", "f.zip", "acct", "follower_activity", SEEN)
        d.rows, d.body, d.body_rows = [list(r) for r in rows], body, well_formed_rows(body, 3) if body else 0
        return d

    docs = [
        doc("a", body=b'"February 4","0","2"\n"February 4","1","3"'),
        doc("b", rows=[["February 5", "0", "undefined"]]),
        doc("c", body=b'"February 6","5","4"'),
        doc("d", rows=[["February 7", "1", "6"], ["February 7", "2", "8"]]),
    ]
    frame = frames_by_kind(docs)["follower_activity"]
    assert frame["document_id"].tolist() == ["a", "a", "b", "c", "d", "d"]
    assert frame["source_row"].tolist() == [1, 2, 1, 1, 1, 2]
    assert frame["metric_date"].dt.day.tolist() == [4, 4, 5, 6, 7, 7]
    assert frame["hour"].tolist() == ["0", "1", "0", "5", "1", "2"]
    assert frame["active_followers"].tolist() == ["2", "3", pd.NA, "4", "6", "8"]  # "undefined" is NA
    assert frame["hour"].dtype == pd.StringDtype() and frame["source_row"].dtype == np.int64


def test_a_byte_order_mark_on_the_first_row_stays_in_its_cell_as_the_csv_module_reads_it(tmp_path):
    first = b"\xef\xbb\xbfJanuary 1,0,5\n" + b'"January 1","1","6"'
    doc = _read(tmp_path, "FollowerActivity.csv", _followers_csv(first))
    assert (doc.body, doc.rows[0][0]) == (None, "\ufeffJanuary 1")  # read row by row
    frame = frames_by_kind([doc])["follower_activity"]
    assert frame["metric_date"].isna().tolist() == [True, False]
    # not a date: the mark is part of the text, whether or not another body comes first
    assert [(i.rule, i.row, i.value) for i in doc.issues] == [("studio_date", 1, "\ufeffJanuary 1")]
