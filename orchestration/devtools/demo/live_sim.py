"""One simulated LIVE: what TikTok sends while it runs, as the recorder's handlers turn it into record fields.

`simulate_live(plan)` returns the LIVE's events in the order the recorder receives them, each a
`(received_at_ms, fields)` pair where `fields` is what `live_recorder.handlers` returns for the client's
event (`type, timestamp_ms, msg_id, user_id` and the type's own fields; the room id is the plan's), and
`LiveFacts`: what the LIVE did, worked out while simulating, for the Backstage counters and the tests.

The shape follows the real pitfalls (docs/live.md): viewer samples every 5-20 s; like events throttled,
so the room's `total_likes` grows by far more than the sum of the `like_count`s sent; streakable gifts
(`gift_type` 1) as one event per repeat with `repeat_end` on the last; a battle with one gift to the
guest. Reconnects and replays are the recording's business (`live_logs`), not TikTok's.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

_EPOCH = datetime(1970, 1, 1)

# (gift_id, name, gift_type, diamonds per gift): streakable gifts are type 1. Ids and prices follow what
# public gift lists show; they are illustrative, the pipeline keeps whatever a log says.
STREAKABLE = (
    (5655, "Rose", 1, 1),
    (5487, "Finger Heart", 1, 5),
    (5827, "Ice Cream Cone", 1, 1),
    (6064, "GG", 1, 1),
    (5658, "Perfume", 1, 20),
    (5879, "Doughnut", 1, 30),
)
SINGLE = ((5585, "Confetti", 2, 100), (6267, "Corgi", 2, 299), (11046, "Galaxy", 2, 1000), (6369, "Lion", 2, 29999))
ROSE = STREAKABLE[0]
PLANTED_STREAK = 10  # every LIVE has the top fan's streak of 10 roses a quarter of the way in
BATTLE_S = 300  # a match lasts five minutes
BATTLE_GIFT = SINGLE[0]  # the one gift a viewer sends the guest during the battle


@dataclass(frozen=True)
class LivePlan:
    handle: str
    number: int  # 1, 2, ... per account, in time order
    room_id: str
    start: datetime  # naive UTC: when the LIVE began
    duration_s: int
    peak: int  # about the most concurrent viewers
    timezone: str  # the account's IANA zone (the demo's choice; logs carry UTC only)
    recorder_lag_s: float  # the recorder connected this long after the LIVE began
    seed: str
    reconnect_at_s: float | None = None  # seconds after the start the connection drops (see live_logs)
    battle_at_s: float | None = None
    guest_id: str | None = None  # the opponent host in the battle
    gzip: bool = False

    @property
    def start_ms(self) -> int:
        return (self.start - _EPOCH) // timedelta(milliseconds=1)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.duration_s)


@dataclass
class LiveFacts:
    """What the LIVE did, counted from the events TikTok sent (before any replay)."""

    peak_viewers: int = 0
    hearts: int = 0  # the room's highest total_likes
    hearts_in_events: int = 0  # the sum of like_count actually sent: far below `hearts`
    host_diamonds: int = 0  # completed gift sends to the host, a streak counted once at its end
    guest_diamonds: int = 0  # gifts to the battle guest
    battle_diamonds: int = 0  # host diamonds during the battle (Backstage "Diamonds from matches")
    follows: int = 0
    gift_sends: int = 0
    streak_events: int = 0
    top_fan: str = ""
    gifters: set[str] = field(default_factory=set)
    total_viewers: int = 0  # the highest total_user
    viewer_seconds: float = 0.0  # viewers x seconds, each sample held until the next: for the average
    comments: int = 0
    commenters: set[str] = field(default_factory=set)
    shares: int = 0


def audience(handle: str, seed: int, size: int) -> list[str]:
    """The account's viewers as TikTok's 19-digit user ids, most loyal first (the same across its LIVEs)."""
    rng = random.Random(f"tiktok-demo:{seed}:{handle}:live-audience")
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < size:
        user = str(rng.randrange(6_700_000_000_000_000_000, 7_400_000_000_000_000_000))
        if user not in seen:
            seen.add(user)
            ids.append(user)
    return ids


class _Ids:
    """TikTok's message ids carry their second in the top 32 bits, so they ascend with time."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.seen = rng, set()

    def msg(self, at_ms: int) -> str:
        while True:
            value = str(((at_ms // 1000) << 32) | self.rng.getrandbits(32))
            if value not in self.seen:
                self.seen.add(value)
                return value


def _viewer_curve(plan: LivePlan, rng: random.Random):
    """Concurrent viewers t seconds in: a rise, a slow wander, a bump in the battle, a fall at the end."""
    rise = rng.uniform(240, 480)
    periods = (rng.uniform(900, 1500), rng.uniform(300, 500))
    phases = (rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi))
    fall_from = plan.duration_s - rng.uniform(300, 480)

    def viewers(t: float) -> float:
        level = plan.peak * 0.85 * (1 - math.exp(-t / rise))
        level *= 1 + 0.1 * math.sin(2 * math.pi * t / periods[0] + phases[0])
        level *= 1 + 0.04 * math.sin(2 * math.pi * t / periods[1] + phases[1])
        if t > fall_from:
            level *= 1 - 0.45 * min(1.0, (t - fall_from) / (plan.duration_s - fall_from))
        if plan.battle_at_s is not None and plan.battle_at_s <= t <= plan.battle_at_s + BATTLE_S:
            level *= 1.18
        return max(1.0, level)

    return viewers


def _poisson(rng: random.Random, t0: float, t1: float, rate, rate_max: float) -> list[float]:
    """Event times in [t0, t1) of a process with a varying `rate` (per second, at most `rate_max`)."""
    times, t = [], t0
    if rate_max <= 0:
        return times
    while True:
        t += rng.expovariate(rate_max)
        if t >= t1:
            return times
        if rng.random() * rate_max < rate(t):
            times.append(t)


def simulate_live(plan: LivePlan, seed: int) -> tuple[list[tuple[int, dict]], LiveFacts]:
    rng = random.Random(f"tiktok-demo:{seed}:{plan.seed}")
    ids = _Ids(rng)
    pool = audience(plan.handle, seed, max(300, plan.peak * 8))
    fans = pool[:12]  # the regulars: they gift and comment most
    # summed once: random.choices would add up the whole pool's weights again on each of ~30,000 draws (same draws)
    cum_weights = list(itertools.accumulate(1.0 / (k + 1) ** 0.8 for k in range(len(pool))))
    viewers = _viewer_curve(plan, rng)
    facts = LiveFacts(top_fan=fans[0])
    events: list[tuple[float, int, dict]] = []  # (TikTok's time in s from the start, order, fields)
    t_from, t_to = plan.recorder_lag_s, plan.duration_s - 1.0
    start_ms = plan.start_ms

    def add(t: float, fields: dict) -> None:
        events.append((t, len(events), fields))

    def common(kind: str, t: float, user: str | None) -> dict:
        at_ms = start_ms + int(t * 1000)
        return {"type": kind, "timestamp_ms": at_ms, "msg_id": ids.msg(at_ms), "user_id": user}

    def someone(among: list[str] | None = None) -> str:
        return rng.choice(among) if among else rng.choices(pool, cum_weights=cum_weights)[0]

    # Viewer samples (RoomUserSeqEvent), every 5-20 s; total_user counts arrivals (people stay ~3 min).
    stay = rng.uniform(150, 240)
    t, total_user, last_t = t_from + rng.uniform(1, 5), 0.0, 0.0
    while t < t_to:
        now = viewers(t)
        total_user = max(total_user + now * (t - last_t) / stay, now * 1.3) if last_t else now * 1.4
        count = max(1, round(now * rng.uniform(0.97, 1.03)))
        facts.peak_viewers = max(facts.peak_viewers, count)
        facts.total_viewers = max(facts.total_viewers, count, round(total_user))
        add(t, {**common("viewers", t, None), "viewer_count": count, "total_user": max(count, round(total_user))})
        last_t, t = t, t + rng.uniform(5, 20)
        facts.viewer_seconds += count * (min(t, t_to) - last_t)

    # Hearts: the room's total grows continuously; a like event carries at most 15 of them, and TikTok
    # drops some events outright (busy rooms), so only `total_likes` keeps every heart.
    hearts_rate = rng.uniform(0.02, 0.04)  # hearts per viewer per second
    room = viewers(t_from) * hearts_rate * t_from * 0.5  # sent before the recorder connected
    unsent, t, last_t = 0.0, t_from + rng.uniform(1, 3), t_from
    while t < t_to:
        gained = viewers(t) * hearts_rate * (t - last_t)
        room, unsent, last_t = room + gained, unsent + gained, t
        t += rng.uniform(1.5, 5.0)
        if unsent < 1:
            continue
        count, unsent = min(15, int(unsent)), 0.0
        total = max(round(room), facts.hearts + count)
        room = float(total)
        if rng.random() < 0.1:  # never sent: the next event's total still counts these hearts
            continue
        facts.hearts, facts.hearts_in_events = total, facts.hearts_in_events + count
        add(last_t, {**common("like", last_t, someone()), "like_count": count, "total_likes": total})

    def process(kind: str, per_viewer: float, cap: float) -> list[str]:
        times = _poisson(rng, t_from, t_to, lambda x: min(cap, viewers(x) * per_viewer), cap)
        users = []
        for x in times:
            users.append(someone())
            add(x, common(kind, x, users[-1]))
        return users

    commenters = process("comment", 0.0012, 0.2)
    facts.comments, facts.commenters = len(commenters), set(commenters)
    facts.shares = len(process("share", 0.00003, 0.05))

    process("join", 0.3 / stay, 0.25)
    followers = [u for u in pool[12:] if rng.random() < 0.5]
    rng.shuffle(followers)
    for x in _poisson(rng, t_from, t_to, lambda x: viewers(x) * 0.00005, plan.peak * 0.00006 + 0.001):
        if followers:
            add(x, common("follow", x, followers.pop()))
            facts.follows += 1

    def gift(t: float, user: str, item: tuple, repeats: int, to_user: str | None = None) -> None:
        gift_id, name, gift_type, price = item
        group = str(start_ms + int(t * 1000) + rng.randrange(1000)) if gift_type == 1 else None
        counts = list(range(1, repeats + 1)) if gift_type == 1 else [1]
        if len(counts) > 15:  # long combos skip counts: TikTok sends the running count, not every step
            counts = sorted({1, *rng.sample(counts[1:-1], 11), counts[-1]})
        at = t
        for k, count in enumerate(counts):
            at += rng.uniform(0.15, 0.4) if k else 0.0
            add(
                at,
                {
                    **common("gift", at, user),
                    "gift_id": gift_id,
                    "gift_name": name,
                    "gift_type": gift_type,
                    "diamond_per_gift": price,
                    "repeat_count": count,
                    "repeat_end": k == len(counts) - 1,
                    "group_id": group,
                    "to_user_id": to_user,
                },
            )
        facts.streak_events += len(counts) if gift_type == 1 else 0
        facts.gift_sends += 1
        facts.gifters.add(user)
        diamonds = repeats * price
        if to_user is not None:
            facts.guest_diamonds += diamonds
            return
        facts.host_diamonds += diamonds
        if plan.battle_at_s is not None and plan.battle_at_s <= t <= plan.battle_at_s + BATTLE_S:
            facts.battle_diamonds += diamonds

    def gift_rate(x: float) -> float:
        in_battle = plan.battle_at_s is not None and plan.battle_at_s <= x <= plan.battle_at_s + BATTLE_S
        return viewers(x) * 0.00005 * (3.0 if in_battle else 1.0)

    for x in _poisson(rng, t_from, t_to - 30, gift_rate, plan.peak * 0.00018 + 0.002):
        user = someone(fans) if rng.random() < 0.6 else someone()
        if rng.random() < 0.82:
            item = rng.choices(STREAKABLE, (40, 20, 12, 10, 6, 4))[0]
            gift(x, user, item, rng.choice((1, 1, 1, 2, 3, 5, 5, 10, 10, 19, 30, 99)))
        else:
            gift(x, user, rng.choices(SINGLE, (50, 30, 12, 1 if plan.peak > 200 else 0))[0], 1)
    gift(plan.duration_s * 0.25, fans[0], ROSE, PLANTED_STREAK)
    if plan.battle_at_s is not None and plan.guest_id is not None:
        gift(plan.battle_at_s + BATTLE_S / 2, fans[3], BATTLE_GIFT, 1, to_user=plan.guest_id)

    end_ms = start_ms + plan.duration_s * 1000
    end = {"type": "live_end", "timestamp_ms": end_ms, "msg_id": ids.msg(end_ms), "user_id": None}
    add(plan.duration_s, {**end, "reason": "stream_ended"})
    # The websocket delivers in TikTok's order, 0.15-0.9 s after TikTok's own time (network and batching).
    received: list[tuple[int, dict]] = []
    for _, _, fields in sorted(events, key=lambda e: (e[0], e[1])):
        at_ms = max(fields["timestamp_ms"] + rng.randrange(150, 900), received[-1][0] if received else 0)
        received.append((at_ms, fields))
    return received, facts
