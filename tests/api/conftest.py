"""Fixtures for the API tests: a fake TikTok on 127.0.0.1, a temporary data directory, a clock."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from orchestration.lib.core.paths import DataPaths
from orchestration.lib.core.warehouse import connect
from orchestration.lib.tiktok_api.config import ApiConfig, load_accounts

from .fake_tiktok import CLIENT_KEY, CLIENT_SECRET, FakeTikTok

# 2026-05-03 12:00 UTC is 14:00 in Berlin and 05:00 in Los Angeles: the same calendar day in both.
T0 = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def fake() -> Iterator[FakeTikTok]:
    server = FakeTikTok().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def paths(tmp_path, monkeypatch) -> DataPaths:
    monkeypatch.setenv("TIKTOK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("TIKTOK_ACCOUNTS_FILE", raising=False)
    monkeypatch.setenv("TIKTOK_CLIENT_KEY", CLIENT_KEY)
    monkeypatch.setenv("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
    return DataPaths(tmp_path / "data").ensure()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def write_token_file(
    path: Path,
    access: str,
    refresh: str,
    *,
    obtained_at: datetime,
    expires_in: int = 86_400,
    refresh_expires_in: int = 31_536_000,
    open_id: str = "-000abc",
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "access_token": access,
        "expires_in": expires_in,
        "refresh_token": refresh,
        "refresh_expires_in": refresh_expires_in,
        "open_id": open_id,
        "scope": "user.info.basic,user.info.profile,user.info.stats,video.list",
        "token_type": "Bearer",
        "obtained_at": obtained_at.isoformat(),
    }
    path.write_text(json.dumps(record))
    os.chmod(path, 0o600)
    return path


def write_accounts(paths: DataPaths, accounts: list[dict], **top) -> Path:
    target = paths.root / "accounts.yml"
    # Fast retries in tests: the backoff policy itself is tested with a fake sleep.
    top.setdefault(
        "http",
        {"max_attempts": 4, "backoff_base_seconds": 0.01, "backoff_cap_seconds": 0.05, "timeout_seconds": 5},
    )
    target.write_text(yaml.safe_dump({"accounts": accounts, **top}, sort_keys=False))
    return target


def account_entry(fake: FakeTikTok, handle: str, api: str, timezone: str, **extra) -> dict:
    """One `accounts.yml` entry pointing at the fake, with the token file `secrets/<handle>.json`."""
    return {
        "handle": handle,
        "api": api,
        "timezone": timezone,
        "token_file": f"secrets/{handle}.json",
        "base_url": fake.base_url,
        **extra,
    }


def write_both_accounts(fake: FakeTikTok, paths: DataPaths) -> ApiConfig:
    """accounts.yml with the accounts of `setup_display` and `setup_business` (both set up already)."""
    write_accounts(
        paths,
        [
            account_entry(fake, "techcreator", "display", "Europe/Berlin"),
            account_entry(fake, "shop", "business", "America/Los_Angeles"),
        ],
    )
    return load_accounts(paths.root)


def _issue_token_file(fake: FakeTikTok, paths: DataPaths, handle: str, obtained_at: datetime, **token) -> Path:
    access, refresh = fake.issue_tokens()
    token_file = write_token_file(
        paths.root / "secrets" / f"{handle}.json", access, refresh, obtained_at=obtained_at, **token
    )
    fake.watch_token_files.append(token_file)
    return token_file


def display_videos(count: int, *, newest: datetime = T0 - timedelta(days=1), views: int = 1000) -> list[dict]:
    """`count` public videos, newest first, one per day, with distinct lifetime totals."""
    videos = []
    for i in range(count):
        created = newest - timedelta(days=i)
        video_id = 7_500_000_000_000_000_000 + count - i
        videos.append(
            {
                "id": str(video_id),
                "create_time": int(created.timestamp()),
                "title": f"Video {count - i}",
                "video_description": f"Description {count - i} #fyp",
                "duration": 15 + i,
                "share_url": f"https://www.tiktok.com/@techcreator/video/{video_id}",
                "embed_link": "https://www.tiktok.com/embed/v2/x",
                "like_count": 10 * (i + 1),
                "comment_count": i,
                "share_count": 2 * i,
                "view_count": views + 100 * i,
            }
        )
    return videos


def setup_display(
    fake: FakeTikTok,
    paths: DataPaths,
    *,
    handle: str = "techcreator",
    videos: int = 30,
    obtained_at: datetime = T0 - timedelta(hours=1),
    timezone: str = "Europe/Berlin",
    **account,
) -> tuple[ApiConfig, Path]:
    fake.user = {
        "open_id": "-000abc",
        "union_id": "u1",
        "display_name": "Tech Creator",
        "username": handle,
        "is_verified": False,
        "follower_count": 15234,
        "following_count": 312,
        "likes_count": 480210,
        "video_count": videos,
    }
    fake.videos = display_videos(videos)
    token_file = _issue_token_file(fake, paths, handle, obtained_at)
    write_accounts(paths, [account_entry(fake, handle, "display", timezone, **account)])
    return load_accounts(paths.root), token_file


def business_videos(count: int, *, newest: datetime = T0 - timedelta(days=1)) -> list[dict]:
    videos = []
    for i in range(count):
        created = newest - timedelta(days=i)
        videos.append(
            {
                "item_id": str(7_600_000_000_000_000_000 + count - i),
                # create_time arrives as a string in some client models and as an integer in others
                "create_time": str(int(created.timestamp())) if i % 2 else int(created.timestamp()),
                "caption": f"Shop video {count - i}",
                "video_duration": 20.5,
                "share_url": f"https://www.tiktok.com/@shop/video/{7_600_000_000_000_000_000 + count - i}",
                "likes": 50 + i,
                "comments": 5 + i,
                "shares": 3 + i,
                "favorites": 7 + i,
                "reach": 800 + 10 * i,
                "video_views": 1000 + 100 * i,
                "total_time_watched": 5000.0 + i,
                "average_time_watched": 5.0,
                "full_video_watched_rate": 0.25,
                "new_followers": 2,
                "profile_views": 30 + i,
                "impression_sources": [
                    {"impression_source": "For You", "percentage": 0.7},
                    {"impression_source": "Follow", "percentage": 0.2},
                    {"impression_source": "Search", "percentage": 0.1},
                ],
                "audience_countries": [
                    {"country": "DE", "percentage": 0.6},
                    {"country": "AT", "percentage": 0.4},
                ],
                "audience_types": [
                    {"type": "New viewers", "percentage": 0.8},
                    {"type": "Returning viewers", "percentage": 0.2},
                ],
            }
        )
    return videos


def business_metrics(first: str, days: int, *, followers: int = 2000) -> list[dict]:
    start = datetime.fromisoformat(first)
    metrics = []
    for i in range(days):
        day = (start + timedelta(days=i)).date().isoformat()
        metrics.append(
            {
                "date": day,
                "video_views": 100 + i,
                "unique_video_views": 80 + i,
                "profile_views": 10 + i,
                "likes": 20 + i,
                "comments": 3,
                "shares": 1,
                "bio_link_clicks": 0,
                "daily_total_followers": 5 - i,
                "daily_new_followers": 7,
                "daily_lost_followers": 2 + i,
                "followers_count": followers + 5 * i,
                "audience_activity": [{"hour": str(h), "count": 10 * h} for h in range(24)],
            }
        )
    return metrics


def setup_business(
    fake: FakeTikTok,
    paths: DataPaths,
    *,
    handle: str = "shop",
    videos: int = 25,
    obtained_at: datetime = T0 - timedelta(hours=1),
    timezone: str = "America/Los_Angeles",
) -> tuple[ApiConfig, Path]:
    fake.business_profile = {
        "username": handle,
        "display_name": "The Shop",
        "followers_count": 2100,
        "total_likes": 9000,
        "videos_count": videos,
    }
    fake.business_audience = {
        "audience_genders": [
            {"gender": "Female", "percentage": 0.55},
            {"gender": "Male", "percentage": 0.45},
        ],
        "audience_countries": [{"country": "US", "percentage": 0.9}, {"country": "CA", "percentage": 0.1}],
    }
    fake.business_metrics = business_metrics("2026-03-01", 70)
    fake.business_videos = business_videos(videos)
    token_file = _issue_token_file(fake, paths, handle, obtained_at, open_id=fake.business_id)
    write_accounts(paths, [account_entry(fake, handle, "business", timezone)])
    return load_accounts(paths.root), token_file


@pytest.fixture
def con(paths):
    with connect(paths.warehouse) as connection:
        yield connection
