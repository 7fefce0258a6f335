"""TikTok Studio "Download data" exports, from the inbox to the raw tables:

- `provenance`: which account and which export date a received file belongs to (ZIP name, inbox
  folder, ZIP entry times, Content `Time`, dated folder, mtime);
- `dates`: year-less Studio dates in every supported UI language (CLDR month names);
- `reader`: a received file (ZIP, CSV, XLSX) → documents → one typed frame per file kind;
- `landing`: inbox → archive → pandera contracts → raw tables, quarantine with reasons; replay.

Imports `core/` and `schemas/` (the file kinds and their contracts), nothing else of ours.
"""
