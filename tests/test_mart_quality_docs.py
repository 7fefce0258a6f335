"""What the great-expectations step leaves for the Data Docs: one stored result and one page per validated mart,
all of one run, written without a Checkpoint (quality._run_suite).

Fixtures from test_mart_quality.py; the expectation counts below are worked out from its hand-written manifest:
- dim_accounts: volume 1 + grain (account_handle not null, unique) 2 + schema 1 = 4;
- fct_account_overview_daily: volume 1 + grain (2 key columns not null, 1 compound key) 3 + schema 1 + recency
  for alice and bob 2 = 7 (carol has no overview day);
- rpt_trending_videos_7d (may be empty: no volume): grain (4 key columns not null, 2 compound keys) 6 + schema 1 = 7;
- fct_follower_gender_snapshot (may be empty): grain (3 key columns not null, 1 compound key) 4 + schema 1 = 5.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tests.test_mart_quality import OVERVIEW, _marts, _run

EXPECTATIONS = {
    "dim_accounts": 4,
    OVERVIEW: 7,
    "rpt_trending_videos_7d": 7,
    "fct_follower_gender_snapshot": 5,
}


def _stored(docs: Path, mart: str) -> dict:
    [path] = list((docs / ".validations" / mart).rglob("*.json"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_each_mart_has_one_stored_result_and_one_page_from_one_run(tmp_path: Path) -> None:
    _run(tmp_path, _marts())
    marts_dir = tmp_path / "data" / "marts"
    docs = marts_dir / "quality"

    run_times = set()
    for mart, expectations in EXPECTATIONS.items():
        stored = _stored(docs, mart)
        assert stored["success"] is True
        assert stored["statistics"]["evaluated_expectations"] == expectations
        assert stored["statistics"]["successful_expectations"] == expectations
        meta = stored["meta"]
        assert meta["run_id"]["run_name"] == "published_marts"
        assert meta["validation_time"] == meta["run_id"]["run_time"]
        assert (meta["checkpoint_id"], meta["validation_id"], meta["batch_parameters"]) == (None, None, None)
        assert meta["batch_spec"]["reader_options"]["path"] == str(marts_dir / f"{mart}.parquet")
        run_times.add(meta["run_id"]["run_time"])
        [page] = list((docs / "validations" / mart).rglob("*.html"))
        assert page.name == f"published_marts-{mart}.html"
        assert (docs / "expectations" / f"{mart}.html").is_file()
    assert len(run_times) == 1, "every mart checked in one call shares one run"
    assert sorted(p.name for p in (docs / ".validations").iterdir() if p.is_dir()) == sorted(EXPECTATIONS)


def test_a_failed_expectation_is_stored_as_failed_and_the_others_as_passed(tmp_path: Path) -> None:
    # bob's newest export 03-06 is 4 days after his newest day (03-02): one recency expectation fails
    marts = _marts()
    marts["dim_accounts"].loc[1, "last_export_date"] = dt.date(2024, 3, 6)

    _run(tmp_path, marts)

    docs = tmp_path / "data" / "marts" / "quality"
    stored = _stored(docs, OVERVIEW)
    assert stored["success"] is False
    assert stored["statistics"]["unsuccessful_expectations"] == 1
    assert stored["statistics"]["successful_expectations"] == EXPECTATIONS[OVERVIEW] - 1
    [failed] = [r for r in stored["results"] if not r["success"]]
    assert failed["expectation_config"]["meta"] == {"account": "bob", "check": "recency"}
    assert all(_stored(docs, mart)["success"] for mart in EXPECTATIONS if mart != OVERVIEW)
