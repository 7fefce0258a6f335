"""Shared plumbing every source and layer uses: `paths` (every path, from `TIKTOK_DATA_DIR`),
`warehouse` (the working DuckDB: raw tables generated from the pandera contracts, the rebuild
watermark), `archive` and `archive_batch` (the immutable, content-addressed archive and its manifests;
the only modules that write archive objects, by hard link or copy), `inbox` (what counts as a received
file), `receipts`, `replay_state` (a replay of the archive not finished yet), `quarantine`, `containers`
(ZIP-based files opened safely in memory), `run_lock`, `receipt_manifest` (receipts recorded once their documents
are read), `dagster_home`, `workers` (worker
processes for CPU work handed off), `collector` (when full garbage collections run), `yaml_config`
(line-numbered YAML configs: accounts.yml, alerts.yml), and dbt's side: `dbt_manifest` (parse the project only
when it changed), `dbt_vars`, `dbt_selection` (what a daily build selects), `dbt_invocation` (dbt in this
process), `dbt_worker` (dbt's build in a process of its own), `dbt_batched_tests` and `dbt_tests_alongside`
(generic tests as one statement per model, run as their models are built), `dagster_dbt_import` (dagster-dbt
without dbt-core) and `console_filters` (what the terminal shows of a build).
Imports only `schemas/` and third-party libraries.
"""
