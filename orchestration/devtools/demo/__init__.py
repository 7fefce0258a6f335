"""Deterministic generator of realistic TikTok Studio "Download data" exports, for demos and benchmarks.

With `live=True` (the default) it also writes the LIVE inputs of docs/live.md for the named accounts:
recorded LIVE event logs with their session sidecars, an agency's month of Backstage downloads, and
LIVE Center daily files for one account.

`generate_demo_inbox()` simulates a few creator accounts (their daily numbers, followers, videos) and a
user downloading the four Studio sections on most days, then writes the files exactly as they would
land in the inbox: ZIPs named the way TikTok names them, every quirk of the real format included (see
`/work/shared/tiktok-formats.md` section 1 and `samples/`).

Same arguments -> byte-identical files (ZIP entry timestamps included) and identical mtimes. Randomness
comes only from `random.Random` instances seeded with strings (stable across processes; never `hash()`).

Choices worth knowing (the real format leaves them open):
- Export moments are naive UTC wall-clock times. The ZIP entry timestamp (`ZipInfo.date_time`), the
  epoch in the Overview name and the file mtime describe the same moment, as in the real sample (entry
  09:37 for a 09:37 UTC download). Users download between 07:00 and 21:00 UTC; the export date is the
  UTC date, and Content's `Time` column shows it.
- Downloads of the same name do not overwrite each other: the way a browser's Downloads folder keeps
  them, the second `Content_<handle>.zip` becomes `Content_<handle> (1).zip` and so on (Chrome style).
  `dated_folders=True` instead drops each export day's ZIPs into `inbox/<YYYY-MM-DD>/` under their
  original names (a user who sorts downloads by day); a repeat on the same day is still `(1)`.
- Bare files (no ZIP, so no handle in the name) sit in `inbox/<handle>/` or `inbox/<handle>/<YYYY-MM-DD>/`.
- Year-less dates come from CLDR through babel (`format_skeleton("MMMMd")`): Vietnamese is therefore
  "18 tháng 8" (CLDR), not the "18 tháng Tám" some real exports show.
- The simulated numbers do not depend on `variety`: only the download behaviour does.

Modules, by job:
- `formats`: byte writers (Studio's CSV dialect, stored ZIPs, SheetJS-shaped XLSX) and year-less dates.
- `catalog`: UI languages, named accounts, territories and titles the accounts are made of.
- `simulate`: the account history (videos, daily numbers, followers), independent of any download.
- `files`: one download of one section -> CSV lines / ZIP members.
- `sessions`: which sections get downloaded when, and writing them (browser-style names, mtimes).
- `live_sim`: one LIVE as the events TikTok sends (viewer samples, likes, streaks, a battle), and its facts.
- `live_logs`: a simulated LIVE recorded: `tiktok-live-log/1` lines (a reconnect replaying 50 events) + sidecar.
- `live_backstage`: an agency's daily Backstage "Creator data" downloads over a month, across the 1st.
- `live_center`: LIVE Center daily files (English) for one account, from its LIVEs.
- `live`: which LIVEs the named accounts have (`plan_lives`), and writing the LIVE side (`write_live`).
- `generator`: `generate_demo_inbox` ties them together; `cli` / `__main__`: `python -m orchestration.devtools.demo`.
"""

from __future__ import annotations

from orchestration.devtools.demo.formats import yearless_date
from orchestration.devtools.demo.generator import DemoSummary, generate_demo_inbox
from orchestration.devtools.demo.simulate import account_handles

__all__ = ["DemoSummary", "account_handles", "generate_demo_inbox", "yearless_date"]
