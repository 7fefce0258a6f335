"""The daily run keeps the report when nothing it reads was published anew (lib/report/render.py)."""

from __future__ import annotations

import os

from orchestration.lib.report import render
from tests.test_report import write_marts


def test_the_report_is_rendered_again_only_when_a_published_file_or_the_code_changed(tmp_path, monkeypatch):
    marts = write_marts(tmp_path / "marts")
    rendered = []
    real = render._render
    monkeypatch.setattr(render, "_render", lambda *a: rendered.append(a) or real(*a))

    index = render.build_report(marts, unless_current=True)
    assert len(rendered) == 1 and index.is_file()
    page = index.read_bytes()
    assert render.build_report(marts, unless_current=True) == index
    assert len(rendered) == 1, "the same published files: the same pages, not rendered again"
    render.build_report(marts)  # `make report` always renders
    assert len(rendered) == 2 and index.read_bytes() == page

    # a new version of one mart (publish.py links <model>.parquet to a new file)
    published = next(marts.glob("*.parquet"))
    newer = published.with_name(".newer")
    newer.write_bytes(published.read_bytes())
    os.replace(newer, published)
    render.build_report(marts, unless_current=True)
    assert len(rendered) == 3

    # the report's own code or templates changed
    monkeypatch.setattr(render, "inputs_signature", lambda marts_dir: "another version of the code")
    render.build_report(marts, unless_current=True)
    assert len(rendered) == 4


def test_a_publish_during_a_build_is_not_read_by_it(tmp_path):
    """Every query of one build reads the versions published when it started (lib/report/data.py Marts)."""
    from orchestration.lib.report.data import Marts
    from tests.test_report_page_reuse import republish

    marts = write_marts(tmp_path / "marts")
    query = "select followers from fct_follower_growth_daily where account_handle = 'beta' order by metric_date"
    # views over hard links (pin_dir), or tables where no link can be made: beta has 5000, 4990, 4980 followers
    for pin_dir, seen in ((tmp_path / "pins", [5000, 4990, 4980]), (None, [5001, 4991, 4981])):
        m = Marts(marts, pin_dir=pin_dir)
        republish(marts, "fct_follower_growth_daily", "select * replace (followers + 1 as followers) from {old}")
        assert [r["followers"] for r in m.rows(query)] == seen
        assert m.has("fct_follower_growth_daily", "dim_accounts") and not m.has("fct_live_sessions")
        m.close()
    assert not (tmp_path / "pins").exists()
