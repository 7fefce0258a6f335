"""pandera contracts: one per Studio file kind, strict on columns, types and ranges.

Each contract validates a whole batch of documents of one kind at once (the frame carries
`document_id` and `source_row`), so a daily drop costs one validation per kind, not one per file.
Checks that span rows (consecutive days, one row per key) run per document and flag rows, so every
failure names the file, the row, the column and the rule.

Severity model (the one place it is decided; README "Severity" has the same table):
- *structural*: the file is not what we think it is (unreadable container, wrong header, a value that
  is not a number or not a date, a missing or repeated key, a day missing between two others, a value outside
  what the column can mean; the rows' order is not relied on). The pandera contracts below and every rule
  of the reader are structural: the document is quarantined whole, with the reason.
- *plausibility*: a well-formed value TikTok really sends that breaks an expectation (net daily counts
  below zero, shares not summing to 1, Total != New + Returning). Rows land; each flagged row is
  recorded in `raw.row_flags` (`PLAUSIBILITY_RULES`, `find_plausibility_flags`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from schemas.studio_files import STUDIO_FILE_KINDS

DISTRIBUTION_SUM_TOLERANCE = 0.05  # shares are rounded to 2–3 decimals by TikTok
TIKTOK_LINK = r"(?i)^https://([a-z0-9-]+\.)*tiktok\.com/"  # a Content row's video link: its page on TikTok, over https

# The column a frame-wide check is about, so its failures name one column, and the rule in words.
CHECK_FOCUS: dict[str, str] = {"consecutive_days": "metric_date"}
_PLAIN: dict[str, str] = {}


def _count(nullable: bool = True, can_be_negative: bool = False) -> pa.Column:
    checks = [] if can_be_negative else [pa.Check.ge(0)]
    return pa.Column("Int64", checks=checks, nullable=nullable)


def _date(nullable: bool = False) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable, coerce=True)


def _share() -> pa.Column:
    return pa.Column("Float64", pa.Check.in_range(0, 1))


def _consecutive_days(frame: pd.DataFrame) -> pd.Series:
    """Per document, the distinct days run without gaps (rows may repeat a day, e.g. one per hour)."""
    by_document = frame.groupby("document_id")["metric_date"]
    offset = (frame["metric_date"] - by_document.transform("min")).dt.days
    return (offset == by_document.rank(method="dense") - 1) | frame["metric_date"].isna()


def _unique_within_document(*columns: str):
    def check(frame: pd.DataFrame) -> pd.Series:
        # a row missing a key part is not_nullable's failure, not a repeat of another row missing it
        return ~frame.duplicated(subset=["document_id", *columns], keep=False) | frame[list(columns)].isna().any(axis=1)

    name = f"one_row_per_{'_'.join(columns)}_per_file"
    CHECK_FOCUS[name] = columns[0]
    _PLAIN[name] = f"a repeated {' and '.join(columns)} in one file"
    return pa.Check(check, name=name)


def _schema(columns: dict, checks: list) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, checks=checks, strict=True)


_LINEAGE = {
    "document_id": pa.Column(str, nullable=False),
    "source_row": pa.Column("int64", pa.Check.ge(1), coerce=True),
}
_CONSECUTIVE = pa.Check(_consecutive_days, name="consecutive_days")
# Overview's daily figures are net of removals: negatives are TikTok's data (plausibility rule below).
OVERVIEW_NET_COUNTS = ("video_views", "profile_views", "likes", "comments", "shares")

CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "overview": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            **{c: _count(can_be_negative=True) for c in OVERVIEW_NET_COUNTS},
        },
        checks=[_CONSECUTIVE, _unique_within_document("metric_date")],
    ),
    "viewers": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            **{c: _count() for c in ("total_viewers", "new_viewers", "returning_viewers")},
        },
        checks=[_CONSECUTIVE, _unique_within_document("metric_date")],
    ),
    "follower_history": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            "followers": _count(),
            "follower_difference": _count(can_be_negative=True),
        },
        checks=[_CONSECUTIVE, _unique_within_document("metric_date")],
    ),
    "follower_activity": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            "hour": pa.Column("Int64", pa.Check.in_range(0, 23)),
            "active_followers": _count(),
        },
        checks=[_CONSECUTIVE, _unique_within_document("metric_date", "hour")],
    ),
    "follower_gender": _schema(
        {**_LINEAGE, "gender": pa.Column(str, pa.Check.str_length(1, 40)), "distribution": _share()},
        checks=[_unique_within_document("gender")],
    ),
    "follower_territories": _schema(
        {
            **_LINEAGE,
            "territory": pa.Column(str, pa.Check.str_matches(r"^([A-Z]{2}|Others)$")),
            "distribution": _share(),
        },
        checks=[_unique_within_document("territory")],
    ),
    "content": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            "video_id": pa.Column(str, pa.Check.str_matches(r"^\d{15,20}$")),
            "video_title": pa.Column(str, nullable=True),
            # as TikTok writes it (https://www.tiktok.com/@handle/video/<id>): a link is shown in the report and
            # sent in alerts, where "javascript:…" or another site must never come from a received file
            "video_link": pa.Column(str, pa.Check.str_matches(TIKTOK_LINK)),
            "post_date": _date(nullable=True),
            **{c: _count() for c in ("likes_total", "comments_total", "shares_total", "views_total")},
        },
        # No "posted before seen" rule: year-less post dates are resolved as the latest date not after
        # the snapshot (studio_reader), so it holds by construction.
        checks=[_unique_within_document("video_id")],
    ),
}

_PLAIN.update(
    {
        "dtype('Int64')": "not a whole number",
        "dtype('Float64')": "not a number",
        "greater_than_or_equal_to(0)": "a total below zero (only net daily figures can be negative)",
        "in_range(0, 1)": "a share outside 0..1",
        "in_range(0, 23)": "an hour outside 0..23",
        "not_nullable": "a required value is missing",
        "consecutive_days": "days are not consecutive (a day is missing between two others)",
    }
)


def describe_failure(check: str, kind: str) -> str:
    """A sentence a user understands for a failed rule of a contract."""
    plain = _PLAIN.get(check, check)
    return f"{STUDIO_FILE_KINDS[kind].entry_stem} contract: {plain}"


# No real TikTok figure comes near 10^12 (the most-viewed videos have a few billion views, the largest
# accounts a few hundred million followers), and millions of such counts still sum inside a signed
# 64-bit integer (9.2 × 10^18) in dbt: anything larger is a broken file, not data.
MAX_COUNT = 10**12
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NAN_TEXT = r"[+-]?nan"  # pandas reads these as missing, not as a number (inf it reads as inf)

# Rules judged on one cell's text while coercing, before pandera (structural, like the contracts).
NUMBER_RULES = {
    "finite_number": "not a finite number (inf, -inf and NaN are never Studio figures)",
    "within_int64": "a whole number outside the 64-bit integer range",
    "at_most_1e12": f"a number beyond ±{MAX_COUNT:,} (10^12): far above any real TikTok figure",
}
_PLAIN.update(NUMBER_RULES)


def coerce_numbers(kind: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the text of numeric columns into the contract's dtypes.

    Returns the typed frame and the cells that fail a number rule (index, column, rule, value): not
    a number of the column's type, not finite, outside int64, or beyond ±MAX_COUNT. Coercing here
    rather than with pandera's `coerce=True` keeps one clear failure per bad cell instead of a cascade
    of range checks on untyped text, and no value is rounded, wrapped or turned into NULL on the way.
    """
    typed = frame.copy()
    failures = []
    for name, column in CONTRACTS[kind].columns.items():
        dtype = str(column.dtype)
        if dtype not in ("Int64", "Float64") or name == "source_row":
            continue
        text = frame[name]
        stripped = text.str.strip()
        plain = _plain_whole_numbers(stripped) if dtype == "Int64" else None
        if plain is not None:  # the usual column: only the size rule can fail
            beyond = pc.fill_null(pc.greater(pc.abs(plain), MAX_COUNT), False).to_numpy(zero_copy_only=False)
            failed = np.flatnonzero(beyond)
            failures += [(index, name, "at_most_1e12", text[index]) for index in text.index[failed]]
            missing = pc.is_null(plain).to_numpy(zero_copy_only=False) | beyond
            values = pc.fill_null(plain, 0).to_numpy(zero_copy_only=False)
            typed[name] = pd.Series(pd.arrays.IntegerArray(values, missing), index=frame.index)
            continue
        number = pd.to_numeric(stripped, errors="coerce")  # Float64, exact far above MAX_COUNT
        rules = _failed_number_rules(stripped, number, dtype)
        for index, rule in rules.dropna().items():
            failures.append((index, name, rule, text[index]))
        typed[name] = number.where(rules.isna()).astype(dtype)
    return typed, pd.DataFrame(failures, columns=["index", "column", "check", "failure_case"])


# Whole numbers as Studio writes them: a sign at most and up to 15 digits, so exact as int64 and as float64.
_PLAIN_WHOLE = r"^-?[0-9]{1,15}$"


def _plain_whole_numbers(stripped: pd.Series) -> pyarrow.Array | None:
    """The column as int64 (nulls where missing) when every present cell is a plain whole number; else None.

    For such a column `pd.to_numeric` gives exactly these integers and no number rule but the size one
    can fail; Arrow casts the text without a Python object per cell. Anything else takes the general way."""
    if not (isinstance(stripped.dtype, pd.StringDtype) and stripped.dtype.storage == "pyarrow"):
        return None
    cells = pyarrow.array(stripped.array)
    if not pc.all(pc.match_substring_regex(cells, _PLAIN_WHOLE), min_count=0).as_py():
        return None
    return pc.cast(cells, pyarrow.int64())


def _failed_number_rules(text: pd.Series, number: pd.Series, dtype: str) -> pd.Series:
    """The one rule each cell fails, the most basic first (NA when it passes or is missing)."""
    rules = pd.Series(pd.NA, index=text.index, dtype="string")

    def mark(mask: pd.Series, rule: str) -> None:
        rules[mask.fillna(False).astype(bool) & rules.isna()] = rule

    present = text.notna()
    mark(present & (np.isinf(number) | text.str.fullmatch(_NAN_TEXT, case=False)), "finite_number")
    mark(present & number.isna(), f"dtype('{dtype}')")
    if dtype == "Int64":
        mark(number % 1 != 0, "dtype('Int64')")
        # Near the int64 edge a float is not exact: decide those few cells on the exact text.
        for index in rules.index[rules.isna() & (number.abs() >= 2**62).fillna(False)]:
            if not _INT64_MIN <= int(Decimal(text[index])) <= _INT64_MAX:
                rules[index] = "within_int64"
    mark(number.abs() > MAX_COUNT, "at_most_1e12")
    return rules


# --- severity: which rule quarantines a document, which only flags a row -----------------------------

STRUCTURAL, PLAUSIBILITY = "structural", "plausibility"
FLAG_SEVERITY = "warn"  # what a plausibility flag is in raw.row_flags and in the asset checks

# Every rule with its severity and why (calibrated on what TikTok really sends, /docs: tiktok-formats).
# A rule not listed here (e.g. a new reader rule) is structural: unknown means "do not trust the file".
RULE_SEVERITY: dict[str, tuple[str, str]] = {
    # the reader (lib/studio/reader.py): the container and the text
    "safe_zip": (STRUCTURAL, "a ZIP that escapes its folder or expands past the limits is never opened"),
    "not_empty": (STRUCTURAL, "an empty file or ZIP has nothing to land; TikTok sends at least a header"),
    "unreadable": (STRUCTURAL, "bytes that cannot be opened have no rows"),
    "utf8": (STRUCTURAL, "TikTok writes UTF-8; other bytes would land as wrong text"),
    "known_file": (STRUCTURAL, "a header no Studio kind has: the columns cannot be told"),
    "header": (STRUCTURAL, "the header decides which column is which: a wrong one mislabels every value"),
    "row_width": (STRUCTURAL, "a row with too few or too many fields has shifted values"),
    "csv_structure": (STRUCTURAL, "a cut quote or malformed CSV: where one value ends is unknown"),
    "xlsx": (STRUCTURAL, "a workbook that cannot be opened has no rows"),
    "safe_xlsx": (STRUCTURAL, "a workbook past the ZIP limits is never opened"),
    "file_size": (STRUCTURAL, "far larger than any Studio export: not one"),
    "size_limit": (STRUCTURAL, "more rows or cells than any Studio export: not one"),
    "file_type": (STRUCTURAL, "neither .csv nor .xlsx (a ZIP inside a ZIP included): not a Studio export"),
    "studio_date": (STRUCTURAL, "a date that cannot be read has no day to land on"),
    "account_handle": (STRUCTURAL, "rows without an account belong to nobody"),
    # the pandera contracts above
    "dtype('Int64')": (STRUCTURAL, "text where TikTok writes a whole number: the cell is not what the column says"),
    "dtype('Float64')": (STRUCTURAL, "text where TikTok writes a fraction: the cell is not what the column says"),
    "not_nullable": (STRUCTURAL, "a row without its key (date, video link, gender, territory) has no identity"),
    "consecutive_days": (
        STRUCTURAL,
        "TikTok always sends consecutive ascending days; a gap or disorder is a cut or edited file, and years "
        "are inferred from that order",
    ),
    "one_row_per_metric_date_per_file": (STRUCTURAL, "two rows for one day: which one is TikTok's cannot be told"),
    "one_row_per_metric_date_hour_per_file": (STRUCTURAL, "two rows for one hour: which one is right is unknown"),
    "one_row_per_gender_per_file": (STRUCTURAL, "two shares for one gender: which one is right is unknown"),
    "one_row_per_territory_per_file": (STRUCTURAL, "two shares for one territory: which one is right is unknown"),
    "one_row_per_video_id_per_file": (STRUCTURAL, "two rows for one video in one snapshot: which is right is unknown"),
    "greater_than_or_equal_to(0)": (
        STRUCTURAL,
        "a negative total (followers, viewers, active followers, lifetime totals) cannot happen: TikTok only "
        "sends negatives in net daily figures and the follower difference",
    ),
    "greater_than_or_equal_to(1)": (STRUCTURAL, "source_row is 1-based: the reader writes it, a file cannot break it"),
    "in_range(0, 23)": (STRUCTURAL, "an hour outside 0..23 has no slot in the day"),
    "in_range(0, 1)": (STRUCTURAL, "a share outside 0..1 is in another unit (a percentage?), not TikTok's fraction"),
    "str_length(1, 40)": (STRUCTURAL, "a gender label longer than 40 characters is not one"),
    "str_matches('^([A-Z]{2}|Others)$')": (STRUCTURAL, "territories are ISO alpha-2 codes or 'Others'"),
    "str_matches('^\\d{15,20}$')": (STRUCTURAL, "a video id is 15-20 digits"),
    f"str_matches('{TIKTOK_LINK}')": (STRUCTURAL, "a video's link is TikTok's https page, where its id lives"),
    **{rule: (STRUCTURAL, "no real TikTok figure looks like this: " + plain) for rule, plain in NUMBER_RULES.items()},
    # plausibility: rows land, each flagged row is recorded in raw.row_flags
    "net_daily_count_below_zero": (
        PLAUSIBILITY,
        "Overview's daily figures are net of removals: real exports have Comments of -1 and -4 (likes, shares, "
        "views the same way)",
    ),
    "total_equals_new_plus_returning": (
        PLAUSIBILITY,
        "TikTok's own arithmetic, not a format: the numbers are what TikTok shows (dbt warns on the mart too)",
    ),
    "distribution_sums_to_about_1": (
        PLAUSIBILITY,
        f"shares are rounded by TikTok to 2-3 decimals; beyond ±{DISTRIBUTION_SUM_TOLERANCE} they are still "
        "TikTok's shares, only worth a look",
    ),
}


def severity_of(rule: str) -> str:
    return RULE_SEVERITY.get(rule, (STRUCTURAL, ""))[0]


@dataclass(frozen=True)
class PlausibilityRule:
    """A rule that flags rows and never stops them: `find` returns the flags of a typed frame."""

    name: str
    find: Callable[[pd.DataFrame], pd.DataFrame]  # → source_row, column_name, value, message (+ index)


FLAG_COLUMNS = ["document_id", "source_row", "column_name", "rule", "value", "message"]


def _negative_net_counts(frame: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for column in OVERVIEW_NET_COUNTS:
        below = frame[frame[column].lt(0).fillna(False)]
        spec = STUDIO_FILE_KINDS["overview"]
        label = spec.header[spec.columns.index(column)]
        parts.append(
            pd.DataFrame(
                {
                    "document_id": below["document_id"],
                    "source_row": below["source_row"],
                    "column_name": column,
                    "value": below[column].astype(str),
                    "message": [f"{label} is {v}: a daily figure net of removals, landed as is" for v in below[column]],
                }
            )
        )
    return pd.concat(parts)


def _viewers_not_adding_up(frame: pd.DataFrame) -> pd.DataFrame:
    total, new, returning = (frame[c] for c in ("total_viewers", "new_viewers", "returning_viewers"))
    off = frame[(total != new + returning).fillna(False)]  # unknown parts ("undefined") never flag
    return pd.DataFrame(
        {
            "document_id": off["document_id"],
            "source_row": off["source_row"],
            "column_name": "total_viewers",
            "value": off["total_viewers"].astype(str),
            "message": [
                f"Total Viewers {t} is not New {n} + Returning {r} (= {n + r})"
                for t, n, r in zip(off["total_viewers"], off["new_viewers"], off["returning_viewers"], strict=True)
            ],
        }
    )


def _distribution_off(frame: pd.DataFrame) -> pd.DataFrame:
    """One flag per file (no row: every row is part of the sum), valued at the sum."""
    totals = frame.groupby("document_id", sort=True)["distribution"].sum().round(6)
    off = totals[(totals - 1).abs() > DISTRIBUTION_SUM_TOLERANCE]
    return pd.DataFrame(
        {
            "document_id": off.index,
            "source_row": pd.NA,
            "column_name": "distribution",
            "value": off.astype(str).to_numpy(),
            "message": [f"the shares of this file sum to {v:g}, not 1 (±{DISTRIBUTION_SUM_TOLERANCE})" for v in off],
        }
    )


PLAUSIBILITY_RULES: dict[str, list[PlausibilityRule]] = {
    "overview": [PlausibilityRule("net_daily_count_below_zero", _negative_net_counts)],
    "viewers": [PlausibilityRule("total_equals_new_plus_returning", _viewers_not_adding_up)],
    "follower_gender": [PlausibilityRule("distribution_sums_to_about_1", _distribution_off)],
    "follower_territories": [PlausibilityRule("distribution_sums_to_about_1", _distribution_off)],
}


FLAG_ORDER = ["document_id", "source_row", "column_name"]  # the order flags land in


def find_plausibility_flags(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The plausibility flags of a typed, structurally valid frame: one row per flag (FLAG_COLUMNS)."""
    found = [rule.find(frame).assign(rule=rule.name) for rule in PLAUSIBILITY_RULES.get(kind, []) if len(frame)]
    if not found:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    flags = pd.concat(found, ignore_index=True)[FLAG_COLUMNS]
    flags["source_row"] = flags["source_row"].astype("Int64")
    return flags.sort_values(FLAG_ORDER, na_position="first", ignore_index=True)


assert set(CONTRACTS) == set(STUDIO_FILE_KINDS), "one contract per Studio file kind"
assert all(severity_of(r.name) == PLAUSIBILITY for rules in PLAUSIBILITY_RULES.values() for r in rules)
