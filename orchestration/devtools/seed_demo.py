"""`make run` picks its data directory: the user's own, or the bundled demo in a folder of its own.

A dev tool, not part of the pipeline: the runtime never imports `devtools/`. While `<data>/raw/inbox/`
holds no file and nothing was ever archived, `make run` runs the demo in `<data>/demo/` (a data
directory of its own: inbox, archive, warehouse, marts), seeded with the bundled demo exports on its
first run. From the first file a user drops into `<data>/raw/inbox/`, `make run` runs on `<data>` and
never touches `<data>/demo/` again, so a demo account never shares an archive or marts with real ones.

`python -m orchestration.devtools.seed_demo` prints the data directory to run on (the messages go to
stderr), which the Makefile passes on as TIKTOK_DATA_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from orchestration.devtools.demo import generate_demo_inbox
from orchestration.devtools.demo.generator import spare_workers
from orchestration.lib.core.paths import DataPaths


def has_real_data(paths: DataPaths) -> bool:
    """A file in the inbox, or an archive: the user's own data lives here."""
    has_inbox = paths.inbox.exists() and any(p.is_file() for p in paths.inbox.rglob("*"))
    return has_inbox or paths.manifest.exists()


def demo_paths(paths: DataPaths) -> DataPaths:
    return DataPaths(paths.root / "demo")


def seed_if_empty(paths: DataPaths) -> bool:
    """Write the demo exports into an empty data directory's inbox; True if it did."""
    if has_real_data(paths):
        return False
    # nothing else runs yet: the LIVEs are recorded on the other cores while the Studio side is written
    summary = generate_demo_inbox(paths.ensure().inbox, workers=spare_workers())
    print(
        f"Seeded {paths.inbox} with bundled demo exports: "
        f"{summary.files_written:,} files, accounts {', '.join(summary.accounts)}, "
        f"{summary.first_day} → {summary.last_day}"
        + (
            f"; LIVE: {summary.live_logs} recorded LIVEs, {summary.backstage_files:,} Backstage downloads"
            + summary.backstage_distinct_told
            if summary.live_logs
            else ""
        )
        + ".",
        file=sys.stderr,
    )
    return True


def choose_data_dir(paths: DataPaths) -> Path:
    """The user's data directory once it holds their files; until then the demo's, seeded on first use."""
    if has_real_data(paths):
        return paths.root
    demo = demo_paths(paths)
    seed_if_empty(demo)
    print(
        f"No export in {paths.inbox} yet: running the bundled demo in {demo.root} (a data directory of its "
        f"own; your files never mix with it). Drop your TikTok Studio downloads into {paths.inbox} and "
        f"`make run` again; to browse the demo: make ui DATA_DIR={demo.root}",
        file=sys.stderr,
    )
    return demo.root


def main() -> int:
    print(choose_data_dir(DataPaths.from_env()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
