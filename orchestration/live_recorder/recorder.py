"""The connect / reconnect loop: a `TikTokLiveClient` per connection, every event into the session.

TikTokLive is imported here, inside `tiktoklive_api()`, and nowhere else: the package (and anything
that imports it) works without the `live` extra, and tests drive the loop with a fake client that has
the same four members the loop uses (`add_listener`, `start`, `disconnect`, and the event it emits).

How a recording stops:
- the LIVE ends: TikTokLive emits `LiveEndEvent`, closes the websocket, emits `DisconnectEvent`;
  `ended_by` is `live_end`;
- Ctrl-C (SIGINT) or SIGTERM: the client is asked to disconnect (at most `DISCONNECT_TIMEOUT_S`),
  so its `DisconnectEvent` is logged too; `ended_by` is `interrupted`;
- the websocket closes without an end: reconnect to the same room after `ReconnectPolicy.delays_s`
  (TikTok replays recent events, with their `msg_id`, on the new connection); when the room is no longer
  live or every attempt fails, `ended_by` is `disconnected`;
- anything else raised: `ended_by` is `error`, and the error is raised after the log is saved.
In every case `RecordingSession.finish` runs from a `finally`: every event received is in the log.

Never asks for, reads or stores a `sessionid` cookie or any other credential: the client connects
anonymously (it reads the signing service's `SIGN_API_KEY` from the environment by itself, if set).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from orchestration.lib.core.paths import DataPaths
from orchestration.live_recorder.handlers import HANDLERS
from orchestration.live_recorder.session import FinishedRecording, RecordingSession

# What the loop subscribes to: the records' events, and the two that open and close a connection.
SUBSCRIBED_EVENTS = ("ConnectEvent", "DisconnectEvent", *HANDLERS)
DISCONNECT_TIMEOUT_S = 10.0
LIVE_EXTRA_MISSING = (
    "The LIVE recorder needs the optional `live` extra (the unofficial TikTokLive client, AGPL-3.0):\n"
    "    make live-record HANDLE=@name    (installs it into .venv from uv.lock, then records)\n"
    "See docs/live.md, 'Recording a LIVE'."
)


class LiveExtraMissing(RuntimeError):
    """TikTokLive is not installed."""


class NotRecorded(RuntimeError):
    """The first connection failed (not LIVE, no such account, rate-limited): nothing was written."""


@dataclass(frozen=True)
class ClientApi:
    """How to make a client, and what `client.add_listener` takes for each subscribed event name."""

    new_client: Callable[[str], Any]
    event_types: Mapping[str, Any]


@dataclass(frozen=True)
class ReconnectPolicy:
    # Waits before successive attempts after a connection drops (reset once one succeeds). The anonymous
    # signing service allows about 5 connections a minute and 100 a day: keep reconnects rare.
    delays_s: tuple[float, ...] = (5.0, 20.0, 60.0)
    max_reconnects: int = 20


def tiktoklive_api() -> ClientApi:
    """The real client. Importing TikTokLive makes no network call; `client.start()` does."""
    try:
        from TikTokLive import TikTokLiveClient
        from TikTokLive import events as tiktoklive_events
    except ImportError as error:
        raise LiveExtraMissing(LIVE_EXTRA_MISSING) from error
    return ClientApi(
        new_client=lambda handle: TikTokLiveClient(unique_id=handle),
        event_types={name: getattr(tiktoklive_events, name) for name in SUBSCRIBED_EVENTS},
    )


def recorder_name() -> str:
    """`tiktok-warehouse/<version> TikTokLive/<version>` for the session_start record."""

    def version(distribution: str) -> str:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return "unknown"

    return f"tiktok-warehouse/{version('tiktok-warehouse')} TikTokLive/{version('tiktoklive')}"


def default_out_dir(handle: str) -> Path:
    """`<TIKTOK_DATA_DIR>/raw/inbox/<handle>/live/`: the next pipeline run lands what is recorded there."""
    return DataPaths.from_env().inbox / handle / "live"


def record(
    session: RecordingSession,
    api: ClientApi,
    *,
    policy: ReconnectPolicy = ReconnectPolicy(),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    say: Callable[[str], None] = lambda message: print(message, file=sys.stderr),
) -> FinishedRecording | None:
    """Record `session.handle`'s LIVE until it ends or is stopped; None if it never connected."""
    ended_by = "error"
    try:
        asyncio.run(_connections(session, api, policy, sleep, say))
        ended_by = session.ended_by or "disconnected"
    except (KeyboardInterrupt, asyncio.CancelledError):  # Ctrl-C, or SIGTERM (it cancels the main task)
        ended_by = "interrupted"
    finally:
        finished = session.finish(ended_by)  # on an error too, before it propagates
    return finished


async def _connections(
    session: RecordingSession,
    api: ClientApi,
    policy: ReconnectPolicy,
    sleep: Callable[[float], Awaitable[Any]],
    say: Callable[[str], None],
) -> None:
    main_task = asyncio.current_task()
    assert main_task is not None
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not on Windows / off the main thread
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)

    waits: Iterator[float] = iter(())
    first_attempt = True
    while True:
        if not first_attempt:
            delay = next(waits, None)
            if delay is None:
                say("giving up: the connection could not be re-established")
                session.stop("disconnected")
                return
            await sleep(delay)
        first_attempt = False

        client = api.new_client(session.handle)
        for name, event_type in api.event_types.items():
            client.add_listener(event_type, _listener(session, name))
        try:
            # A reconnect goes back to the same room: a new LIVE by the same account is another log.
            task = await client.start(room_id=None if session.room_id is None else int(session.room_id))
        except Exception as error:
            if not session.started:
                raise NotRecorded(f"could not connect to @{session.handle}'s LIVE: {_describe(error)}") from error
            if type(error).__name__ == "UserOfflineError":  # the room is over: no point retrying
                say(f"@{session.handle} is no longer LIVE")
                session.stop("disconnected")
                return
            say(f"reconnect failed: {_describe(error)}")
            continue
        waits = iter(policy.delays_s)

        try:
            # asyncio.wait, not `await task`: cancelling us (Ctrl-C) must not cancel the client's loop
            # before it has closed the websocket and emitted its DisconnectEvent.
            await asyncio.wait({task})
        except asyncio.CancelledError:
            session.stop("interrupted")
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), DISCONNECT_TIMEOUT_S)
            if task.done() and not task.cancelled():
                task.exception()  # seen: an interrupt raised inside the client is reported once, not twice
            raise
        task.result()  # an error inside the client's loop ends the recording as `error`

        if session.ended_by is not None:  # the LIVE ended
            return
        if session.reconnects >= policy.max_reconnects:
            say(f"giving up after {session.reconnects} reconnects")
            session.stop("disconnected")
            return
        say("connection closed before the LIVE ended: reconnecting")


def _listener(session: RecordingSession, event_name: str) -> Callable[[Any], None]:
    def on_event(event: Any) -> None:
        session.on_event(event_name, event)

    return on_event


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
