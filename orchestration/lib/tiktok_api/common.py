"""What both APIs share: an authenticated call with one refresh-and-retry on 401, and pagination.

Each API supplies how to put the token on a request, how to read its envelope and which answers
mean "retry later". Every exchange (request without secrets, response as received) is recorded for
the archive, tagged with the endpoint it belongs to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestration.lib.tiktok_api.config import AccountConfig
from orchestration.lib.tiktok_api.http import (
    Exchange,
    HttpClient,
    Response,
    RetryDecision,
    default_retry_decision,
)
from orchestration.lib.tiktok_api.redact import redact
from orchestration.lib.tiktok_api.tokens import TokenManager

PAGE_SIZE = 20  # the documented maximum of max_count
MAX_PAGES = 5000  # 100,000 videos: a listing longer than this is a loop, not an account


class ApiCallError(RuntimeError):
    """An API answered with an error, or with something that is not its documented envelope."""

    def __init__(
        self,
        endpoint: str,
        message: str,
        *,
        code: object = None,
        http_status: int | None = None,
        log_id: str | None = None,
        kind: str = "api_error",
    ):
        self.endpoint, self.code, self.http_status, self.log_id, self.kind = (
            endpoint,
            code,
            http_status,
            log_id,
            kind,
        )
        details = []
        if http_status is not None:
            details.append(f"HTTP {http_status}")
        if code not in (None, ""):
            details.append(f"code {code}")
        if log_id:
            details.append(f"log_id {log_id}")
        suffix = f" ({', '.join(details)})" if details else ""
        super().__init__(redact(f"{endpoint}: {message}{suffix}"))


class EnvelopeError(ApiCallError):
    """Bad JSON, a changed envelope or a missing field: the pull cannot be trusted."""

    def __init__(self, endpoint: str, message: str, *, http_status: int | None = None):
        super().__init__(endpoint, message, http_status=http_status, kind="envelope")


class PaginationError(ApiCallError):
    def __init__(self, endpoint: str, message: str):
        super().__init__(endpoint, message, kind="pagination")


@dataclass
class Outcome:
    """How an API reads one response: its data, or that the token was rejected."""

    data: dict | None = None
    unauthorized: bool = False

    @classmethod
    def of_data(cls, endpoint: str, payload: dict, response: Response) -> Outcome:
        """A successful envelope's `data`, which must be an object."""
        data = payload.get("data")
        if not isinstance(data, dict):
            raise EnvelopeError(endpoint, "`data` is missing or not an object", http_status=response.status)
        return cls(data=data)


@dataclass
class Listing:
    items: list[dict] = field(default_factory=list)
    pages: int = 0
    ended_by_api: bool = False  # the last page said has_more = false


class ApiSession:
    """One account's authenticated calls; subclasses know their API's envelope."""

    def __init__(self, account: AccountConfig, tokens: TokenManager, http: HttpClient):
        self.account = account
        self.tokens = tokens
        self.http = http
        self.exchanges: list[tuple[str, Exchange]] = []
        self.listings: dict[str, Listing] = {}  # per endpoint, also when a later page failed
        self._endpoint = ""

    def record(self, exchange: Exchange) -> None:
        self.exchanges.append((self._endpoint, exchange))

    # API-specific
    def auth_headers(self, access_token: str) -> dict:
        raise NotImplementedError

    def read(self, endpoint: str, response: Response) -> Outcome:
        raise NotImplementedError

    def retry_decision(self, response: Response) -> RetryDecision:
        return default_retry_decision(response)

    def call(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        query: dict | None = None,
        json_body: dict | None = None,
    ) -> dict:
        """The `data` of a successful call; one refresh and one retry if the token is rejected."""
        self._endpoint = endpoint
        for attempt in (1, 2):
            access_token = self.tokens.access_token()
            response = self.http.request(
                method,
                f"{self.account.base_url}{path}",
                query=query,
                headers=self.auth_headers(access_token),
                json_body=json_body,
                retry_decision=self.retry_decision,
            )
            outcome = self.read(endpoint, response)
            if not outcome.unauthorized:
                return outcome.data or {}
            if attempt == 1:
                self.tokens.refresh(reason=f"{endpoint} answered 401", rejected_access_token=access_token)
        raise ApiCallError(
            endpoint,
            "the access token was rejected again right after a refresh; "
            "check the app's scopes and the account's authorization",
            http_status=response.status,
            kind="unauthorized",
        )

    def paginate(self, endpoint: str, fetch: Callable[[int | None], dict], items_key: str) -> Listing:
        """Every page of a cursor listing, until the API says has_more = false."""
        listing = self.listings[endpoint] = Listing()
        cursor: int | None = None
        seen_cursors: set = set()
        while True:
            data = fetch(cursor)
            listing.pages += 1
            items = data.get(items_key, [])
            if items is None:
                items = []
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise EnvelopeError(endpoint, f"page {listing.pages}: `data.{items_key}` is not a list of objects")
            if "has_more" not in data or not isinstance(data["has_more"], bool):
                raise EnvelopeError(endpoint, f"page {listing.pages}: `data.has_more` is missing or not true/false")
            listing.items.extend(items)
            if not data["has_more"]:
                listing.ended_by_api = True
                return listing
            next_cursor = data.get("cursor")
            if isinstance(next_cursor, str) and next_cursor.isdigit():
                next_cursor = int(next_cursor)
            if not isinstance(next_cursor, int) or isinstance(next_cursor, bool):
                raise EnvelopeError(endpoint, f"page {listing.pages}: has_more is true but `data.cursor` is missing")
            if next_cursor in seen_cursors:  # every cursor sent so far, the current one included
                raise PaginationError(
                    endpoint,
                    f"page {listing.pages}: the cursor did not advance ({next_cursor}); stopping instead of looping",
                )
            if listing.pages >= MAX_PAGES:
                raise PaginationError(endpoint, f"more than {MAX_PAGES} pages; stopping")
            seen_cursors.add(next_cursor)
            cursor = next_cursor


def parse_json(endpoint: str, response: Response) -> object:
    try:
        return json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        kind = response.headers.get("content-type", "unknown content type")
        raise EnvelopeError(
            endpoint,
            f"the body is not JSON ({len(response.body)} bytes of {kind})",
            http_status=response.status,
        ) from None
