"""Clients for TikTok's Display API v2 and the Business API (organic accounts).

Layers, each importing only the ones above it in this list:
- `redact`: the one place that knows what a secret looks like; everything printed, logged, raised or
  archived goes through it.
- `config`: `accounts.yml` (which accounts, which API, which time zone, where the token file is), read
  with `orchestration.lib.core.yaml_config`.
- `http`: the HTTP client (httpx, retries by tenacity) with bounded, jittered retries and rate-limit backoff.
- `tokens`: the token file (refresh before expiry, rotation persisted atomically before use).
- `display`, `business`: the endpoint calls, envelopes and cursor pagination.

Nothing here touches the warehouse: `orchestration.lib.api` archives, validates and loads.
"""
