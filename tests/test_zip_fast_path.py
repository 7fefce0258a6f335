"""The fast ZIP parser in `read_zip_members`, with zipfile as the oracle: every archive it takes gives the
members zipfile gives; anything unusual it leaves to zipfile, which gives today's members or refusal."""

import io
import struct
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import pytest

from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.core import containers
from orchestration.lib.core.containers import (
    RefusedArchive,
    ZipMember,
    _read_zip_members_fast,
    _read_zip_members_with_zipfile,
    read_zip_members,
)

WHEN = (2026, 2, 19, 8, 30, 12)
CONTENT = b"Date,Video views\n2026-02-18,1200\n2026-02-19,1350\n" * 20
OVERVIEW = b"Date,Likes\n2026-02-19,87\n"
TIMESTAMP_EXTRA = struct.pack("<HHBL", 0x5455, 5, 1, 1771489812)  # Info-ZIP's extended timestamp, as many tools write


def _info(name: str, when: tuple = WHEN, compression: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = compression
    return info


def _zip(members, *, comment: bytes = b"") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
        archive.comment = comment
    return buffer.getvalue()


def _clean() -> bytes:
    return _zip([(_info("Content.csv"), CONTENT), (_info("Overview.csv"), OVERVIEW)])


def _headers(data: bytes) -> list[tuple[int, int]]:
    """(central header offset, local header offset) of each entry, from a comment-less archive."""
    count, _, at = struct.unpack_from("<HLL", data, len(data) - 12)
    offsets = []
    for _ in range(count):
        name_size, extra_size, comment_size = struct.unpack_from("<3H", data, at + 28)
        offsets.append((at, struct.unpack_from("<L", data, at + 42)[0]))
        at += 46 + name_size + extra_size + comment_size
    return offsets


def _patched(data: bytes, patches: list[tuple[int, str, int]]) -> bytes:
    out = bytearray(data)
    for offset, fmt, value in patches:
        struct.pack_into(fmt, out, offset, value)
    return bytes(out)


def _with_flag(data: bytes, bit: int) -> bytes:
    """Every entry with `bit` set in its flags, central and local alike."""
    patches = []
    for central, local in _headers(data):
        patches += [(central + 8, "<H", data[central + 8] | bit), (local + 6, "<H", data[local + 6] | bit)]
    return _patched(data, patches)


def _cp437_name() -> bytes:
    """A name zipfile must decode as cp437: byte 0x81 ("ü"), no UTF-8 flag (and not valid UTF-8 alone)."""
    data = _zip([(_info("Xber.csv"), OVERVIEW)])
    ((central, local),) = _headers(data)
    return _patched(data, [(central + 46, "B", 0x81), (local + 30, "B", 0x81)])


def _impossible_date() -> bytes:
    # month 0, day 0, hour 25: zipfile hands these fields on, entry_timestamp says None
    return _zip([(_info("Content.csv", when=(2026, 0, 0, 25, 0, 0)), CONTENT)])


class _Unseekable(io.RawIOBase):
    def __init__(self):
        self.written = io.BytesIO()

    def writable(self):
        return True

    def write(self, chunk):
        return self.written.write(chunk)


def _data_descriptor() -> bytes:
    stream = _Unseekable()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr(_info("Content.csv"), CONTENT)
        archive.writestr(_info("Overview.csv", compression=zipfile.ZIP_STORED), OVERVIEW)
    data = stream.written.getvalue()
    assert all(data[central + 8] & 0x8 for central, _ in _headers(data))  # the entries do use a descriptor
    return data


def _zip64_forced() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive, archive.open(_info("Content.csv"), "w", force_zip64=True) as out:
        out.write(CONTENT)
    return buffer.getvalue()


def _bad_crc() -> bytes:
    data = _clean()
    (central, local), _ = _headers(data)
    return _patched(data, [(central + 16, "<L", 0x1234_5678), (local + 14, "<L", 0x1234_5678)])


def _local_name_differs() -> bytes:
    data = _clean()
    (_, local), _ = _headers(data)
    return _patched(data, [(local + 30, "B", ord("K"))])


def _shared_local_header() -> bytes:
    """Two central records naming the same local entry (how overlap bombs are built): zipfile 3.11 reads
    it twice; newer zipfiles refuse it. Both records carry one name, so both paths refuse it for that."""
    data = _zip([(_info("Content.csv"), CONTENT)])
    ((central, _),) = _headers(data)
    end_at = len(data) - 22
    record = data[central:end_at]
    end = _patched(data[end_at:], [(8, "<H", 2), (10, "<H", 2), (12, "<L", 2 * len(record))])
    return data[:end_at] + record + end


def _raw_zip(name: bytes, payload: bytes) -> bytes:
    """One stored entry dated 2026-02-19 00:00, written field by field (no zipfile), for names zipfile
    will not write: empty, or with a NUL in them."""
    crc, size = zlib.crc32(payload), len(payload)
    local = struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0x5C53, crc, size, size, len(name), 0)
    central = struct.pack(
        "<4s4B4HL2L5H2L", b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 0x5C53, crc, size, size, len(name), 0, 0, 0, 0, 0, 0
    )
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), len(local) + len(name) + size, 0)
    return local + name + payload + central + name + end


def _central_patched(offset: int, fmt: str, value: int) -> bytes:
    """The clean archive with one field of its first central record changed (zipfile reads only that one)."""
    data = _clean()
    ((central, _), _) = _headers(data)
    return _patched(data, [(central + offset, fmt, value)])


def _data_runs_into_next_entry() -> bytes:
    """The first entry's compressed size reaches 10 bytes into the second's local header: zipfile 3.11
    reads past them (the deflate stream ends first), newer zipfiles refuse overlapping entries."""
    data = _clean()
    ((central, _), _) = _headers(data)
    (compress_size,) = struct.unpack_from("<L", data, central + 20)
    return _patched(data, [(central + 20, "<L", compress_size + 10)])


def _end_patched(patches: list[tuple[int, str, int]]) -> bytes:
    data = _clean()
    return data[:-22] + _patched(data[-22:], patches)


def _unfinished_deflate() -> bytes:
    """A deflate stream cut before its final block, sizes and CRC right: zipfile reads it all the same."""
    deflater = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    stream = deflater.compress(CONTENT) + deflater.flush(zlib.Z_SYNC_FLUSH)
    data = _zip([(_info("Content.csv", compression=zipfile.ZIP_STORED), stream)])
    ((central, local),) = _headers(data)
    crc = zlib.crc32(CONTENT)
    fields = [(8, "<H", 8), (14, "<L", crc), (22, "<L", len(CONTENT))]  # method, CRC, size in the local header
    return _patched(
        data,
        [(local + at, fmt, value) for at, fmt, value in fields]
        + [(central + at + 2, fmt, value) for at, fmt, value in fields],
    )


def _stored_longer_than_declared() -> bytes:
    """Stored bytes past the declared size: zipfile cuts them off; the fast parser leaves it."""
    data = _zip([(_info("Overview.csv", compression=zipfile.ZIP_STORED), OVERVIEW + b"junk")])
    ((central, _),) = _headers(data)
    return _patched(data, [(central + 16, "<L", zlib.crc32(OVERVIEW)), (central + 24, "<L", len(OVERVIEW))])


def _with_extra(extra: bytes) -> bytes:
    info = _info("Content.csv")
    info.extra = extra
    return _zip([(info, CONTENT)])


def _corrupt_central_extra() -> bytes:
    """A timestamp extra whose size runs past the central record's extra field (the local one is intact)."""
    data = _with_extra(TIMESTAMP_EXTRA)
    ((central, _),) = _headers(data)
    return _patched(data, [(central + 46 + len("Content.csv") + 2, "<H", 50)])


def _zip64_locator_in_comment() -> bytes:
    """The last entry's comment ends like a ZIP64 locator just before the end record: zipfile reads it as one."""
    info = _info("Content.csv")
    info.comment = b"PK\x06\x07" + struct.pack("<LQL", 1, 0, 2)
    return _zip([(info, CONTENT)])


def _local_name_not_utf8() -> bytes:
    data = _zip([(_info("Übersicht.csv"), CONTENT)])
    ((_, local),) = _headers(data)
    return _patched(data, [(local + 6, "<H", data[local + 6] & ~0x800)])


def _bomb() -> bytes:  # 2 MiB of zeros in ~2 KB: past the compression-ratio limit
    return _zip([(_info("Content.csv"), bytes(2 * 1024 * 1024))])


def _bzip2() -> bytes:
    return _zip([(_info("Content.csv", compression=zipfile.ZIP_BZIP2), CONTENT)])


# name → (archive bytes, what the fast parser does: "takes" it, "refuses" it, or "leaves" it to zipfile)
CASES = {
    "deflated": (_clean, "takes"),
    "stored": (lambda: _zip([(_info("Content.csv", compression=zipfile.ZIP_STORED), CONTENT)]), "takes"),
    "utf8 name": (lambda: _zip([(_info("Übersicht/Inhalt.csv"), CONTENT)]), "takes"),
    "cp437 name": (_cp437_name, "takes"),
    "directory entry": (lambda: _zip([(_info("export/"), b""), (_info("export/Content.csv"), CONTENT)]), "takes"),
    "data descriptor": (_data_descriptor, "takes"),
    "empty zip": (lambda: _zip([]), "takes"),
    "empty member": (lambda: _zip([(_info("Content.csv"), b"")]), "takes"),
    "1980-01-01": (lambda: _zip([(_info("Content.csv", when=(1980, 1, 1, 0, 0, 0)), CONTENT)]), "takes"),
    "impossible date": (_impossible_date, "takes"),
    "escaping name": (lambda: _zip([(_info("../Content.csv"), CONTENT)]), "refuses"),
    "absolute name": (lambda: _zip([(_info("/etc/Content.csv"), CONTENT)]), "refuses"),
    "65 entries": (lambda: _zip([(_info(f"{n}.csv"), OVERVIEW) for n in range(65)]), "refuses"),
    "one name twice": (lambda: _zip([(_info("Overview.csv"), OVERVIEW), (_info("Overview.csv"), CONTENT)]), "refuses"),
    "compression bomb": (_bomb, "refuses"),
    "archive comment": (lambda: _zip([(_info("Content.csv"), CONTENT)], comment=b"exported"), "leaves"),
    "prepended bytes": (lambda: b"#!/bin/sh\n" * 7 + _clean(), "leaves"),
    "appended bytes": (lambda: _clean() + b"\0" * 5, "leaves"),
    "zip64 forced": (_zip64_forced, "leaves"),
    "encrypted flag": (lambda: _with_flag(_clean(), 0x1), "leaves"),
    "bzip2": (_bzip2, "leaves"),
    "bad crc": (_bad_crc, "leaves"),
    "local name differs": (_local_name_differs, "leaves"),
    "not a zip": (lambda: b"Date,Video views\n", "leaves"),
    "shared local header": (_shared_local_header, "refuses"),  # its two records share a name, too
    "hand-written zip": (lambda: _raw_zip(b"Content.csv", OVERVIEW), "takes"),
    "timestamp extra": (lambda: _with_extra(TIMESTAMP_EXTRA), "takes"),
    "empty name": (lambda: _raw_zip(b"", OVERVIEW), "leaves"),
    "NUL in name": (lambda: _raw_zip(b"Content.csv\x00.exe", OVERVIEW), "leaves"),
    "corrupt extra": (_corrupt_central_extra, "leaves"),
    "zip64 locator": (_zip64_locator_in_comment, "leaves"),
    "zip64 size marker": (lambda: _central_patched(24, "<L", 0xFFFF_FFFF), "leaves"),
    "disk number": (lambda: _central_patched(34, "<H", 1), "leaves"),
    "data runs into next entry": (_data_runs_into_next_entry, "leaves"),
    "entry count": (lambda: _end_patched([(8, "<H", 3), (10, "<H", 3)]), "leaves"),
    "comment size": (lambda: _end_patched([(20, "<H", 5)]), "leaves"),
    "unfinished deflate": (_unfinished_deflate, "leaves"),
    "stored past its size": (_stored_longer_than_declared, "leaves"),
    "local name not utf-8": (_local_name_not_utf8, "leaves"),
}


def _outcome(read, path: Path):
    """Members, or the error raised: zipfile's own errors (not only refusals) must come out the same."""
    try:
        return read(path)
    except Exception as error:
        return type(error), str(error)


@pytest.mark.parametrize("case", CASES)
def test_fast_parser_gives_what_zipfile_gives(case, tmp_path):
    build, expected = CASES[case]
    path = tmp_path / "export.zip"
    path.write_bytes(build())
    oracle = _outcome(_read_zip_members_with_zipfile, path)
    assert _outcome(read_zip_members, path) == oracle
    if expected == "takes":
        assert isinstance(oracle, list)
        assert _read_zip_members_fast(path) == oracle
    elif expected == "refuses":
        assert isinstance(oracle, tuple) and oracle[0] is RefusedArchive
        with pytest.raises(RefusedArchive) as refused:
            _read_zip_members_fast(path)
        assert str(refused.value) == oracle[1]
    else:
        assert _read_zip_members_fast(path) is None


def test_clean_archives_read_as_written(tmp_path):
    """The members of the clean cases, worked out from what was written rather than from zipfile."""
    expected = {
        "deflated": [("Content.csv", CONTENT), ("Overview.csv", OVERVIEW)],
        "cp437 name": [("über.csv", OVERVIEW)],
        "utf8 name": [("Übersicht/Inhalt.csv", CONTENT)],
        "directory entry": [("export/Content.csv", CONTENT)],
        "data descriptor": [("Content.csv", CONTENT), ("Overview.csv", OVERVIEW)],
        "empty zip": [],
        "empty member": [("Content.csv", b"")],
    }
    for case, members in expected.items():
        path = tmp_path / f"{case}.zip"
        path.write_bytes(CASES[case][0]())
        assert _read_zip_members_fast(path) == [ZipMember(name, data, datetime(*WHEN)) for name, data in members]
    for case in ("1980-01-01", "impossible date"):  # no usable date
        path = tmp_path / f"{case}.zip"
        path.write_bytes(CASES[case][0]())
        assert _read_zip_members_fast(path) == [ZipMember("Content.csv", CONTENT, None)]


def test_escape_refusal_is_worded_as_before(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(CASES["escaping name"][0]())
    with pytest.raises(RefusedArchive, match=r"entry '\.\./Content\.csv' would escape its folder"):
        read_zip_members(path)


def test_password_flag_still_gets_the_password_message(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(CASES["encrypted flag"][0]())
    with pytest.raises(RefusedArchive, match="'Content.csv' is password-protected"):
        read_zip_members(path)


def test_large_and_missing_files_are_left_to_zipfile(tmp_path, monkeypatch):
    path = tmp_path / "export.zip"
    path.write_bytes(_clean())
    monkeypatch.setattr(containers, "_FAST_PATH_MAX_BYTES", path.stat().st_size - 1)
    assert _read_zip_members_fast(path) is None
    assert read_zip_members(path) == _read_zip_members_with_zipfile(path)
    missing = tmp_path / "gone.zip"
    assert _read_zip_members_fast(missing) is None
    with pytest.raises(RefusedArchive, match="not a readable ZIP file"):
        read_zip_members(missing)


def test_demo_studio_zips_take_the_fast_path(tmp_path):
    generate_demo_inbox(tmp_path / "inbox", accounts=1, days=2, live=False)
    zips = sorted((tmp_path / "inbox").rglob("*.zip"))
    assert zips
    for path in zips:
        members = _read_zip_members_fast(path)
        assert members and members == _read_zip_members_with_zipfile(path)
        # the same members deflated, as real Studio downloads are
        repacked = tmp_path / f"deflated {path.name}"
        repacked.write_bytes(_zip([(_info(m.name, when=m.modified.timetuple()[:6]), m.data) for m in members]))
        assert _read_zip_members_fast(repacked) == members


def test_byte_flips_never_change_the_result(tmp_path):
    """Every byte of a clean two-member deflated ZIP flipped two ways: the fast path either steps aside
    or gives exactly what zipfile gives, members or refusal."""
    clean = _clean()
    taken = 0
    for position in range(len(clean)):
        for mask in (0x01, 0xFF):
            damaged = bytearray(clean)
            damaged[position] ^= mask
            path = tmp_path / f"{position}-{mask}.zip"
            path.write_bytes(damaged)
            oracle = _outcome(_read_zip_members_with_zipfile, path)
            assert _outcome(read_zip_members, path) == oracle, (position, mask)
            fast = _outcome(_read_zip_members_fast, path)
            if fast is not None:
                assert fast == oracle, (position, mask)
                taken += 1
    # flips in fields zipfile ignores (versions, attributes, local sizes, dates) still take the fast path
    assert taken > 50


def test_fast_parser_never_inflates_past_the_declared_size(tmp_path, monkeypatch):
    """A deflate stream longer than its declared size is cut at size + 1 bytes, then left to zipfile."""
    data = _zip([(_info("Content.csv"), CONTENT)])
    ((central, _),) = _headers(data)
    declared = len(CONTENT) - 10
    data = _patched(data, [(central + 24, "<L", declared)])
    path = tmp_path / "export.zip"
    path.write_bytes(data)
    asked = []
    real = zlib.decompressobj

    class _Recording:
        def __init__(self, wbits):
            self._inflater = real(wbits)

        def decompress(self, chunk, max_length=0):
            asked.append(max_length)
            return self._inflater.decompress(chunk, max_length)

        def __getattr__(self, name):
            return getattr(self._inflater, name)

    monkeypatch.setattr(zlib, "decompressobj", _Recording)
    assert _read_zip_members_fast(path) is None
    assert asked == [declared + 1]


def test_an_entry_without_a_name_is_refused_by_name_not_reported_as_a_crash(tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(_raw_zip(b"", OVERVIEW))
    with pytest.raises(RefusedArchive, match="an entry has an empty name"):
        read_zip_members(path)
