"""A real HTTP fake of TikTok's Display API v2 and Business API, served on 127.0.0.1.

It speaks the documented envelopes and errors (`{"data", "error": {"code", "message", "log_id"}}`
for Display, `{"code", "message", "request_id", "data"}` for Business, `{"error",
"error_description", "log_id"}` for OAuth), paginates with short pages and a cursor, rotates refresh
tokens (the old one stops working), and injects faults on demand: 429 with Retry-After, 500, 401,
a malformed body, a changed envelope, a dropped connection.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CLIENT_KEY = "fake-client-key-123"
CLIENT_SECRET = "fake-client-secret-abcdef123456"
CURSOR_BASE = 1_700_000_000_000  # cursors look like TikTok's (epoch milliseconds)


@dataclass
class Fault:
    endpoint: str  # user_info | video_list | oauth | business_get | business_video_list | business_oauth
    kind: str  # 429 | 500 | 401 | malformed | envelope | drop | slow | business_rate_limit | business_auth
    page: int | None = None  # only on this page of a listing (1-based)
    times: int = 1
    retry_after: str | None = "0"
    delay: float = 0.0  # kind "slow": answer normally after this many seconds


@dataclass
class Seen:
    endpoint: str
    method: str
    path: str
    query: dict
    body: object
    token: str | None
    page: int | None
    token_file_refresh_token: str | None  # what the watched token file held when this request arrived


@dataclass
class FakeTikTok:
    # Display world
    user: dict = field(default_factory=dict)
    videos: list[dict] = field(default_factory=list)
    # Business world
    business_profile: dict = field(default_factory=dict)
    business_metrics: list[dict] = field(default_factory=list)
    business_audience: dict = field(default_factory=dict)
    business_videos: list[dict] = field(default_factory=list)
    business_id: str = "biz-open-id-1"
    # Paging: page sizes used in turn (short pages even when more exist), then max_count
    page_sizes: list[int] = field(default_factory=lambda: [7, 20, 3])
    access_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    issued_by_refresh: list[tuple[str, str]] = field(default_factory=list)  # (access, refresh)
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    watch_token_files: list[Path] = field(default_factory=list)
    expires_in: int = 7200
    refresh_expires_in: int = 15_552_000

    def __post_init__(self):
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- set-up helpers ---------------------------------------------------------------------------
    def issue_tokens(self) -> tuple[str, str]:
        access, refresh = f"act.{secrets.token_hex(16)}", f"rft.{secrets.token_hex(16)}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return access, refresh

    def add_fault(self, *args, **kwargs) -> None:
        self.faults.append(Fault(*args, **kwargs))

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def api_requests(self, endpoint: str | None = None) -> list[Seen]:
        return [s for s in self.seen if endpoint is None or s.endpoint == endpoint]

    def start(self) -> FakeTikTok:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # --- request handling -------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = handler.headers.get("Content-Type", "")
        if "json" in content_type and raw:
            body = json.loads(raw)
        elif raw:
            body = dict(urllib.parse.parse_qsl(raw.decode()))
        else:
            body = None
        routes = {
            ("POST", "/v2/oauth/token/"): ("oauth", self._display_oauth),
            ("GET", "/v2/user/info/"): ("user_info", self._user_info),
            ("POST", "/v2/video/list/"): ("video_list", self._video_list),
            ("POST", "/open_api/v1.3/tt_user/oauth2/refresh_token/"): (
                "business_oauth",
                self._business_oauth,
            ),
            ("GET", "/open_api/v1.3/business/get/"): ("business_get", self._business_get),
            ("GET", "/open_api/v1.3/business/video/list/"): (
                "business_video_list",
                self._business_video_list,
            ),
        }
        route = routes.get((method, parts.path))
        if route is None:
            return self._send(handler, 404, {"error": {"code": "not_found", "message": parts.path, "log_id": "x"}})
        endpoint, function = route
        token = None
        auth = handler.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        token = token or handler.headers.get("Access-Token")
        page = None
        if endpoint == "video_list":
            page = self._page_number((body or {}).get("cursor"))
        elif endpoint == "business_video_list":
            page = self._page_number(query.get("cursor"))
        with self._lock:
            on_disk = None
            for path in self.watch_token_files:
                if path.exists():
                    on_disk = json.loads(path.read_text()).get("refresh_token")
            self.seen.append(Seen(endpoint, method, parts.path, query, body, token, page, on_disk))
            fault = self._take_fault(endpoint, page)
        if fault is not None:
            return self._fault(handler, endpoint, fault)
        status, payload = function(query, body, token)
        self._send(handler, status, payload)

    def _take_fault(self, endpoint: str, page: int | None) -> Fault | None:
        for fault in self.faults:
            if fault.endpoint == endpoint and fault.times > 0 and (fault.page is None or fault.page == page):
                fault.times -= 1
                return fault
        return None

    def _fault(self, handler, endpoint: str, fault: Fault) -> None:
        business = endpoint.startswith("business")
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.kind == "429":
            payload = (
                {"code": 40100, "message": "Too many requests", "request_id": "r429", "data": {}}
                if business
                else {
                    "data": {},
                    "error": {"code": "rate_limit_exceeded", "message": "slow down", "log_id": "l429"},
                }
            )
            return self._send(handler, 429, payload, headers)
        if fault.kind == "business_rate_limit":
            return self._send(
                handler,
                200,
                {"code": 40100, "message": "Too many requests", "request_id": "r", "data": {}},
                headers,
            )
        if fault.kind == "500":
            payload = (
                {"code": 50000, "message": "internal error", "request_id": "r500", "data": {}}
                if business
                else {"data": {}, "error": {"code": "internal_error", "message": "oops", "log_id": "l500"}}
            )
            return self._send(handler, 500, payload)
        if fault.kind in ("401", "business_auth"):
            payload = (
                {
                    "code": 40105,
                    "message": "Access token is incorrect or has been revoked.",
                    "request_id": "r401",
                    "data": {},
                }
                if business
                else {
                    "data": {},
                    "error": {
                        "code": "access_token_invalid",
                        "message": "The access token is invalid",
                        "log_id": "l401",
                    },
                }
            )
            return self._send(handler, 200 if fault.kind == "business_auth" else 401, payload)
        if fault.kind == "malformed":
            return self._send_raw(handler, 200, b"<html><body>502 Bad Gateway</body></html", "text/html")
        if fault.kind == "envelope":
            return self._send(handler, 200, {"result": {"videos": []}, "status": "ok"})
        if fault.kind == "slow":
            time.sleep(fault.delay)
            status, payload = {"user_info": self._user_info}[endpoint](
                {"fields": ",".join(self.user)}, None, next(iter(self.access_tokens))
            )
            try:
                return self._send(handler, status, payload)
            except (BrokenPipeError, ConnectionResetError):
                return None
        if fault.kind == "drop":
            handler.close_connection = True
            handler.connection.shutdown(2)
            return None
        raise ValueError(fault.kind)

    def _authorised(self, token: str | None) -> bool:
        return token in self.access_tokens

    def _display_unauthorised(self):
        return 401, {
            "data": {},
            "error": {
                "code": "access_token_invalid",
                "message": "The access token is invalid or not found in the request.",
                "log_id": "l-auth",
            },
        }

    def _business_unauthorised(self):
        return 200, {
            "code": 40105,
            "message": "Access token is incorrect or has been revoked.",
            "request_id": "r",
            "data": {},
        }

    def _rotate(self, refresh_token: str) -> tuple[str, str] | None:
        with self._lock:
            if refresh_token not in self.refresh_tokens:
                return None
            self.refresh_tokens.discard(refresh_token)  # rotation: the old refresh token stops working
            access, refresh = f"act.{secrets.token_hex(16)}", f"rft.{secrets.token_hex(16)}"
            self.access_tokens.add(access)
            self.refresh_tokens.add(refresh)
            self.issued_by_refresh.append((access, refresh))
            return access, refresh

    def _display_oauth(self, query, body, token):
        body = body or {}
        if body.get("client_key") != CLIENT_KEY or body.get("client_secret") != CLIENT_SECRET:
            return 401, {
                "error": "invalid_client",
                "error_description": "Client key or secret is wrong.",
                "log_id": "o1",
            }
        if body.get("grant_type") != "refresh_token":
            return 400, {"error": "unsupported_grant_type", "error_description": "", "log_id": "o2"}
        issued = self._rotate(body.get("refresh_token", ""))
        if issued is None:
            return 400, {
                "error": "invalid_grant",
                "error_description": "Refresh token is invalid or expired.",
                "log_id": "o3",
            }
        access, refresh = issued
        return 200, {
            "access_token": access,
            "expires_in": self.expires_in,
            "open_id": "-000abc",
            "refresh_expires_in": self.refresh_expires_in,
            "refresh_token": refresh,
            "scope": "user.info.basic,user.info.profile,user.info.stats,video.list",
            "token_type": "Bearer",
        }

    def _business_oauth(self, query, body, token):
        body = body or {}
        if body.get("client_id") != CLIENT_KEY or body.get("client_secret") != CLIENT_SECRET:
            return 200, {
                "code": 40001,
                "message": "Invalid client credentials",
                "request_id": "b1",
                "data": {},
            }
        issued = self._rotate(body.get("refresh_token", ""))
        if issued is None:
            return 200, {
                "code": 40107,
                "message": "Refresh token is invalid or expired.",
                "request_id": "b2",
                "data": {},
            }
        access, refresh = issued
        return 200, {
            "code": 0,
            "message": "OK",
            "request_id": "b3",
            "data": {
                "access_token": access,
                "expires_in": 86400,
                "open_id": self.business_id,
                "refresh_token": refresh,
                "refresh_token_expires_in": 31_536_000,
                "scope": "user.info.basic,video.list,video.insights",
                "token_type": "Bearer",
            },
        }

    def _user_info(self, query, body, token):
        if not self._authorised(token):
            return self._display_unauthorised()
        fields = query.get("fields", "").split(",")
        user = {k: v for k, v in self.user.items() if k in fields}
        return 200, {"data": {"user": user}, "error": {"code": "ok", "message": "", "log_id": "u1"}}

    def _page(self, items: list[dict], cursor) -> tuple[list[dict], int, bool]:
        offset = 0 if cursor in (None, "") else int(cursor) - CURSOR_BASE
        chunk = items[offset : offset + self._page_size(self._page_number(cursor))]
        end = offset + len(chunk)
        return chunk, CURSOR_BASE + end, end < len(items)

    def _page_size(self, page: int) -> int:
        return self.page_sizes[page - 1] if page - 1 < len(self.page_sizes) else 20

    def _page_number(self, cursor) -> int:
        """Pages are numbered by how many cursors deep the request is (1 = no cursor)."""
        if cursor in (None, ""):
            return 1
        offset = int(cursor) - CURSOR_BASE
        page, consumed = 1, 0
        while consumed < offset:
            consumed += self._page_size(page)
            page += 1
        return page

    def _video_list(self, query, body, token):
        if not self._authorised(token):
            return self._display_unauthorised()
        body = body or {}
        if int(body.get("max_count", 20)) > 20:
            return 400, {
                "data": {},
                "error": {"code": "invalid_params", "message": "max_count", "log_id": "v0"},
            }
        fields = query.get("fields", "").split(",")
        chunk, cursor, has_more = self._page(self.videos, body.get("cursor"))
        videos = [{k: v for k, v in video.items() if k in fields} for video in chunk]
        return 200, {
            "data": {"videos": videos, "cursor": cursor, "has_more": has_more},
            "error": {"code": "ok", "message": "", "log_id": "v1"},
        }

    def _business_get(self, query, body, token):
        if not self._authorised(token):
            return self._business_unauthorised()
        if query.get("business_id") != self.business_id:
            return 200, {"code": 40002, "message": "business_id is invalid", "request_id": "g0", "data": {}}
        start, end = query.get("start_date", ""), query.get("end_date", "")
        metrics = [m for m in self.business_metrics if start <= m["date"] <= end]
        return 200, {
            "code": 0,
            "message": "OK",
            "request_id": "g1",
            "data": {**self.business_profile, **self.business_audience, "metrics": metrics},
        }

    def _business_video_list(self, query, body, token):
        if not self._authorised(token):
            return self._business_unauthorised()
        if query.get("business_id") != self.business_id:
            return 200, {"code": 40002, "message": "business_id is invalid", "request_id": "g0", "data": {}}
        chunk, cursor, has_more = self._page(self.business_videos, query.get("cursor"))
        return 200, {
            "code": 0,
            "message": "OK",
            "request_id": "bv",
            "data": {"videos": chunk, "cursor": cursor, "has_more": has_more},
        }

    @staticmethod
    def _send(handler, status: int, payload: object, headers: dict | None = None) -> None:
        FakeTikTok._send_raw(handler, status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    @staticmethod
    def _send_raw(handler, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
