"""Reading and validating received Studio files, apart from loading them: on every core for a large drop.

`check_files` reads a list of received files into documents, stacks them into one frame per file kind and
applies the pandera contracts: structural failures become issues of their documents (quarantined whole),
plausibility rules flag rows. It opens no database, so a worker process can run it. Every contract rule is per
document, so checking a batch in chunks gives what checking it whole gives; `BatchChecker` puts the chunks
back in the order of the files, each kind's rows in document order.

An agency's backfill spends half of its landing's CPU here (~120 µs a file to open a ZIP, find its anchors,
prove its CSV bodies well-formed and parse them, then pandas and pandera): `BatchChecker` hands a batch of at
least `WORKERS_FROM_FILES` files to worker processes, half a batch each, which send back the validated frames,
the documents' raw.documents rows and only the quarantined documents themselves. A daily drop is checked in
this process: starting the workers costs a second of imports, which a large drop's landing hides by starting
them (`prepare`) while its files are still being hashed. The landing hands each batch over (`submit`) as soon
as its files are archived, so that the workers read it while this process hashes and links the next files and
loads the batch before: on two cores, the hashing alone left one idle (23,728 files: landing 8.4 s -> 6.2 s,
raw tables identical).
"""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from pandas.api.types import union_categoricals

from orchestration.lib.core.dbt_vars import handle_aliases
from orchestration.lib.core.receipts import Received
from orchestration.lib.core.workers import worker_pool
from orchestration.lib.studio.document_rows import document_rows
from orchestration.lib.studio.frames import frames_by_kind
from orchestration.lib.studio.provenance import NameFacts, facts_from_name
from orchestration.lib.studio.reader import Document, read_received_file, unreadable_file
from orchestration.lib.studio.validation import (
    empty_flags,
    flag_rows,
    record_contract_failures,
    record_links_of_another_account,
)
from schemas.studio_contracts import CONTRACTS, FLAG_ORDER, coerce_numbers
from schemas.studio_files import STUDIO_FILE_KINDS

log = logging.getLogger(__name__)
WORKERS = min(2, os.cpu_count() or 1)
WORKERS_FROM_FILES = 4_000  # a batch this big is checked by workers
# Files per worker task, at most: a batch is split evenly between the workers, one task each (a landing batch of
# `landing.BATCH_FILES`: 2,500 files a task). Each task pays ~0.1 s of pandas and pandera calls per file kind
# whatever its size (106 tasks of 1,000 files spent ~10 s of the workers' ~20 s at 300 x 90); smaller batches
# still won overall (see BATCH_FILES), as the workers start sooner and leave less to wait for at the end.
CHUNK_FILES = 5_000
WORKER_NICENESS = 10  # this process (hashing, linking, loading) goes first: see core/workers.py


def workers_check(files: int, workers: int | None = None) -> bool:
    """Whether a drop of `files` new files is checked by `workers` (default `WORKERS`) worker processes, this
    process mostly waiting meanwhile."""
    return files >= WORKERS_FROM_FILES and (WORKERS if workers is None else workers) >= 2


@dataclass
class CheckedBatch:
    """The documents' raw.documents rows (`document_rows`) and the quarantined documents themselves (rows released),
    each kind's rows that may land, and each kind's plausibility flags. Documents travel back from a worker as
    one frame: as objects, unpickling them cost the landing process 0.15 s per 5,000 files. A kind's rows name
    their document by a categorical `document_id` when a worker checked them (`_check_in_worker`), by its text
    when this process did."""

    facts: pd.DataFrame = field(default_factory=pd.DataFrame)
    quarantined: list[Document] = field(default_factory=list)
    valid: dict[str, pd.DataFrame] = field(default_factory=dict)
    flags: dict[str, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # per step, for the benchmark


def check_files(received: Sequence[Received], aliases: dict[str, str]) -> CheckedBatch:
    """Read and validate `received`, in order; a file that fails to read is one quarantined document. `aliases`:
    the account handle aliases (`dbt_vars.handle_aliases`), read once per landing by `BatchChecker`."""
    checked = CheckedBatch()
    started = time.perf_counter()
    with _collector_paused():
        documents = _read(received)
        frames = frames_by_kind(documents)
        # The frames hold the rows now: drop the row lists and bodies, the batch's largest part of memory (lists
        # the collector would otherwise walk at every pass while the batch is validated and loaded).
        for doc in documents:
            doc.release_rows()
    checked.seconds["read + parse"] = time.perf_counter() - started
    started = time.perf_counter()
    by_id = {d.document_id: d for d in documents}
    for kind, frame in frames.items():
        typed, type_failures = coerce_numbers(kind, frame)
        failures = [type_failures]
        try:
            CONTRACTS[kind].validate(typed, lazy=True)
        except pa.errors.SchemaErrors as errors:
            failures.append(errors.failure_cases)
        record_contract_failures(kind, typed, pd.concat(failures, ignore_index=True), by_id)
        if kind == "content":
            record_links_of_another_account(typed, by_id, aliases)
        bad = {d.document_id for d in documents if d.kind == kind and d.issues}
        checked.valid[kind] = typed[~typed["document_id"].isin(bad)]
        checked.flags[kind] = flag_rows(kind, checked.valid[kind], by_id)  # these rows land all the same
    checked.facts = document_rows(documents, checked.valid)
    checked.quarantined = [doc for doc in documents if doc.issues]
    checked.seconds["validate (pandera)"] = time.perf_counter() - started
    return checked


class BatchChecker:
    """`submit(received)` → a `PendingCheck` whose `result()` is the `CheckedBatch`, checked by workers for a
    large batch while this process goes on (hashing the next files, loading the previous batch); `close()` lets
    the workers go."""

    def __init__(self, workers: int | None = None):
        self.workers = WORKERS if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        # once, here: every batch of the landing, in this process or a worker, checks Content with the same aliases
        self.aliases = handle_aliases()

    def __enter__(self) -> BatchChecker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def prepare(self, files: int) -> None:
        """Start the workers now if `files` make a batch big enough for them: they import pandas, pandera and
        the contracts (about a second) while this process is busy with something else."""
        if workers_check(files, self.workers) and self._pool is None:
            self._pool = worker_pool(self.workers, niceness=WORKER_NICENESS)
            try:
                for _ in range(self.workers):
                    self._pool.submit(_check_in_worker, (), {})
            except BrokenProcessPool:  # a worker died starting: every batch is checked here
                self._give_up_workers()

    def submit(self, received: Sequence[Received]) -> PendingCheck:
        """Hand `received` to the workers when a drop is large (they were prepared for it, or this batch alone
        is large); else it is checked here, when its result is asked for."""
        received = list(received)
        self.prepare(len(received))  # a batch this large starts the workers if the drop did not
        if self._pool is None:
            return PendingCheck(self, received, None)
        size = min(CHUNK_FILES, -(-len(received) // self.workers))
        chunks = [received[i : i + size] for i in range(0, len(received), size)]
        try:
            pending = [self._pool.submit(_check_in_worker, chunk, self.aliases) for chunk in chunks]
            return PendingCheck(self, received, pending)
        except BrokenProcessPool:  # a worker died since the last batch: a broken pool takes no more work
            self._give_up_workers()
            return PendingCheck(self, received, None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)  # quick: workers skip their teardown (core/workers.py)
            self._pool = None

    def _give_up_workers(self) -> None:
        """After a worker died: this batch and every later one are checked here (said once)."""
        if self.workers >= 2:
            log.warning("a landing worker stopped unexpectedly; checking the files in this process")
        self.close()
        self.workers = 1


@dataclass
class PendingCheck:
    """A batch handed to `BatchChecker.submit`: `result()` waits for its chunks (or checks it here)."""

    checker: BatchChecker
    received: list[Received]
    chunks: list[Future] | None  # None: checked in this process

    def result(self) -> CheckedBatch:
        if self.chunks is None:
            return check_files(self.received, self.checker.aliases)
        started = time.perf_counter()
        try:
            merged = merge([chunk.result() for chunk in self.chunks])
        except BrokenProcessPool:  # a worker died (memory, a signal): this batch and the next ones, here
            self.checker._give_up_workers()
            return check_files(self.received, self.checker.aliases)
        # what this process waited for: the workers' time not hidden behind its own work
        merged.seconds = {
            f"read + validate ({self.checker.workers} workers, waited for)": time.perf_counter() - started
        }
        return merged


def _check_in_worker(received: Sequence[Received], aliases: dict[str, str]) -> CheckedBatch:
    """`check_files` in a worker: each kind's `document_id` travels back as a categorical (codes and the chunk's
    ids once), not as its ~100-character text on every row. That text was half of the ~45 MB 5,000 files sent
    back (follower activity: 24 rows a file); pickling, piping and unpickling it cost the landing process ~1.3 s
    and the workers ~1.1 s of CPU in a 300 x 90 backfill. `merge` keeps it categorical and the load takes each row's
    document from its code (`warehouse._with_lineage`)."""
    checked = check_files(received, aliases)
    for kind, frame in checked.valid.items():
        codes, ids = pd.factorize(frame["document_id"])  # ids in order of appearance: the documents' order
        checked.valid[kind] = frame.assign(document_id=pd.Categorical.from_codes(codes, categories=ids))
    return checked


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """`pd.concat` of a kind's chunks, keeping a categorical `document_id` categorical (concatenating categoricals
    of different categories gives Python objects: 4.5 M strings at 300 x 90)."""
    frames = [frame for frame in frames if len(frame)] or frames[:1]  # an empty chunk's categories have no type
    ids = [frame["document_id"] for frame in frames]
    if len(frames) < 2 or not all(isinstance(i.dtype, pd.CategoricalDtype) for i in ids):
        return pd.concat(frames, ignore_index=True)
    stacked = pd.concat([frame.drop(columns="document_id") for frame in frames], ignore_index=True)
    stacked.insert(frames[0].columns.get_loc("document_id"), "document_id", union_categoricals(ids))
    return stacked


def merge(parts: list[CheckedBatch]) -> CheckedBatch:
    """Chunks in order, as one batch: documents in order, each kind's rows and flags in document order."""
    facts = [part.facts for part in parts if len(part.facts)]
    merged = CheckedBatch(
        facts=pd.concat(facts, ignore_index=True) if facts else pd.DataFrame(),
        quarantined=[doc for part in parts for doc in part.quarantined],
    )
    for kind in (k.kind for k in STUDIO_FILE_KINDS.values()):
        valid = [part.valid[kind] for part in parts if kind in part.valid]
        if valid:
            merged.valid[kind] = _stack(valid)
            # in the order one task would give them (find_plausibility_flags'), whatever the tasks' sizes
            merged.flags[kind] = pd.concat(
                [part.flags[kind] for part in parts if kind in part.flags], ignore_index=True
            ).sort_values(FLAG_ORDER, na_position="first", kind="stable", ignore_index=True)
    return merged


def all_flags(checked: CheckedBatch) -> pd.DataFrame:
    """Every kind's flags as one frame (kinds in their order), empty but with its columns when none."""
    return pd.concat([empty_flags(), *checked.flags.values()], ignore_index=True)


def _read(received: Sequence[Received]) -> list[Document]:
    documents: list[Document] = []
    for item in received:
        names, first = NameFacts(), len(documents)
        try:  # isolation: whatever goes wrong reading one file quarantines that file, never the drop
            names = facts_from_name(item.inbox_path)
            documents += read_received_file(
                item.sha256, item.original_name, Path(item.stored), names, item.mtime, receipt_path=item.inbox_path
            )
        except Exception as error:
            documents.append(
                unreadable_file(item.sha256, item.original_name, names, item.mtime, error, receipt_path=item.inbox_path)
            )
        for doc in documents[first:]:
            doc.inbox_path, doc.handle_from = item.inbox_path, names.handle_source or ""
    return documents


@contextmanager
def _collector_paused() -> Iterator[None]:
    """While a batch is read, millions of row lists are alive and none is garbage: Python's cyclic
    collector would walk them all again and again (half the read time). It runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
