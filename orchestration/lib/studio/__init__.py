"""TikTok Studio "Download data" exports, from the inbox to the raw tables:

- `provenance`: which account and which export date a received file belongs to (ZIP name, inbox
  folder, ZIP entry times, Content `Time`, dated folder, mtime);
- `dates`: year-less Studio dates in every supported UI language (CLDR month names);
- `reader`: a received file (ZIP, CSV, XLSX) → documents → one typed frame per file kind, with
  `csv_bodies` (well-formed CSV bodies parsed in bulk by Arrow), `frames` (a kind's documents as one frame)
  and `document_rows` (a batch's raw.documents rows);
- `validation`: the pandera contracts over a batch, failures as issues of their documents;
- `checking`: reading and validating a large drop in worker processes, apart from loading it;
- `landing`: the batch: inbox → archive (`core.receipts`) → each receipt to its reader (LIVE sources
  plugged in from above claim theirs, Studio reads the rest) → contracts → raw tables (quarantine
  reports: `core.quarantine`); replay of the archive through the same routing;
- `run_summary`: what a run did, read back from raw.documents, raw.row_flags and the manifest.

Imports `core/` and `schemas/` (the file kinds and their contracts), nothing else of ours.
"""
