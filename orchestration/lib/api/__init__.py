"""TikTok API pulls, from the HTTP responses to the raw tables (the clients live in `tiktok_api/`):

- `plan`: what a pull asks for, from the clock and the account's time zone (never a partition key);
- `fields` and `parse`: responses → rows, through one declarative field map per API and raw table
  (JSON key, kind, required); the columns come from the pandera contracts in `schemas/api_contracts.py`;
- `archive`: every response kept as received (tokens masked), one read-only file per endpoint pull;
- `load`: the completeness check and the replace-per-(account, day) load;
- `landing`: `pull_account` / `pull_all`, which run the steps above for one account or all of them;
- `replay`: the API raw tables rebuilt from the archived responses alone (no network, no token).

Imports `core/`, `tiktok_api/` and `schemas/`, nothing else of ours.
"""
