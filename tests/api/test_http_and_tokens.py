"""The HTTP retry policy and the token file, against the fake TikTok on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import random
import stat
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestration.lib.tiktok_api.common import ApiCallError
from orchestration.lib.tiktok_api.config import HttpSettings
from orchestration.lib.tiktok_api.display import DisplaySession
from orchestration.lib.tiktok_api.http import HttpClient, HttpError, RateLimitedError
from orchestration.lib.tiktok_api.redact import MASK, redact
from orchestration.lib.tiktok_api.tokens import (
    RefreshTokenExpiredError,
    TokenError,
    TokenManager,
    business_refresher,
    display_refresher,
)

from .conftest import T0, setup_business, setup_display, write_token_file
from .fake_tiktok import CLIENT_SECRET

FAST = HttpSettings(max_attempts=4, backoff_base_seconds=1.0, backoff_cap_seconds=2.5, timeout_seconds=5)


def _session(fake, paths, clock, sleeps, settings=FAST, **setup):
    config, token_file = setup_display(fake, paths, **setup)
    account = config.accounts[0]
    tokens = TokenManager(token_file, display_refresher(account, settings, sleep=sleeps.append), now=clock)
    holder = []
    http = HttpClient(settings, sleep=sleeps.append, rng=random.Random(7), recorder=lambda e: holder[0].record(e))
    session = DisplaySession(account, tokens, http)
    holder.append(session)
    return session, token_file


# --- HTTP policy ------------------------------------------------------------------------------------


def test_429_waits_what_retry_after_says(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "429", retry_after="7")
    assert session.user_info()["follower_count"] == 15234
    assert sleeps == [7.0]
    assert [e.status for _, e in session.exchanges] == [429, 200]


def test_429_without_retry_after_backs_off_exponentially(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "429", retry_after=None, times=2)
    session.user_info()
    assert len(sleeps) == 2
    for attempt, seconds in enumerate(sleeps, start=1):
        assert 0 <= seconds <= min(2.5, 1.0 * 2 ** (attempt - 1))


def test_a_retry_after_longer_than_the_limit_fails_instead_of_hanging(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "429", retry_after="3600")
    with pytest.raises(RateLimitedError, match="3600 s"):
        session.user_info()
    assert sleeps == []


def test_5xx_retries_with_jittered_backoff_under_the_cap(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "500", times=3)
    assert session.user_info()["video_count"] == 30
    assert len(sleeps) == 3
    for attempt, seconds in enumerate(sleeps, start=1):
        assert 0 <= seconds <= min(2.5, 1.0 * 2 ** (attempt - 1))
    assert len(set(sleeps)) == 3  # jittered, not a fixed schedule


def test_attempts_are_bounded(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "500", times=99)
    with pytest.raises(HttpError, match="gave up after 4 attempts; last: HTTP 500"):
        session.user_info()
    assert len(fake.api_requests("user_info")) == 4


def test_timeouts_and_dropped_connections_are_retried(fake, paths, clock, sleeps):
    # The timeout holds for every attempt, the one that must succeed too, answered by a thread of this busy process:
    # 2 s, not 0.3 s (one stall of 0.3 s timed out a third attempt); the slow answer comes far later than that.
    settings = HttpSettings(max_attempts=4, backoff_base_seconds=0.01, backoff_cap_seconds=0.01, timeout_seconds=2.0)
    session, _ = _session(fake, paths, clock, sleeps, settings=settings)
    fake.add_fault("user_info", "slow", delay=10.0)
    fake.add_fault("user_info", "drop")
    assert session.user_info()["username"] == "techcreator"
    errors = [e.error for _, e in session.exchanges if e.error]
    assert len(errors) == 2 and any("timed out" in e.lower() or "timeout" in e.lower() for e in errors)


def test_a_redirect_is_returned_to_the_caller_not_followed(fake, sleeps):
    # following it would carry the token header to whatever URL the Location names
    target = f"{fake.base_url}/v2/user/info/"

    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host, port = server.server_address[:2]
        response = HttpClient(FAST, sleep=sleeps.append).request(
            "GET", f"http://{host}:{port}/v2/user/info/", headers={"Authorization": "Bearer act.not-for-elsewhere"}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert response.status == 302 and response.headers["location"] == target
    assert fake.api_requests() == [] and sleeps == []


# --- tokens -------------------------------------------------------------------------------------------


def test_access_token_is_refreshed_before_it_expires_and_rotation_is_on_disk_first(fake, paths, clock, sleeps):
    # obtained 23 h 55 min ago with a 24 h lifetime: inside the refresh margin
    session, token_file = _session(fake, paths, clock, sleeps, obtained_at=T0 - timedelta(hours=23, minutes=55))
    old = json.loads(token_file.read_text())
    session.user_info()
    new = json.loads(token_file.read_text())
    assert session.tokens.refreshes == 1
    assert new["refresh_token"] != old["refresh_token"] and new["access_token"] != old["access_token"]
    assert new["obtained_at"] == T0.isoformat(timespec="seconds")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    # the old refresh token no longer works at TikTok: only the file's copy is valid
    assert old["refresh_token"] not in fake.refresh_tokens and new["refresh_token"] in fake.refresh_tokens
    first_use = next(s for s in fake.api_requests() if s.token == new["access_token"])
    assert first_use.token_file_refresh_token == new["refresh_token"]
    assert not list(token_file.parent.glob(".*.tmp"))


def test_a_refresh_answer_missing_a_lifetime_is_saved_with_the_old_one_not_thrown_away(fake, paths, clock, sleeps):
    """TikTok rotates the refresh token as it answers: refusing an answer without `refresh_expires_in` (validated
    before it was saved) lost the new refresh token, and the next run's refresh was `invalid_grant` (review)."""
    fake.refresh_expires_in = None
    session, token_file = _session(fake, paths, clock, sleeps, obtained_at=T0 - timedelta(hours=23, minutes=55))
    old = json.loads(token_file.read_text())
    session.user_info()
    new = json.loads(token_file.read_text())
    assert new["refresh_token"] != old["refresh_token"] and new["refresh_token"] in fake.refresh_tokens
    # the old refresh token's end, not later: obtained 23 h 55 min before T0 with its lifetime
    assert new["refresh_expires_in"] == old["refresh_expires_in"] - (23 * 60 + 55) * 60
    assert new["expires_in"] == 7200 and new["obtained_at"] == T0.isoformat(timespec="seconds")


def test_a_401_triggers_one_refresh_and_one_retry(fake, paths, clock, sleeps):
    session, token_file = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "401")
    assert session.user_info()["follower_count"] == 15234
    assert session.tokens.refreshes == 1
    calls = fake.api_requests("user_info")
    assert len(calls) == 2 and calls[1].token == json.loads(token_file.read_text())["access_token"]
    assert calls[1].token_file_refresh_token == json.loads(token_file.read_text())["refresh_token"]


def test_a_second_401_after_the_refresh_fails_without_looping(fake, paths, clock, sleeps):
    session, _ = _session(fake, paths, clock, sleeps)
    fake.add_fault("user_info", "401", times=5)
    with pytest.raises(ApiCallError, match="rejected again right after a refresh"):
        session.user_info()
    assert session.tokens.refreshes == 1 and len(fake.api_requests("user_info")) == 2


def test_an_expired_or_revoked_refresh_token_says_how_to_recover(fake, paths, clock, sleeps):
    session, token_file = _session(fake, paths, clock, sleeps, obtained_at=T0 - timedelta(days=2))
    fake.refresh_tokens.clear()  # revoked at TikTok
    with pytest.raises(RefreshTokenExpiredError, match="invalid_grant.*docs/api-sources.md"):
        session.user_info()
    assert fake.api_requests("user_info") == []


def test_a_refresh_token_past_its_lifetime_is_not_even_sent(fake, paths, clock, sleeps):
    config, token_file = setup_display(fake, paths)
    access, refresh = fake.issue_tokens()
    write_token_file(token_file, access, refresh, obtained_at=T0 - timedelta(days=400), refresh_expires_in=86_400 * 365)
    tokens = TokenManager(token_file, display_refresher(config.accounts[0], FAST), now=lambda: T0)
    with pytest.raises(RefreshTokenExpiredError, match="expired at"):
        tokens.access_token()
    assert fake.api_requests("oauth") == []


def test_missing_client_credentials_are_named_not_guessed(fake, paths, clock, sleeps, monkeypatch):
    monkeypatch.delenv("TIKTOK_CLIENT_SECRET")
    session, _ = _session(fake, paths, clock, sleeps, obtained_at=T0 - timedelta(days=2))
    with pytest.raises(TokenError, match="TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET"):
        session.user_info()


def test_business_refresh_rotates_through_the_business_oauth_endpoint(fake, paths, clock, sleeps):
    config, token_file = setup_business(fake, paths, obtained_at=T0 - timedelta(days=2))
    tokens = TokenManager(token_file, business_refresher(config.accounts[0], FAST), now=clock)
    old = json.loads(token_file.read_text())
    token = tokens.access_token()
    new = json.loads(token_file.read_text())
    assert token == new["access_token"] != old["access_token"]
    assert new["refresh_expires_in"] == 31_536_000 and stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_token_values_never_reach_messages_or_logs(fake, paths, clock, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    session, token_file = _session(fake, paths, clock, sleeps, obtained_at=T0 - timedelta(days=2))
    fake.refresh_tokens.clear()
    record = json.loads(token_file.read_text())
    with pytest.raises(TokenError) as error:
        session.user_info()
    text = str(error.value) + caplog.text
    for secret in (record["access_token"], record["refresh_token"], CLIENT_SECRET):
        assert secret not in text
    assert redact(f"Authorization: Bearer {record['access_token']}") == f"Authorization: Bearer {MASK}"
    assert redact('{"refresh_token": "whatever-value"}') == f'{{"refresh_token": "{MASK}"}}'


def test_the_bootstrap_helper_saves_a_business_token_response_as_a_0600_token_file(tmp_path):
    from orchestration.lib.tiktok_api.tokens import read_token_file, save_token_response

    envelope = {
        "code": 0,
        "message": "OK",
        "request_id": "r",
        "data": {
            "access_token": "act.bootstrap-0001",
            "expires_in": 86400,
            "open_id": "biz-1",
            "refresh_token": "rft.bootstrap-0001",
            "refresh_token_expires_in": 31_536_000,
            "scope": "video.list",
            "token_type": "Bearer",
        },
    }
    path = tmp_path / "secrets" / "shop.json"
    save_token_response(path, envelope, obtained_at=T0)
    tokens = read_token_file(path)
    assert (tokens.open_id, tokens.refresh_expires_in, tokens.obtained_at) == ("biz-1", 31_536_000, T0)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # TikTok's own reason is told (an expired code is the most common first-time failure), and what to do
    expired = {"error": "invalid_grant", "error_description": "Authorization code is expired.", "log_id": "l"}
    with pytest.raises(TokenError, match=r"\(invalid_grant: Authorization code is expired\.\); nothing was written\. "):
        save_token_response(tmp_path / "bad.json", expired)
    business = {"code": 40001, "message": "Auth code is invalid", "request_id": "r"}  # no data
    with pytest.raises(TokenError, match=r"\(code 40001: Auth code is invalid\); .* authorise again"):
        save_token_response(tmp_path / "bad.json", business)
    assert not (tmp_path / "bad.json").exists()


def test_business_api_level_rate_limit_and_auth_codes(fake, paths, clock, sleeps):
    from orchestration.lib.tiktok_api.business import BusinessSession

    config, token_file = setup_business(fake, paths)
    account = config.accounts[0]
    tokens = TokenManager(token_file, business_refresher(account, FAST, sleep=sleeps.append), now=clock)
    holder = []
    http = HttpClient(FAST, sleep=sleeps.append, recorder=lambda e: holder[0].record(e))
    session = BusinessSession(account, tokens, http)
    holder.append(session)
    fake.add_fault("business_get", "business_rate_limit", retry_after="3")  # HTTP 200, code 40100
    fake.add_fault("business_get", "500")
    fake.add_fault("business_get", "business_auth")  # HTTP 200, code 40105: refresh once, retry once
    data = session.account_data(T0.date() - timedelta(days=2), T0.date() - timedelta(days=1))
    assert data["followers_count"] == 2100
    assert sleeps[0] == 3.0 and len(sleeps) == 2
    assert tokens.refreshes == 1
    assert [s.endpoint for s in fake.api_requests()] == ["business_get"] * 3 + ["business_oauth", "business_get"]


def test_a_missing_token_file_fails_the_pull_with_instructions(fake, paths, con, clock, sleeps):
    from orchestration.lib.api.landing import pull_account

    config, token_file = setup_display(fake, paths)
    token_file.unlink()
    result = pull_account(paths, con, config, config.accounts[0], now=clock, sleep=sleeps.append)
    assert result.status == "failed"
    assert "does not exist" in result.reason and "docs/api-sources.md" in result.reason
    assert fake.api_requests() == []
