"""Shared plumbing every source and layer uses: `paths` (every path, from `TIKTOK_DATA_DIR`),
`warehouse` (the working DuckDB: raw tables generated from the pandera contracts, the rebuild
watermark), `archive` and `archive_batch` (the immutable, content-addressed archive and its manifests;
the only modules that write archive objects, by hard link or copy), `inbox` (what counts as a received
file), `receipts`, `quarantine`, `containers` (ZIP-based files opened safely in memory), `run_lock`,
`dagster_home`, `dbt_manifest` (parse the dbt project only when it changed), `dbt_selection` (what a
daily build selects) and `yaml_config` (line-numbered YAML configs: accounts.yml, alerts.yml).
Imports only `schemas/` and third-party libraries.
"""
