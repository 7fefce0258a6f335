"""TikTok Display API v2: `user/info` (profile totals) and every page of `video/list`.

Base `https://open.tiktokapis.com`, `Authorization: Bearer <token>`, `fields` in the query string,
other parameters of POST endpoints in a JSON body. Envelope:
`{"data": {...}, "error": {"code": "ok", "message": "", "log_id": "..."}}`.
Scopes: user.info.basic, user.info.profile, user.info.stats, video.list.
"""

from __future__ import annotations

from orchestration.lib.tiktok_api.common import (
    PAGE_SIZE,
    ApiCallError,
    ApiSession,
    EnvelopeError,
    Listing,
    Outcome,
    parse_json,
)
from orchestration.lib.tiktok_api.http import Response

USER_FIELDS = (
    "open_id",
    "union_id",
    "display_name",
    "username",
    "is_verified",
    "follower_count",
    "following_count",
    "likes_count",
    "video_count",
)
# cover_image_url is left out on purpose: it expires after six hours, so it is no stable reference.
VIDEO_FIELDS = (
    "id",
    "create_time",
    "title",
    "video_description",
    "duration",
    "share_url",
    "embed_link",
    "like_count",
    "comment_count",
    "share_count",
    "view_count",
)
SCOPES = ("user.info.basic", "user.info.profile", "user.info.stats", "video.list")
_SCOPE_ERRORS = ("scope_not_authorized", "scope_permission_missed")


class DisplaySession(ApiSession):
    def auth_headers(self, access_token: str) -> dict:
        return {"Authorization": f"Bearer {access_token}"}

    def read(self, endpoint: str, response: Response) -> Outcome:
        payload = parse_json(endpoint, response)
        error = payload.get("error") if isinstance(payload, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), str):
            if response.status == 401:
                return Outcome(unauthorized=True)
            raise EnvelopeError(
                endpoint,
                "unexpected envelope: no `error.code` (expected {data, error})",
                http_status=response.status,
            )
        code, message, log_id = error["code"], str(error.get("message", "")), str(error.get("log_id", ""))
        if code == "ok" and response.status == 200:
            return Outcome.of_data(endpoint, payload, response)
        if code in _SCOPE_ERRORS:
            raise ApiCallError(
                endpoint,
                f"the token lacks a scope ({message}); re-authorize the app with {', '.join(SCOPES)}",
                code=code,
                http_status=response.status,
                log_id=log_id,
                kind="scope",
            )
        if code == "access_token_invalid" or response.status == 401:
            return Outcome(unauthorized=True)
        raise ApiCallError(endpoint, message or "error", code=code, http_status=response.status, log_id=log_id)

    def user_info(self) -> dict:
        data = self.call("user_info", "GET", "/v2/user/info/", query={"fields": ",".join(USER_FIELDS)})
        user = data.get("user")
        if not isinstance(user, dict):
            raise EnvelopeError("user_info", "`data.user` is missing or not an object")
        return user

    def video_list(self) -> Listing:
        def fetch(cursor: int | None) -> dict:
            body = {"max_count": PAGE_SIZE} if cursor is None else {"cursor": cursor, "max_count": PAGE_SIZE}
            return self.call(
                "video_list",
                "POST",
                "/v2/video/list/",
                query={"fields": ",".join(VIDEO_FIELDS)},
                json_body=body,
            )

        return self.paginate("video_list", fetch, "videos")
