"""The work behind the assets, one folder per source and per layer (none of it imports Dagster):

- `core/`: what every layer shares: paths (the one reader of `TIKTOK_DATA_DIR`), the working DuckDB
  (raw DDL generated from the contracts), the immutable archive (the only writer of archive objects).
- `studio/`: TikTok Studio exports: provenance (handle, export date), year-less dates, the reader
  (ZIP/CSV/XLSX → typed frames per file kind) and landing (archive → contracts → raw tables).
- `tiktok_api/`: HTTP clients, tokens and config of TikTok's Display and Business APIs.
- `api/`: pulls through those clients → archive → contracts → raw tables.
- `live/`: TikTok LIVE inputs (event logs, LIVE Center and Backstage downloads) → typed frames → raw tables.
- `marts/`: after dbt: publishing parquet + the BI catalog, great-expectations checks and their page.
- `report/`: the static HTML report, from the published marts only.
- `alerts/`: rules over the published marts and the run's outcome, delivered through apprise.

Imports point down this list's dependencies only: `core/` imports nothing of ours but `schemas/`;
`studio/`, `live/` and `api/` import `core/` and `schemas/`; `api/` imports `tiktok_api/`; `marts/`, `report/`
and `alerts/` import `core/` (tests/test_layout.py holds every package to its list).
"""
