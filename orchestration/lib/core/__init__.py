"""Shared plumbing every source and layer uses: `paths` (every path, from `TIKTOK_DATA_DIR`),
`warehouse` (the working DuckDB: raw tables generated from the pandera contracts, the rebuild
watermark) and `archive` (the immutable, content-addressed archive and its manifests; the only module
that writes archive objects). Imports only `schemas/` and third-party libraries.
"""
