"""The demo generator writes what TikTok Studio writes, the same way every time."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest

from orchestration.devtools.demo import generate_demo_inbox, yearless_date
from orchestration.devtools.demo.cli import main

HEADERS = {
    "Overview": ["Date", "Video Views", "Profile Views", "Likes", "Comments", "Shares"],
    "Viewers": ["Date", "Total Viewers", "New Viewers", "Returning Viewers"],
    "FollowerHistory": ["Date", "Followers", "Difference in followers from previous day"],
    "FollowerActivity": ["Date", "Hour", "Active followers"],
    "FollowerGender": ["Gender", "Distribution"],
    "FollowerTopTerritories": ["Top territories", "Distribution"],
    "Content": [
        "Time",
        "Video title",
        "Video link",
        "Post time",
        "Total likes",
        "Total comments",
        "Total shares",
        "Total views",
    ],
}
ZIP_NAME = re.compile(
    r"^(?:Overview_(?P<first>\d{4}-\d{2}-\d{2})_(?P<epoch>\d+)_|(?P<section>Content|Followers|Viewers)_)"
    r"(?P<handle>[a-z0-9._]+?)(?: \((?P<copy>\d+)\))?\.zip$"
)
QUOTED_LINE = re.compile(r'^"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*$')


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def _files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.rglob("*") if p.is_file())


def _studio_files(inbox: Path) -> list[Path]:
    """The Studio downloads: not the LIVE side (`<handle>/live/` logs, the agency's Backstage folder)."""
    return [p for p in _files(inbox) if "live" not in p.relative_to(inbox).parts[:-1] and p.parent.name != "backstage"]


def _csv_members(inbox: Path):
    """(path, member stem, raw bytes) for every Studio CSV, inside ZIPs and bare."""
    for path in _studio_files(inbox):
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename.endswith(".csv"):
                        yield path, info.filename[:-4], archive.read(info)
        elif path.suffix == ".csv":
            yield path, re.sub(r"( \d+| \(\d+\))$", "", path.stem), path.read_bytes()


def _rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("demo") / "inbox"
    return inbox, generate_demo_inbox(inbox)


def test_same_arguments_give_byte_identical_files_and_mtimes(demo, tmp_path):
    """Also with the LIVEs recorded in two other processes (as `make run` seeds) while the Studio side is written."""
    inbox, _ = demo
    again = tmp_path / "inbox"
    summary = generate_demo_inbox(again, workers=2)
    assert summary.live_logs == 12
    first, second = _files(inbox), _files(again)
    assert [p.relative_to(inbox) for p in first] == [p.relative_to(again) for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        assert os.stat(a).st_mtime == os.stat(b).st_mtime, a.name


def test_another_seed_gives_other_numbers(demo, tmp_path):
    inbox, _ = demo
    other = tmp_path / "other"
    generate_demo_inbox(other, seed=8, days=20)
    ours = {p.name: p.read_bytes() for p in _files(inbox)}
    assert any(ours.get(p.name) not in (None, p.read_bytes()) for p in _files(other))


def test_default_history_has_three_accounts_over_130_days_across_new_year(demo):
    _, summary = demo
    assert summary.accounts == ("techcreator", "maria.cocina", "le_petit_chef")
    assert summary.locales == ("en_US", "es", "en_GB")
    assert (summary.first_day, summary.last_day) == (date(2025, 10, 14), date(2026, 2, 20))
    assert summary.files_written == len(_files(demo[0]))


def test_every_csv_uses_studio_dialect(demo):
    inbox, _ = demo
    count = 0
    for path, stem, data in _csv_members(inbox):
        count += 1
        assert data.startswith(b"\xef\xbb\xbf"), path
        text = data.decode("utf-8")[1:]
        assert not text.endswith("\n") and "\r" not in text, path
        for line in text.split("\n"):
            assert QUOTED_LINE.match(line), (path, line)
        rows = _rows(data)
        assert rows[0] == HEADERS[stem], path
        assert all(len(row) == len(rows[0]) for row in rows), path
        assert all(field.strip() != "" for row in rows for field in row[:1]), path
    assert count > 1000


def test_zips_are_stored_and_stamped_with_the_export_moment(demo):
    inbox, _ = demo
    for path in _files(inbox):
        if path.suffix != ".zip":
            continue
        match = ZIP_NAME.match(path.name)
        assert match, path.name
        mtime = _utc(os.stat(path).st_mtime)
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                assert info.compress_type == zipfile.ZIP_STORED
                assert "/" not in info.filename
                # a byte-identical re-download lands a little later than its entries' moment
                assert 0 <= (mtime - datetime(*info.date_time)).total_seconds() <= 200, path.name
        if match["epoch"]:
            exported = _utc(int(match["epoch"]))
            assert abs((exported - datetime(*info.date_time)).total_seconds()) <= 1


def test_overview_windows_end_one_or_two_days_before_the_export(demo):
    inbox, _ = demo
    lengths, lags = set(), set()
    for path in _files(inbox):
        match = ZIP_NAME.match(path.name)
        if not match or not match["first"]:
            continue
        with zipfile.ZipFile(path) as archive:
            rows = _rows(archive.read("Overview.csv"))[1:]
            moment = datetime(*archive.infolist()[0].date_time)
        first = date.fromisoformat(match["first"])
        assert rows[0][0] == yearless_date(
            first, {"techcreator": "en_US", "maria.cocina": "es"}.get(match["handle"], "en_GB")
        )
        lengths.add(len(rows))
        lags.add((moment.date() - first).days - len(rows) + 1)
    assert lengths == {7, 28}
    assert lags == {1, 2}


def test_dates_follow_each_account_ui_language(demo):
    inbox, _ = demo
    firsts: dict[str, set[str]] = defaultdict(set)
    for path, stem, data in _csv_members(inbox):
        if stem == "Overview":
            handle = ZIP_NAME.match(path.name)["handle"]
            firsts[handle].update(row[0] for row in _rows(data)[1:])
    assert "January 1" in firsts["techcreator"] and "December 31" in firsts["techcreator"]
    assert "1 de enero" in firsts["maria.cocina"] and "31 de diciembre" in firsts["maria.cocina"]
    assert "1 January" in firsts["le_petit_chef"]
    assert all(re.fullmatch(r"\d{1,2} de [a-z]+", d) for d in firsts["maria.cocina"])


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en_US", "March 8"), ("es", "8 de marzo"), ("en_GB", "8 March"), ("ru", "8 марта"), ("ja", "3月8日")],
)
def test_yearless_date_comes_from_cldr(locale, expected):
    assert yearless_date(date(2026, 3, 8), locale) == expected


def test_small_account_gets_header_only_audience_files(demo):
    inbox, _ = demo
    header_only = defaultdict(int)
    for path, stem, data in _csv_members(inbox):
        if stem in ("FollowerGender", "FollowerTopTerritories") and len(_rows(data)) == 1:
            header_only[(ZIP_NAME.match(path.name)["handle"], stem)] += 1
    assert header_only[("le_petit_chef", "FollowerGender")] > 0
    assert header_only[("le_petit_chef", "FollowerTopTerritories")] > 0
    assert not any(handle == "techcreator" for handle, _ in header_only)


def test_audience_and_activity_files_have_their_real_shape(demo):
    inbox, _ = demo
    for _path, stem, data in _csv_members(inbox):
        rows = _rows(data)[1:]
        if stem == "FollowerTopTerritories" and rows:
            assert len(rows) == 11 and rows[-1][0] == "Others"
            assert all(re.fullmatch(r"[A-Z]{2}", r[0]) for r in rows[:-1])
            assert abs(sum(float(r[1]) for r in rows) - 1.0) < 0.01
        elif stem == "FollowerActivity":
            assert len(rows) == 168 and len({r[0] for r in rows}) == 7
            assert [r[1] for r in rows[:24]] == [str(h) for h in range(24)]
            assert rows[-1][2] == "0"  # the last day's trailing hours are not computed yet
        elif stem == "Viewers":
            for _, total, new, returning in rows:
                if total != "undefined":
                    assert int(total) == int(new) + int(returning)


def test_undefined_values_appear_where_studio_writes_them(demo):
    inbox, _ = demo
    seen = defaultdict(int)
    for _, stem, data in _csv_members(inbox):
        for row in _rows(data)[1:]:
            for column, value in zip(HEADERS[stem], row, strict=True):
                if value == "undefined":
                    seen[(stem, column)] += 1
    assert seen[("Viewers", "Total Viewers")] > 0
    assert seen[("FollowerHistory", "Followers")] > 0
    assert seen[("Overview", "Profile Views")] > 0


def test_content_snapshots_grow_and_sometimes_fall(demo):
    inbox, _ = demo
    history = defaultdict(list)
    for path, stem, data in _csv_members(inbox):
        if stem != "Content" or path.suffix != ".zip":
            continue
        rows = _rows(data)[1:]
        assert 1 <= len(rows) <= 15
        assert len({r[0] for r in rows}) == 1  # Time: the download date on every row
        for row in rows:
            video_id = re.fullmatch(r"https://www\.tiktok\.com/@[a-z0-9._]+/video/(\d{19})", row[2])[1]
            history[video_id].append((os.stat(path).st_mtime, int(row[4]), int(row[7])))
    falls = 0
    for observations in history.values():
        observations.sort()
        falls += any(b[1] < a[1] for a, b in zip(observations, observations[1:], strict=False))
    assert falls >= 3
    titles = [r[1] for _, s, d in _csv_members(inbox) if s == "Content" for r in _rows(d)[1:]]
    assert "" in titles
    assert any('"' in t for t in titles) and any(t.endswith(" ") for t in titles)
    assert any(t.endswith("...") for t in titles)


def test_variety_quirks_are_present(demo):
    inbox, _ = demo
    names = [p.relative_to(inbox).as_posix() for p in _files(inbox)]
    assert "techcreator/Content 2.csv" in names
    dated_bare = [n for n in names if re.fullmatch(r"[a-z._]+/\d{4}-\d{2}-\d{2}/.+\.csv", n)]
    assert dated_bare
    # a byte-identical re-download of a ZIP
    by_bytes = defaultdict(list)
    for path in _files(inbox):
        if path.suffix == ".zip":
            by_bytes[path.read_bytes()].append(path.name)
    assert any(len(group) > 1 for group in by_bytes.values())
    # the bare Content 2.csv is the same file as that day's Content.csv
    bare = (inbox / "techcreator" / "Content 2.csv").read_bytes()
    assert any(data == bare for path, stem, data in _csv_members(inbox) if path.suffix == ".zip")
    # one Viewers.xlsx: one sheet named after the file, every cell text
    workbooks = []
    for path in _files(inbox):
        if path.name.startswith("Viewers_"):
            with zipfile.ZipFile(path) as archive:
                if "Viewers.xlsx" in archive.namelist():
                    workbooks.append(openpyxl.load_workbook(io.BytesIO(archive.read("Viewers.xlsx"))))
    assert workbooks
    sheet = workbooks[0]["Viewers"]
    assert workbooks[0].sheetnames == ["Viewers"]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADERS["Viewers"]
    assert all(isinstance(v, str) for row in values for v in row)
    # a week without downloads for one account (its FollowerActivity for those days is lost)
    days = sorted({_utc(os.stat(p).st_mtime).date() for p in _studio_files(inbox) if "maria.cocina" in p.name})
    assert max((b - a).days for a, b in zip(days, days[1:], strict=False)) > 7


def test_plain_mode_is_one_download_per_section_per_day(tmp_path):
    summary = generate_demo_inbox(tmp_path, accounts=5, days=10, variety=False, live=False)
    assert summary.accounts[3:] == ("acct0001", "acct0002")
    per_day = defaultdict(int)
    for path in _files(tmp_path):
        match = ZIP_NAME.match(path.name)
        assert match and path.parent == tmp_path
        per_day[(match["handle"], _utc(os.stat(path).st_mtime).date())] += 1
    assert set(per_day.values()) == {4}
    days = defaultdict(int)
    for handle, _ in per_day:
        days[handle] += 1
    # every account every day, except the brand-new one, which only has data a few days in
    assert days == {"techcreator": 10, "maria.cocina": 10, "le_petit_chef": 6, "acct0001": 10, "acct0002": 10}


def test_dated_folders_keep_the_real_zip_names(tmp_path):
    generate_demo_inbox(tmp_path, accounts=1, days=3, variety=False, dated_folders=True, live=False)
    names = sorted(p.relative_to(tmp_path).as_posix() for p in _files(tmp_path))
    assert len(names) == 12
    assert "2026-02-20/Content_techcreator.zip" in names
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}/[^/ ]+\.zip", n) for n in names)


def test_cli_prints_what_it_wrote(tmp_path, capsys):
    assert main(["--inbox", str(tmp_path / "a"), "--accounts", "2", "--days", "5", "--plain", "--no-live"]) == 0
    out = capsys.readouterr().out
    assert "wrote 40 files" in out and "maria.cocina (es)" in out and "LIVE" not in out
    # with the LIVE side, over 30 days: 2 x 30 x 4 Studio files, 2 accounts x 4 LIVEs (log + sidecar),
    # 31 Backstage downloads (30 days, one of them twice: 30 distinct), 2 x 4 LIVE Center files
    assert main(["--inbox", str(tmp_path / "b"), "--accounts", "2", "--days", "30", "--plain"]) == 0
    out = capsys.readouterr().out
    assert "wrote 295 files" in out
    assert (
        "LIVE: 8 recorded LIVEs (log + sidecar), 31 Backstage downloads from 2026-01-22 to 2026-02-20 (30 distinct: a "
        "repeat byte for byte is archived and counted once), 8 LIVE Center files"
    ) in out


def test_the_live_side_has_its_own_folders(demo):
    inbox, summary = demo
    studio = set(_studio_files(inbox))
    live = [p.relative_to(inbox).as_posix() for p in _files(inbox) if p not in studio]
    # 3 accounts x 4 LIVEs, each a log and its sidecar; 30 daily Backstage downloads + one repeated;
    # 2 downloads of the 4 LIVE Center kinds
    assert (summary.live_logs, summary.backstage_files, summary.live_center_files) == (12, 31, 8)
    # the repeat is the same bytes: the archive keeps 30, the run counts 30 (the seed message says so, review)
    backstage = [p.read_bytes() for p in _files(inbox / "backstage")]
    assert (len(backstage), len(set(backstage)), summary.backstage_distinct) == (31, 30, 30)
    assert (summary.backstage_first, summary.backstage_last) == (date(2026, 1, 22), date(2026, 2, 20))
    assert len(live) == 12 * 2 + 31 + 8
    assert sum(n.endswith(".session.json") for n in live) == 12
    assert all(re.fullmatch(r"(techcreator|maria\.cocina|le_petit_chef)/live/[^/]+|backstage/[^/]+", n) for n in live)
