"""TikTok's HTTP calls: httpx for the requests, tenacity for the retry policy TikTok's APIs need.

- 429 (or an API-level "rate limited" answer): wait what `Retry-After` says (seconds or an HTTP date),
  else an exponential backoff; a demanded wait longer than `max_retry_after_seconds` fails the call
  instead of hanging a run for an hour.
- 5xx, timeouts and dropped connections: "full jitter" exponential backoff (a random wait between 0
  and min(cap, base * 2^(attempt-1))), so many accounts retrying at once do not stampede.
- At most `max_attempts` attempts per call; every other status is returned to the caller, which
  reads the API's envelope (a 401 is the token layer's business, not a retry).
- Redirects are not followed (they would carry the token header elsewhere): the 3xx is returned.
- A client-side sliding window keeps each endpoint under TikTok's 600 requests per minute.

Nothing here logs or raises a header, a form body or a query string without `redact()`.
"""

from __future__ import annotations

import email.utils
import itertools
import logging
import random
import time
import urllib.parse
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt

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


class _TransportFailure(Exception):
    """An attempt that got no response (timeout, dropped connection); the message is redacted."""


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
        # One connection pool per client; redirects are never followed: the 3xx goes back to the caller.
        self._client = httpx.Client(timeout=self.settings.timeout_seconds, follow_redirects=False)
        self.close = weakref.finalize(self, self._client.close)  # also closes the pool when collected

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
        endpoint = urllib.parse.urlsplit(url).path
        shown = {
            "url": redact(url),
            "query": redact_value(query or {}, oauth=True),
            "body": redact_value(json_body if form is None else form, oauth=True),
        }
        send = {
            "params": query or None,
            "headers": {"Accept": "application/json", **(headers or {})},
            "json": json_body,
            "data": form if json_body is None else None,
        }
        attempts = itertools.count(1)

        def attempt() -> tuple[Response, RetryDecision]:
            response = self._send(method, url, endpoint, send, shown, next(attempts))
            return response, retry_decision(response)

        def wait(state: RetryCallState) -> float:
            """Retry-After when the server demands a wait, else full-jitter backoff."""
            if state.attempt_number >= settings.max_attempts:
                return 0.0  # tenacity asks before its stop check: no wait is due, the call gives up
            kind, demanded = _kind_and_wait(state)
            if kind == "rate_limited" and demanded is not None:
                if demanded > settings.max_retry_after_seconds:
                    raise RateLimitedError(
                        f"{method} {redact(endpoint)}: rate limited and told to wait {demanded:.0f} s, "
                        f"longer than the {settings.max_retry_after_seconds:.0f} s a pull waits; try again later"
                    )
                seconds = max(0.0, demanded)
            else:
                ceiling = min(
                    settings.backoff_cap_seconds, settings.backoff_base_seconds * 2 ** (state.attempt_number - 1)
                )
                seconds = self._rng.uniform(0, ceiling)
            log.info("waiting %.2f s before retrying (%s)", seconds, kind)
            return seconds

        def give_up(state: RetryCallState) -> None:
            kind, _ = _kind_and_wait(state)
            if state.outcome.failed:
                last = f"transport error ({state.outcome.exception()})"
            else:
                last = f"HTTP {state.outcome.result()[0].status} ({kind.replace('_', ' ')})"
            # "HTTP <status> (rate limited)": a 429, or an API-level rate limit answered with another status
            error_type = RateLimitedError if kind == "rate_limited" else HttpError
            raise error_type(
                f"{method} {redact(endpoint)}: gave up after {state.attempt_number} attempts; last: {last}"
            )

        retrying = Retrying(
            retry=retry_if_exception_type(_TransportFailure) | retry_if_result(lambda sent: sent[1] is not None),
            stop=stop_after_attempt(settings.max_attempts),
            wait=wait,
            sleep=self._pause,
            retry_error_callback=give_up,
        )
        response, _ = retrying(attempt)
        return response

    # --- internals ---------------------------------------------------------------------------------

    def _send(self, method: str, url: str, endpoint: str, send: dict, shown: dict, attempt: int) -> Response:
        """One attempt, recorded; a transport error raises _TransportFailure with a redacted message."""
        self._throttle(endpoint)
        exchange = Exchange(method=method, attempt=attempt, sent_at=_now_iso(), **shown)
        try:
            raw = self._client.request(method, url, **send)
        except httpx.RequestError as error:  # timeouts, refused or dropped connections, bad bodies
            exchange.error = redact(f"{type(error).__name__}: {error}")
            self._record(exchange)
            raise _TransportFailure(exchange.error) from None
        headers = {key.lower(): value for key, value in raw.headers.items()}
        exchange.status = raw.status_code
        exchange.received_at = _now_iso()
        exchange.headers = {key: redact(value) for key, value in headers.items() if key in KEPT_HEADERS}
        exchange.body_bytes = raw.content
        self._record(exchange)
        return Response(status=raw.status_code, headers=headers, body=raw.content, exchange=exchange)

    def _record(self, exchange: Exchange) -> None:
        if self._recorder is not None:
            self._recorder(exchange)

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(float(seconds))

    def _throttle(self, endpoint: str) -> None:
        """Sliding one-minute window per endpoint: never send more than requests_per_minute."""
        window = self._windows.setdefault(endpoint, deque())
        now = self._forget_older_than_a_minute(window)
        if len(window) >= self.settings.requests_per_minute:
            seconds = max(0.0, 60 - (now - window[0]))
            log.info("waiting %.2f s before retrying (%s)", seconds, "client_rate_limit")
            self._pause(seconds)
            now = self._forget_older_than_a_minute(window)
        window.append(now)

    def _forget_older_than_a_minute(self, window: deque[float]) -> float:
        """Drop the sends older than 60 s from `window`; the current monotonic time."""
        now = self._monotonic()
        while window and now - window[0] >= 60:
            window.popleft()
        return now


def _kind_and_wait(state: RetryCallState) -> tuple[str, float | None]:
    """Why the attempt in `state` is retried: the retry decision, or a transport error."""
    if state.outcome.failed:
        return "transport_error", None
    return state.outcome.result()[1]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
