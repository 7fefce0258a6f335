"""The token file of an account: read, refresh before expiry, persist rotations safely.

The file is TikTok's token response as JSON (`access_token, expires_in, refresh_token,
refresh_expires_in, open_id, scope, token_type`) plus `obtained_at` (ISO 8601, UTC). Rules:

- Lifetimes come from the response (`expires_in`, `refresh_expires_in`): TikTok changed them over
  time (24 h / 365 d, later 2 h / 180 d), so nothing here assumes one.
- The access token is refreshed when it expires within `REFRESH_MARGIN`, or once after a 401.
- Refresh tokens rotate: the old one stops working when a new one is issued. The new token set is
  written to a temporary file in the same folder (mode 0600), fsynced and renamed over the old file
  (then the folder is fsynced) BEFORE the new access token is used, so a crash can never leave the
  only valid refresh token in memory.
- Two processes refreshing the same account at once would burn each other's refresh token, so a
  refresh holds an exclusive lock (`<token file>.lock`) and re-reads the file first: if another
  process rotated it meanwhile, that token set is used instead of refreshing again.
- The client key and secret come from the environment (`TIKTOK_CLIENT_KEY`, `TIKTOK_CLIENT_SECRET`,
  or the names an account sets), and are needed only to refresh.

Nothing here puts a token into a message: errors name the file and the field, never the value.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from orchestration.lib.tiktok_api.config import AccountConfig, HttpSettings
from orchestration.lib.tiktok_api.http import HttpClient, HttpError
from orchestration.lib.tiktok_api.redact import redact, register_secret

REFRESH_MARGIN = timedelta(minutes=10)
BOOTSTRAP_HINT = "obtain a new token with the authorization flow in docs/api-sources.md"


class TokenError(RuntimeError):
    """The token file is missing, malformed or can no longer be refreshed (message is redacted)."""


class RefreshTokenExpiredError(TokenError):
    pass


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    open_id: str
    scope: str
    token_type: str
    obtained_at: datetime  # UTC

    @property
    def access_expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.expires_in)

    @property
    def refresh_expires_at(self) -> datetime:
        return self.obtained_at + timedelta(seconds=self.refresh_expires_in)

    def to_json(self) -> dict:
        record = asdict(self)
        record["obtained_at"] = self.obtained_at.astimezone(UTC).isoformat(timespec="seconds")
        return record

    @classmethod
    def from_json(cls, record: object, where: str) -> TokenSet:
        if not isinstance(record, dict):
            raise TokenError(f"{where}: expected a JSON object (TikTok's token response plus obtained_at)")
        record = _with_refresh_expires_in(record)
        missing = [
            k
            for k in ("access_token", "refresh_token", "expires_in", "refresh_expires_in", "obtained_at")
            if record.get(k) in (None, "")
        ]
        if missing:
            raise TokenError(f"{where}: missing {', '.join(missing)}; {BOOTSTRAP_HINT}")
        try:
            obtained = datetime.fromisoformat(str(record["obtained_at"]).replace("Z", "+00:00"))
        except ValueError:
            raise TokenError(f"{where}: obtained_at is not an ISO 8601 timestamp") from None
        if obtained.tzinfo is None:
            obtained = obtained.replace(tzinfo=UTC)
        try:
            expires_in, refresh_expires_in = int(record["expires_in"]), int(record["refresh_expires_in"])
        except (TypeError, ValueError):
            raise TokenError(f"{where}: expires_in and refresh_expires_in must be numbers of seconds") from None
        tokens = cls(
            access_token=str(record["access_token"]),
            refresh_token=str(record["refresh_token"]),
            expires_in=expires_in,
            refresh_expires_in=refresh_expires_in,
            open_id=str(record.get("open_id") or ""),
            scope=str(record.get("scope") or ""),
            token_type=str(record.get("token_type") or "Bearer"),
            obtained_at=obtained.astimezone(UTC),
        )
        register_secret(tokens.access_token, tokens.refresh_token)
        return tokens


def read_token_file(path: Path) -> TokenSet:
    if not path.is_file():
        raise TokenError(f"token file {path} does not exist; {BOOTSTRAP_HINT}")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise TokenError(f"token file {path} is not readable JSON ({type(error).__name__})") from None
    return TokenSet.from_json(record, str(path))


def write_secret_file(path: Path, record: dict) -> None:
    """Atomically replace `path` with `record` as JSON, mode 0600: temp file, fsync, rename, fsync dir."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask or an old temp file said
        view = memoryview(data)
        while view:
            written = os.write(descriptor, view)
            view = view[written:]
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


# A refresher exchanges a refresh token for a new token response (a dict in the token file's shape).
Refresher = Callable[[str], dict]


class TokenManager:
    """Hands out a valid access token for one account, refreshing and persisting as needed."""

    def __init__(
        self,
        path: Path,
        refresher: Refresher,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        margin: timedelta = REFRESH_MARGIN,
    ):
        self.path = path
        self._refresher = refresher
        self._now = now
        self._margin = margin
        self._tokens: TokenSet | None = None
        self.refreshes = 0

    @property
    def tokens(self) -> TokenSet:
        if self._tokens is None:
            self._tokens = read_token_file(self.path)
        return self._tokens

    def access_token(self) -> str:
        tokens = self.tokens
        if tokens.access_expires_at - self._margin <= self._now():
            tokens = self.refresh(reason="the access token expires soon")
        return tokens.access_token

    def refresh(self, *, reason: str, rejected_access_token: str | None = None) -> TokenSet:
        """Get a new token set, persist it, and only then return it."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            on_disk = read_token_file(self.path)
            current = self._tokens
            rotated_elsewhere = current is not None and on_disk.refresh_token != current.refresh_token
            usable = on_disk.access_expires_at - self._margin > self._now() and (
                rejected_access_token is None or on_disk.access_token != rejected_access_token
            )
            if rotated_elsewhere and usable:
                self._tokens = on_disk  # another process refreshed meanwhile: use its tokens
                return on_disk
            if on_disk.refresh_expires_at <= self._now():
                raise RefreshTokenExpiredError(
                    f"the refresh token in {self.path} expired at "
                    f"{on_disk.refresh_expires_at:%Y-%m-%d %H:%M} UTC; "
                    f"{BOOTSTRAP_HINT}"
                )
            response = self._refresher(on_disk.refresh_token)
            now = self._now()
            record = {
                **_with_refresh_expires_in(response),
                "obtained_at": now.astimezone(UTC).isoformat(timespec="seconds"),
            }
            # TikTok has already retired the old refresh token: an answer that misses a field must still be saved, or
            # the account is locked out until someone authorises it again. What it leaves out, the file's set gives:
            # no new refresh token (none rotated), the lifetimes (the refresh token's no longer than the old one's)
            fallbacks = {
                "refresh_token": on_disk.refresh_token,
                "expires_in": on_disk.expires_in,
                "refresh_expires_in": max(0, int((on_disk.refresh_expires_at - now).total_seconds())),
                "open_id": on_disk.open_id,
                "scope": on_disk.scope,
                "token_type": on_disk.token_type,
            }
            record.update({key: value for key, value in fallbacks.items() if record.get(key) in (None, "")})
            fresh = TokenSet.from_json(record, f"token refresh response for {self.path}")
            write_secret_file(self.path, fresh.to_json())  # persisted before anything uses it
            self._tokens = fresh
            self.refreshes += 1
            return fresh
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)


# --- the two OAuth endpoints ------------------------------------------------------------------------


def client_credentials(account: AccountConfig) -> tuple[str, str]:
    key, secret = os.environ.get(account.client_key_env, ""), os.environ.get(account.client_secret_env, "")
    if not key or not secret:
        raise TokenError(
            f"refreshing the token of @{account.handle} needs the app's client key and secret in "
            f"{account.client_key_env} and {account.client_secret_env}"
        )
    register_secret(secret)
    return key, secret


def display_refresher(account: AccountConfig, settings: HttpSettings, **client_options) -> Refresher:
    """POST /v2/oauth/token/ (form-encoded). OAuth errors: {error, error_description, log_id}."""

    def refresh(refresh_token: str) -> dict:
        status, payload = _post_refresh(
            account, settings, client_options, "/v2/oauth/token/", refresh_token, key_field="client_key", as_json=False
        )
        if payload.get("error") or status != 200 or not payload.get("access_token"):
            raise _oauth_error(account, status, payload)
        return _token_fields(payload)

    return refresh


def business_refresher(account: AccountConfig, settings: HttpSettings, **client_options) -> Refresher:
    """POST /open_api/v1.3/tt_user/oauth2/refresh_token/ (JSON); answers in the Business envelope."""

    def refresh(refresh_token: str) -> dict:
        _, payload = _post_refresh(
            account,
            settings,
            client_options,
            "/open_api/v1.3/tt_user/oauth2/refresh_token/",
            refresh_token,
            key_field="client_id",
            as_json=True,
        )
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        if payload.get("code") != 0 or not data.get("access_token"):
            code, message = payload.get("code"), redact(payload.get("message", ""))
            expired = "expire" in message.lower() or "invalid" in message.lower() or "revoked" in message.lower()
            error_type = RefreshTokenExpiredError if expired else TokenError
            raise error_type(
                f"token refresh for @{account.handle} was refused (code {code}: {message})"
                + (f"; {BOOTSTRAP_HINT}" if expired else "")
            )
        return _token_fields(_with_refresh_expires_in(data))

    return refresh


def _post_refresh(
    account: AccountConfig,
    settings: HttpSettings,
    client_options: dict,
    path: str,
    refresh_token: str,
    *,
    key_field: str,
    as_json: bool,
) -> tuple[int, dict]:
    """POST a refresh grant to an OAuth endpoint (JSON body or form): the HTTP status and the JSON object.

    Transport failures and bodies that are not a JSON object raise TokenError.
    """
    key, secret = client_credentials(account)
    body = {key_field: key, "client_secret": secret, "grant_type": "refresh_token", "refresh_token": refresh_token}
    http = HttpClient(settings, **client_options)  # no recorder: token responses are never archived
    try:
        response = http.request(
            "POST", f"{account.base_url}{path}", **({"json_body": body} if as_json else {"form": body})
        )
    except HttpError as error:
        raise TokenError(f"token refresh for @{account.handle} failed: {error}") from None
    payload = _json_object(response.body)
    if payload is None:
        raise TokenError(f"token refresh for @{account.handle}: HTTP {response.status}, body is not JSON")
    return response.status, payload


def _with_refresh_expires_in(record: dict) -> dict:
    """Business names the refresh token's lifetime `refresh_token_expires_in`; Display and the file do not."""
    if "refresh_expires_in" not in record and "refresh_token_expires_in" in record:
        return {**record, "refresh_expires_in": record["refresh_token_expires_in"]}
    return record


def _token_fields(payload: dict) -> dict:
    register_secret(payload.get("access_token"), payload.get("refresh_token"))
    keys = (
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_expires_in",
        "open_id",
        "scope",
        "token_type",
    )
    return {k: payload[k] for k in keys if k in payload}


def _oauth_error(account: AccountConfig, status: int, payload: dict) -> TokenError:
    error = redact(payload.get("error", "")) or f"HTTP {status}"
    description = redact(payload.get("error_description", ""))
    log_id = redact(payload.get("log_id", ""))
    expired = error in ("invalid_grant",) or "expired" in description.lower()
    error_type = RefreshTokenExpiredError if expired else TokenError
    return error_type(
        f"token refresh for @{account.handle} was refused ({error}: {description}; log_id {log_id})"
        + (f"; the refresh token is no longer valid, {BOOTSTRAP_HINT}" if expired else "")
    )


def _json_object(body: bytes) -> dict | None:
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def save_token_response(path: Path, response: object, *, obtained_at: datetime | None = None) -> TokenSet:
    """Write TikTok's first token response (Display OAuth JSON or Business envelope) as a token file."""
    again = (
        "nothing was written. An authorization code works once and expires within minutes: authorise again and "
        "exchange the new code at once (docs/api-sources.md)"
    )
    if isinstance(response, dict) and "code" in response and ("data" in response or "message" in response):
        if response["code"] != 0:  # TikTok's reason, the step a first-time user most often trips on
            message = redact(str(response.get("message") or ""))
            raise TokenError(f"TikTok refused the token request (code {response['code']}: {message}); {again}")
        response = response["data"]
    if not isinstance(response, dict):
        raise TokenError("the token response is not a JSON object; nothing was written")
    if response.get("error"):
        error, description = redact(str(response["error"])), redact(str(response.get("error_description") or ""))
        raise TokenError(f"TikTok refused the token request ({error}: {description}); {again}")
    moment = (obtained_at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    tokens = TokenSet.from_json({**response, "obtained_at": moment}, "the token response")
    write_secret_file(path, tokens.to_json())
    return tokens


def main(argv: list[str] | None = None) -> int:
    """`python -m orchestration.lib.tiktok_api.tokens <token file> < response.json`: first token file."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(
            "usage: python -m orchestration.lib.tiktok_api.tokens <token file> < token-response.json",
            file=sys.stderr,
        )
        return 2
    try:
        tokens = save_token_response(Path(args[0]), json.loads(sys.stdin.read()))
    except (TokenError, json.JSONDecodeError) as error:
        print(redact(f"not saved: {error}"), file=sys.stderr)
        return 1
    print(
        f"saved {args[0]} (mode 0600): access token valid until "
        f"{tokens.access_expires_at:%Y-%m-%d %H:%M} UTC, "
        f"refresh token until {tokens.refresh_expires_at:%Y-%m-%d} UTC"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
