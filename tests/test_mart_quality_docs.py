"""What the great-expectations step leaves for the Data Docs: one stored result and one page per validated suite,
all of one run, written without a Checkpoint (quality._run_suite).

Fixtures from test_mart_quality.py; the expectation counts below are worked out from its hand-written manifest.
A mart's own suite holds its grain and schema checks; volume has a suite of its own, `<mart>.volume` (1: the row
count of a one-row frame), and so has recency:
- dim_accounts: grain (account_handle not null, unique) 2 + schema 1 = 3, and volume;
- fct_account_overview_daily: grain (2 key columns not null, 1 compound key) 3 + schema 1 = 4, volume, and its
  recency suite `fct_account_overview_daily.recency` (lag_days not null, within the window) 2 on one row per
  account: alice and bob (carol has no overview day);
- rpt_trending_videos_7d (may be empty: no volume): grain (4 key columns not null, 2 compound keys) 6 + schema 1 = 7;
- fct_follower_gender_snapshot (may be empty): grain (3 key columns not null, 1 compound key) 4 + schema 1 = 5.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

from great_expectations.data_context.data_context_variables import DataContextVariables
from great_expectations.expectations.expectation import Expectation

from orchestration.lib.marts.quality_frames import FRAMES
from tests.test_mart_quality import OVERVIEW, _marts, _run

RECENCY = f"{OVERVIEW}.recency"
ROWS = {"dim_accounts": 3, OVERVIEW: 5, "rpt_trending_videos_7d": 2, "fct_follower_gender_snapshot": 0}  # _marts()
EXPECTATIONS = {
    "dim_accounts": 3,
    "dim_accounts.volume": 1,
    OVERVIEW: 4,
    f"{OVERVIEW}.volume": 1,
    RECENCY: 2,
    "rpt_trending_videos_7d": 7,
    "fct_follower_gender_snapshot": 5,
}


def _folder(suite: str) -> Path:
    """GE files a suite's results and pages by its name split on dots: the recency suite sits in its mart's folder."""
    return Path(*suite.split("."))


def _stored(docs: Path, suite: str) -> dict:
    [path] = list((docs / ".validations" / _folder(suite)).glob("published_marts/*/*.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_each_mart_has_one_stored_result_and_one_page_from_one_run(tmp_path: Path) -> None:
    _run(tmp_path, _marts())
    marts_dir = tmp_path / "data" / "marts"
    docs = marts_dir / "quality"

    run_times = set()
    for suite, expectations in EXPECTATIONS.items():
        stored = _stored(docs, suite)
        assert stored["success"] is True
        assert stored["statistics"]["evaluated_expectations"] == expectations
        assert stored["statistics"]["successful_expectations"] == expectations
        meta = stored["meta"]
        assert meta["run_id"]["run_name"] == "published_marts"
        # the same moment (great-expectations writes the run's time with the host's UTC offset, ours in UTC)
        validated, run = (dt.datetime.fromisoformat(t) for t in (meta["validation_time"], meta["run_id"]["run_time"]))
        assert validated == run
        assert (meta["checkpoint_id"], meta["validation_id"], meta["batch_parameters"]) == (None, None, None)
        # every batch is a frame DuckDB computed from the published file (quality_frames.py), which its page names
        published = marts_dir / f"{suite.split('.')[0]}.parquet"
        check = suite.split(".")[1] if "." in suite else "grain"
        assert meta["batch_spec"] == {
            "batch_data": "PandasDataFrame",
            "data_asset_name": published.name,
            "published_file": str(published),
            "frame": FRAMES[check],
            **({"rows_in_file": ROWS[suite], "rows_in_frame": 0} if check == "grain" else {}),
        }
        run_times.add(meta["run_id"]["run_time"])
        [page] = list((docs / "validations" / _folder(suite)).glob("published_marts/*/*.html"))
        assert page.name == f"published_marts-{suite}.html"
        assert str(published) in page.read_text(encoding="utf-8"), "the page names the file its frame came from"
        assert (docs / "expectations" / _folder(suite).with_suffix(".html")).is_file()
    assert len(run_times) == 1, "every suite checked in one call shares one run"
    marts = {suite.split(".")[0] for suite in EXPECTATIONS}
    assert sorted(p.name for p in (docs / ".validations").iterdir() if p.is_dir()) == sorted(marts)


def test_a_failed_expectation_is_stored_as_failed_and_the_others_as_passed(tmp_path: Path) -> None:
    # bob's newest export 03-06 is 4 days after his newest day (03-02): the recency window fails, for him only
    marts = _marts()
    marts["dim_accounts"].loc[1, "last_export_date"] = dt.date(2024, 3, 6)

    _run(tmp_path, marts)

    docs = tmp_path / "data" / "marts" / "quality"
    stored = _stored(docs, RECENCY)
    assert stored["success"] is False
    assert stored["statistics"]["unsuccessful_expectations"] == 1
    assert stored["statistics"]["successful_expectations"] == EXPECTATIONS[RECENCY] - 1
    [failed] = [r for r in stored["results"] if not r["success"]]
    assert failed["expectation_config"]["meta"] == {"check": "recency"}
    assert failed["result"]["unexpected_index_list"] == [
        {"account_handle": "bob", "lag_days": 4, "newest_metric_date": "2024-03-02", "last_export_date": "2024-03-06"}
    ]
    assert all(_stored(docs, suite)["success"] for suite in EXPECTATIONS if suite != RECENCY)
    # the page names him: the rendered table of unexpected values lists each one's account and dates
    [page] = list((docs / "validations" / _folder(RECENCY)).glob("published_marts/*/*.html"))
    assert all(text in page.read_text(encoding="utf-8") for text in ("bob", "2024-03-06", "account_handle"))


def test_ge_builds_no_data_fingerprint_each_configuration_once_and_saves_no_context_config(
    tmp_path: Path, monkeypatch
) -> None:
    """quality._ge_shortcuts and quality_page.docs_context change GE internals: this fails if a GE upgrade moves
    them."""
    own, built, saved = vars(Expectation)["configuration"], [], []
    counted = property(lambda expectation: built.append(expectation) or own.fget(expectation))  # kept: ids unique
    monkeypatch.setattr(Expectation, "configuration", counted)
    monkeypatch.setattr(DataContextVariables, "save", lambda variables: saved.append(variables))

    _run(tmp_path, _marts())

    docs = tmp_path / "data" / "marts" / "quality"
    assert all("pandas_data_fingerprint" not in _stored(docs, suite)["meta"]["batch_markers"] for suite in EXPECTATIONS)
    # at most 3 builds per expectation: the suite's own, outside a validation (up to 42 each without the shortcut)
    builds = Counter(map(id, built))
    assert len(builds) >= sum(EXPECTATIONS.values()) and max(builds.values()) <= 3
    assert vars(Expectation)["configuration"] is counted, "GE's own property again after the validation"
    assert saved == [], "no data asset or batch definition wrote the context's config"
