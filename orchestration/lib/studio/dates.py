"""Year-less Studio dates ("February 28", "8 de marzo", "18 января", "9月13日") → real dates.

TikTok Studio writes dates in the UI language without a year. Month names come from CLDR through
Babel (and, for Vietnamese, the spelled-out month numbers TikTok uses, "tháng Tám", from num2words),
so a new locale is one entry in SUPPORTED_LOCALES, never a hand-typed table. Years are inferred from an
anchor (see `provenance.py`): the export date ("latest date not after it") or the first day of the
export window ("earliest date not before it").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

SUPPORTED_LOCALES = (
    "en_US", "en_GB", "es", "pt_BR", "pt_PT", "fr", "de", "it", "ru", "vi", "ja", "ko", "zh", "id", "tr",
)  # fmt: skip

# "9月13日" (ja, zh) and "9월 13일" (ko): month and day are numbers around CJK markers.
_CJK = re.compile(r"^(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?$")
# Otherwise the day is a number at one end ("28 August", "18. August", "August 28", "8 de marzo").
_DAY_FIRST = re.compile(r"^(\d{1,2})\.?\s+(.+)$")
_DAY_LAST = re.compile(r"^(.+?)\s+(\d{1,2})\.?$")
# Joining words between the day and the month ("8 de marzo", "8 de março", "8 of March").
_JOINERS = ("de ", "of ")


class UnknownDateText(ValueError):
    """A Studio date string that matches no supported locale."""


def _normalise(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold().rstrip(",")


@cache
def month_lookup() -> dict[str, int]:
    """Every month name of every supported locale (wide and abbreviated, format and stand-alone).

    Raises if two locales disagree about a name, so adding a locale can never silently change the
    meaning of another's dates.
    """
    from babel.dates import get_month_names
    from num2words import num2words

    names: dict[str, int] = {}

    def add(name: str, month: int, source: str) -> None:
        key = _normalise(name).rstrip(".")
        if names.setdefault(key, month) != month:
            raise ValueError(f"month name {key!r} is ambiguous ({source} says {month}, another {names[key]})")

    for locale in SUPPORTED_LOCALES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for month, name in get_month_names(width, context, locale).items():
                    # Babel falls back to numeric CJK forms ("8月") in some contexts; _CJK handles those.
                    if not re.search(r"\d", name) or locale == "vi":
                        add(name, month, f"{locale}/{width}/{context}")
    for month in range(1, 13):
        add(f"tháng {num2words(month, lang='vi')}", month, "vi/spelled")  # TikTok: "18 tháng Tám"
    add("tháng giêng", 1, "vi/traditional")  # the customary name for January in Vietnamese
    return names


def parse_month_day(text: str) -> tuple[int, int]:
    """Return (month, day) for a year-less Studio date, or raise UnknownDateText."""
    value = _normalise(text)
    if match := _CJK.match(value):
        month, day = int(match[1]), int(match[2])
    else:
        lookup = month_lookup()
        month = day = None
        for pattern, day_group, name_group in ((_DAY_FIRST, 1, 2), (_DAY_LAST, 2, 1)):
            if match := pattern.match(value):
                name = match[name_group].rstrip(".")
                for joiner in _JOINERS:
                    name = name.removeprefix(joiner)
                if name in lookup:
                    month, day = lookup[name], int(match[day_group])
                    break
        if month is None:
            raise UnknownDateText(f"not a recognised Studio date: {text!r}")
    if not 1 <= month <= 12 or not 1 <= day <= _days_in_month(month):
        raise UnknownDateText(f"no such day: {text!r}")
    return month, day


def _days_in_month(month: int) -> int:
    return 29 if month == 2 else (date(2001, month % 12 + 1, 1) - timedelta(days=1)).day if month != 12 else 31


def _on(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February in a common year
        return None


def latest_not_after(month: int, day: int, anchor: date) -> date:
    """The latest date with this month and day that is not after `anchor` (rows of an export)."""
    for year in range(anchor.year, anchor.year - 9, -1):
        candidate = _on(year, month, day)
        if candidate is not None and candidate <= anchor:
            return candidate
    raise UnknownDateText(f"no {month:02d}-{day:02d} on or before {anchor}")


def earliest_not_before(month: int, day: int, anchor: date) -> date:
    """The earliest date with this month and day that is not before `anchor` (window's first day)."""
    for year in range(anchor.year, anchor.year + 9):
        candidate = _on(year, month, day)
        if candidate is not None and candidate >= anchor:
            return candidate
    raise UnknownDateText(f"no {month:02d}-{day:02d} on or after {anchor}")


def nearest(month: int, day: int, anchor: date) -> date:
    """The date with this month and day closest to `anchor` (a snapshot date known only roughly)."""
    candidates = [c for y in range(anchor.year - 4, anchor.year + 5) if (c := _on(y, month, day))]
    return min(candidates, key=lambda c: (abs((c - anchor).days), c))


def resolve_year_less(
    texts: pd.Series, keys: pd.Series, rules: dict, parse: Callable[[str], tuple[int, int]] = parse_month_day
) -> np.ndarray:
    """Dates (datetime64, NaT where none) of a column of year-less texts, row i by the rule
    `rules[keys[i]]` = (function above, anchor date); no rule, no text or no such date: NaT.

    Each distinct text is parsed once and each distinct (rule, text) resolved once; rows take their
    value by index. `parse` is `parse_month_day` (the reader passes its own name for it)."""
    text_codes, distinct_texts = pd.factorize(texts)  # NA → -1
    month_days = [_month_day(parse, text) for text in distinct_texts]
    key_codes, distinct_keys = pd.factorize(keys)
    rule_ids: dict = {}
    rule_of_key = np.array([_rule_id(rules.get(k), rule_ids) for k in distinct_keys] + [-1], dtype=np.int64)
    row_rules = rule_of_key[key_codes]  # a missing key (code -1) takes the trailing -1: no rule
    width = max(len(distinct_texts), 1)
    combined = np.where((text_codes >= 0) & (row_rules >= 0), row_rules * width + text_codes, -1)
    distinct, row_position = np.unique(combined, return_inverse=True)
    by_id = list(rule_ids)
    resolved = [None if c < 0 else _resolved(month_days[c % width], by_id[c // width]) for c in distinct.tolist()]
    return pd.to_datetime(pd.Series(resolved, dtype="object")).to_numpy()[row_position.reshape(-1)]


def _month_day(parse: Callable[[str], tuple[int, int]], text: str) -> tuple[int, int] | None:
    if not text:
        return None
    try:
        return parse(text)
    except UnknownDateText:
        return None


def _rule_id(rule, rule_ids: dict) -> int:
    if rule is None or (isinstance(rule, float) and pd.isna(rule)):
        return -1
    return rule_ids.setdefault(rule, len(rule_ids))


def _resolved(month_day: tuple[int, int] | None, rule) -> date | None:
    if month_day is None:
        return None
    function, anchor_date = rule
    try:
        return function(*month_day, anchor_date)
    except UnknownDateText:
        return None
