"""TikTokLive v7 events → the fields of a `tiktok-live-log/1` record (docs/live.md, "Record types").

Pure functions over attribute access only (`event.common.msg_id`, `event.gift.diamond_count`, ...), so a
recorded event rebuilt as `types.SimpleNamespace` goes through exactly the code a live event does.
Field names are TikTokLive 7.0.1's (its `events/proto_events.py` over TikTokLiveProto 0.2.2).

Each function returns the record's own part: `type, room_id, timestamp_ms, msg_id, user_id` and the
type's extra fields; the writer adds the envelope (`format, session_id, connection_id, seq,
received_at_ms`). TikTok's protobuf leaves an absent number at 0, so an id or time of 0 is written as
null. Ids are strings (they pass 2**53, where JSON readers in other languages lose digits); comment
texts, names and cookies are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# `LiveEndEvent.action`: TikTokLiveProto's ControlAction (an int enum); LiveEndEvent carries only these two.
LIVE_END_REASONS = {3: "stream_ended", 4: "stream_suspended"}


def _id(value: Any) -> str | None:
    return None if value in (None, 0, "", "0") else str(value)


def _user_id(user: Any) -> str | None:
    return None if user is None else _id(user.id)


def _fields(record_type: str, event: Any, *, user_id: str | None) -> dict[str, Any]:
    common = event.common  # CommonMessageData; None only on a payload TikTok sent without it
    return {
        "type": record_type,
        "room_id": None if common is None else _id(common.room_id),
        "timestamp_ms": None if common is None else (common.create_time or None),  # already epoch ms
        "msg_id": None if common is None else _id(common.msg_id),
        "user_id": user_id,
    }


def recorder_fields(record_type: str, **extra: Any) -> dict[str, Any]:
    """A record the recorder writes itself (`session_start`, `connect`, `disconnect`, `session_end`)."""
    return {"type": record_type, "room_id": None, "timestamp_ms": None, "msg_id": None, "user_id": None, **extra}


def viewers(event: Any, host_handle: str) -> dict[str, Any]:
    """RoomUserSeqEvent: `total` is the concurrent viewers now (proto `m_total`), `total_user` cumulative."""
    return {**_fields("viewers", event, user_id=None), "viewer_count": event.total, "total_user": event.total_user}


def like(event: Any, host_handle: str) -> dict[str, Any]:
    """LikeEvent: `count` is this event's hearts, `total` the room's running total."""
    return {
        **_fields("like", event, user_id=_user_id(event.user)),
        "like_count": event.count,
        "total_likes": event.total,
    }


def gift(event: Any, host_handle: str) -> dict[str, Any]:
    """GiftEvent: one line per event, streak repeats included; the marts count a streak at `repeat_end`."""
    item = event.gift  # ExtendedGift: the catalogue entry (name, type, price)
    return {
        **_fields("gift", event, user_id=_user_id(event.user)),
        "gift_id": event.gift_id or (item.id if item is not None else None) or None,
        "gift_name": None if item is None else (item.name or None),
        "gift_type": None if item is None else item.type,
        "diamond_per_gift": None if item is None else item.diamond_count,
        "repeat_count": event.repeat_count,
        "repeat_end": bool(event.repeat_end),  # an int in the protobuf
        "group_id": _id(event.group_id),
        "to_user_id": _recipient_id(event.to_user, host_handle),
    }


def _recipient_id(to_user: Any, host_handle: str) -> str | None:
    """The gift's recipient when it is not the host (a guest in a battle or multi-guest LIVE)."""
    if to_user is None or (to_user.display_id or "").lower() == host_handle.lower():
        return None
    return _id(to_user.id)


def _plain(record_type: str) -> Callable[[Any, str], dict[str, Any]]:
    def fields(event: Any, host_handle: str) -> dict[str, Any]:
        return _fields(record_type, event, user_id=_user_id(event.user))

    fields.__name__ = record_type
    return fields


def live_end(event: Any, host_handle: str) -> dict[str, Any]:
    action = int(event.action)
    if action not in LIVE_END_REASONS:
        raise ValueError(f"LiveEndEvent with action {action}: expected one of {sorted(LIVE_END_REASONS)}")
    return {**_fields("live_end", event, user_id=None), "reason": LIVE_END_REASONS[action]}


# TikTokLive event class name → its record. Only these are subscribed: the client also emits the
# generic SocialEvent / ControlEvent for the same messages as FollowEvent, ShareEvent and LiveEndEvent,
# which would write each follow, share and end twice.
HANDLERS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "RoomUserSeqEvent": viewers,
    "LikeEvent": like,
    "GiftEvent": gift,
    "CommentEvent": _plain("comment"),
    "FollowEvent": _plain("follow"),
    "ShareEvent": _plain("share"),
    "JoinEvent": _plain("join"),
    "LiveEndEvent": live_end,
}


def event_fields(event_name: str, event: Any, host_handle: str) -> dict[str, Any]:
    """The record fields of a client event named by its TikTokLive class (`GiftEvent`, ...)."""
    try:
        handler = HANDLERS[event_name]
    except KeyError:
        raise ValueError(f"no log record for TikTokLive event {event_name!r}: one of {sorted(HANDLERS)}") from None
    return handler(event, host_handle)
