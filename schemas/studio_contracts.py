"""pandera contracts: one per Studio file kind, strict on columns, types and ranges.

Each contract validates a whole batch of documents of one kind at once (the frame carries
`document_id` and `source_row`), so a daily drop costs one validation per kind, not one per file.
Checks that span rows (consecutive days, distributions summing to about 1) run per document and
flag rows, so every failure names the file, the row, the column and the rule.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from schemas.studio_files import STUDIO_FILE_KINDS

DISTRIBUTION_SUM_TOLERANCE = 0.05  # shares are rounded to 2–3 decimals by TikTok

# The column a frame-wide check is about, so its failures name one column, and the rule in words.
CHECK_FOCUS: dict[str, str] = {
    "consecutive_days": "metric_date",
    "total_equals_new_plus_returning": "total_viewers",
    "distribution_sums_to_about_1": "distribution",
}
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
        return ~frame.duplicated(subset=["document_id", *columns], keep=False)

    name = f"one_row_per_{'_'.join(columns)}_per_file"
    CHECK_FOCUS[name] = columns[0]
    _PLAIN[name] = f"a repeated {' and '.join(columns)} in one file"
    return pa.Check(check, name=name)


def _sums_to_about_one(frame: pd.DataFrame) -> pd.Series:
    total = frame.groupby("document_id")["distribution"].transform("sum")
    return (total - 1).abs() <= DISTRIBUTION_SUM_TOLERANCE


def _viewers_add_up(frame: pd.DataFrame) -> pd.Series:
    parts = frame[["total_viewers", "new_viewers", "returning_viewers"]]
    known = parts.notna().all(axis=1)
    return ~known | (parts["total_viewers"] == parts["new_viewers"] + parts["returning_viewers"]).fillna(True)


def _schema(columns: dict, checks: list) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(columns, checks=checks, strict=True)


_LINEAGE = {
    "document_id": pa.Column(str, nullable=False),
    "source_row": pa.Column("int64", pa.Check.ge(1), coerce=True),
}
_CONSECUTIVE = pa.Check(_consecutive_days, name="consecutive_days")

CONTRACTS: dict[str, pa.DataFrameSchema] = {
    "overview": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            **{c: _count() for c in ("video_views", "profile_views", "likes", "comments", "shares")},
        },
        checks=[_CONSECUTIVE, _unique_within_document("metric_date")],
    ),
    "viewers": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            **{c: _count() for c in ("total_viewers", "new_viewers", "returning_viewers")},
        },
        checks=[
            _CONSECUTIVE,
            _unique_within_document("metric_date"),
            pa.Check(_viewers_add_up, name="total_equals_new_plus_returning"),
        ],
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
        checks=[
            _unique_within_document("gender"),
            pa.Check(_sums_to_about_one, name="distribution_sums_to_about_1"),
        ],
    ),
    "follower_territories": _schema(
        {
            **_LINEAGE,
            "territory": pa.Column(str, pa.Check.str_matches(r"^([A-Z]{2}|Others)$")),
            "distribution": _share(),
        },
        checks=[
            _unique_within_document("territory"),
            pa.Check(_sums_to_about_one, name="distribution_sums_to_about_1"),
        ],
    ),
    "content": _schema(
        {
            **_LINEAGE,
            "metric_date": _date(),
            "video_id": pa.Column(str, pa.Check.str_matches(r"^\d{15,20}$")),
            "video_title": pa.Column(str, nullable=True),
            "video_link": pa.Column(str, pa.Check.str_contains("/video/")),
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
        "greater_than_or_equal_to(0)": "a count below zero",
        "in_range(0, 1)": "a share outside 0..1",
        "in_range(0, 23)": "an hour outside 0..23",
        "not_nullable": "a required value is missing",
        "consecutive_days": "days are not consecutive (a day is missing or out of order)",
        "total_equals_new_plus_returning": "Total Viewers is not New + Returning Viewers",
        "distribution_sums_to_about_1": f"shares do not sum to 1 (±{DISTRIBUTION_SUM_TOLERANCE})",
    }
)


def describe_failure(check: str, kind: str) -> str:
    """A sentence a user understands for a failed rule of a contract."""
    plain = _PLAIN.get(check, check)
    return f"{STUDIO_FILE_KINDS[kind].entry_stem} contract: {plain} [{check}]"


def coerce_numbers(kind: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn the text of numeric columns into the contract's dtypes.

    Returns the typed frame and the cells that are not numbers of that type (index, column, value),
    which fail the contract's type rule. Coercing here rather than with pandera's `coerce=True` keeps
    one clear failure per bad cell instead of a cascade of range checks on untyped text.
    """
    typed = frame.copy()
    failures = []
    for name, column in CONTRACTS[kind].columns.items():
        dtype = str(column.dtype)
        if dtype not in ("Int64", "Float64") or name == "source_row":
            continue
        text = frame[name]
        number = pd.to_numeric(text.str.strip(), errors="coerce")
        bad = text.notna() & (number.isna() | ((number % 1 != 0) if dtype == "Int64" else False))
        for index in frame.index[bad]:
            failures.append((index, name, f"dtype('{dtype}')", text[index]))
        typed[name] = number.where(~bad).astype(dtype)
    return typed, pd.DataFrame(failures, columns=["index", "column", "check", "failure_case"])


assert set(CONTRACTS) == set(STUDIO_FILE_KINDS), "one contract per Studio file kind"
