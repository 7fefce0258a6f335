"""The recency check's accounts (lib/marts/quality_frames.py `recency_by_account`): one row per account of the mart,
whatever dim_accounts holds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from tests.test_mart_quality import OVERVIEW, _failing, _marts, _result, _run


def test_a_handle_twice_in_dim_accounts_is_one_account_at_its_newest_export(tmp_path: Path) -> None:
    # alice again with an older export (03-01: 2 days before her newest day), bob again with none
    marts = _marts()
    again = pd.DataFrame({"account_handle": ["alice", "bob"], "last_export_date": [dt.date(2024, 3, 1), None]})
    marts["dim_accounts"] = pd.concat([marts["dim_accounts"], again], ignore_index=True)

    results = _run(tmp_path, marts)

    assert _failing(results) == [("dim_accounts", "grain")]  # the duplicate handles; recency sees 03-04 and 03-05
    recency = _result(results, OVERVIEW, "recency")
    assert recency.details["accounts"] == 2 and "error" not in recency.details
    assert recency.details["failed"] == []
