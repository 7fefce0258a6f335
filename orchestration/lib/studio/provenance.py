"""Which account a received file belongs to, and when it was exported.

The @handle is only in the ZIP name (never inside Studio files), so it comes from, in this order: the
ZIP name, the inbox sub-folder `inbox/<handle>/`, the `@handle` in Content video links.
The export moment anchors the year of every year-less date. In order of trust: the Overview ZIP name
(first day of the window + epoch of the export), the ZIP entry timestamps, the Content `Time` column
(applied in `reader`), a dated inbox folder `inbox/<handle>/<YYYY-MM-DD>/`, the file's mtime.
A ZIP entry that records no date (1980-01-01, the format's epoch, or impossible fields such as month 0;
see `core.containers.entry_timestamp`) is no anchor: the next one in the order is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from orchestration.lib.core.receipt_moments import folder_moment
from orchestration.lib.core.receipts import (
    inbox_folder_date,
    inbox_folder_handle,
    normalise_handle,
    stem_and_suffix,
    strip_browser_repeat,
)

_OVERVIEW_ZIP = re.compile(r"^Overview_(\d{4}-\d{2}-\d{2})_(\d{9,11})_(.+)$")
_SECTION_ZIP = re.compile(r"^(Overview|Content|Followers|Viewers)_(.+)$")


@dataclass(frozen=True)
class NameFacts:
    """What a received file's name and inbox location say about it."""

    section: str | None = None  # Studio section from a ZIP name
    handle: str | None = None
    handle_source: str | None = None  # zip_name | inbox_folder
    window_start: date | None = None  # Overview ZIP: first day of the window
    exported_at: datetime | None = None  # Overview ZIP: epoch seconds of the export (UTC)
    folder_date: date | None = None  # inbox/<handle>/<YYYY-MM-DD>/


def facts_from_name(inbox_relative: str) -> NameFacts:
    """Read handle and dates from `inbox/`-relative path such as `maria/2026-01-03/Content 2.csv`."""
    stem, suffix = stem_and_suffix(inbox_relative.rsplit("/", 1)[-1])  # an inbox path has no '.' or empty part
    stem = strip_browser_repeat(stem)
    folder_handle = inbox_folder_handle(inbox_relative)
    facts = dict(folder_date=inbox_folder_date(inbox_relative))
    if suffix.lower() == ".zip":
        if match := _OVERVIEW_ZIP.match(stem):
            epoch = int(match[2])
            facts |= dict(
                section="Overview",
                handle=normalise_handle(match[3]),
                window_start=_parse_iso(match[1]),
                exported_at=datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None),
            )
        elif match := _SECTION_ZIP.match(stem):
            facts |= dict(section=match[1], handle=normalise_handle(match[2]))
    if facts.get("handle"):
        facts["handle_source"] = "zip_name"
    elif folder_handle:
        facts |= dict(handle=folder_handle, handle_source="inbox_folder")
    return NameFacts(**facts)


LINK_HANDLE = re.compile(r"tiktok\.com/@([A-Za-z0-9._]+)/video/")


def handle_from_video_links(links: list[str]) -> str | None:
    """The single @handle named by Content video links, or None when absent or ambiguous."""
    found = {h for link in links if (m := LINK_HANDLE.search(link or "")) and (h := normalise_handle(m[1]))}
    return found.pop() if len(found) == 1 else None


def _parse_iso(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class ExportAnchor:
    export_date: date
    exported_at: datetime  # naive, UTC where the source says so
    source: str  # overview_zip_name | zip_entry_timestamp | content_time | inbox_folder_date | file_mtime
    window_start: date | None = None
    file_day: date | None = None  # under a dated folder, the file's modification day: its download was not later


def export_anchor(names: NameFacts, zip_entry_time: datetime | None, mtime: datetime) -> ExportAnchor:
    """The best export moment known from outside the file (the Content `Time` column refines it later).

    `zip_entry_time` is None for a bare file and for a ZIP whose entries record no date.
    """
    if names.exported_at is not None:
        return ExportAnchor(names.exported_at.date(), names.exported_at, "overview_zip_name", names.window_start)
    if zip_entry_time is not None:
        return ExportAnchor(zip_entry_time.date(), zip_entry_time, "zip_entry_timestamp")
    if names.folder_date is not None:  # a label its user gave: the file's own time bounds it too
        return ExportAnchor(names.folder_date, folder_moment(names.folder_date, mtime), "inbox_folder_date",
                            file_day=mtime.date())  # fmt: skip
    return ExportAnchor(mtime.date(), mtime, "file_mtime")
