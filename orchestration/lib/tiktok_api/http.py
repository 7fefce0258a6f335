"""A small HTTP client on the standard library, with the retry policy TikTok's APIs need.

- 429 (or an API-level "rate limited" answer): wait what `Retry-After` says (seconds or an HTTP date),
  else an exponential backoff; a demanded wait longer than `max_retry_after_seconds` fails the call
  instead of hanging a run for an hour.
- 5xx, timeouts and dropped connections: "full jitter" exponential backoff (a random wait between 0
  and min(cap, base * 2^attempt)), so many accounts retrying at once do not stampede.
- At most `max_attempts` attempts per call; every other status is returned to the caller, which
  reads the API's envelope (a 401 is the token layer's business, not a retry).
- A client-side sliding window keeps each endpoint under TikTok's 600 requests per minute.

Nothing here logs or raises a header, a form body or a query string without `redact()`.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from orchestration.lib.tiktok_api.config import HttpSettings
from orchestration.lib.tiktok_api.redact import redact, redact_value

log = logging.getLogger(__name__)

# Response headers worth keeping in the archive (never Set-Cookie or anything credential-like).
KEPT_HEADERS = (
    "content-type",
    "retry-after",
    "x-tt-logid",
    "date",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
)


class HttpError(RuntimeError):
    """A call that could not be completed within the retry policy (message is redacted)."""


class RateLimitedError(HttpError):
    pass


@dataclass
class Exchange:
    """One request and its response, as recorded in the archive (secrets masked, body as received)."""

    method: str
    url: str  # without query string
    query: dict
    body: object | None  # JSON body or form (redacted)
    attempt: int
    sent_at: str
    status: int | None = None
    received_at: str | None = None
    headers: dict = field(default_factory=dict)
    body_bytes: bytes | None = None
    error: str | None = None  # transport error (timeout, connection reset)

    def to_json(self) -> dict:
        record = {
            "request": {
                "method": self.method,
                "url": self.url,
                "query": self.query,
                "body": self.body,
                "attempt": self.attempt,
                "sent_at": self.sent_at,
            },
            "response": None,
        }
        if self.error is not None:
            record["response"] = {"error": self.error}
        elif self.status is not None:
            response = {"status": self.status, "received_at": self.received_at, "headers": self.headers}
            try:
                response["body_text"] = (self.body_bytes or b"").decode("utf-8")
            except UnicodeDecodeError:
                import base64

                response["body_base64"] = base64.b64encode(self.body_bytes or b"").decode("ascii")
            record["response"] = response
        return record


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    exchange: Exchange


# A hook that looks at a response and says whether to retry: ("rate_limited", wait or None),
# ("server_error", None) or None (hand the response to the caller).
RetryDecision = tuple[str, float | None] | None


def default_retry_decision(response: Response) -> RetryDecision:
    if response.status == 429:
        return "rate_limited", retry_after_seconds(response.headers)
    if response.status >= 500:
        return "server_error", None
    return None


def retry_after_seconds(headers: dict, now: Callable[[], datetime] | None = None) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = (now or (lambda: datetime.now(UTC)))()
    return max(0.0, (when - current).total_seconds())


class HttpClient:
    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        recorder: Callable[[Exchange], None] | None = None,
    ):
        self.settings = settings or HttpSettings()
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._recorder = recorder
        self._windows: dict[str, deque[float]] = {}

    def request(
        self,
        method: str,
        url: str,
        *,
        query: dict | None = None,
        headers: dict | None = None,
        json_body: object | None = None,
        form: dict | None = None,
        retry_decision: Callable[[Response], RetryDecision] = default_retry_decision,
    ) -> Response:
        """Send with retries; returns the first response the policy does not retry."""
        settings = self.settings
        full_url = url + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None
        send_headers = {"Accept": "application/json", **(headers or {})}
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            send_headers["Content-Type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode("utf-8")
            send_headers["Content-Type"] = "application/x-www-form-urlencoded"
        shown_body = redact_value(json_body if form is None else form, oauth=True)
        endpoint = urllib.parse.urlsplit(url).path
        last_problem = "no attempt made"
        for attempt in range(1, settings.max_attempts + 1):
            self._throttle(endpoint)
            exchange = Exchange(
                method=method,
                url=redact(url),
                query=redact_value(query or {}, oauth=True),
                body=shown_body,
                attempt=attempt,
                sent_at=_now_iso(),
            )
            request = urllib.request.Request(full_url, data=data, method=method, headers=send_headers)
            try:
                with _OPENER.open(request, timeout=settings.timeout_seconds) as raw:
                    response = self._response(raw.status, raw.headers, raw.read(), exchange)
            except urllib.error.HTTPError as error:
                try:
                    body = error.read() if error.fp is not None else b""
                except (OSError, http.client.HTTPException):
                    body = b""
                response = self._response(error.code, error.headers, body, exchange)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
                # URLError, timeouts and connection resets are all OSErrors
                reason = getattr(error, "reason", error)
                exchange.error = redact(f"{type(error).__name__}: {reason}")
                self._record(exchange)
                last_problem = f"transport error ({exchange.error})"
                if attempt < settings.max_attempts:
                    self._backoff("transport_error", attempt)
                continue
            self._record(exchange)
            decision = retry_decision(response)
            if decision is None:
                return response
            kind, wait = decision
            last_problem = f"HTTP {response.status} ({kind.replace('_', ' ')})"
            if attempt == settings.max_attempts:
                break
            if kind == "rate_limited":
                if wait is not None and wait > settings.max_retry_after_seconds:
                    raise RateLimitedError(
                        f"{method} {redact(endpoint)}: rate limited and told to wait {wait:.0f} s, "
                        "longer than "
                        f"the {settings.max_retry_after_seconds:.0f} s a pull waits; try again later"
                    )
                if wait is not None:
                    self._wait("rate_limited", wait)
                else:
                    self._backoff("rate_limited", attempt)
            else:
                self._backoff(kind, attempt)
        # "HTTP <status> (rate limited)": a 429, or an API-level rate limit answered with another status
        error_type = RateLimitedError if "rate limited" in last_problem else HttpError
        raise error_type(
            f"{method} {redact(endpoint)}: gave up after {settings.max_attempts} attempts; last: {last_problem}"
        )

    # --- internals ---------------------------------------------------------------------------------

    def _response(self, status: int, headers, body: bytes, exchange: Exchange) -> Response:
        lowered = {k.lower(): v for k, v in (headers.items() if headers is not None else [])}
        exchange.status = status
        exchange.received_at = _now_iso()
        exchange.headers = {k: redact(v) for k, v in lowered.items() if k in KEPT_HEADERS}
        exchange.body_bytes = body
        return Response(status=status, headers=lowered, body=body, exchange=exchange)

    def _record(self, exchange: Exchange) -> None:
        if self._recorder is not None:
            self._recorder(exchange)

    def _backoff(self, reason: str, attempt: int) -> None:
        settings = self.settings
        ceiling = min(settings.backoff_cap_seconds, settings.backoff_base_seconds * (2 ** (attempt - 1)))
        self._wait(reason, self._rng.uniform(0, ceiling))

    def _wait(self, reason: str, seconds: float) -> None:
        seconds = max(0.0, seconds)
        log.info("waiting %.2f s before retrying (%s)", seconds, reason)
        if seconds:
            self._sleep(seconds)

    def _throttle(self, endpoint: str) -> None:
        """Sliding one-minute window per endpoint: never send more than requests_per_minute."""
        window = self._windows.setdefault(endpoint, deque())
        now = self._forget_older_than_a_minute(window)
        if len(window) >= self.settings.requests_per_minute:
            self._wait("client_rate_limit", 60 - (now - window[0]))
            now = self._forget_older_than_a_minute(window)
        window.append(now)

    def _forget_older_than_a_minute(self, window: deque[float]) -> float:
        """Drop the sends older than 60 s from `window`; the current monotonic time."""
        now = self._monotonic()
        while window and now - window[0] >= 60:
            window.popleft()
        return now


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect would carry the token header to another URL: return the 3xx to the caller instead."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
