"""The pipeline's Python side: Dagster definitions (`definitions.py`, the one entry point), the CLI
(`python -m orchestration run | replay`), the assets in `defs/`, the code they call in `lib/`, and
developer tools in `devtools/`.

Data flows one way: inbox → archive → contracts (`schemas/`) → raw tables → dbt (`dbt_project/`) →
published marts. `defs/` may import `lib/` and `schemas/`; `lib/` never imports `defs/`; nothing at
runtime imports `devtools/`.
"""
