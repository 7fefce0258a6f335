"""manifest.jsonl is read in full only when raw.archive_manifest cannot say which receipts it holds
(`core.receipt_manifest`, landing.manifest_stamp): a daily landing on a long history no longer scans every line,
and a file changed behind the table's back is still read, so no receipt is ever written twice."""

import json
import os
import time

import pandas as pd
import pytest

from orchestration.lib.core import archive, receipt_manifest
from orchestration.lib.core.archive import ManifestRow
from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.receipt_manifest import record_manifest
from orchestration.lib.core.warehouse import connect, forget_studio_documents

A, B, C, D, E = (letter * 64 for letter in "abcde")


def _receipt(sha: str, path: str) -> ManifestRow:
    return ManifestRow(
        sha256=sha,
        original_name=path.rsplit("/", 1)[-1],
        inbox_path=path,
        archive_path=f"{sha[:2]}/{sha}.csv",
        account_handle="acct",
        file_kind="content",
        export_date=None,
        export_date_source=None,
        size_bytes=10,
        source_mtime="2026-01-05T10:00:00",
        received_at="2026-01-07T08:09:10",
    )


def _line(sha: str, path: str) -> str:
    """The line the landing writes for `_receipt(sha, path)`, as another copy of the manifest would hold it."""
    row = _receipt(sha, path)
    return json.dumps({name: getattr(row, name) for name in archive.MANIFEST_FIELDS}, sort_keys=True) + "\n"


def _file_keys(paths: DataPaths) -> list[tuple[str, str]]:
    lines = paths.manifest.read_text(encoding="utf-8").splitlines()
    return [(json.loads(line)["sha256"], json.loads(line)["inbox_path"]) for line in lines]


@pytest.fixture
def reads(monkeypatch) -> list[int]:
    """Each whole reading of the manifest's keys, counted."""
    counted, read = [], archive._deduplicate

    def counting(manifest, key, incoming, **exact):
        counted.append(len(incoming))
        return read(manifest, key, incoming, **exact)

    monkeypatch.setattr(archive, "_deduplicate", counting)
    return counted


def test_a_landing_after_a_recorded_one_asks_the_table_which_receipts_the_file_holds(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(2,)]
        # B at the same path again (a touched file) and C, new
        record_manifest(paths, con, [_receipt(B, "acct/b.csv"), _receipt(C, "acct/c.csv")], _no_documents())
        table = con.execute("select sha256, inbox_path from raw.archive_manifest order by rowid").fetchall()
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(3,)]
    assert reads == [2], "only the first landing (no stamp yet) read the file"
    assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv"), (C, "acct/c.csv")]
    assert table == [(A, "acct/a.csv"), (B, "acct/b.csv"), (C, "acct/c.csv")]


def test_a_manifest_changed_behind_the_tables_back_is_read_again_and_its_receipts_not_repeated(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        with paths.manifest.open("a", encoding="utf-8") as manifest:  # e.g. lines restored from a backup
            manifest.write(_line(D, "acct/d.csv"))
        record_manifest(paths, con, [_receipt(D, "acct/d.csv"), _receipt(E, "acct/e.csv")], _no_documents())
        # the file was read: its keys are now the table's, so the stamp is set again
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(3,)]
    assert reads == [1, 2]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (D, "acct/d.csv"), (E, "acct/e.csv")]


def test_a_file_holding_receipts_the_table_lacks_is_read_at_every_landing(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    paths.manifest.parent.mkdir(parents=True, exist_ok=True)
    paths.manifest.write_text(_line(D, "old/d.csv"), encoding="utf-8")  # a kept manifest, a new warehouse
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        assert con.execute("select * from landing.manifest_stamp").fetchall() == [], "file 2 receipts, table 1"
        record_manifest(paths, con, [_receipt(D, "old/d.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(3,)], "they agree now"
        record_manifest(paths, con, [_receipt(C, "acct/c.csv")], _no_documents())
    assert reads == [1, 2], "read until the file and the table held the same receipts, not after"
    assert _file_keys(paths) == [(D, "old/d.csv"), (A, "acct/a.csv"), (B, "acct/b.csv"), (C, "acct/c.csv")]


def test_a_table_changed_behind_the_stamps_back_sends_the_landing_to_the_file(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        con.execute("delete from raw.archive_manifest where sha256 = ?", [B])  # by hand: the row count differs
        record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())
    assert reads == [2, 1]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv")], "B, in the file, is not written twice"


def test_a_replay_and_forgetting_the_documents_remove_the_stamp(tmp_path):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        forget_studio_documents(con)
        assert con.execute("select * from landing.manifest_stamp").fetchall() == []
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(1,)]
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents(), append_to_file=False)
        assert con.execute("select * from landing.manifest_stamp").fetchall() == []


def test_a_receipt_whose_line_was_damaged_is_written_again_when_it_comes_back(tmp_path, reads):
    """The file's keys are those a reader (replay) finds: a damaged line's key is not one of them, even where the
    quick key scan still sees it, so no stamp may say the file holds that receipt."""
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        damaged = _line(A, "acct/a.csv") + _line(B, "acct/b.csv")[:-3] + "\n"  # B's key intact, its JSON not
        paths.manifest.write_text(damaged, encoding="utf-8")
        assert archive.read_manifest(paths.manifest) == ([json.loads(_line(A, "acct/a.csv"))], 1)
        record_manifest(paths, con, [_receipt(C, "acct/c.csv")], _no_documents())
        assert con.execute("select * from landing.manifest_stamp").fetchall() == [], "file 2 receipts, table 3"
        record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())  # B dropped again
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(3,)]
    rows, unreadable = archive.read_manifest(paths.manifest)
    assert [(row["sha256"], row["inbox_path"]) for row in rows] == [(A, "acct/a.csv"), (C, "acct/c.csv"),
                                                                    (B, "acct/b.csv")]  # fmt: skip
    assert unreadable == 1
    assert reads == [2, 1, 1]


def test_a_line_a_reader_cannot_parse_is_no_receipt_even_where_a_bare_carriage_return_splits_it(tmp_path, reads):
    """JSON allows a carriage return between values but not the text after it here: `replay` reads no receipt in
    this line, so a landing of the same receipt writes it again (and stamps the file once the two agree)."""
    paths = DataPaths(tmp_path / "data").ensure()
    paths.manifest.parent.mkdir(parents=True, exist_ok=True)
    paths.manifest.write_text(_line(A, "acct/a.csv")[:-1] + "\r garbage\n", encoding="utf-8", newline="")
    assert archive.read_manifest(paths.manifest) == ([], 1)
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(1,)]
    assert reads == [1]
    assert [(row["sha256"], row["inbox_path"]) for row in archive.read_manifest(paths.manifest)[0]] == [
        (A, "acct/a.csv")
    ]


def test_a_file_and_a_table_of_as_many_receipts_but_other_ones_are_not_stamped(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        paths.manifest.write_text(_line(A, "acct/a.csv") + _line(D, "acct/d.csv"), encoding="utf-8")  # B -> D
        record_manifest(paths, con, [_receipt(C, "acct/c.csv")], _no_documents())
        # the file holds A, D, C and the table A, B, C: three each, yet not the same receipts
        assert con.execute("select * from landing.manifest_stamp").fetchall() == []
        record_manifest(paths, con, [_receipt(D, "acct/d.csv")], _no_documents())
    assert reads == [2, 1, 1]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (D, "acct/d.csv"), (C, "acct/c.csv")], "D is not written twice"


def test_a_landing_stopped_between_the_file_and_the_table_is_recorded_once_by_the_next(tmp_path, reads, monkeypatch):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())

        def stopped(incoming):
            raise KeyboardInterrupt

        with monkeypatch.context() as patched:
            patched.setattr(receipt_manifest, "_first_of_each_receipt", stopped)
            with pytest.raises(KeyboardInterrupt):
                record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())
        assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv")]
        assert con.execute("select count(*) from raw.archive_manifest").fetchall() == [(1,)]
        record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(2,)]
        assert con.execute("select count(*) from raw.archive_manifest").fetchall() == [(2,)]
    assert reads == [1, 1], "the stamp of the file before B no longer matched it: the file was read"
    assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv")]


def test_a_torn_last_line_is_repaired_and_the_file_read(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        with paths.manifest.open("a", encoding="utf-8") as manifest:  # a write cut short by a crash
            manifest.write(_line(B, "acct/b.csv")[:40])
        record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())
        assert con.execute("select receipts from landing.manifest_stamp").fetchall() == [(2,)]
    assert reads == [1, 1]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv")]


def test_keys_that_are_not_text_after_a_replay_leave_no_stamp_and_the_landing_goes_on(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    paths.manifest.parent.mkdir(parents=True, exist_ok=True)
    odd = json.loads(_line(D, "acct/d.csv")) | {"sha256": 12345}  # an odd line: its sha256 a number
    paths.manifest.write_text(json.dumps(odd, sort_keys=True) + "\n", encoding="utf-8")
    rows, _ = archive.read_manifest(paths.manifest)
    with connect(paths.warehouse) as con:
        replayed = [ManifestRow(**{name: row.get(name) for name in ManifestRow.__dataclass_fields__}) for row in rows]
        record_manifest(paths, con, replayed, _no_documents(), append_to_file=False)
        record_manifest(paths, con, [_receipt(A, "acct/a.csv")], _no_documents())
        assert con.execute("select * from landing.manifest_stamp").fetchall() == [], "a key of the file is a number"
        record_manifest(paths, con, [_receipt(B, "acct/b.csv")], _no_documents())
        assert con.execute("select count(*) from raw.archive_manifest").fetchall() == [(3,)]
    assert reads == [1, 1]
    assert [key for _, key in _file_keys(paths)] == ["acct/d.csv", "acct/a.csv", "acct/b.csv"]


def test_a_key_edited_in_the_table_sends_the_landing_to_the_file_though_the_row_count_is_the_same(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        con.execute("update raw.archive_manifest set inbox_path = 'acct/B.csv' where sha256 = ?", [B])  # by hand
        record_manifest(paths, con, [_receipt(B, "acct/b.csv"), _receipt(B, "acct/B.csv")], _no_documents())
    assert reads == [2, 2]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (B, "acct/b.csv"), (B, "acct/B.csv")], "b.csv once, B.csv new"


def test_a_same_size_edit_of_the_file_with_its_mtime_put_back_is_still_seen(tmp_path, reads):
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        before = paths.manifest.stat()
        edited = _line(A, "acct/a.csv") + _line(D, "acct/b.csv")  # B's line now D's: the same length
        assert len(edited.encode()) == before.st_size
        with paths.manifest.open("r+", encoding="utf-8") as manifest:  # in place: the same inode
            manifest.write(edited)
        os.utime(paths.manifest, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the ctime tells
        for _ in range(1000):  # ... once the file clock ticked (by the tick before kernel 6.13, not the nanosecond)
            if paths.manifest.stat().st_ctime_ns != before.st_ctime_ns:
                break
            time.sleep(0.001)
            os.utime(paths.manifest, ns=(before.st_atime_ns, before.st_mtime_ns))  # (sets the ctime again)
        record_manifest(paths, con, [_receipt(D, "acct/b.csv")], _no_documents())
    assert reads == [2, 1]
    assert _file_keys(paths) == [(A, "acct/a.csv"), (D, "acct/b.csv")], "D, in the file, is not written twice"


def test_a_key_utf8_cannot_hold_leaves_no_stamp_and_the_landing_goes_on(tmp_path, reads):
    """JSON may escape a lone surrogate, which Python reads but no UTF-8 text (the table's) can hold."""
    paths = DataPaths(tmp_path / "data").ensure()
    with connect(paths.warehouse) as con:
        record_manifest(paths, con, [_receipt(A, "acct/a.csv"), _receipt(B, "acct/b.csv")], _no_documents())
        odd = _line(D, "acct/x.csv").replace("x.csv", "\\ud800.csv")  # B's line replaced by hand
        paths.manifest.write_text(_line(A, "acct/a.csv") + odd, encoding="utf-8")
        record_manifest(paths, con, [_receipt(C, "acct/c.csv")], _no_documents())
        assert con.execute("select * from landing.manifest_stamp").fetchall() == []
        record_manifest(paths, con, [_receipt(E, "acct/e.csv")], _no_documents())
        table = con.execute("select sha256 from raw.archive_manifest order by rowid").fetchall()
    assert table == [(A,), (B,), (C,), (E,)]
    assert [sha for sha, _ in _file_keys(paths)] == [A, D, C, E]
    assert reads == [2, 1, 1]


def _no_documents() -> pd.DataFrame:
    return pd.DataFrame()
