"""Contract fixtures: one valid file per kind, invalid ones asserting which rule failed, flagged ones landing."""

from datetime import datetime
from pathlib import Path

import pytest

from schemas.studio_contracts import CONTRACTS, PLAUSIBILITY, RULE_SEVERITY, STRUCTURAL, TIKTOK_LINK, severity_of
from schemas.studio_files import STUDIO_FILE_KINDS
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv

ROOT = Path(__file__).resolve().parents[1]
MTIME = datetime(2026, 1, 4, 10, 0)  # anchors the year: rows end on or before 2026-01-04
LINK = "https://www.tiktok.com/@acct/video/{}"

VALID = {
    "overview": [["December 31", "10", "1", "2", "0", "0"], ["January 1", "12", "0", "3", "1", "undefined"]],
    "viewers": [["December 31", "undefined", "0", "0"], ["January 1", "30", "20", "10"]],
    "follower_history": [["December 31", "100", "0"], ["January 1", "99", "-1"]],
    "follower_activity": [["January 1", str(h), str(h * 2)] for h in range(24)],
    "follower_gender": [["Female", "0.59"], ["Male", "0.40"], ["Other", "0.01"]],
    "follower_territories": [["US", "0.5"], ["MX", "0.3"], ["Others", "0.2"]],
    "content": [
        ["January 3", "A title 🎉", LINK.format("7546034661705796877"), "December 30", "5", "1", "0", "100"],
        ["January 3", "", LINK.format("7531345990947851551"), "July 26", "1837", "50", "6", "30504"],
    ],
}

# Structural: the file is quarantined whole. (kind, row index to break, column index, bad value, expected rule)
INVALID = [
    ("overview", 0, 2, "12abc", "dtype('Int64')"),
    ("overview", 1, 0, "January 2", "consecutive_days"),
    ("overview", 1, 0, "Janvember 1", "studio_date"),
    ("follower_history", 0, 1, "-3", "greater_than_or_equal_to(0)"),
    ("follower_activity", 5, 1, "24", "in_range(0, 23)"),
    ("follower_activity", 5, 1, "4", "one_row_per_metric_date_hour_per_file"),
    ("follower_gender", 0, 1, "1.59", "in_range(0, 1)"),
    ("follower_territories", 0, 0, "USA", "str_matches('^([A-Z]{2}|Others)$')"),
    ("content", 0, 2, "https://www.tiktok.com/@acct/photo/1", "not_nullable"),
    # a link that would run a script in the report, or lead elsewhere, though it ends like TikTok's
    ("content", 0, 2, "javascript:alert(1)//" + LINK.format("7546034661705796877"), f"str_matches('{TIKTOK_LINK}')"),
    ("content", 0, 2, "https://evil.example/" + LINK.format("7546034661705796877"), f"str_matches('{TIKTOK_LINK}')"),
    ("content", 0, 3, "Smarch 4", "studio_date"),
    ("content", 1, 7, "3.5", "dtype('Int64')"),
    ("content", 1, 2, LINK.format("7546034661705796877"), "one_row_per_video_id_per_file"),
]

# Plausibility: every row lands and the flag is recorded. (kind, row index, column index, value,
# expected flag as (source_row, column_name, rule, value); source_row None = about the whole file)
FLAGGED = [
    # a net daily count below zero: TikTok's Overview figures are net of removals
    ("overview", 1, 1, "-5", (2, "video_views", "net_daily_count_below_zero", "-5")),
    # 31 != 20 + 10: TikTok's own arithmetic, flagged on that row only
    ("viewers", 1, 1, "31", (2, "total_viewers", "total_equals_new_plus_returning", "31")),
    # 0.5 + 0.1 + 0.2 = 0.8, beyond 1 ± 0.05: one flag for the file, valued at the sum
    ("follower_territories", 1, 1, "0.1", (None, "distribution", "distribution_sums_to_about_1", "0.8")),
]


def _land_one(tmp_path, kind, rows):
    spec = STUDIO_FILE_KINDS[kind]
    paths = new_paths(tmp_path)
    drop(paths, f"acct/{spec.entry_stem}.csv", studio_csv(spec.header, rows), MTIME)
    return land(paths), query(paths, f"select count(*) from raw.studio_{kind}")[0][0]


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_file_loads_every_row(tmp_path, kind):
    report, loaded = _land_one(tmp_path, kind, VALID[kind])
    assert report.issues == [] and report.flags.empty
    assert loaded == len(VALID[kind])


@pytest.mark.parametrize(("kind", "row", "column", "value", "rule"), INVALID)
def test_invalid_file_is_quarantined_naming_row_and_rule(tmp_path, kind, row, column, value, rule):
    rows = [list(r) for r in VALID[kind]]
    rows[row][column] = value
    report, loaded = _land_one(tmp_path, kind, rows)
    assert loaded == 0, "a failing file is quarantined whole"
    rules = {(issue.rule, issue.row) for issue in report.issues}
    assert (rule, row + 1) in rules, rules
    assert all(issue.file == f"{STUDIO_FILE_KINDS[kind].entry_stem}.csv" for issue in report.issues)


def test_an_unreadable_date_is_one_issue_per_row_not_three(tmp_path):
    """Excel re-saves Studio's dates as "12-Apr": each row is named once, for its date. The cell reaches the contract
    as null, whose not_nullable verdict would repeat it; nor are rows missing a date repeats of one another."""
    rows = [[f"{day}-Apr", "10", "1", "2", "0", "0"] for day in (12, 13, 14)]
    report, loaded = _land_one(tmp_path, "overview", rows)
    assert loaded == 0
    assert [(i.rule, i.row, i.column, i.value) for i in report.issues] == [
        ("studio_date", n, "metric_date", f"{11 + n}-Apr") for n in (1, 2, 3)
    ]


def test_missing_dates_are_missing_not_repeated(tmp_path):
    rows = [list(r) for r in VALID["overview"]] + [["", "3", "0", "0", "0", "0"], ["", "4", "0", "0", "0", "0"]]
    report, _ = _land_one(tmp_path, "overview", rows)
    assert {(i.rule, i.row) for i in report.issues} == {("not_nullable", 3), ("not_nullable", 4)}


@pytest.mark.parametrize(("kind", "row", "column", "value", "flag"), FLAGGED)
def test_plausibility_problem_lands_every_row_with_its_flag(tmp_path, kind, row, column, value, flag):
    rows = [list(r) for r in VALID[kind]]
    rows[row][column] = value
    report, loaded = _land_one(tmp_path, kind, rows)
    assert report.issues == [] and loaded == len(rows)
    recorded = query(
        new_paths(tmp_path),
        "select file, source_row, column_name, rule, value, severity from raw.row_flags order by all",
    )
    assert recorded == [(f"{STUDIO_FILE_KINDS[kind].entry_stem}.csv", *flag, "warn")]


def test_each_rule_has_the_severity_its_fixture_expects():
    assert {severity_of(rule) for *_, rule in INVALID} == {STRUCTURAL}
    assert {severity_of(flag[2]) for *_, flag in FLAGGED} == {PLAUSIBILITY}


def test_every_contract_check_is_in_the_severity_table():
    """RULE_SEVERITY is the one place severity is decided: a new pandera check must be listed with its why."""
    checks = set()
    for contract in CONTRACTS.values():
        checks |= {check.error or check.name for column in contract.columns.values() for check in column.checks}
        checks |= {check.error or check.name for check in contract.checks}
    assert checks - set(RULE_SEVERITY) == set()
    assert {severity_of(check) for check in checks} == {STRUCTURAL}, "pandera contracts hold structural rules only"


def test_the_flags_dbt_accepts_are_every_plausibility_rule_of_studio_and_live():
    """stg_studio__row_flags' accepted_values test (error severity) fails the whole build on a rule it does not list:
    a LIVE flag (a killed recorder's cut last line) once stopped every run from publishing."""
    import yaml

    from schemas import live_contracts
    from schemas.studio_contracts import PLAUSIBILITY_RULES

    models = yaml.safe_load((ROOT / "dbt_project/models/staging/studio/_stg_studio__models.yml").read_text())["models"]
    (flags,) = [model for model in models if model["name"] == "stg_studio__row_flags"]
    (rule_name,) = [column for column in flags["columns"] if column["name"] == "rule_name"]
    (accepted,) = [test["accepted_values"] for test in rule_name["data_tests"] if "accepted_values" in test]
    studio = {rule.name for rules in PLAUSIBILITY_RULES.values() for rule in rules}
    live = {name for name, rule in live_contracts.RULES.items() if rule.severity == live_contracts.PLAUSIBILITY}
    assert len(studio) == 3 and len(live) == 20
    assert sorted(accepted["arguments"]["values"]) == sorted(studio | live)


def test_header_only_audience_file_is_valid_and_empty(tmp_path):
    report, loaded = _land_one(tmp_path, "follower_gender", [])
    assert report.issues == [] and loaded == 0
    assert report.documents["status"].tolist() == ["loaded"]


def test_video_ids_keep_all_19_digits(tmp_path):
    _land_one(tmp_path, "content", VALID["content"])
    paths = new_paths(tmp_path)
    ids = sorted(r[0] for r in query(paths, "select video_id from raw.studio_content"))
    assert ids == ["7531345990947851551", "7546034661705796877"]
    # Post time without a year: "July 26" seen on 2026-01-03 was July 2025.
    assert str(query(paths, "select min(post_date) from raw.studio_content")[0][0]) == "2025-07-26"
