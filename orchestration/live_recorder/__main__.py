"""`python -m orchestration.live_recorder record @handle [--out DIR] [--gzip]` (docs/live.md).

`orchestration.cli` routes `python -m orchestration live record @handle` here, through `main(argv)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.live_recorder.recorder import (
    LiveExtraMissing,
    NotRecorded,
    default_out_dir,
    record,
    recorder_name,
    tiktoklive_api,
)
from orchestration.live_recorder.session import RecordingSession, parse_handle

EXIT_SAVED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED_BEFORE_CONNECTING = 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.live_recorder",
        description=(
            "Record a TikTok LIVE as a tiktok-live-log/1 event log (docs/live.md). Unofficial: needs the "
            "`live` extra (TikTokLive, AGPL-3.0), tiktok.com and a third-party signing service. Ctrl-C stops "
            "and saves."
        ),
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    record_verb = verbs.add_parser("record", help="record one LIVE until it ends or Ctrl-C")
    record_verb.add_argument("handle", help="the account whose LIVE to record, e.g. @name")
    record_verb.add_argument(
        "--out", type=Path, default=None, help="folder for the log (default: <TIKTOK_DATA_DIR>/raw/inbox/<handle>/live)"
    )
    record_verb.add_argument("--gzip", action="store_true", help="write <name>.jsonl.gz instead of <name>.jsonl")
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        handle = parse_handle(args.handle)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        api = tiktoklive_api()
    except LiveExtraMissing as error:
        print(error, file=sys.stderr)
        return EXIT_FAILED

    out_dir = args.out if args.out is not None else default_out_dir(handle)
    session = RecordingSession(handle, out_dir, recorder=recorder_name(), compress=args.gzip)
    print(f"recording @{handle}'s LIVE into {out_dir} (Ctrl-C stops and saves)", file=sys.stderr)
    try:
        finished = record(session, api)
    except NotRecorded as error:
        print(f"error: {error}. Nothing was recorded.", file=sys.stderr)
        return EXIT_FAILED
    except Exception as error:  # the log is saved: say so, then fail
        saved = f" What was received is in {session.out_dir}." if session.started else ""
        print(f"error while recording: {type(error).__name__}: {error}.{saved}", file=sys.stderr)
        return EXIT_FAILED
    if finished is None:
        print("stopped before the LIVE connected: nothing was recorded", file=sys.stderr)
        return EXIT_INTERRUPTED_BEFORE_CONNECTING if session.ended_by == "interrupted" else EXIT_FAILED
    print(
        f"saved {finished.log_path} ({finished.events_written} lines, {finished.reconnects} reconnects, "
        f"ended by {finished.ended_by}); sidecar {finished.sidecar_path.name}",
        file=sys.stderr,
    )
    return EXIT_SAVED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
