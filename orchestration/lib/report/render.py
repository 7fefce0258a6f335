"""Writes the report: `<marts>/report/index.html` (the portfolio), `accounts/<handle>.html`, and `assets/`.

Pages are Jinja2 templates with autoescaping on (titles are user text); figures are JSON in
`<script type="application/json">` blocks with `<`, `>` and `&` escaped, drawn by plotly.js from
`assets/plotly.min.js` (copied from the plotly wheel: MIT, nothing fetched at run or view time). The same
marts give byte-identical pages: no clock anywhere, "N days ago" counts from the newest data date. The new
report is written beside the old one and swapped in, so a reader never sees half a report (and what a killed build
left there is removed by the next: `_remove_abandoned`); an account page whose inputs did not change is linked
from the old one rather than drawn again (page_reuse.py).
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import importlib.util
import json
import os
import re
import shutil
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2

from orchestration.lib.core.links import tiktok_link
from orchestration.lib.report import charts
from orchestration.lib.report.data import (
    MARTS,
    Marts,
    accounts,
    backstage_creators,
    breakouts,
    drop_folders,
    newest_data_date,
    portfolio,
    quarantined_files,
)
from orchestration.lib.report.page_reuse import PreviousPages, content_digest, page_key, write_manifest
from orchestration.lib.report.pages import account_pages

PACKAGE_DIR = Path(__file__).parent
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


def page_name(handle: str) -> str:
    """A file name for an account's page: TikTok handles are letters, digits, `_` and `.`; anything else is `_`. A
    name starting with a dot (a hidden file, or `..`) gets a `~` before it, which no handle holds: stripping the dots
    gave `._x` and `_x` one page."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", handle) or "_"
    return f"{'~' if safe.startswith('.') else ''}{safe}.html"


def _default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable in a figure: {value!r}")


def figure_json(figure: dict | str) -> str:
    """A figure as JSON safe inside <script>; a figure given as that text already is returned as it is."""
    if isinstance(figure, str):
        return figure
    text = json.dumps(figure, default=_default, ensure_ascii=False, separators=(",", ":"))
    # safe inside <script>: no "</script>", no "<!--"
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _fmt_int(value) -> str:
    return "–" if value is None else f"{int(value):,}"


def _fmt_signed(value) -> str:
    return "–" if value is None else f"{int(value):+,}"


def _fmt_pct(value) -> str:
    return "–" if value is None else f"{float(value) * 100:.2f}%"


def _fmt_times(value) -> str:
    return "–" if value is None else f"{float(value):.1f}×"


_ENV.filters.update(
    int=_fmt_int,
    signed=_fmt_signed,
    pct=_fmt_pct,
    times=_fmt_times,
    page=page_name,
    fig=figure_json,
    tiktok=tiktok_link,
)


def build_report(marts_dir: Path, report_dir: Path | None = None, *, unless_current: bool = False) -> Path:
    """Render the report from the published marts in `marts_dir`; returns the path of index.html.

    `unless_current`: keep the report as it is when it was rendered from the same published files by the same
    code (the same marts give byte-identical pages), e.g. after a run that published nothing new."""
    marts_dir = Path(marts_dir)
    report_dir = Path(report_dir) if report_dir else marts_dir / "report"
    report_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(report_dir)
    inputs = inputs_signature(marts_dir)
    if unless_current and report_is_current(report_dir, inputs):
        return report_dir / "index.html"
    # a build of its own (make report while a run rebuilds it): never two writers in one folder
    staging = Path(tempfile.mkdtemp(dir=report_dir.parent, prefix=f".{report_dir.name}.new-"))
    held = _hold(staging)  # until it is swapped in: another build's _remove_abandoned leaves it alone
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the report from a web server or another user
        try:
            _render(marts_dir, staging, report_dir)
            (staging / INPUTS_FILE).write_text(inputs, encoding="utf-8")
            _remove_pins(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _swap_in(staging, report_dir)
    finally:
        if held is not None:
            os.close(held)
    return report_dir / "index.html"


PINS_DIR = ".marts"  # in the staging folder: the hard links to the marts a build reads (data.Marts)
_LOCK_GRACE_S = 60  # a staging folder this new may be a build's that has not locked it yet
_ABANDONED_AFTER_S = 3600  # where no folder can be locked (no flock on the file system), and for swap folders


def _hold(staging: Path) -> int | None:
    """A lock on the staging folder (flock: the OS drops it when the build dies, however it dies)."""
    return _locked(staging)[0]


def _locked(folder: Path) -> tuple[int | None, bool | None]:
    """The folder opened and flock'ed: (its descriptor, True) when this process holds the lock now, False when
    another does, None where the file system has no flock; (None, None) when it cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None, None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return fd, False
    except OSError:
        return fd, None
    return fd, True


def _remove_abandoned(report_dir: Path) -> None:
    """Remove what killed builds (SIGKILL, out of memory, power cut) left beside the report: a staging folder
    holds hard links to the marts it read, which would keep those versions on disk for good.

    Builds are not serialised (`make report` may run beside a run's build), so a staging folder goes only when
    its lock is free (its build is gone) and it is over a minute old; a swap folder (`.old-`, two renames and a
    removal) when it is over an hour old."""
    now, name = time.time(), glob.escape(report_dir.name)
    for kind in ("new", "old"):
        for folder in report_dir.parent.glob(f".{name}.{kind}-*"):
            try:
                age = now - folder.lstat().st_mtime
            except OSError:
                continue
            if folder.is_symlink() or not folder.is_dir():
                continue
            if kind == "old":
                if age > _ABANDONED_AFTER_S:
                    shutil.rmtree(folder, ignore_errors=True)
            elif age > _LOCK_GRACE_S:
                _remove_unless_locked(folder, age)


def _remove_unless_locked(staging: Path, age: float) -> None:
    fd, locked = _locked(staging)
    if fd is None:
        return
    try:
        # a lock held elsewhere: its build is running; no flock here: by age only
        if locked or (locked is None and age > _ABANDONED_AFTER_S):
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        os.close(fd)


def _remove_pins(staging: Path) -> None:
    """Marts.close removes the links to the marts; had that failed, they would be served with the report and keep
    those versions on disk: a second try, and the build fails with the reason if it fails too."""
    pins = staging / PINS_DIR
    if not pins.exists():
        return
    try:
        shutil.rmtree(pins)
    except OSError as error:
        raise RuntimeError(
            f"cannot remove {pins} (links to the marts the report was built from): {error}; the report was not replaced"
        ) from error


INPUTS_FILE = ".inputs"  # what the report was rendered from (inputs_signature)


def inputs_signature(marts_dir: Path) -> str:
    """The published files the report reads (a new version is a new file: publish.py links `<model>.parquet` to
    it) and this package's code and templates."""
    digest = hashlib.sha256()
    for mart in MARTS:
        path = Path(marts_dir) / f"{mart}.parquet"
        stat = path.stat() if path.is_file() else None
        digest.update(f"{mart} {stat and (stat.st_ino, stat.st_size, stat.st_mtime_ns)}\n".encode())
    digest.update(code_signature().encode())
    return digest.hexdigest()


def code_signature() -> str:
    """This package's code and templates, and the template engine's version: what draws a page from its data."""
    digest = hashlib.sha256(jinja2.__version__.encode())
    for source in sorted(PACKAGE_DIR.rglob("*")):
        if source.is_file() and source.suffix in (".py", ".html", ".js", ".css"):
            digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def report_is_current(report_dir: Path, inputs: str) -> bool:
    stamp = Path(report_dir) / INPUTS_FILE
    return (Path(report_dir) / "index.html").is_file() and stamp.is_file() and stamp.read_text() == inputs


def _render(marts_dir: Path, staging: Path, previous: Path | None = None) -> None:
    (staging / "accounts").mkdir()
    (staging / "assets").mkdir()
    _write_assets(staging / "assets")
    m = Marts(marts_dir, pin_dir=staging / PINS_DIR)  # removed by m.close(), before the report is swapped in
    try:
        handles = accounts(m)
        newest = newest_data_date(m)
        rows = portfolio(m)
        # LIVE creators known only from Backstage: listed apart, each with a page of its LIVE figures
        creators = {c["account_handle"]: c for c in backstage_creators(m) if c["account_handle"] not in handles}
        _write(
            staging / "index.html",
            _ENV.get_template("index.html").render(
                root="",
                newest=newest,
                portfolio=rows,
                figures={"portfolio": charts.portfolio(rows)} if rows else {},
                breakouts=breakouts(m),
                drop_folders=drop_folders(m),
                backstage_creators=list(creators.values()),
                quarantined=quarantined_files(m),
                has_scorecard=m.has("rpt_account_scorecard_daily"),
                has_outliers=m.has("rpt_video_outliers_daily"),
            ),
        )
        handles = [*handles, *creators]
        pages = account_pages(m, handles, newest)
        for handle, page in pages.items():
            page["backstage"] = creators.get(handle)  # None: an account with data of its own
        by_name = {page_name(h): h for h in handles}  # two handles on one file name: the last one's page, as before
        code, old, manifest = code_signature(), PreviousPages(previous), {}
        for name, handle in by_name.items():
            target = staging / "accounts" / name
            figures = account_figures(pages[handle])
            key = page_key(code, newest, m.present, pages[handle], figures)
            digest = old.link(name, key, target)
            if digest is None:
                text = _account_html(pages[handle], newest, m.has, figures).encode("utf-8")
                target.write_bytes(text)
                digest = content_digest(text)
            manifest[name] = [key, digest]
        write_manifest(staging, manifest)
    finally:
        m.close()


def _swap_in(staging: Path, report_dir: Path) -> None:
    """Replace report_dir by staging: two renames, so a reader sees the old report or the new one."""
    for _ in range(5):  # another build may swap its report in between our two renames: take its place
        old = Path(tempfile.mkdtemp(dir=report_dir.parent, prefix=f".{report_dir.name}.old-"))
        try:
            if report_dir.exists():
                report_dir.replace(old / "report")
            staging.rename(report_dir)
            return
        except OSError:
            continue
        finally:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    raise RuntimeError(f"could not replace {report_dir}: other report builds kept replacing it")


def _account_html(page: dict, newest: date | None, has, figures: dict[str, str]) -> str:
    return _ENV.get_template("account.html").render(root="../", newest=newest, page=page, figures=figures, has=has)


def account_figures(page: dict) -> dict[str, str]:
    """The page's figures, each as its JSON text (what the page carries, and part of its key)."""
    figures: dict[str, dict] = {}
    if page.get("followers"):
        figures["followers"] = charts.followers(page["followers"])
    if page.get("overview"):
        figures["engagement"] = charts.engagement(page["overview"])
    if page.get("rates"):
        figures["rates"] = charts.rates(page["rates"])
    if page.get("trending"):
        figures["trending"] = charts.trending(page["trending"])
    if page.get("curves"):
        titles = {r["video_id"]: charts.short_title(r["video_title"], r["video_id"]) for r in page["trending"]}
        figures["curves"] = charts.curves(page["curves"], titles)
    if page.get("activity"):
        figures["activity"] = charts.activity(page["activity"])
    if page.get("gender"):
        figures["gender"] = charts.shares_over_time(page["gender"], "gender", "Audience gender over time")
    if page.get("territories"):
        figures["territories"] = charts.shares_over_time(
            page["territories"], "territory", "Top audience territories over time"
        )
    if page.get("live"):
        figures["live"] = charts.live(page["live"])
    if page.get("live_daily"):
        figures["live_daily"] = charts.live_daily(page["live_daily"])
    # a figure with nothing to draw (rates all null: no Overview yet) says "No data yet" instead of empty axes
    return {name: figure_json(figure) for name, figure in figures.items() if figure["data"]}


def _write_assets(assets: Path) -> None:
    # the plotly.min.js the wheel bundles, the file plotly.offline.get_plotlyjs() reads: copied as it is, without
    # importing plotly (0.05 s) to decode 4.8 MB and encode them again
    plotly = importlib.util.find_spec("plotly")
    if plotly is None or plotly.origin is None:
        raise ImportError("plotly is not installed: the report copies its plotly.min.js (run `make setup`)")
    bundled = Path(plotly.origin).parent / "package_data" / "plotly.min.js"
    if bundled.is_file():
        shutil.copyfile(bundled, assets / "plotly.min.js")
    else:  # a plotly that keeps it elsewhere
        from plotly.offline import get_plotlyjs

        (assets / "plotly.min.js").write_text(get_plotlyjs(), encoding="utf-8")
    shutil.copyfile(PACKAGE_DIR / "templates" / "report.js", assets / "report.js")
    shutil.copyfile(PACKAGE_DIR / "templates" / "report.css", assets / "report.css")


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
