"""Dagster assets, checks, jobs, schedules, sensors and resources, one module per area:

- `studio.py`: the inbox, the archive and the raw Studio tables (landing);
- `tiktok_api.py`: the TikTok API pulls, partitioned by day × account;
- `dbt.py`: the dbt models as assets, their tests as asset checks;
- `publish.py`: the published parquet marts and their great-expectations checks;
- `automation.py`: the daily job, its schedule and the inbox sensor;
- `resources.py`: the data directory and the working DuckDB.

Modules here only wire things into Dagster: the work itself is in `orchestration/lib/`. They may import
`lib/` and `schemas/`, never `devtools/`. Nothing runs at import: `orchestration/definitions.py`
gathers them when Dagster loads the code location.
"""
