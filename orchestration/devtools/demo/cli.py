"""Command line: `python -m orchestration.devtools.demo --inbox DIR [--accounts N --days N ...]`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from orchestration.devtools.demo.generator import generate_demo_inbox, spare_workers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.devtools.demo",
        description="Write simulated TikTok Studio downloads into an inbox folder (deterministic).",
    )
    parser.add_argument("--inbox", type=Path, required=True)
    parser.add_argument("--accounts", type=int, default=3)
    parser.add_argument("--days", type=int, default=130)
    parser.add_argument("--end-date", type=date.fromisoformat, default=date(2026, 2, 20))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plain", action="store_true", help="regular daily drops, no quirks (benchmarks)")
    parser.add_argument("--dated-folders", action="store_true", help="ZIPs in inbox/<YYYY-MM-DD>/")
    parser.add_argument("--no-live", action="store_true", help="Studio exports only: no LIVE logs, no Backstage")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate_demo_inbox(
        args.inbox,
        accounts=args.accounts,
        days=args.days,
        end_date=args.end_date,
        seed=args.seed,
        variety=not args.plain,
        dated_folders=args.dated_folders,
        live=not args.no_live,
        workers=spare_workers(),
    )
    elapsed = time.perf_counter() - started
    shown = ", ".join(f"{h} ({loc})" for h, loc in zip(summary.accounts[:5], summary.locales[:5], strict=False))
    more = f" and {len(summary.accounts) - 5} more" if len(summary.accounts) > 5 else ""
    print(
        f"wrote {summary.files_written} files ({summary.bytes_written / 1e6:.1f} MB) into {summary.inbox} "
        f"in {elapsed:.1f}s\naccounts: {shown}{more}\n"
        f"downloads from {summary.first_day} to {summary.last_day}"
    )
    if summary.live_logs or summary.backstage_files:
        print(
            f"LIVE: {summary.live_logs} recorded LIVEs (log + sidecar), {summary.backstage_files} Backstage "
            f"downloads from {summary.backstage_first} to {summary.backstage_last}{summary.backstage_distinct_told}, "
            f"{summary.live_center_files} LIVE Center files"
        )
    return 0
