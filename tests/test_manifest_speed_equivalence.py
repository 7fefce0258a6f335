"""Receipts are recorded a column at a time (issue 10: 100,000 of them in an agency's backfill), yet each gets exactly
the manifest line `json.dumps(row, ensure_ascii=False, sort_keys=True)` gives and the raw.archive_manifest row it
always got. Every expected line and row below is written out by hand from the inputs."""

import hashlib
import json
from datetime import date, datetime

import pandas as pd

from orchestration.lib.core import archive, receipts
from orchestration.lib.core.archive import ManifestRow, append_manifest, document_id_for, read_manifest
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.receipt_manifest import record_manifest
from orchestration.lib.core.warehouse import connect
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv

A, B, C, D, E, F = (letter * 64 for letter in "abcdef")
RECEIVED, MTIME = "2026-01-07T08:09:10.123456", "2026-01-05T10:00:00"
ZIP, LIVE_LOG, BROKEN_LOG = "acct/Content_acct (1).zip", "alice/live/alice_live.jsonl", "alice/live/broken.jsonl"
NO_HANDLE, ODD = "2026-01-05/Follower activity.csv", 'équipe/Überblick "2" \\ 😀.csv'


def _row(sha: str, path: str, suffix: str, size: int, **fields) -> ManifestRow:
    """A receipt as the scan makes it: account, kind and export date unknown until its documents are read."""
    blank = {"account_handle": None, "file_kind": "unknown", "export_date": None, "export_date_source": None}
    return ManifestRow(
        **{"sha256": sha, "original_name": path.rsplit("/", 1)[-1], "inbox_path": path},
        **{"archive_path": f"{sha[:2]}/{sha}{suffix}", "size_bytes": size, "source_mtime": MTIME},
        **{"received_at": RECEIVED, **blank, **fields},
    )


ROWS = [
    _row(A, ZIP, ".zip", 2318),
    _row(B, LIVE_LOG, ".jsonl", 1200),
    _row(C, BROKEN_LOG, ".jsonl", 1198),
    _row(D, NO_HANDLE, ".csv", 321),
    # no documents (a replayed line, say): its export date is kept as it was
    _row(E, ODD, ".csv", 7, export_date="2025-12-31", export_date_source="inbox_folder_date"),
]
CLAIMS = [
    ("content", "acct"),
    ("live_log", "alice"),
    ("live_log", "alice"),
    ("follower_activity", None),
    ("unknown", None),
]
# As the landing hands them over: Studio and LIVE documents in one frame, a missing source NaN in its text column.
DOCUMENTS = pd.DataFrame(
    {
        "document_id": [
            document_id_for(A, ZIP, "Overview.csv"),  # the later export date, but not the first id
            document_id_for(A, ZIP, "Content.csv"),
            document_id_for(A, ZIP, "Audience.csv"),  # the first id, but no source: the first source given is taken
            document_id_for(B, LIVE_LOG, ""),
            document_id_for(C, BROKEN_LOG, ""),  # quarantined: no export date, no source, no handle
            document_id_for(D, NO_HANDLE, "second"),  # two handles: the greatest is taken
            document_id_for(D, NO_HANDLE, ""),
            document_id_for(F, "not/recorded.csv", ""),  # another receipt's document: ignored
        ],
        "export_date": pd.to_datetime(
            ["2025-11-24", "2025-11-23", None, "2026-06-21", None, "2026-01-04", "2026-01-05", "2020-01-01"]
        ),
        "export_date_source": [
            "overview_zip_name",
            "zip_entry_timestamp",
            None,
            "log_end",
            None,
            "file_mtime",
            "inbox_folder_date",
            "file_mtime",
        ],
        "account_handle": ["acct", "acct", None, "alice", None, "ann", "carol", "zed"],
    }
)
LINES = [
    # the export date: the latest of the ZIP's documents; the source: the first given, by id (Content < Overview)
    '{"account_handle": "acct", "archive_path": "aa/<A>.zip", "export_date": "2025-11-24", '
    '"export_date_source": "zip_entry_timestamp", "file_kind": "content", "inbox_path": "acct/Content_acct (1).zip", '
    '"original_name": "Content_acct (1).zip", "received_at": "<RECEIVED>", "sha256": "<A>", "size_bytes": 2318, '
    '"source_mtime": "<MTIME>"}',
    '{"account_handle": "alice", "archive_path": "bb/<B>.jsonl", "export_date": "2026-06-21", '
    '"export_date_source": "log_end", "file_kind": "live_log", "inbox_path": "alice/live/alice_live.jsonl", '
    '"original_name": "alice_live.jsonl", "received_at": "<RECEIVED>", "sha256": "<B>", "size_bytes": 1200, '
    '"source_mtime": "<MTIME>"}',
    # claimed by the LIVE source (its account), quarantined: no date and no source, written as JSON's null (the
    # row-by-row version wrote the text column's NaN here, which is not JSON)
    '{"account_handle": "alice", "archive_path": "cc/<C>.jsonl", "export_date": null, "export_date_source": null, '
    '"file_kind": "live_log", "inbox_path": "alice/live/broken.jsonl", "original_name": "broken.jsonl", '
    '"received_at": "<RECEIVED>", "sha256": "<C>", "size_bytes": 1198, "source_mtime": "<MTIME>"}',
    # neither its name nor its claim names an account: its documents' (the greatest); its first document's source
    '{"account_handle": "carol", "archive_path": "dd/<D>.csv", "export_date": "2026-01-05", '
    '"export_date_source": "inbox_folder_date", "file_kind": "follower_activity", '
    '"inbox_path": "2026-01-05/Follower activity.csv", "original_name": "Follower activity.csv", '
    '"received_at": "<RECEIVED>", "sha256": "<D>", "size_bytes": 321, "source_mtime": "<MTIME>"}',
    # not ASCII, kept as it is (ensure_ascii=False); the quote and the backslash escaped
    r'{"account_handle": null, "archive_path": "ee/<E>.csv", "export_date": "2025-12-31", '
    r'"export_date_source": "inbox_folder_date", "file_kind": "unknown", '
    r'"inbox_path": "équipe/Überblick \"2\" \\ 😀.csv", "original_name": "Überblick \"2\" \\ 😀.csv", '
    r'"received_at": "<RECEIVED>", "sha256": "<E>", "size_bytes": 7, "source_mtime": "<MTIME>"}',
]
LANDED, WRITTEN = datetime(2026, 1, 5, 10), datetime(2026, 1, 7, 8, 9, 10, 123456)
TABLE = [
    (A, ZIP, "Content_acct (1).zip", f"aa/{A}.zip", "acct", "content", date(2025, 11, 24), "zip_entry_timestamp"),
    (B, LIVE_LOG, "alice_live.jsonl", f"bb/{B}.jsonl", "alice", "live_log", date(2026, 6, 21), "log_end"),
    (C, BROKEN_LOG, "broken.jsonl", f"cc/{C}.jsonl", "alice", "live_log", None, None),
    (D, NO_HANDLE, "Follower activity.csv", f"dd/{D}.csv", "carol", "follower_activity", date(2026, 1, 5)),
    (E, ODD, 'Überblick "2" \\ 😀.csv', f"ee/{E}.csv", None, "unknown", date(2025, 12, 31), "inbox_folder_date"),
]
TABLE[3] += ("inbox_folder_date",)
TABLE = [row + (size, LANDED, WRITTEN) for row, size in zip(TABLE, (2318, 1200, 1198, 321, 7), strict=True)]


def _text(lines: list[str]) -> bytes:
    swap = {"<A>": A, "<B>": B, "<C>": C, "<D>": D, "<E>": E, "<F>": F, "<RECEIVED>": RECEIVED, "<MTIME>": MTIME}
    text = "".join(line + "\n" for line in lines)
    for placeholder, value in swap.items():
        text = text.replace(placeholder, value)
    return text.encode("utf-8")


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


def _table(paths: DataPaths) -> list[tuple]:
    with connect(paths.warehouse) as con:
        return con.execute("select * from raw.archive_manifest order by sha256").fetchall()


def test_receipts_get_exactly_these_lines_and_rows_with_their_documents_facts(tmp_path):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, ROWS, DOCUMENTS, claims=CLAIMS)
    assert paths.manifest.read_bytes() == _text(LINES)
    assert _table(paths) == TABLE
    assert all(json.loads(line, parse_constant=_not_json) for line in paths.manifest.read_text().splitlines())

    # recorded again (a landing that crashed after its lines were written) with a new receipt, given twice: that one
    # is appended once; the table takes the rows again
    later = {"received_at": "2026-01-08T00:00:00"}
    again = [_row(A, ZIP, ".zip", 2318, **later), *[_row(F, "acct/Viewers.csv", ".csv", 99, **later)] * 2]
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, again, DOCUMENTS, claims=[("content", "acct"), *[("viewers", "acct")] * 2])
    viewers = (
        '{"account_handle": "acct", "archive_path": "ff/<F>.csv", "export_date": null, "export_date_source": null, '
        '"file_kind": "viewers", "inbox_path": "acct/Viewers.csv", "original_name": "Viewers.csv", '
        '"received_at": "2026-01-08T00:00:00", "sha256": "<F>", "size_bytes": 99, "source_mtime": "<MTIME>"}'
    )
    assert paths.manifest.read_bytes() == _text([*LINES, viewers])
    f_row = (F, "acct/Viewers.csv", "Viewers.csv", f"ff/{F}.csv", "acct", "viewers", None, None, 99, LANDED)
    assert _table(paths) == [(*TABLE[0][:-1], datetime(2026, 1, 8)), *TABLE[1:], (*f_row, datetime(2026, 1, 8))]

    # a replay rebuilds the rows from the lines alone (the first receipt of A as written), and writes no line
    replayed = DataPaths(tmp_path / "replayed").ensure()
    lines, _ = read_manifest(paths.manifest)
    with connect(replayed.warehouse) as con:
        rows = [ManifestRow(**line) for line in lines]
        record_manifest(replayed, con, rows, DOCUMENTS, append_to_file=False)
    assert _table(replayed) == [*TABLE, (*f_row, datetime(2026, 1, 8))]
    assert not replayed.manifest.exists()


def test_texts_are_escaped_as_json_dumps_escapes_them_across_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(archive, "_LINES_PER_WRITE", 2)  # three writes, the second with a control character
    names = ["plain.csv", 'a "quote", a \\ backslash.csv', "tab\tbell\x07.csv", "del\x7f line\u2028sep.csv", "😀.csv"]
    rows = [_row(A, f"acct/{name}", ".csv", 2**40 + n) for n, name in enumerate(names)]
    manifest = tmp_path / "manifest.jsonl"
    assert append_manifest(manifest, rows) == 5
    written = [line for line in manifest.read_text().split("\n") if line]
    paths_written = [line.split('"inbox_path": ', 1)[1].split(', "original_name"', 1)[0] for line in written]
    assert paths_written == [
        '"acct/plain.csv"',
        r'"acct/a \"quote\", a \\ backslash.csv"',
        r'"acct/tab\tbell\u0007.csv"',  # control characters escaped: the short form, else \u00XX
        '"acct/del\x7f line\u2028sep.csv"',  # DEL and the line separator are no control characters to JSON
        '"acct/😀.csv"',
    ]
    assert [line.split('"size_bytes": ', 1)[1][:14] for line in written] == [f"{2**40 + n}," for n in range(5)]
    assert manifest.read_bytes() == b"".join(
        (json.dumps(vars(row), ensure_ascii=False, sort_keys=True) + "\n").encode() for row in rows
    )
    assert append_manifest(manifest, rows[1:3]) == 0, "recorded receipts are not written again"


def test_a_value_of_another_type_is_written_and_loaded_as_before(tmp_path):
    paths = DataPaths(tmp_path / "data").ensure()
    odd = _row(A, "acct/x.csv", ".csv", 12)
    odd = ManifestRow(**{**vars(odd), "size_bytes": 12.0})  # a float from a hand-edited line
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [odd], pd.DataFrame())
    assert b'"size_bytes": 12.0, ' in paths.manifest.read_bytes()
    assert query(paths, "select size_bytes, export_date from raw.archive_manifest") == [(12, None)]


GENDER = studio_csv(("Gender", "Distribution"), [["Female", "0.6"], ["Male", "0.4"]])


class _FrozenClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 1, 7, 8, 9, 10, 123456, tzinfo=tz)


def test_a_landed_then_redropped_file_has_one_line_and_one_row(tmp_path, monkeypatch):
    monkeypatch.setattr(receipts, "datetime", _FrozenClock)
    paths = new_paths(tmp_path)
    relative = "émile/2026-01-05/FollowerGender.csv"
    drop(paths, relative, GENDER, mtime=datetime(2026, 1, 5, 10))
    land(paths)
    sha = hashlib.sha256(GENDER).hexdigest()
    line = (
        f'{{"account_handle": null, "archive_path": "{sha[:2]}/{sha}.csv", "export_date": "2026-01-05", '
        f'"export_date_source": "inbox_folder_date", "file_kind": "follower_gender", "inbox_path": "{relative}", '
        f'"original_name": "FollowerGender.csv", "received_at": "{RECEIVED}", "sha256": "{sha}", '
        f'"size_bytes": {len(GENDER)}, "source_mtime": "2026-01-05T10:00:00"}}\n'
    )
    assert paths.manifest.read_text() == line
    row = (sha, relative, "FollowerGender.csv", f"{sha[:2]}/{sha}.csv", None, "follower_gender", date(2026, 1, 5))
    row += ("inbox_folder_date", len(GENDER), LANDED, WRITTEN)
    assert query(paths, "select * from raw.archive_manifest") == [row]

    drop(paths, relative, GENDER, mtime=datetime(2026, 1, 6, 10))  # the same bytes again: no new receipt
    assert land(paths).files_new == 0
    assert paths.manifest.read_text() == line
    assert query(paths, "select count(*) from raw.archive_manifest") == [(1,)]


def test_a_connection_handing_out_large_strings_writes_the_same_lines(tmp_path):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        con.execute("set arrow_large_buffer_size = true")  # DuckDB's text columns then come as large_string
        record_manifest(paths, con, ROWS, DOCUMENTS, claims=CLAIMS)
    assert paths.manifest.read_bytes() == _text(LINES)


def test_the_sql_receipt_prefix_is_the_one_document_id_for_gives():
    """The manifest finds a receipt's documents by `archive.receipt_prefix_sql` in DuckDB: the same text as
    `document_id_for(sha256, path, "")`, colons where `RECEIPT_PREFIX_COLONS` says, for any path."""
    import duckdb

    paths = [ZIP, LIVE_LOG, NO_HANDLE, ODD, ""]
    con = duckdb.connect()
    con.execute("create table r as select unnest($1) as sha, unnest($2) as path", [[A] * len(paths), paths])
    expression = archive.receipt_prefix_sql("sha", "path")
    in_sql = [row[0] for row in con.execute(f"select {expression} from r order by rowid").fetchall()]
    prefixes = [document_id_for(A, path, "") for path in paths]
    assert in_sql == prefixes
    assert {len(p) for p in prefixes} == {archive.RECEIPT_PREFIX_CHARS}
    assert all(p[at - 1] == ":" for p in prefixes for at in archive.RECEIPT_PREFIX_COLONS)
    assert prefixes[0] == f"{A}:{hashlib.sha256(ZIP.encode()).hexdigest()[:12]}:"  # by hand
    # a document's bytes (`<sha256>:<member>`, the run summary's count of export files), for any path and member
    ids = [document_id_for(A, path, member) for path in paths for member in ("", "Viewers.csv", "a:b.csv")]
    in_sql = con.execute(f"select {archive.document_bytes_sql('id')} from (select unnest($1::varchar[]) as id)", [ids])
    assert [row[0] for row in in_sql.fetchall()] == [
        f"{A}:{member}" for _ in paths for member in ("", "Viewers.csv", "a:b.csv")
    ]


def test_a_large_drops_receipts_are_rows_of_the_table_in_the_order_received(tmp_path):
    # enough receipts for DuckDB to insert them on several threads (an `insert or replace` mixed their order)
    shas = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(150_000)]
    rows = [_row(sha, f"acct/Content_acct ({n}).zip", ".zip", n) for n, sha in enumerate(shas)]
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        con.execute("set threads = 4")  # parallel even on a one-core runner
        record_manifest(paths, con, rows, pd.DataFrame(), append_to_file=False)
        again = [_row(shas[7], "acct/Content_acct (7).zip", ".zip", 70), _row(shas[1], "acct/new.zip", ".zip", 1)]
        record_manifest(paths, con, again, pd.DataFrame(), append_to_file=False)
        landed = con.execute(
            "select sha256, inbox_path, size_bytes from raw.archive_manifest order by rowid"
        ).fetchall()
    expected = [(sha, f"acct/Content_acct ({n}).zip", n) for n, sha in enumerate(shas) if n != 7]
    # the receipt recorded again replaced its row, now last, and a new receipt of known bytes came after it
    assert landed == [*expected, (shas[7], "acct/Content_acct (7).zip", 70), (shas[1], "acct/new.zip", 1)]
