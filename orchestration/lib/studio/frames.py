"""Documents → one DataFrame per file kind: every cell of a kind's documents in Arrow at once, year-less dates
resolved per distinct value (`dates`), no Python per row.

A document read row by row (`reader`) brings its rows as lists of text; a well-formed CSV body (`csv_bodies`)
brings its bytes, and all such bodies of a kind are parsed by Arrow in one call. Either way a kind's frame holds
its documents' rows in document order, each row's cells as the csv module reads them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.lib.studio.advice import SPREADSHEET_DATE, spreadsheet_date
from orchestration.lib.studio.csv_bodies import read_bodies
from orchestration.lib.studio.dates import (
    UnknownDateText,
    earliest_not_before,
    first_date_per_key,
    latest_not_after,
    parse_month_day,
    post_day_not_after,
    resolve_year_less_by_key,
)
from orchestration.lib.studio.provenance import ExportAnchor
from orchestration.lib.studio.reader import MISSING, Document, fail_unreadable
from schemas.studio_files import STUDIO_FILE_KINDS, StudioFileKind


def frames_by_kind(documents: list[Document]) -> dict[str, pd.DataFrame]:
    """Stack readable documents into one frame per kind.

    Frames carry `document_id`, `source_row` and the kind's columns, with "undefined" as NA and
    year-less dates resolved; numbers are left as text for the contracts to coerce and judge.
    Dates that cannot be read add issues to their document.
    """
    frames: dict[str, pd.DataFrame] = {}
    readable: dict[str | None, list[Document]] = {}
    for doc in documents:  # one pass (building a kind's frame touches no other kind's documents)
        if not doc.issues:
            readable.setdefault(doc.kind, []).append(doc)
    for kind in STUDIO_FILE_KINDS.values():
        docs = readable.get(kind.kind)
        if not docs:
            continue
        saved = {id(d): (len(d.issues), d.anchor) for d in docs}
        try:
            frames[kind.kind] = _kind_frame(kind, docs)
        except Exception as error:  # rare: find the documents that break the batch, build the rest again
            docs = _set_aside_unreadable(kind, docs, saved)
            try:
                if docs:
                    frames[kind.kind] = _kind_frame(kind, docs)
            except Exception:  # they fail only together: none of them can be trusted
                for doc in docs:
                    _restore(doc, saved)
                    fail_unreadable(doc, error)
    return frames


def _kind_frame(kind: StudioFileKind, docs: list[Document]) -> pd.DataFrame:
    """Each column of the kind's rows as one Arrow array, "undefined" set to NA: the frame DataFrame(rows) and
    replace made."""
    counts = np.array([d.row_count for d in docs], dtype=np.int64)
    total, row_doc = int(counts.sum()), np.repeat(np.arange(len(docs)), counts)
    ids = pa.array([d.document_id for d in docs], type=pa.large_string()).take(row_doc)
    columns = {  # the dtypes pandas gave: ids inferred as "str" (object when there are none), cells "string"
        "document_id": pd.array(ids, dtype=pd.StringDtype(na_value=np.nan)) if total else np.array([], dtype=object),
        "source_row": np.arange(1, total + 1) - np.repeat(np.cumsum(counts) - counts, counts),  # from each file's 1
    }
    missing = pa.scalar(None, pa.large_string())
    for column, cells in zip(kind.columns, _cells_by_column(len(kind.columns), docs, counts), strict=True):
        columns[column] = pd.array(pc.if_else(pc.equal(cells, MISSING), missing, cells), dtype=pd.StringDtype())
    frame = pd.DataFrame(columns)
    if kind.kind == "content":  # the 19-digit id exists only inside the link: keep it as text
        frame.insert(2, "video_id", frame["video_link"].str.extract(r"/video/(\d+)", expand=False))
    # each row's document by position (ids are unique: a ZIP naming one entry twice is refused, containers.py)
    return _resolve_dates(kind, frame, docs, row_doc)


def _cells_by_column(width: int, docs: list[Document], counts: np.ndarray) -> list[pa.Array]:
    """One text array per column, rows in document order: the rows read row by row converted from Python in
    one call, the well-formed bodies parsed by Arrow in one call, then the two put back in document order."""
    by_body = np.array([d.body is not None for d in docs], dtype=bool)
    from_bodies = read_bodies([d.body for d in docs if d.body is not None], counts[by_body].tolist(), width)
    if by_body.all():
        return from_bodies
    listed = list(chain.from_iterable(chain.from_iterable(d.rows for d in docs if d.body is None)))
    cells = pa.array(listed, type=pa.large_string())
    from_rows = [cells.take(np.arange(position, len(cells), width)) for position in range(width)]
    if not by_body.any():
        return from_rows
    # where each document's rows start in [rows read row by row..., rows from bodies...]
    starts = np.empty(len(docs), dtype=np.int64)
    starts[~by_body] = np.cumsum(counts[~by_body]) - counts[~by_body]
    starts[by_body] = len(cells) // width + np.cumsum(counts[by_body]) - counts[by_body]
    order = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    return [pa.concat_arrays([a, b]).take(order) for a, b in zip(from_rows, from_bodies, strict=True)]


def _set_aside_unreadable(kind: StudioFileKind, docs: list[Document], saved: dict) -> list[Document]:
    """Quarantine the documents whose own frame fails; return the others, as they were before."""
    readable = []
    for doc in docs:
        _restore(doc, saved)  # undo what the failed batch attempt added
        try:
            _kind_frame(kind, [doc])
        except Exception as error:
            _restore(doc, saved)
            fail_unreadable(doc, error)
        else:
            _restore(doc, saved)  # the batch build below adds its date issues again
            readable.append(doc)
    return readable


def _restore(doc: Document, saved: dict) -> None:
    """Undo what a failed frame build added to a document (date issues, a refined anchor)."""
    count, anchor = saved[id(doc)]
    del doc.issues[count:]
    doc.anchor = anchor


def _resolve_dates(kind: StudioFileKind, frame: pd.DataFrame, docs: list[Document], row_docs: np.ndarray):
    """`row_docs`: each row's document, as an index into `docs`; date rules are per document."""
    if kind.dated:
        rules = [_row_date_rule(doc.anchor) for doc in docs]
        texts = frame["metric_date"]
        frame["metric_date"] = _walked_back_from_last_row(
            _dates(frame, "metric_date", rules, docs, row_docs), texts, rules, row_docs
        )
        _not_before_its_data(kind, frame["metric_date"].to_numpy(), docs, row_docs)
    elif kind.kind == "content":
        rules = [_content_time_rule(doc.anchor) for doc in docs]
        frame["metric_date"] = _dates(frame, "metric_date", rules, docs, row_docs)
        snapshots = first_date_per_key(frame["metric_date"].to_numpy(), row_docs)
        for position, snapshot in snapshots.items():  # the download day outranks a dated folder or an mtime
            if docs[position].anchor.source in ("inbox_folder_date", "file_mtime"):
                docs[position].anchor = replace(docs[position].anchor, export_date=snapshot, source="content_time")
        # A video was posted on or before the day it was seen.
        rules = [(post_day_not_after, snapshots[i]) if i in snapshots else None for i in range(len(docs))]
        frame["post_date"] = _dates(frame, "post_date", rules, docs, row_docs)
    return frame


def _not_before_its_data(kind: StudioFileKind, days: np.ndarray, docs: list[Document], row_docs: np.ndarray) -> None:
    """A dated folder's label may be a few days early, but its file was downloaded after its newest row (TikTok's days
    end before the download; FollowerActivity's last day is the download day, its later hours not computed yet):
    labelled earlier, a newer download lost every day it revised to an older ZIP (review). Its export moment is then
    the day after that row (FollowerActivity's: that day), not after the file's own day unless its rows are."""
    newest = pd.Series(days).groupby(row_docs).max()
    for position, last in newest.dropna().items():
        anchor = docs[position].anchor
        if anchor.source != "inbox_folder_date":
            continue
        after = last.date() + (timedelta(0) if kind.kind == "follower_activity" else timedelta(days=1))
        if anchor.file_day is not None:
            after = min(after, max(anchor.file_day, last.date()))
        if after > anchor.export_date:
            moment = datetime.combine(after, datetime.min.time())
            docs[position].anchor = replace(anchor, export_date=after, exported_at=moment)


# A file's last day (Content's download day `Time`, a dated file's last row) is at most a day after the file's own
# time (its mtime or ZIP entry time: the day is in the creator's time zone, the file's time may be UTC), and at most a
# week after a dated folder's label (a label may be a few days early).
_DAY_AFTER, _LABEL_SLACK = timedelta(days=1), timedelta(days=7)


def _latest_day(anchor: ExportAnchor) -> date:
    """The latest day a file's newest row can be: the anchor and its slack, and under a dated folder not after the
    file's own modification day either. Never the next year nearer the anchor: an export copied into the inbox (or
    into a dated folder) months after its download is not dated in the future ("April 22" seen on 1 December)."""
    bound = anchor.export_date + (_LABEL_SLACK if anchor.source == "inbox_folder_date" else _DAY_AFTER)
    if anchor.file_day is not None:  # a dated folder's file: its own time bounds the label's week
        bound = min(bound, anchor.file_day + _DAY_AFTER)
    return bound


def _content_time_rule(anchor: ExportAnchor):
    """Content's `Time` is the download day: the latest such day not after `_latest_day`."""
    return latest_not_after, _latest_day(anchor)


def _row_date_rule(anchor: ExportAnchor):
    """A dated file's rows: forward from an Overview ZIP name's first day, else back from `_latest_day` (which
    dates the last row; `_walked_back_from_last_row` then dates the others from it)."""
    if anchor.window_start is not None:
        return earliest_not_before, anchor.window_start
    return latest_not_after, _latest_day(anchor)


def _walked_back_from_last_row(dates: pd.Series, texts: pd.Series, rules: list, row_docs: np.ndarray) -> pd.Series:
    """Rows dated back from the export take their years walking back from their file's last row: TikTok sends
    consecutive ascending days, and a year-long export's first days share their month and day with the days up to
    its export ("March 1" of last year, in a file exported on 1 March whose last row is "February 28"), which the
    export date alone put in this year. In a file whose last row is later than the one before it (ascending, as
    TikTok writes them), a row dated after the last row is the latest such day not after it (any other row already
    is); only those few rows are resolved again. A file in another order is left as the export date dated it (a
    descending one lands as before); one whose last row is no date fails `studio_date` and is not walked."""
    values = dates.to_numpy()
    if not len(values):
        return dates
    ends = np.flatnonzero(np.append(row_docs[1:] != row_docs[:-1], True))  # a document's rows are consecutive
    lengths = np.diff(ends, prepend=-1)
    ascending = (lengths > 1) & (values[ends] > values[np.maximum(ends - 1, 0)])  # NaT compares False
    last_day = np.repeat(np.where(ascending, values[ends], np.datetime64("NaT")), lengths)
    walks = np.array([rule is not None and rule[0] is latest_not_after for rule in rules] + [False])
    later = np.flatnonzero((values > last_day) & walks[row_docs])
    if not len(later):
        return dates
    walked_rules: list = [None] * len(rules)
    for doc, day in zip(row_docs[later].tolist(), last_day[later].astype("datetime64[D]").tolist(), strict=True):
        walked_rules[doc] = (latest_not_after, day)
    values = values.copy()
    values[later] = resolve_year_less_by_key(texts.iloc[later], row_docs[later], walked_rules, parse_month_day)
    return pd.Series(values, index=dates.index)


def _dates(frame: pd.DataFrame, column: str, rules: list, docs: list[Document], row_docs: np.ndarray) -> pd.Series:
    """Resolve a year-less date column per distinct text and rule (`dates.resolve_year_less_by_key`); an
    issue for each row whose text is no date (the only Python per row, and only for those rows)."""
    texts = frame[column]
    values = resolve_year_less_by_key(texts, row_docs, rules, parse_month_day)
    unreadable = texts.ne("").fillna(False).to_numpy(dtype=bool) & np.isnat(values)
    for i in np.flatnonzero(unreadable).tolist():
        where = {"row": int(frame["source_row"].iat[i]), "column": column, "value": texts.iat[i]}
        try:
            parse_month_day(texts.iat[i])
        except UnknownDateText:  # a spreadsheet's rewrite of TikTok's text gets what to do about it
            why = SPREADSHEET_DATE if spreadsheet_date(texts.iat[i]) else "not a date in any supported UI language"
        else:  # a month and day, but no year makes it a day here
            why = (
                "no such day within a year of the file's export (no year written: a common year has no 29 February)"
                if rules[row_docs[i]] is not None
                else "cannot be dated: the file's download day (Time) is no date"
            )
        docs[row_docs[i]].fail("studio_date", why, **where)
    return pd.Series(values, index=frame.index)
