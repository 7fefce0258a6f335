"""A report build's staging folder (lib/report/render.py): what a killed build left is removed by the next one, a
build running beside it keeps its own, and a report is swapped in only without its links to the marts."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from pathlib import Path

import pytest

from orchestration.lib.report import build_report
from tests.test_report import write_marts

TWO_HOURS_AGO = time.time() - 2 * 3600


def _folder(path: Path, *, age: float | None = None) -> Path:
    (path / "accounts").mkdir(parents=True)
    if age is not None:
        os.utime(path, (age, age))
    return path


def test_a_build_removes_the_staging_folders_killed_builds_left(tmp_path):
    marts = write_marts(tmp_path / "marts")
    published = marts / "dim_accounts.parquet"
    killed = _folder(marts / ".report.new-killed1")
    (killed / ".marts").mkdir()
    os.link(published, killed / ".marts" / published.name)  # pins this version: publish cannot free it
    os.utime(killed, (TWO_HOURS_AGO, TWO_HOURS_AGO))
    killed_in_swap = _folder(marts / ".report.old-killed2" / "report", age=TWO_HOURS_AGO).parent
    os.utime(killed_in_swap, (TWO_HOURS_AGO, TWO_HOURS_AGO))
    running = _folder(marts / ".report.new-running", age=TWO_HOURS_AGO)  # a long build beside this one
    just_made = _folder(marts / ".report.new-justmade")  # a build that has not locked its folder yet
    others = [_folder(marts / name, age=TWO_HOURS_AGO) for name in (".report.newer", ".other.new-x", "versions")]
    assert published.stat().st_nlink == 2

    held = os.open(running, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        build_report(marts)
    finally:
        os.close(held)

    assert not killed.exists() and not killed_in_swap.exists()
    assert published.stat().st_nlink == 1
    assert running.is_dir() and just_made.is_dir() and all(p.is_dir() for p in others)
    assert (marts / "report" / "index.html").is_file()


def test_a_report_whose_links_to_the_marts_remain_is_not_swapped_in(tmp_path, monkeypatch):
    marts = write_marts(tmp_path / "marts")
    index = build_report(marts)
    before = {p.relative_to(marts): p.read_bytes() for p in (marts / "report").rglob("*") if p.is_file()}
    remove = shutil.rmtree

    def cannot_remove_the_links(path, ignore_errors=False, **options):
        if Path(path).name != ".marts":
            return remove(path, ignore_errors=ignore_errors, **options)
        if not ignore_errors:
            raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(shutil, "rmtree", cannot_remove_the_links)

    with pytest.raises(RuntimeError, match=r"cannot remove .*/\.marts .*Permission denied.*not replaced"):
        build_report(marts)

    after = {p.relative_to(marts): p.read_bytes() for p in (marts / "report").rglob("*") if p.is_file()}
    assert after == before and index.is_file()
    assert sorted(p.name for p in marts.iterdir() if p.is_dir()) == ["report"]  # the staging folder removed
