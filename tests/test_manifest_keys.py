"""Appending to a long manifest does not parse every line as JSON, yet skips exactly the receipts already
recorded and still repairs repeated lines."""

import json

from orchestration.lib.core.archive import RECEIPT_KEY, _receipt_keys_when_unique, append_manifest_lines


def _line(sha: str, path: str, **extra) -> bytes:
    row = {"account_handle": "acct", "inbox_path": path, "original_name": "x.csv", "sha256": sha, **extra}
    return (json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


A, B, C, D = ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


def test_keys_are_found_in_every_form_a_line_takes():
    data = b"".join(
        [
            _line(A, "acct/Overview.csv"),
            _line(B, 'acct/Quote "1".csv'),  # escaped: read by the JSON parser
            _line(C, "équipe/Übersicht 2.csv"),  # not ASCII, unescaped (ensure_ascii=False)
            b'{"sha256": "' + D.encode() + b'", "inbox_path": "unsorted.csv"}\n',  # another writer's order
            b"\n",
            b"not json at all\n",
            b'{"inbox_path": "no sha.csv"}\n',
        ]
    )
    assert _receipt_keys_when_unique(data) == {
        (A, "acct/Overview.csv"),
        (B, 'acct/Quote "1".csv'),
        (C, "équipe/Übersicht 2.csv"),
        (D, "unsorted.csv"),
    }
    assert _receipt_keys_when_unique(data + _line(A, "acct/Overview.csv", size_bytes=3)) is None, "a repeat"
    assert _receipt_keys_when_unique(data + _line(A, "other/Overview.csv")) is not None, "same bytes, other path"


def test_append_skips_recorded_receipts_and_repairs_repeats(tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    first = [{"sha256": A, "inbox_path": "a.csv", "n": 1}, {"sha256": B, "inbox_path": 'q "b".csv', "n": 2}]
    assert append_manifest_lines(manifest, first, key=RECEIPT_KEY) == 2
    again = [{"sha256": B, "inbox_path": 'q "b".csv', "n": 3}, {"sha256": C, "inbox_path": "c.csv", "n": 4}]
    assert append_manifest_lines(manifest, again, key=RECEIPT_KEY) == 1, "the escaped path is found as recorded"
    # a damaged line that merely looks like a receipt: the exact reading says it records none
    with manifest.open("ab") as handle:
        handle.write(b'{"inbox_path": "d.csv", "sha256": "' + D.encode() + b'", "n": \n')
    assert append_manifest_lines(manifest, [{"sha256": D, "inbox_path": "d.csv", "n": 6}], key=RECEIPT_KEY) == 1
    # a repeated line left by an old version: the first whole line of a key wins
    with manifest.open("ab") as handle:
        handle.write(_line(A, "a.csv", n=5))
    assert append_manifest_lines(manifest, [{"sha256": A, "inbox_path": "e.csv", "n": 7}], key=RECEIPT_KEY) == 1
    rows = [json.loads(line) for line in manifest.read_text().splitlines() if line.startswith('{"') and line[-1] == "}"]
    assert [(row["inbox_path"], row["n"]) for row in rows] == [
        ("a.csv", 1),
        ('q "b".csv', 2),
        ("c.csv", 4),
        ("d.csv", 6),
        ("e.csv", 7),
    ]
