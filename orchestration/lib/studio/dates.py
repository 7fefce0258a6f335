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
from functools import cache, lru_cache

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


# A row's day lies within a year of its anchor (a Studio download spans at most 365 days): "February 29" in a file
# exported in March 2026 is no day, not 29 February 2024 (a search over the years before took the nearest leap year,
# 2028 for a window starting in 2026). A video's post day may be years back.
ROW_YEARS, POST_YEARS = 2, 9


def latest_not_after(month: int, day: int, anchor: date, years: int = ROW_YEARS) -> date:
    """The latest date with this month and day not after `anchor`, within `years` calendar years (rows of an
    export: this year's or last year's)."""
    for year in range(anchor.year, anchor.year - years, -1):
        candidate = _on(year, month, day)
        if candidate is not None and candidate <= anchor:
            return candidate
    raise UnknownDateText(f"no {month:02d}-{day:02d} within a year on or before {anchor}")


def earliest_not_before(month: int, day: int, anchor: date) -> date:
    """The earliest date with this month and day not before `anchor` (an export window's first day), within a year."""
    for year in range(anchor.year, anchor.year + ROW_YEARS):
        candidate = _on(year, month, day)
        if candidate is not None and candidate >= anchor:
            return candidate
    raise UnknownDateText(f"no {month:02d}-{day:02d} within a year on or after {anchor}")


def post_day_not_after(month: int, day: int, anchor: date) -> date:
    """A video's post day: the latest with this month and day not after the day it was seen, up to 9 years back."""
    return latest_not_after(month, day, anchor, POST_YEARS)


def resolve_year_less(
    texts: pd.Series, keys: pd.Series, rules: dict, parse: Callable[[str], tuple[int, int]] = parse_month_day
) -> np.ndarray:
    """Dates (datetime64, NaT where none) of a column of year-less texts, row i by the rule
    `rules[keys[i]]` = (function above, anchor date); no rule, no text or no such date: NaT.

    Each distinct text is parsed once and each distinct (rule, text) resolved once; rows take their
    value by index. `parse` is `parse_month_day` (the reader passes its own name for it)."""
    key_codes, distinct_keys = pd.factorize(keys)  # NA → -1
    return resolve_year_less_by_key(texts, key_codes, [rules.get(k) for k in distinct_keys], parse)


def resolve_year_less_by_key(
    texts: pd.Series, row_keys: np.ndarray, key_rules: list, parse: Callable[[str], tuple[int, int]] = parse_month_day
) -> np.ndarray:
    """`resolve_year_less` with the keys already numbered: row i by the rule `key_rules[row_keys[i]]`
    (-1: no rule). The reader knows each row's document by position, so nothing is hashed per row but
    one integer per row (the pair rule × text)."""
    text_codes, distinct_texts = pd.factorize(texts)  # NA → -1
    month_days = [_month_day(parse, text) for text in distinct_texts.tolist()]
    rule_ids: dict = {}
    rule_of_key = np.array([_rule_id(rule, rule_ids) for rule in key_rules] + [-1], dtype=np.int64)
    row_rules = rule_of_key[row_keys]  # a missing key (-1) takes the trailing -1: no rule
    width = max(len(distinct_texts), 1)
    combined = np.where((text_codes >= 0) & (row_rules >= 0), row_rules * width + text_codes, -1)
    row_position, distinct = pd.factorize(combined)  # hashing, not sorting: in order of first appearance
    resolved = _resolved_pairs(month_days, list(rule_ids), distinct // width, distinct % width, distinct >= 0)
    return resolved.astype(_DATES)[row_position]


_DATES = pd.to_datetime(pd.Series([date(2000, 1, 1)], dtype="object")).dtype  # what pandas makes of dates


def _resolved_pairs(month_days: list, rules: list, rule_ids, text_ids, real) -> np.ndarray:
    """Day (datetime64[D], NaT for none) of each distinct (rule, text): the two rules above on arrays,
    each the same year search as its loop; any other function, or an anchor that is not a plain date,
    one call per pair."""
    resolved = np.full(len(rule_ids), np.datetime64("NaT"), dtype="datetime64[D]")
    readable = np.array([md is not None for md in month_days] + [False])  # the -1 pairs: no text
    month = np.array([md[0] if md else 1 for md in month_days] + [1], dtype=np.int64)
    day = np.array([md[1] if md else 1 for md in month_days] + [1], dtype=np.int64)
    function = np.array([_ARRAY_RULES.get(f, -1) if type(a) is date else -1 for f, a in rules] + [-1])
    anchor = np.array([a if type(a) is date else None for _, a in rules] + [None], dtype="datetime64[D]")
    rule_ids, text_ids = np.where(real, rule_ids, -1), np.where(real, text_ids, -1)
    for code, years in enumerate(_YEARS):
        at = np.flatnonzero(real & readable[text_ids] & (function[rule_ids] == code))
        resolved[at] = years(month[text_ids[at]], day[text_ids[at]], anchor[rule_ids[at]])
    for i in np.flatnonzero(real & readable[text_ids] & (function[rule_ids] < 0)):
        resolved[i] = _resolved(month_days[text_ids[i]], rules[rule_ids[i]])
    return resolved


def _on_days(years: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """`_on` on arrays: the date, NaT where there is none (29 February of a common year, a year out of 1..9999)."""
    first = ((years - 1970) * 12 + month - 1).astype("datetime64[M]").astype("datetime64[D]")
    length = ((years - 1970) * 12 + month).astype("datetime64[M]").astype("datetime64[D]") - first
    exists = (years >= 1) & (years <= 9999) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= length.astype(int))
    return np.where(exists, first + (day - 1), np.datetime64("NaT"))


def _first_found(month, day, anchor, offsets, keep) -> np.ndarray:
    found = np.full(len(anchor), np.datetime64("NaT"), dtype="datetime64[D]")
    year = anchor.astype("datetime64[Y]").astype(np.int64) + 1970
    for offset in offsets:
        candidate = _on_days(year + offset, month, day)
        take = np.isnat(found) & ~np.isnat(candidate) & keep(candidate, anchor)
        found[take] = candidate[take]
    return found


_YEARS = (  # by code, as in _ARRAY_RULES
    lambda m, d, a: _first_found(m, d, a, range(0, -ROW_YEARS, -1), np.less_equal),
    lambda m, d, a: _first_found(m, d, a, range(ROW_YEARS), np.greater_equal),
    lambda m, d, a: _first_found(m, d, a, range(0, -POST_YEARS, -1), np.less_equal),
)


def first_date_per_key(values: np.ndarray, row_keys: np.ndarray) -> dict[int, date]:
    """The first date (in row order, NaT skipped) of each key: {key: date}, keys ascending."""
    dated = ~np.isnat(values)
    keys, first = np.unique(row_keys[dated], return_index=True)
    days = values[dated][first].astype("datetime64[D]").tolist()
    return dict(zip(keys.tolist(), days, strict=True))


def _month_day(parse: Callable[[str], tuple[int, int]], text: str) -> tuple[int, int] | None:
    if not text:
        return None
    if parse is parse_month_day and len(text) <= _REMEMBERED_CHARS:
        return _remembered_month_day(text)
    try:
        return parse(text)
    except UnknownDateText:
        return None


_REMEMBERED_CHARS = 40  # longer than any Studio date: a long cell is parsed, never kept


@lru_cache(maxsize=4096)
def _remembered_month_day(text: str) -> tuple[int, int] | None:
    """A batch's few hundred date texts recur in every dated kind and every chunk: parsed once a process."""
    try:
        return parse_month_day(text)
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


# the rules `_YEARS` computes on arrays
_ARRAY_RULES = {latest_not_after: 0, earliest_not_before: 1, post_day_not_after: 2}
