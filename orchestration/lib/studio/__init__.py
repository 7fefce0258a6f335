"""TikTok Studio "Download data" exports, from the inbox to the raw tables:

- `provenance`: which account and which export date a received file belongs to (ZIP name, inbox
  folder, ZIP entry times, Content `Time`, dated folder, mtime);
- `dates`: year-less Studio dates in every supported UI language (CLDR month names);
- `reader`: a received file (ZIP, CSV, XLSX) → documents → one typed frame per file kind;
- `inbox`: what is new in the inbox, its bytes stored once in the archive, its receipt;
- `validation`: the pandera contracts over a batch, failures as issues of their documents;
- `quarantine`: the report a user reads about a document that did not load;
- `landing`: the batch: inbox → archive → reader → contracts → raw tables; replay of the archive.

Imports `core/` and `schemas/` (the file kinds and their contracts), nothing else of ours.
"""
