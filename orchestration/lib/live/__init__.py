"""TikTok LIVE inputs, read into typed frames: the pure pieces the LIVE landing calls.

- `documents`: a received LIVE file as a document, and the issues found in it (structural ones
  quarantine the document, plausibility ones flag a row and keep it);
- `values`: the value shapes TikTok writes (`1,234,567`, `119h 47m 31s`, `90.13%`, `2026-07-01 ~ ...`);
- `compressed`: gzip opened in memory with the ZIP limits of `core.containers`;
- `event_log`: a `tiktok-live-log/1` JSON-lines log (+ its session sidecar) → events, sessions, connections;
  `log_columns`: its fast path, a clean log read a column at a time;
- `frames`: a reader's records as a typed frame, a column at a time;
- `sessions`: the sessions and connections frames, from the sidecar or derived from the log;
- `tables`: CSV / XLSX cells, for the two spreadsheet inputs;
- `backstage`: a LIVE Backstage "Creator data" export → one row per creator;
- `live_center`: a LIVE Center daily file → its kind and one row per day;
- `validation`: the pandera contracts of `schemas/live_contracts.py` applied, failures as issues;
- `routing`: which received files are LIVE inputs (path first, header when the name cannot say), and
  which log each session sidecar belongs to;
- `landing`: `LiveSource`, the receipts source that lands them into `raw.live_*`, `raw.documents`,
  `raw.row_flags` and the quarantine folder (plugged into the Studio landing's batch from above).

The readers touch neither the inbox, the archive nor the warehouse; `landing` (and `routing`'s lookup of
earlier receipts) reads the archive and writes the warehouse. Imports `core/` and `schemas/` only.
"""
