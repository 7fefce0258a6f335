"""A creator who changed @handle keeps one account: the dbt var account_handle_aliases, as the landing reads it
(lib/core/dbt_vars.py) for its Content check; the staging models' side is the dbt unit test
a_former_handle_is_the_same_account (macros/canonical_handle.sql)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest

from orchestration.lib.core import dbt_vars
from orchestration.lib.core.dbt_vars import handle_aliases
from orchestration.lib.studio import checking
from tests.studio_fixtures import drop, land, new_paths, query, studio_csv

HEADER = ("Time", "Video title", "Video link", "Post time", "Total likes", "Total comments", "Total shares",
          "Total views")  # fmt: skip
NOON = datetime(2026, 3, 5, 12)


def _project(tmp_path, aliases: str):
    project = tmp_path / "dbt_project"
    project.mkdir(exist_ok=True)
    text = f"name: x\nvars:\n  trending_top_n: 9\n  account_handle_aliases: {aliases}\n"
    (project / "dbt_project.yml").write_text(text)
    return project


def test_aliases_are_read_as_handles_are_written_and_again_when_the_file_changes(tmp_path):
    project = _project(tmp_path, "{}")
    assert handle_aliases(project) == {}
    project = _project(tmp_path, "{'@Old_Name': New.Name, older: '@new.name'}")
    stamp = (project / "dbt_project.yml").stat().st_mtime_ns
    os.utime(project / "dbt_project.yml", ns=(stamp + 10**9, stamp + 10**9))  # a new stamp, whatever the clock
    assert handle_aliases(project) == {"old_name": "new.name", "older": "new.name"}


@pytest.mark.parametrize(
    ("aliases", "message"),
    [
        ("{'old name': new}", "'old name' is not a TikTok @handle"),
        ("{old_name: }", "None is not a TikTok @handle"),  # YAML: no value is null, not the handle "none"
        ("{old_name: yes}", "True is not a TikTok @handle"),
        ("{old: 'https://tiktok.com/@new'}", "'https://tiktok.com/@new' is not a TikTok @handle"),
        ("{a: b, b: c}", "@a maps to @b, itself a former handle: map every former handle to the current one"),
        ("[a, b]", "a mapping {former handle: current handle}"),
    ],
)
def test_a_mistake_in_the_aliases_is_an_error_naming_the_file_and_the_var(tmp_path, aliases, message):
    project = _project(tmp_path, aliases)
    with pytest.raises(ValueError, match="vars.account_handle_aliases") as error:
        handle_aliases(project)
    assert str(project / "dbt_project.yml") in str(error.value) and message in str(error.value)


def test_the_project_declares_no_alias_by_default():
    assert dbt_vars.project_vars()["account_handle_aliases"] == {} and handle_aliases() == {}


def _content(handle: str) -> bytes:
    link = f"https://www.tiktok.com/@{handle}/video/7546034661705796870"
    return studio_csv(HEADER, [["March 5", "clip", link, "March 1", "1", "0", "0", "10"]])


@pytest.mark.parametrize("workers", [1, 2], ids=["here", "in worker processes"])
def test_content_of_the_current_handle_in_the_former_handles_folder_lands_once_aliased(tmp_path, monkeypatch, workers):
    """After a rename, TikTok's links name the new handle; the user keeps dropping into the old folder (and an
    export taken before the rename, naming the old handle, may land in the new folder). Worker processes check
    with the aliases the landing read (they would read dbt_project.yml's, which has none)."""
    monkeypatch.setattr(checking, "WORKERS", workers)
    monkeypatch.setattr(checking, "WORKERS_FROM_FILES", 1)
    paths = new_paths(tmp_path / "without")
    drop(paths, "old_name/Content.csv", _content("new.name"), NOON)
    land(paths)
    assert query(paths, "select status, quarantine_reason like 'links_name_the_account%' from raw.documents") == [
        ("quarantined", True)
    ]

    monkeypatch.setattr(checking, "handle_aliases", lambda: {"old_name": "new.name"})
    paths = new_paths(tmp_path / "with")
    drop(paths, "old_name/Content.csv", _content("new.name"), NOON)
    drop(paths, "new.name/Content (1).csv", _content("old_name"), datetime(2026, 2, 5, 12))
    drop(paths, "old_name/Content (2).csv", _content("someone_else"), NOON)  # still another creator's
    land(paths)
    assert query(paths, "select original_name, status from raw.documents order by 1") == [
        ("Content (1).csv", "loaded"),
        ("Content (2).csv", "quarantined"),
        ("Content.csv", "loaded"),
    ]
    # raw keeps the handle each file was received under; the staging models map it (canonical_handle)
    assert query(paths, "select distinct account_handle from raw.studio_content order by 1") == [
        ("new.name",),
        ("old_name",),
    ]


def test_a_mistake_in_the_aliases_stops_the_landing_before_any_file_is_read(tmp_path, monkeypatch):
    """Not a quarantine of every Content file for an unforeseen error: the run stops, naming the var."""
    project = _project(tmp_path, "{a: b, b: c}")
    monkeypatch.setattr(checking, "handle_aliases", lambda: handle_aliases(project))
    paths = new_paths(tmp_path / "data")
    drop(paths, "a/Content.csv", _content("a"), NOON)
    with pytest.raises(ValueError, match="account_handle_aliases: @a maps to @b"):
        land(paths)
    assert query(paths, "select count(*) from raw.documents") == [(0,)]


def test_a_replay_after_adding_the_alias_lands_the_content_it_had_quarantined(tmp_path, monkeypatch):
    """What the README tells a user to do once they name the former handle: replay re-reads the archive with
    today's checks (run --full-refresh re-checks nothing)."""
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio.landing import replay_archive

    paths = new_paths(tmp_path)
    drop(paths, "old_name/Content.csv", _content("new.name"), NOON)
    land(paths)
    assert query(paths, "select status from raw.documents") == [("quarantined",)]
    monkeypatch.setattr(checking, "handle_aliases", lambda: {"old_name": "new.name"})
    with connect(paths.warehouse) as con:
        replay_archive(paths, con)
    assert query(paths, "select status from raw.documents") == [("loaded",)]
    assert query(paths, "select account_handle, views_total from raw.studio_content") == [("old_name", 10)]


def test_the_run_summary_says_which_files_came_under_a_former_handle(tmp_path, monkeypatch, capsys):
    from orchestration.cli_summary import print_run

    paths = new_paths(tmp_path)
    drop(paths, "old_name/Content.csv", _content("old_name"), NOON)
    drop(paths, "new.name/Content.csv", _content("new.name"), NOON)
    land(paths)
    monkeypatch.setattr(dbt_vars, "handle_aliases", lambda: {"old_name": "new.name"})
    print_run(paths, datetime(2000, 1, 1))
    out = capsys.readouterr().out
    assert "  @old_name (a former handle of @new.name): 1 file(s)" in out
    assert "  @new.name: 1 file(s)" in out


def test_a_mistake_in_the_aliases_stops_a_replay_before_any_row_changes(tmp_path, monkeypatch):
    from orchestration.lib.core.dbt_selection import full_refresh_requested
    from orchestration.lib.core.warehouse import connect
    from orchestration.lib.studio import landing

    paths = new_paths(tmp_path / "data")
    drop(paths, "a/Content.csv", _content("a"), NOON)
    land(paths)
    project = _project(tmp_path, "{a: b, b: c}")
    monkeypatch.setattr(landing, "handle_aliases", lambda: handle_aliases(project))
    with (
        connect(paths.warehouse) as con,
        pytest.raises(landing.ReplayError, match="@a maps to @b.*nothing was replayed"),
    ):
        landing.replay_archive(paths, con)
    assert query(paths, "select count(*) from raw.documents where status = 'loaded'") == [(1,)]
    assert query(paths, "select count(*) from raw.studio_content") == [(1,)]
    with connect(paths.warehouse) as con:
        assert not full_refresh_requested(con)


def test_the_keying_digest_follows_what_the_vars_mean_not_how_they_are_written(tmp_path):
    stamps = []

    def digest(aliases: str, zones: str = "{}") -> str:
        project = _project(tmp_path, aliases)
        text = (project / "dbt_project.yml").read_text() + f"  live_account_timezones: {zones}\n"
        (project / "dbt_project.yml").write_text(text)
        # a new modification time each call, so the file is read again (the aliases are cached by it): later than
        # the last one, as two writes within one tick of a coarse file clock (kernels before 6.13) have the same
        stamps.append(max([(project / "dbt_project.yml").stat().st_mtime_ns, *stamps]) + 10**9)
        os.utime(project / "dbt_project.yml", ns=(stamps[-1], stamps[-1]))
        return dbt_vars.keying_vars_digest(project)

    plain = digest("{old_name: new.name}")
    assert digest("{'@Old_Name': '@New.Name'}") == plain != digest("{old_name: other}")
    assert digest("{old_name: new.name}", "{'@Alice': UTC}") == digest("{old_name: new.name}", "{alice: UTC}")
    assert digest("{old_name: new.name}", "{alice: UTC}") != plain
    assert digest("{1234567: new.name, old: newer}")  # YAML reads an all-digit handle as a number: no crash
