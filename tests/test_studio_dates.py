"""Year-less Studio dates in every supported UI language, and year inference across New Year."""

from datetime import date

import pytest

from orchestration.lib.studio.dates import (
    UnknownDateText,
    earliest_not_before,
    latest_not_after,
    month_lookup,
    parse_month_day,
    post_day_not_after,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("February 28", (2, 28)),  # English (US): month first
        ("28 August", (8, 28)),  # English, day first
        ("Sept 3", (9, 3)),  # English abbreviation
        ("8 de marzo", (3, 8)),  # Spanish
        ("18 de agosto", (8, 18)),  # Portuguese
        ("1 décembre", (12, 1)),  # French
        ("18. August", (8, 18)),  # German
        ("3 gennaio", (1, 3)),  # Italian
        ("18 января", (1, 18)),  # Russian, genitive
        ("18 tháng Tám", (8, 18)),  # Vietnamese as TikTok writes it (spelled-out month number)
        ("18 tháng 8", (8, 18)),  # Vietnamese as CLDR writes it
        ("9月13日", (9, 13)),  # Japanese / Chinese
        ("9월 13일", (9, 13)),  # Korean
        ("18 Agustus", (8, 18)),  # Indonesian
        ("18 Ağustos", (8, 18)),  # Turkish
        ("  march   5 ", (3, 5)),  # whitespace and case do not matter
        ("29 февраля", (2, 29)),  # a leap day parses; its year is chosen later
    ],
)
def test_parses_every_supported_locale(text, expected):
    assert parse_month_day(text) == expected


@pytest.mark.parametrize("text", ["", "Smarch 3", "February 30", "13月1日", "2026-02-03", "3"])
def test_rejects_what_is_not_a_studio_date(text):
    with pytest.raises(UnknownDateText):
        parse_month_day(text)


def test_month_names_come_from_the_locale_library_without_conflicts():
    names = month_lookup()  # raises if two locales disagree about a name
    assert names["marzo"] == 3 and names["января"] == 1 and names["tháng tám"] == 8
    assert len(names) > 150


@pytest.mark.parametrize(
    ("month", "day", "anchor", "expected"),
    [
        (12, 30, date(2026, 1, 2), date(2025, 12, 30)),  # rows before New Year in a January export
        (1, 1, date(2026, 1, 2), date(2026, 1, 1)),
        (2, 28, date(2026, 2, 28), date(2026, 2, 28)),  # the anchor day itself
        (2, 28, date(2026, 2, 27), date(2025, 2, 28)),  # 365-day export: first row is last year
        (2, 29, date(2025, 2, 28), date(2024, 2, 29)),  # leap day of last year, in a 365-day export
    ],
)
def test_year_rolls_back_across_new_year(month, day, anchor, expected):
    assert latest_not_after(month, day, anchor) == expected


@pytest.mark.parametrize(
    ("rule", "anchor"),
    [
        (latest_not_after, date(2026, 3, 2)),  # 2026 and 2025 have none: 2024's is two years back (review)
        (latest_not_after, date(2028, 2, 28)),  # 2028's is after the export, 2027 has none
        (earliest_not_before, date(2026, 3, 1)),  # a window from 1 March 2026: 2028's is two years on
    ],
)
def test_a_29_february_no_year_within_reach_has_is_no_day(rule, anchor):
    with pytest.raises(UnknownDateText, match="within a year"):
        rule(2, 29, anchor)


def test_a_post_day_may_be_years_back():
    assert post_day_not_after(2, 29, date(2026, 3, 2)) == date(2024, 2, 29)
    assert post_day_not_after(9, 3, date(2026, 3, 2)) == date(2025, 9, 3)
    assert post_day_not_after(2, 29, date(2104, 2, 28)) == date(2096, 2, 29)  # 8 years back (2100 has none)
    assert post_day_not_after(3, 1, date(2026, 3, 1)) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("month", "day", "window_start", "expected"),
    [
        (12, 28, date(2025, 12, 28), date(2025, 12, 28)),
        (1, 3, date(2025, 12, 28), date(2026, 1, 3)),  # window crossing New Year runs forward
        (8, 27, date(2025, 8, 28), date(2026, 8, 27)),  # 365-day window's last day
    ],
)
def test_window_start_anchor_runs_forward(month, day, window_start, expected):
    assert earliest_not_before(month, day, window_start) == expected
