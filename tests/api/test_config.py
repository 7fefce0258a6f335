"""accounts.yml: what a user writes, and the errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.lib.tiktok_api.config import AccountsConfigError, load_accounts, parse_accounts

GOOD = """\
accounts:
  - handle: techcreator
    api: display
    timezone: Europe/Berlin
    token_file: secrets/techcreator.json
  - handle: "@Shop.Official"  # one account with inbox/shop.official/: handles are read in lower case
    api: business
    timezone: America/Los_Angeles
    token_file: /etc/tiktok/shop.json
    base_url: https://proxy.example.com/
    unlisted_videos: 2
business_lookback_days: 10
http: {max_attempts: 3}
"""


def test_good_file_gives_accounts_with_token_paths_relative_to_the_data_dir():
    config = parse_accounts(GOOD, path=Path("accounts.yml"), data_dir=Path("/data"))
    creator, shop = config.accounts
    assert (creator.handle, creator.api, creator.timezone) == ("techcreator", "display", "Europe/Berlin")
    assert creator.token_file == Path("/data/secrets/techcreator.json")
    assert creator.base_url == "https://open.tiktokapis.com"
    assert (shop.handle, shop.token_file, shop.base_url) == (
        "shop.official",
        Path("/etc/tiktok/shop.json"),
        "https://proxy.example.com",
    )
    assert shop.unlisted_videos == 2 and shop.line == 6
    assert config.account("Shop.Official") is shop  # as a partition key an older version registered
    assert config.business_lookback_days == 10 and config.http.max_attempts == 3


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (
            "accounts:\n  - handle: a\n    api: dispaly\n    timezone: UTC\n    token_file: t\n",
            3,
            "api must be",
        ),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: Mars/Base\n    token_file: t\n",
            4,
            "unknown time zone",
        ),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    tokenfile: t\n",
            5,
            "unknown key",
        ),
        ("accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n", 2, "missing `token_file`"),
        ("accounts:\n  - handle: a\n   api: display\n", 3, "not valid YAML"),
        ("accounts:\n  - handle: a b\n    api: display\n    timezone: UTC\n    token_file: t\n", 2, "handle"),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t\n"
            "  - handle: A\n    api: display\n    timezone: UTC\n    token_file: u\n",
            6,
            "listed twice",
        ),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t\n"
            "    client_secret_env: s3cr3t-value\n",
            6,
            "environment variable",
        ),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t\n"
            "    base_url: http://agency:Pr0xyPassw0rd@127.0.0.1:8080\n",
            6,
            "must not hold a user name or password",
        ),
        ("accounts: []\n", 1, "non-empty list"),
        (
            "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t\n"
            "business_lookback_days: 90\n",
            6,
            "business_lookback_days",
        ),
    ],
)
def test_malformed_file_names_the_line(text, line, words):
    with pytest.raises(AccountsConfigError) as error:
        parse_accounts(text, path=Path("/data/accounts.yml"), data_dir=Path("/data"))
    message = str(error.value)
    assert f"/data/accounts.yml, line {line}:" in message
    assert words in message and "Pr0xyPassw0rd" not in message


def test_a_secret_typed_into_the_file_is_not_echoed():
    text = (
        "accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t\n"
        "    client_secret_env: sk_live_12345678\n"
    )
    with pytest.raises(AccountsConfigError) as error:
        parse_accounts(text, path=Path("a.yml"), data_dir=Path("/d"))
    assert "sk_live_12345678" not in str(error.value)


def test_without_a_file_there_is_nothing_to_pull(tmp_path, monkeypatch):
    monkeypatch.delenv("TIKTOK_ACCOUNTS_FILE", raising=False)
    assert load_accounts(tmp_path) is None


def test_an_accounts_yaml_is_an_error_that_says_to_rename_it(tmp_path, monkeypatch):
    """Saved as accounts.yaml, the file was ignored: no pull, a passing check, and the days lost for good (review)."""
    from orchestration.lib.alerts import AlertsConfigError, load_alerts

    monkeypatch.delenv("TIKTOK_ACCOUNTS_FILE", raising=False)
    monkeypatch.delenv("TIKTOK_ALERTS_FILE", raising=False)
    (tmp_path / "accounts.yaml").write_text(GOOD)
    with pytest.raises(AccountsConfigError, match=r"accounts\.yaml is not read: rename it to accounts\.yml"):
        load_accounts(tmp_path)
    (tmp_path / "alerts.yaml").write_text("rules: {}\n")
    with pytest.raises(AlertsConfigError, match=r"alerts\.yaml is not read: rename it to alerts\.yml"):
        load_alerts(tmp_path)


def test_accounts_file_env_var_wins_and_must_exist(tmp_path, monkeypatch):
    elsewhere = tmp_path / "conf" / "mine.yml"
    elsewhere.parent.mkdir()
    elsewhere.write_text("accounts:\n  - handle: a\n    api: display\n    timezone: UTC\n    token_file: t.json\n")
    monkeypatch.setenv("TIKTOK_ACCOUNTS_FILE", str(elsewhere))
    config = load_accounts(tmp_path / "data")
    assert config.handles == ["a"]
    assert config.accounts[0].token_file == (tmp_path / "data" / "t.json").resolve()
    monkeypatch.setenv("TIKTOK_ACCOUNTS_FILE", str(tmp_path / "missing.yml"))
    with pytest.raises(AccountsConfigError, match="does not exist"):
        load_accounts(tmp_path / "data")
