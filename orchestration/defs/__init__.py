"""Dagster assets, checks, jobs, schedules, sensors and resources, one module per area:

- `studio.py`: the inbox, the archive and the raw Studio tables (landing);
- `live.py`: the raw LIVE tables, landed in the same batch as the Studio exports;
- `raw_tables.py`: what every landed raw table reports to Dagster, whatever its source;
- `tiktok_api.py`: the TikTok API pulls, partitioned by day × account;
- `dbt.py`: the dbt models as assets, their tests as asset checks; `dbt_run.py`: one build streamed to Dagster;
- `publish.py`: the published parquet marts and their great-expectations checks;
- `report.py`: the HTML report, rebuilt after every publish;
- `alerts.py`: the alerts asset after publishing, and the sensor for failed runs;
- `automation.py`: the daily job, its schedule and the inbox sensor;
- `resources.py`: the data directory and the working DuckDB;
- `instance_storage.py`: Dagster's SQLite event log on one open connection per database;
- `console.py`: the terminal's view of a run.

Modules here only wire things into Dagster: the work itself is in `orchestration/lib/`. They may import
`lib/` and `schemas/`, never `devtools/`. Nothing runs at import: `orchestration/definitions.py`
gathers them when Dagster loads the code location.
"""
