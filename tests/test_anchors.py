"""Account handle and export-date anchors from names, folders, ZIP entries and mtimes."""

from datetime import date, datetime

import pytest

from orchestration.lib.studio.provenance import (
    export_anchor,
    facts_from_name,
    handle_from_video_links,
    strip_browser_repeat,
)


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("Content 2", "Content"),
        ("Viewers (1)", "Viewers"),
        ("Followers_le_petit_chef (5) (1)", "Followers_le_petit_chef"),  # a repeated download saved again
        ("Followers_alpha.cafe(5)", "Followers_alpha.cafe"),  # Firefox: no space
        ("Overview_2026-03-03_1773133200_alpha.cafe(1)(2)", "Overview_2026-03-03_1773133200_alpha.cafe"),
        ("Content_acct0001", "Content_acct0001"),
    ],
)
def test_browser_repeat_suffixes_are_stripped(stem, expected):
    assert strip_browser_repeat(stem) == expected


def test_overview_zip_name_gives_handle_window_start_and_export_moment():
    facts = facts_from_name("Overview_2025-08-28_1787841428_hopihari.zip")
    assert facts.handle == "hopihari" and facts.handle_source == "zip_name"
    assert facts.window_start == date(2025, 8, 28)
    assert facts.exported_at == datetime(2026, 8, 27, 14, 37, 8)
    anchor = export_anchor(facts, datetime(2026, 1, 1), datetime(2026, 1, 2))
    assert (anchor.source, anchor.export_date) == ("overview_zip_name", date(2026, 8, 27))


@pytest.mark.parametrize(
    ("relative", "handle", "source"),
    [
        ("Content_le_petit_chef.zip", "le_petit_chef", "zip_name"),
        ("Followers_maria.cocina (1).zip", "maria.cocina", "zip_name"),
        ("Followers_maria.cocina (5) (1).zip", "maria.cocina", "zip_name"),
        ("Followers_alpha.cafe(5).zip", "alpha.cafe", "zip_name"),  # Firefox's repeat
        ("Content_alpha.cafe(1).zip", "alpha.cafe", "zip_name"),
        ("techcreator/Content 2.csv", "techcreator", "inbox_folder"),
        ("techcreator/2026-01-03/Viewers.xlsx", "techcreator", "inbox_folder"),
        ("Content.csv", None, None),
    ],
)
def test_handle_comes_from_zip_name_then_inbox_folder(relative, handle, source):
    facts = facts_from_name(relative)
    assert (facts.handle, facts.handle_source) == (handle, source)


def test_handle_from_content_links_only_when_unambiguous():
    link = "https://www.tiktok.com/@{}/video/7546034661705796877"
    assert handle_from_video_links([link.format("haileytupy2.0"), link.format("haileytupy2.0")]) == "haileytupy2.0"
    assert handle_from_video_links([link.format("a"), link.format("b")]) is None
    assert handle_from_video_links(["", "not a link"]) is None


def test_anchor_order_zip_entries_then_dated_folder_then_mtime():
    mtime = datetime(2026, 3, 9, 8, 0)
    dated = facts_from_name("acct/2026-03-05/Viewers.csv")
    assert export_anchor(dated, datetime(2026, 3, 7, 9, 0), mtime).source == "zip_entry_timestamp"
    assert export_anchor(dated, None, mtime).export_date == date(2026, 3, 5)
    assert export_anchor(facts_from_name("acct/Viewers.csv"), None, mtime).export_date == date(2026, 3, 9)
