"""`make run` on an empty data directory: seed its inbox with the bundled demo exports first.

A dev tool, not part of the pipeline: the runtime never imports `devtools/`. A data directory that
already has an inbox file or an archive is left alone, so this never mixes demo files into real data.
"""

from __future__ import annotations

import sys

from orchestration.devtools.demo import generate_demo_inbox
from orchestration.lib.core.paths import DataPaths


def seed_if_empty(paths: DataPaths) -> bool:
    """Write the demo exports into an empty data directory's inbox; True if it did."""
    has_inbox = paths.inbox.exists() and any(p.is_file() for p in paths.inbox.rglob("*"))
    if has_inbox or paths.manifest.exists():
        return False
    summary = generate_demo_inbox(paths.inbox)
    print(
        f"The data directory was empty: seeded {paths.inbox} with bundled demo exports "
        f"({summary.files_written} files, accounts {', '.join(summary.accounts)}, "
        f"{summary.first_day} → {summary.last_day}"
        + (
            f"; LIVE: {summary.live_logs} recorded LIVEs, {summary.backstage_files} Backstage downloads"
            if summary.live_logs
            else ""
        )
        + ")."
    )
    return True


def main() -> int:
    seed_if_empty(DataPaths.from_env().ensure())
    return 0


if __name__ == "__main__":
    sys.exit(main())
