"""Whether a replay of the archive (`python -m orchestration replay`) is under way or was stopped half-way.

A replay forgets the raw tables' documents and loads every receipt again, committing batch after batch; the
API pulls follow. Stopped half-way (Ctrl-C, a kill, a crash), it left raw tables holding part of the history while
`raw.archive_manifest` still lists every receipt, so no later landing saw anything to load: the next run built
and published marts from that part, and said nothing. So the replay marks its start here, before it changes any
row, and clears the mark only once the last source is replayed; while the mark stays, every landing replays the
archive again first (`defs/studio.py`), and the full refresh the replay asked for rebuilds the marts from it. A
warehouse created beside an archive that lists received files is marked the same way
(`mark_when_new_beside_an_archive`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import duckdb

from orchestration.lib.core.paths import DataPaths

_DDL = "create table if not exists landing.replay_started (started_at timestamp not null)"


def mark_replay_started(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Before a replay changes any row, one statement committed at once (a kill right after still finds the mark);
    an unfinished replay's mark is kept as it is."""
    con.execute(_DDL)
    con.execute(
        "insert into landing.replay_started select ? where not exists (select 1 from landing.replay_started)", [now]
    )


def replay_finished(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)
    con.execute("delete from landing.replay_started")


def refusal_while_unfinished(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why dbt alone (the whole step picked in the UI, without the landing) must not build now, or None."""
    if (started := unfinished_replay(con)) is None:
        return None
    return (
        f"the replay of the archive started {started:%Y-%m-%d %H:%M:%S} UTC did not finish: its raw tables hold part "
        "of the history. Run the daily job (its landing replays the archive again first) or `python -m orchestration "
        "replay`, not dbt alone"
    )


def unfinished_replay(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the replay that has not finished started, or None."""
    con.execute(_DDL)
    return con.execute("select max(started_at) from landing.replay_started").fetchone()[0]


def mark_when_new_beside_an_archive(con: duckdb.DuckDBPyConnection, paths: DataPaths) -> bool:
    """For a warehouse just created: when the archive already lists received files or API pulls (the warehouse was
    lost or deleted, or a data dir was set up around an old archive), its raw tables hold none of that history, as
    after a replay stopped before it began. Marked so, the next landing replays the whole archive first, instead of
    landing the inbox's files alone and publishing marts that lack every file deleted from the inbox since (review).
    True when it marked."""
    if not any(manifest.is_file() and manifest.stat().st_size for manifest in (paths.manifest, paths.api_manifest)):
        return False
    mark_replay_started(con, datetime.now(UTC).replace(tzinfo=None))
    return True


@contextmanager
def replay_under_way(con: duckdb.DuckDBPyConnection) -> Iterator[Callable[[], None]]:
    """Around a whole replay (every source): yields what marks it, which the replay calls right before its first
    change (after hashing the archive and its other checks: stopped or refused before, it leaves no mark); the mark
    is cleared at its end. An unfinished earlier replay's mark stays until one ends."""
    yield lambda: mark_replay_started(con, datetime.now(UTC).replace(tzinfo=None))
    replay_finished(con)
