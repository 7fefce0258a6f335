"""The simulated account history: accounts, their videos and daily numbers, independent of any download.

Time is naive UTC; `epoch_days` (days since 1970, float) is the simulation's time axis.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from orchestration.devtools.demo.catalog import LOCALE_CYCLE, NAMED_ACCOUNTS, TERRITORIES, TITLE_SUFFIXES, TITLES
from orchestration.devtools.demo.formats import YearlessDates


@dataclass
class Video:
    video_id: str
    title: str
    post_at: datetime
    final_views: float
    tau: float  # days until ~63% of the non-tail views
    tail: float  # evergreen views per day after the burst
    like_rate: float
    comment_rate: float
    share_rate: float
    # a moderation sweep: from `removed_at` on, the counters are lower (fake likes/views removed)
    removed_at: datetime | None = None
    removed_likes: float = 0.0
    removed_views: float = 0.0
    removed_comments: float = 0.0

    post_day: float = field(init=False)  # post moment in days since 1970, the simulation's time axis
    week_burst: float = field(init=False)  # final_views * (e^(7/tau) - 1), for the 7-day growth

    def __post_init__(self) -> None:
        self.post_day = epoch_days(self.post_at)
        self.week_burst = self.final_views * (math.exp(7.0 / self.tau) - 1.0)

    def views_after(self, days: float) -> float:
        """Lifetime views `days` after posting: a burst that saturates, plus an evergreen tail."""
        if days <= 0:
            return 0.0
        return self.final_views * (1.0 - math.exp(-days / self.tau)) + self.tail * days

    def week_growth(self, days: float) -> float:
        """views_after(days) - views_after(days - 7), for days >= 7, with one exp."""
        return self.week_burst * math.exp(-days / self.tau) + 7.0 * self.tail

    def totals(self, at: datetime) -> tuple[int, int, int, int]:
        """Lifetime (likes, comments, shares, views) as Studio shows them at the moment `at`."""
        views = self.views_after(epoch_days(at) - self.post_day)
        likes, comments, shares = views * self.like_rate, views * self.comment_rate, views * self.share_rate
        if self.removed_at is not None and at >= self.removed_at:
            likes *= 1.0 - self.removed_likes
            comments *= 1.0 - self.removed_comments
            views *= 1.0 - self.removed_views
        return int(likes), int(comments), int(shares), int(views)


@dataclass
class Account:
    index: int
    handle: str
    locale: str
    topic: str
    sim_start: date
    born: date  # first day with analytics; earlier days are zero rows / "undefined"
    viewers_since: date  # Viewers shows "undefined" totals before this day
    dates: YearlessDates
    views: list[int] = field(default_factory=list)
    profile_views: list[int] = field(default_factory=list)
    likes: list[int] = field(default_factory=list)
    comments: list[int] = field(default_factory=list)
    shares: list[int] = field(default_factory=list)
    new_viewers: list[int] = field(default_factory=list)
    returning_viewers: list[int] = field(default_factory=list)
    followers: list[int | None] = field(default_factory=list)
    activity: list[list[int]] = field(default_factory=list)
    revise_depth: list[int] = field(default_factory=list)  # 1..3 most recent days are provisional
    revise_amount: list[float] = field(default_factory=list)
    videos: list[Video] = field(default_factory=list)
    post_days: list[float] = field(default_factory=list)  # videos' post_day, for bisect
    gender_base: tuple[float, float, float] = (0.5, 0.45, 0.05)
    territory_weights: tuple[float, ...] = ()
    cache: dict[tuple, str] = field(default_factory=dict)  # rendered CSV lines, shared by exports

    def i(self, d: date) -> int:
        return (d - self.sim_start).days


_EPOCH = datetime(1970, 1, 1)


def epoch_seconds(moment: datetime) -> int:
    """Seconds since 1970 of a naive UTC datetime (what the Overview ZIP name carries)."""
    return (moment - _EPOCH) // timedelta(seconds=1)


def epoch_days(moment: datetime) -> float:
    return (moment - _EPOCH) / timedelta(days=1)


def _video_id(post_at: datetime, rng: random.Random) -> str:
    # TikTok ids carry the post time in their top 32 bits: 19 digits for any 2020s date.
    return str((epoch_seconds(post_at) << 32) | rng.getrandbits(32))


def simulate_account(
    index: int, handle: str, topic: str, seed: int, sim_start: date, first_day: date, end_date: date
) -> Account:
    rng = random.Random(f"tiktok-demo:{seed}:{handle}:history")
    locale = LOCALE_CYCLE[index % len(LOCALE_CYCLE)]
    n_days = (end_date - sim_start).days + 1
    span = (end_date - first_day).days + 1

    # Size and behaviour. The three named accounts are fixed archetypes; the rest are drawn.
    if handle == "techcreator":
        followers0, reach, posts_per_day, born_offset = 12_000, 9_000.0, 0.9, None
    elif handle == "maria.cocina":
        followers0, reach, posts_per_day, born_offset = 2_400, 2_500.0, 0.6, None
    elif handle == "le_petit_chef":  # brand-new, below 100 followers for its first weeks
        followers0, reach, posts_per_day, born_offset = 6, 140.0, 0.5, min(6, span // 4)
    else:
        followers0 = int(math.exp(rng.uniform(math.log(40), math.log(400_000))))
        reach = 150.0 + followers0 * rng.uniform(0.3, 1.2)
        posts_per_day = rng.uniform(0.2, 1.3)
        born_offset = rng.randrange(0, max(1, span // 3)) if rng.random() < 0.08 else None
    born = first_day + timedelta(days=born_offset) if born_offset is not None else sim_start - timedelta(90)
    viewers_since = max(born + timedelta(days=1), first_day - timedelta(days=rng.randrange(3, 15)))
    territories = TERRITORIES[locale]
    weights = sorted((rng.uniform(0.2, 1.0) / (k + 1) ** 1.1 for k in range(len(territories))), reverse=True)
    female = rng.uniform(0.3, 0.75)
    account = Account(
        index=index,
        handle=handle,
        locale=locale,
        topic=topic,
        sim_start=sim_start,
        born=born,
        viewers_since=viewers_since,
        dates=YearlessDates(locale),
        gender_base=(female, 1.0 - female - 0.02, 0.02),
        territory_weights=tuple(weights),
    )

    # Videos: an older catalogue (still trickling views) plus the posts made during the simulation.
    titles = TITLES[topic]
    like_rate, comment_rate, share_rate = (
        rng.uniform(0.05, 0.12),
        rng.uniform(0.002, 0.01),
        rng.uniform(0.001, 0.006),
    )

    def new_video(post_at: datetime, reach_now: float) -> Video:
        final = max(60.0, reach_now * math.exp(rng.gauss(0.0, 0.9)))
        if rng.random() < 0.03:
            final *= rng.uniform(8, 25)  # a hit
        title = "" if rng.random() < 0.08 else rng.choice(titles) + rng.choice(TITLE_SUFFIXES)
        return Video(
            video_id=_video_id(post_at, rng),
            title=title,
            post_at=post_at,
            final_views=final,
            tau=rng.uniform(1.2, 4.0),
            tail=final * rng.uniform(0.0005, 0.004),
            like_rate=like_rate * rng.uniform(0.6, 1.5),
            comment_rate=comment_rate * rng.uniform(0.5, 1.8),
            share_rate=share_rate * rng.uniform(0.4, 2.0),
        )

    def post_moment(d: date) -> datetime:
        return datetime(d.year, d.month, d.day, rng.randrange(9, 22), rng.randrange(60), rng.randrange(60))

    if born < sim_start:
        for _ in range(rng.randrange(8, 15)):
            d = sim_start - timedelta(days=rng.randrange(5, 240))
            account.videos.append(new_video(post_moment(d), reach))
    for i in range(n_days):
        d = sim_start + timedelta(days=i)
        if d < born:
            continue
        growth = 1.0 + 0.6 * i / n_days
        for _ in range(int(posts_per_day) + (rng.random() < posts_per_day % 1)):
            account.videos.append(new_video(post_moment(d), reach * growth))
    account.videos.sort(key=lambda v: v.post_at)
    account.post_days = [v.post_day for v in account.videos]

    # Moderation sweeps: a few young videos lose likes (and one also views) a couple of days after posting.
    recent = [v for v in account.videos if first_day + timedelta(days=3) <= v.post_at.date() <= end_date - timedelta(6)]
    for k, video in enumerate(rng.sample(recent, min(3, len(recent)))):
        video.removed_at = video.post_at + timedelta(hours=rng.uniform(36, 96))
        video.removed_likes = rng.uniform(0.4, 0.55)
        video.removed_comments = rng.uniform(0.1, 0.3) if k == 1 else 0.0
        video.removed_views = rng.uniform(0.3, 0.4) if k == 2 else 0.0
    for video in account.videos:  # some titles keep a trailing space
        if video.title and rng.random() < 0.05:
            video.title += " "

    # Daily account totals: the sum of each video's daily gain plus off-video background traffic.
    views = [0.0] * n_days
    sim_day = epoch_days(datetime(sim_start.year, sim_start.month, sim_start.day))
    tails = [0.0] * (n_days + 1)  # evergreen views/day starting that day (summed below)
    for video in account.videos:
        start = max(0, (video.post_at.date() - sim_start).days)
        age = sim_day - video.post_day + start + 1  # age at the end of the first simulated day
        views[start] += video.views_after(age) - video.views_after(age - 1)  # the (partial) first day
        tails[start + 1] += video.tail
        # the burst decays geometrically day by day; stop once it is worth less than a view
        decay = math.exp(-1.0 / video.tau)
        burst = video.final_views * math.exp(-age / video.tau)
        for i in range(start + 1, n_days):
            if burst < 0.01:
                break
            views[i] += burst * (1.0 - decay)
            burst *= decay
    tail = 0.0
    for i in range(n_days):
        tail += tails[i]
        views[i] += tail
    born_i = (born - sim_start).days
    pv_rate = rng.uniform(0.015, 0.05)
    follow_rate = 0.012 if handle == "le_petit_chef" else rng.uniform(0.0015, 0.006)
    churn = rng.uniform(0.0002, 0.0012)
    new_share = rng.uniform(0.55, 0.85)
    unique_rate = rng.uniform(0.55, 0.8)
    peak = rng.uniform(18, 21)  # evening peak, circular distance over the day
    hour_profile = [0.15 + 0.85 * math.exp(-(min(abs(h - peak), 24 - abs(h - peak)) ** 2) / 18.0) for h in range(24)]
    active_share = rng.uniform(0.05, 0.2)
    followers: int | None = None
    for i in range(n_days):
        if i < born_i:
            for series in (
                account.views,
                account.profile_views,
                account.likes,
                account.comments,
                account.shares,
            ):
                series.append(0)
            account.new_viewers.append(0)
            account.returning_viewers.append(0)
            account.followers.append(None)
            account.activity.append([0] * 24)
        else:
            weekday = (sim_start + timedelta(days=i)).weekday()
            noise = math.exp(rng.gauss(0.0, 0.12)) * (1.08 if weekday >= 5 else 1.0)
            v = int(views[i] * noise + reach * 0.05 * rng.random())
            pv = int(v * pv_rate * math.exp(rng.gauss(0, 0.2)))
            account.views.append(v)
            account.profile_views.append(pv)
            account.likes.append(int(v * like_rate * math.exp(rng.gauss(0, 0.15))))
            account.comments.append(int(v * comment_rate * math.exp(rng.gauss(0, 0.3))))
            account.shares.append(int(v * share_rate * math.exp(rng.gauss(0, 0.4))))
            total = int(v * unique_rate)
            new = int(total * new_share * rng.uniform(0.9, 1.1))
            new = min(new, total)
            account.new_viewers.append(new)
            account.returning_viewers.append(total - new)
            if followers is None:
                followers = followers0
            else:
                gained = int(v * follow_rate * math.exp(rng.gauss(0, 0.3)) + rng.random())
                lost = int(followers * churn * rng.uniform(0.0, 4.0) + rng.random() * 1.2)
                followers = max(0, followers + gained - lost)
            account.followers.append(followers)
            account.activity.append([int(followers * active_share * p * rng.uniform(0.85, 1.15)) for p in hour_profile])
        account.revise_depth.append(rng.choice((1, 1, 2, 2, 3)))
        account.revise_amount.append(rng.uniform(0.02, 0.12))
    return account


def account_handles(accounts: int) -> list[tuple[str, str]]:
    """(handle, topic) per account: three named ones, then acct0001, acct0002, ..."""
    named = list(NAMED_ACCOUNTS[:accounts])
    extra = [(f"acct{n:04d}", "generic") for n in range(1, accounts - len(named) + 1)]
    return named + extra
