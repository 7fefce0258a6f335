"""great-expectations validates only the published marts whose inputs changed (lib/marts/quality_state.py);
the others keep their recorded results, and the Data Docs keep listing every mart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from orchestration.lib.marts import quality, quality_state
from tests.test_mart_quality import OVERVIEW, _marts, _write_manifest


@pytest.fixture
def published(tmp_path):
    marts_dir = tmp_path / "data" / "marts"
    marts_dir.mkdir(parents=True)
    for name, frame in _marts().items():
        frame.to_parquet(marts_dir / f"{name}.parquet", index=False)
    return marts_dir, _write_manifest(tmp_path / "manifest.json")


def _check(marts_dir: Path, manifest: Path, monkeypatch, validated: list) -> list:
    real = quality._validate

    def spy(to_check, *args):
        validated.append(sorted(to_check))
        return real(to_check, *args)

    monkeypatch.setattr(quality, "_validate", spy)
    return quality.check_published_marts(marts_dir, marts_dir / "quality", manifest_path=manifest)


def _summary(results):
    return [(r.mart, r.check, r.passed) for r in results]


def test_only_changed_marts_are_validated_again_and_the_docs_list_every_mart(published, monkeypatch):
    marts_dir, manifest = published
    docs = marts_dir / "quality"
    validated: list = []
    first = _check(marts_dir, manifest, monkeypatch, validated)
    everything = sorted({r.mart for r in first})
    assert validated == [everything]

    # nothing changed: nothing validated, the same results (marked reused), every mart still in the docs
    again = _check(marts_dir, manifest, monkeypatch, validated)
    assert validated == [everything]
    assert _summary(again) == _summary(first)
    assert all(r.details["reused"] for r in again)
    assert {k: v for k, v in again[0].details.items() if k != "reused"} == first[0].details
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert all(mart in index for mart in everything)

    # one mart gets a duplicate key: only it is validated, and its grain now fails
    trending = _marts()["rpt_trending_videos_7d"]
    pd.concat([trending, trending.iloc[[0]]]).to_parquet(marts_dir / "rpt_trending_videos_7d.parquet", index=False)
    third = _check(marts_dir, manifest, monkeypatch, validated)
    assert validated[-1] == ["rpt_trending_videos_7d"]
    assert [(r.mart, r.check) for r in third if not r.passed] == [("rpt_trending_videos_7d", "grain")]
    assert not any(r.details.get("reused") for r in third if r.mart == "rpt_trending_videos_7d")
    index = (docs / "index.html").read_text(encoding="utf-8")
    assert all(mart in index for mart in everything), "the docs still list the marts not validated this time"
    assert len(list((docs / "validations" / "rpt_trending_videos_7d").rglob("*.html"))) == 1  # the newest only
    assert f"Published marts: {len(third) - 1} of {len(third)} checks passed" in (docs / "checks.html").read_text()


def test_new_export_dates_check_the_recency_of_every_mart_that_has_one(published, monkeypatch):
    marts_dir, manifest = published
    validated: list = []
    _check(marts_dir, manifest, monkeypatch, validated)
    # bob's newest export moves on: the overview (recency by metric_date) is checked again, and now lags
    accounts = _marts()["dim_accounts"]
    accounts.loc[accounts["account_handle"] == "bob", "last_export_date"] = dt.date(2024, 3, 20)
    accounts.to_parquet(marts_dir / "dim_accounts.parquet", index=False)
    results = _check(marts_dir, manifest, monkeypatch, validated)
    assert validated[-1] == sorted(["dim_accounts", OVERVIEW])
    assert [(r.mart, r.check) for r in results if not r.passed] == [(OVERVIEW, "recency")]


def test_lost_data_docs_are_rebuilt_whole(published, monkeypatch):
    marts_dir, manifest = published
    validated: list = []
    first = _check(marts_dir, manifest, monkeypatch, validated)
    (marts_dir / "quality" / "index.html").unlink()
    again = _check(marts_dir, manifest, monkeypatch, validated)
    assert validated[-1] == sorted({r.mart for r in first})
    assert _summary(again) == _summary(first)


def test_results_of_other_checks_are_not_reused(published, monkeypatch):
    marts_dir, manifest = published
    validated: list = []
    first = _check(marts_dir, manifest, monkeypatch, validated)
    monkeypatch.setattr(quality_state, "CHECKS_VERSION", quality_state.CHECKS_VERSION + 1)
    again = _check(marts_dir, manifest, monkeypatch, validated)
    assert validated[-1] == sorted({r.mart for r in first})  # every mart again, though no file changed
    assert _summary(again) == _summary(first) and not any(r.details.get("reused") for r in again)


def test_a_wrong_or_missing_file_fails_the_run_and_a_stale_or_empty_mart_warns():
    """defs/publish.quality_severity: what `make run` exits 1 for (ERROR) and what it only reports (WARN)."""
    import dagster as dg

    from orchestration.defs.publish import quality_severity
    from orchestration.lib.marts.quality import MartCheckResult

    def result(check: str, passed: bool, **details) -> MartCheckResult:
        return MartCheckResult("m", check, passed, "", details)

    ok = [result("volume", True), result("grain", True), result("schema", True), result("recency", True)]
    assert quality_severity(ok) == dg.AssetCheckSeverity.WARN  # (passed: the severity is not shown)
    assert quality_severity([result("recency", False, accounts_failing=["bob (227 days behind)"])]) == (
        dg.AssetCheckSeverity.WARN
    )
    assert quality_severity([result("volume", False, observed={"row_count": 0})]) == dg.AssetCheckSeverity.WARN
    assert quality_severity([result("volume", False, exists=False)]) == dg.AssetCheckSeverity.ERROR
    assert quality_severity([result("grain", False), result("recency", False)]) == dg.AssetCheckSeverity.ERROR
    assert quality_severity([result("schema", False)]) == dg.AssetCheckSeverity.ERROR
