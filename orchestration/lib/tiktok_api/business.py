"""TikTok API for Business, organic accounts: `business/get` and every page of `business/video/list`.

Base `https://business-api.tiktok.com/open_api/v1.3/`, header `Access-Token`, `fields` and `filters`
JSON-encoded in the query string. Envelope: `{"code": 0, "message": "OK", "request_id": "...",
"data": {...}}` with an integer code (0 = OK). The Business API mostly answers HTTP 200 and puts the
error in `code`: 40100 means "too many requests" (backed off like a 429), 40104/40105 a missing or
invalid token (one refresh and one retry), 5xxxx an internal error (retried with backoff).
"""

from __future__ import annotations

import json
from datetime import date

from orchestration.lib.tiktok_api.common import (
    PAGE_SIZE,
    ApiCallError,
    ApiSession,
    EnvelopeError,
    Listing,
    Outcome,
    parse_json,
)
from orchestration.lib.tiktok_api.http import (
    Response,
    RetryDecision,
    default_retry_decision,
    retry_after_seconds,
)

API_PREFIX = "/open_api/v1.3"
ACCOUNT_FIELDS = (
    "username",
    "display_name",
    "followers_count",
    "total_likes",
    "videos_count",
    "video_views",
    "unique_video_views",
    "profile_views",
    "likes",
    "comments",
    "shares",
    "bio_link_clicks",
    "daily_total_followers",
    "daily_new_followers",
    "daily_lost_followers",
    "audience_activity",
    "audience_genders",
    "audience_countries",
    "audience_ages",
)
VIDEO_FIELDS = (
    "item_id",
    "create_time",
    "caption",
    "video_duration",
    "share_url",
    "likes",
    "comments",
    "shares",
    "favorites",
    "reach",
    "video_views",
    "total_time_watched",
    "average_time_watched",
    "full_video_watched_rate",
    "new_followers",
    "profile_views",
    "impression_sources",
    "audience_countries",
    "audience_types",
)
SCOPES = (
    "user.info.basic",
    "user.info.username",
    "user.info.stats",
    "user.account.type",
    "user.insights",
    "video.list",
    "video.insights",
)
RATE_LIMIT_CODES = {40100}
AUTH_CODES = {40104, 40105}


class BusinessSession(ApiSession):
    def auth_headers(self, access_token: str) -> dict:
        return {"Access-Token": access_token}

    @property
    def business_id(self) -> str:
        business_id = self.account.business_id or self.tokens.tokens.open_id
        if not business_id:
            raise ApiCallError("business", "no business_id: set it in accounts.yml or keep open_id in the token file")
        return business_id

    def retry_decision(self, response: Response) -> RetryDecision:
        decision = default_retry_decision(response)
        if decision is not None or response.status != 200:
            return decision
        try:
            code = json.loads(response.body.decode("utf-8")).get("code")
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return None
        if code in RATE_LIMIT_CODES:
            return "rate_limited", retry_after_seconds(response.headers)
        if isinstance(code, int) and 50000 <= code < 60000:
            return "server_error", None
        return None

    def read(self, endpoint: str, response: Response) -> Outcome:
        payload = parse_json(endpoint, response)
        if (
            not isinstance(payload, dict)
            or isinstance(payload.get("code"), bool)
            or not isinstance(payload.get("code"), int)
        ):
            if response.status == 401:
                return Outcome(unauthorized=True)
            raise EnvelopeError(
                endpoint,
                "unexpected envelope: no integer `code` (expected {code, message, data})",
                http_status=response.status,
            )
        code, message = payload["code"], str(payload.get("message", ""))
        request_id = str(payload.get("request_id", ""))
        if code == 0 and response.status == 200:
            return Outcome.of_data(endpoint, payload, response)
        if code in AUTH_CODES or response.status == 401:
            return Outcome(unauthorized=True)
        raise ApiCallError(endpoint, message or "error", code=code, http_status=response.status, log_id=request_id)

    def account_data(self, start_date: date, end_date: date) -> dict:
        """Profile fields, daily `metrics[]` between the two UTC dates, audience distributions."""
        return self.call(
            "business_get",
            "GET",
            f"{API_PREFIX}/business/get/",
            query={
                "business_id": self.business_id,
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "fields": json.dumps(list(ACCOUNT_FIELDS)),
            },
        )

    def video_list(self) -> Listing:
        def fetch(cursor: int | None) -> dict:
            query = {
                "business_id": self.business_id,
                "fields": json.dumps(list(VIDEO_FIELDS)),
                "max_count": PAGE_SIZE,
            }
            if cursor is not None:
                query["cursor"] = cursor
            return self.call("business_video_list", "GET", f"{API_PREFIX}/business/video/list/", query=query)

        return self.paginate("business_video_list", fetch, "videos")
